/**
 * Size of the LLM-facing description (bytes and ~tokens = bytes / 4) for 0, 10, 100 and 1,000
 * synthetic tools and for the base text, plus how long describing and searching take.
 * With `--mcp`, also the description of the real MCP servers everything, filesystem and memory.
 *
 * Run: deno run -A bench/describe_bench.ts [--mcp]
 *
 * `bench/main.ts` imports {@linkcode descriptionSizes} from here.
 *
 * @module
 */

import { describeTools } from "../src/describe/describe_tools.ts";
import { _LearnedShapes } from "../src/describe/learned_shapes.ts";
import { _shapeOf } from "../src/describe/result_shape.ts";
import { searchTools } from "../src/describe/search_tools.ts";
import { _exampleText } from "../src/describe/shape_text.ts";
import { toolDeclarations } from "../src/describe/tool_declarations.ts";
import type { Tool } from "../src/types.ts";
import { syntheticTools } from "../tests/_fixtures/synthetic_tools.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;
const row = (label: string, text: string, ms?: number) =>
  console.log(
    `${label.padEnd(44)} ${String(bytes(text)).padStart(7)} B  ~${
      String(Math.round(bytes(text) / 4)).padStart(6)
    } tokens${ms === undefined ? "" : `  (${ms.toFixed(1)} ms)`}`,
  );

/** Size of one description. */
export interface DescriptionSize {
  /** Number of synthetic tools described. */
  tools: number;
  /** UTF-8 bytes of the description text. */
  bytes: number;
  /** Approximate tokens (bytes / 4). */
  tokens: number;
  /** Time `describeTools` took, in ms. */
  ms: number;
}

/**
 * Describes `counts` synthetic tool sets and returns the size of each description. `threshold`
 * is `describeTools`' (above it, namespaces and `searchTools` replace the declarations).
 */
export function descriptionSizes(
  counts: readonly number[],
  options: { threshold?: number } = {},
): DescriptionSize[] {
  return counts.map((n) => {
    const tools = syntheticTools(n).map((s) => s.tool);
    const t0 = performance.now();
    const { description } = describeTools(tools, options);
    const ms = performance.now() - t0;
    return { tools: n, bytes: bytes(description), tokens: Math.round(bytes(description) / 4), ms };
  });
}

/** The description's base text (how-to, helpers, patterns: everything before the tools), in bytes. */
export function baseTextBytes(): number {
  const base = describeTools([], {}).description;
  return bytes(base.slice(0, base.indexOf("\n\n## Tools")));
}

if (import.meta.main) await main();

async function main(): Promise<void> {
  const base = describeTools([], {}).description;
  row("base text (how-to, helpers, 8 patterns)", base.slice(0, base.indexOf("\n\n## Tools")));
  row("description, 0 tools, patterns: false", describeTools([], { patterns: false }).description);
  for (const n of [0, 10, 100, 1_000]) {
    const tools = syntheticTools(n).map((s) => s.tool);
    const t0 = performance.now();
    const { description } = describeTools(tools);
    row(`description, ${n} tools`, description, performance.now() - t0);
  }
  const thousand = syntheticTools(1_000);
  const tools = thousand.map((s) => s.tool);
  row("type-checker d.ts, 1,000 tools", toolDeclarations(tools));
  row(
    "description, 1,000 tools, threshold 1,000",
    describeTools(tools, { threshold: 1_000 }).description,
  );

  // Search: first query builds the index; then all 1,000 purpose queries.
  const fresh = [...tools];
  let t0 = performance.now();
  searchTools(fresh, "merge pull request");
  const build = performance.now() - t0;
  t0 = performance.now();
  let top1 = 0;
  let top5 = 0;
  for (const { tool, query } of thousand) {
    const names = searchTools(fresh, query, { detail: "name", limit: 5 }).map((m) => m.name);
    if (names[0] === tool.name) top1++;
    if (names.includes(tool.name)) top5++;
  }
  const perQuery = (performance.now() - t0) / thousand.length;
  console.log(
    `searchTools on 1,000 tools: index ${build.toFixed(1)} ms, ${perQuery.toFixed(2)} ms/query, ` +
      `top-1 ${top1 / 10}%, top-5 ${top5 / 10}% of 1,000 purpose queries`,
  );

  learningCost();

  if (Deno.args.includes("--mcp")) {
    const { asTools, listServerTools } = await import("../tests/_fixtures/mcp_servers.ts");
    const real: Tool[] = asTools(await listServerTools());
    row(`description, real MCP servers (${real.length} tools)`, describeTools(real).description);
  }
}

/**
 * What learning result shapes costs on the host: one observation of large results (the walk is
 * bounded, so it does not grow with the result), and a synchronous tool's call with and without
 * the learning wrapper (sampling keeps most calls to a counter).
 */
function learningCost(): void {
  const time = (f: () => void, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    return (performance.now() - t0) / n;
  };
  const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: i, name: `n${i}`, tags: ["a"] }));
  const json = JSON.stringify(rows.slice(0, 2_000));
  console.log(
    `learning: shape of a 100,000-row result ${time(() => _shapeOf(rows), 100).toFixed(3)} ms, ` +
      `of ${(json.length / 1024).toFixed(0)} KB of JSON text ${
        time(() => _shapeOf(json), 20).toFixed(3)
      } ms, example ${time(() => _exampleText(rows), 100).toFixed(3)} ms`,
  );
  const tool: Tool = {
    name: "sync_tool",
    description: "A synchronous tool.",
    inputSchema: { type: "object" },
    execute: () => ({ ok: true }),
  };
  const shapes = new _LearnedShapes(null);
  const [wrapped] = shapes.wrap([tool]);
  const context = { signal: new AbortController().signal, name: "sync_tool" };
  const n = 1_000_000;
  const plain = time(() => tool.execute({}, context), n) * 1e6;
  const learning = time(() => wrapped.execute({}, context), n) * 1e6;
  console.log(
    `learning: synchronous tool call ${plain.toFixed(0)} ns plain, ${
      learning.toFixed(0)
    } ns wrapped (sampled: the first 8 calls, then 1 in 64)`,
  );
  void shapes.close();
}
