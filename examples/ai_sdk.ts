/**
 * codemode as one tool of an AI SDK agent: the model answers with a TypeScript program that
 * calls the built-in file tools, `generateText` runs it through `codeModeTool`, and the model
 * gets back only what the program printed.
 *
 * Run: deno run -A examples/ai_sdk.ts
 *
 * With AI_GATEWAY_API_KEY set, a real model answers through the AI SDK's gateway
 * (CODEMODE_MODEL, default anthropic/claude-haiku-4.5). Without it, the AI SDK's own scripted
 * test model plays the model's part (it writes one program, then answers from its output), so
 * the example runs offline and shows the same loop.
 */
import { generateText, isStepCount, type LanguageModel } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { CodeMode } from "../mod.ts";
import { builtinTools } from "../src/tools/mod.ts";
import { codeModeTool, RUN_PROGRAM_TOOL } from "../src/ai/mod.ts";

await using codeMode = new CodeMode({
  tools: builtinTools({ root: "." }),
  limits: { timeoutMs: 30_000 },
});

/** Stands in for a model: first a program, then an answer from the program's output. */
function scriptedModel(): LanguageModel {
  const usage = {
    inputTokens: { total: 0, noCache: 0, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 0, text: 0, reasoning: undefined },
  };
  const program = `
const { files } = await list_files({ pattern: "src/**/*.ts" });
const sizes = await gatherLimited(
  files.map((path) => async () => ({ path, lines: (await read_file({ path })).split("\\n").length })),
  8,
);
sizes.sort((a, b) => b.lines - a.lines);
print(\`\${files.length} files; largest: \${sizes[0].path} (\${sizes[0].lines} lines)\`);`;
  return new MockLanguageModelV4({
    doGenerate: ({ prompt }) => {
      const results = prompt.flatMap((m) =>
        m.role === "tool" ? m.content.filter((p) => p.type === "tool-result") : []
      );
      if (results.length === 0) {
        return Promise.resolve({
          content: [{
            type: "tool-call",
            toolCallId: "call-1",
            toolName: RUN_PROGRAM_TOOL,
            input: JSON.stringify({ program }),
          }],
          finishReason: { unified: "tool-calls", raw: undefined },
          usage,
          warnings: [],
        });
      }
      const output = results[0].output as { value: string };
      return Promise.resolve({
        content: [{ type: "text", text: `From the program's output: ${output.value.trim()}` }],
        finishReason: { unified: "stop", raw: undefined },
        usage,
        warnings: [],
      });
    },
  });
}

const model: LanguageModel = Deno.env.get("AI_GATEWAY_API_KEY")
  ? Deno.env.get("CODEMODE_MODEL") ?? "anthropic/claude-haiku-4.5"
  : scriptedModel();

const { text, steps } = await generateText({
  model,
  tools: {
    [RUN_PROGRAM_TOOL]: codeModeTool(codeMode, { onResult: (r) => console.error(r.stats) }),
  },
  stopWhen: isStepCount(5),
  prompt: "How many TypeScript files are under src/, and which one is the largest?",
});

for (const step of steps) {
  for (const call of step.toolCalls) {
    console.log(
      `--- program (${call.toolName}) ---\n${(call.input as { program: string }).program}`,
    );
  }
  for (const result of step.toolResults) {
    console.log(`--- printed ---\n${(result.output as { text: string }).text}`);
  }
}
console.log(`--- answer ---\n${text}`);
