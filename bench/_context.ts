/**
 * "Context kept out": programs over the built-in tools, with a recorder that adds up what a
 * sequential tool-calling agent would have carried in its transcript for the same calls.
 *
 * @module
 */

import { CodeMode, type Tool } from "../mod.ts";
import { builtinTools } from "../src/tools/mod.ts";
import { expectOutput, REPO } from "./_measure.ts";
import { bytes, met, type Table, times } from "./_report.ts";

/** Bytes of every call's JSON arguments and every full JSON result, summed. */
export interface Transcript {
  calls: number;
  argumentBytes: number;
  resultBytes: number;
}

const encoder = new TextEncoder();
const size = (value: unknown) => encoder.encode(JSON.stringify(value ?? null) ?? "null").length;

/** Wraps `tools` so every call adds its arguments and result to `transcript`. */
export function recording(tools: Tool[], transcript: Transcript): Tool[] {
  return tools.map((tool) => ({
    ...tool,
    execute: async (input, context) => {
      const value = await tool.execute(input, context);
      transcript.calls++;
      transcript.argumentBytes += size(input);
      transcript.resultBytes += size(value);
      return value;
    },
  }));
}

/** The 20-file scan: list 20 source files, read them all, one line per file. */
export const SCAN_20_FILES = `
const { files } = await list_files({ pattern: "**/*.ts", path: "src", limit: 20 });
const texts = await Promise.all(files.map((path) => read_file({ path })));
files.forEach((path, i) => {
  const text = texts[i];
  const exports = text.match(/^export /gm)?.length ?? 0;
  print(\`\${path}: \${text.split("\\n").length} lines, \${exports} exports\`);
});
`.trim();

/** The two-stage re-query: search, read every file that matched, summarise. */
export const TWO_STAGE_REQUERY = `
const hits = await search_files({
  pattern: "^export (async )?function \\\\w+",
  path: "src",
  glob: "*.ts",
  maxResults: 500,
});
const files = [...new Set(hits.map((h) => h.file))];
const texts = await gatherLimited(files.map((path) => () => read_file({ path })), 8);
const rows = files.map((file, i) => {
  const lines = texts[i].split("\\n");
  const fns = hits.filter((h) => h.file === file);
  const documented = fns.filter((h) => /\\*\\/\\s*$/.test(lines[h.line - 2] ?? "")).length;
  return { file, fns: fns.length, documented, lines: lines.length };
});
rows.sort((a, b) => b.fns - a.fns);
for (const r of rows.slice(0, 5)) {
  print(\`\${r.file}: \${r.fns} exported functions, \${r.documented} with JSDoc, \${r.lines} lines\`);
}
const total = rows.reduce((s, r) => s + r.fns, 0);
const documented = rows.reduce((s, r) => s + r.documented, 0);
print(\`\${files.length} files, \${total} exported functions, \${documented} documented\`);
`.trim();

/** One "context kept out" scenario's figures. */
export interface ContextFigures {
  name: string;
  keptOut: number;
}

/** Runs the seed demo, the 20-file scan and the re-query; the table and each kept-out share. */
export async function contextFigures(): Promise<{ table: Table; figures: ContextFigures[] }> {
  const scenarios = [
    {
      name: "seed demo (examples/seed_demo.ts)",
      source: await Deno.readTextFile(`${REPO}/examples/seed_demo.ts`),
    },
    { name: "20-file scan", source: SCAN_20_FILES },
    { name: "two-stage re-query", source: TWO_STAGE_REQUERY },
  ];
  const base = builtinTools({ root: REPO, allowRun: true });
  await using codeMode = new CodeMode({ tools: base, poolSize: 1 });
  const rows: string[][] = [];
  const figures: ContextFigures[] = [];
  const encoder = new TextEncoder();
  for (const s of scenarios) {
    const transcript: Transcript = { calls: 0, argumentBytes: 0, resultBytes: 0 };
    codeMode.setTools(recording(base, transcript));
    const result = await codeMode.run(s.source);
    expectOutput(result, /\S/, s.name);
    const returned = result.stats.toolResultBytes;
    const printed = result.stats.outputBytes;
    const keptOut = 1 - printed / Math.max(1, returned);
    const agent = transcript.argumentBytes + transcript.resultBytes;
    const ours = encoder.encode(s.source).length + printed;
    rows.push([
      s.name,
      String(result.calls),
      bytes(returned),
      bytes(printed),
      `${(keptOut * 100).toFixed(1)}%`,
      bytes(agent),
      bytes(ours),
      times(agent / ours),
      met(keptOut >= 0.95),
    ]);
    figures.push({ name: s.name, keptOut });
  }
  const table: Table = {
    title: "8. Context kept out of the model",
    columns: [
      "program",
      "tool calls",
      "tools returned",
      "printed",
      "kept out",
      "agent transcript",
      "codemode context",
      "agent ÷ codemode",
      "goal ≥ 95%",
    ],
    rows,
    notes: [
      "tools returned / printed: `RunResult.stats.toolResultBytes` / `outputBytes`; kept out = " +
      "1 − printed ÷ returned.",
      "agent transcript: what a sequential tool-calling agent carries for the same calls — " +
      "every call's JSON arguments plus every full JSON result, summed once (a lower bound: " +
      "each later turn re-reads it).",
      "codemode context: the program the model wrote plus what it printed.",
    ],
  };
  return { table, figures };
}
