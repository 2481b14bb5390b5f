/**
 * The AI SDK adapter in the AI SDK's real tool loop (`generateText` with a multi-step stop
 * condition), driven by the SDK's own scripted test model.
 */

import assert from "node:assert/strict";
import { generateText, isStepCount } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { CodeMode } from "../src/code_mode.ts";
import { codeModeTool, RUN_PROGRAM_TOOL } from "../src/ai/mod.ts";
import type { Tool } from "../src/types.ts";

const WEATHER: Tool = {
  name: "get_weather",
  description: "Current weather for a city.",
  inputSchema: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  },
  execute: ({ city }) => ({ city, celsius: city === "Oslo" ? 4 : 21 }),
};

type Prompt = Parameters<MockLanguageModelV4["doGenerate"]>[0]["prompt"];
type GenerateResult = Awaited<ReturnType<MockLanguageModelV4["doGenerate"]>>;

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function callTool(id: string, program: string): GenerateResult {
  return {
    content: [{
      type: "tool-call",
      toolCallId: id,
      toolName: RUN_PROGRAM_TOOL,
      input: JSON.stringify({ program }),
    }],
    finishReason: { unified: "tool-calls", raw: "tool_use" },
    usage,
    warnings: [],
  };
}

function answer(text: string): GenerateResult {
  return {
    content: [{ type: "text", text }],
    finishReason: { unified: "stop", raw: "end_turn" },
    usage,
    warnings: [],
  };
}

/** The tool results the model was given, in order. */
function toolResults(prompt: Prompt): { type: string; value: unknown }[] {
  return prompt.flatMap((m) =>
    m.role === "tool"
      ? m.content.flatMap((p) =>
        p.type === "tool-result" ? [p.output as { type: string; value: unknown }] : []
      )
      : []
  );
}

Deno.test("codeModeTool() in generateText: the model calls it with a program, gets the output, answers", async () => {
  await using codeMode = new CodeMode({ tools: [WEATHER], learnShapes: false });
  const described = codeMode.describe().description;
  const prompts: Prompt[] = [];
  const model = new MockLanguageModelV4({
    doGenerate: (options) => {
      prompts.push(options.prompt);
      if (prompts.length === 1) {
        return Promise.resolve(callTool(
          "call-1",
          `const all = await Promise.all(["Oslo", "Rome", "Lima"].map((city) => get_weather({ city })));
print(all.filter((w) => w.celsius > 10).map((w) => w.city).join(", "));`,
        ));
      }
      const [result] = toolResults(options.prompt);
      return Promise.resolve(answer(`Warm: ${String(result.value).trim()}`));
    },
  });
  const results: unknown[] = [];
  const run = await generateText({
    model,
    tools: { [RUN_PROGRAM_TOOL]: codeModeTool(codeMode, { onResult: (r) => results.push(r) }) },
    stopWhen: isStepCount(5),
    prompt: "Which of Oslo, Rome and Lima are warm?",
  });
  assert.equal(run.text, "Warm: Rome, Lima");
  assert.equal(run.steps.length, 2);
  // The model was offered one tool, described by codemode, taking a program.
  const offered = model.doGenerateCalls[0].tools ?? [];
  assert.equal(offered.length, 1);
  const [offer] = offered as { name: string; description?: string; inputSchema: unknown }[];
  assert.equal(offer.name, RUN_PROGRAM_TOOL);
  assert.equal(offer.description, described);
  assert.match(offer.description ?? "", /get_weather\(input: \{/);
  assert.deepEqual((offer.inputSchema as { required: string[] }).required, ["program"]);
  // What the loop kept and what the model saw.
  const [call] = run.steps[0].toolResults;
  assert.deepEqual(call.output, { ok: true, output: "Rome, Lima\n", text: "Rome, Lima\n" });
  assert.deepEqual(toolResults(prompts[1]), [{ type: "text", value: "Rome, Lima\n" }]);
  assert.equal(results.length, 1);
});

Deno.test("codeModeTool() gives a failed run to the model as an error result it can correct", async () => {
  await using codeMode = new CodeMode({ tools: [WEATHER] });
  const model = new MockLanguageModelV4({
    doGenerate: (options) => {
      const seen = toolResults(options.prompt);
      if (seen.length === 0) {
        // A wrong argument: the type check stops it before any tool runs.
        return Promise.resolve(
          callTool("call-1", `print((await get_weather({ town: "Oslo" })).celsius);`),
        );
      }
      if (seen.length === 1) {
        return Promise.resolve(
          callTool("call-2", `print((await get_weather({ city: "Oslo" })).celsius);`),
        );
      }
      return Promise.resolve(answer(`Oslo: ${String(seen[1].value).trim()} °C`));
    },
  });
  const run = await generateText({
    model,
    tools: { [RUN_PROGRAM_TOOL]: codeModeTool(codeMode) },
    stopWhen: isStepCount(5),
    prompt: "How cold is Oslo?",
  });
  assert.equal(run.text, "Oslo: 4 °C");
  const [failed] = run.steps[0].toolResults;
  const output = failed.output as { ok: boolean; errorKind?: string; error?: string; text: string };
  assert.equal(output.ok, false);
  assert.equal(output.errorKind, "type");
  assert.match(output.error ?? "", /^type error at line 1, column \d+: .*town/);
  assert.doesNotMatch(output.text, /warning/, "the type error once");
  const given = toolResults(model.doGenerateCalls[1].prompt);
  assert.equal(given[0].type, "error-text");
  assert.equal(given[0].value, output.text);
});

Deno.test("codeModeTool() cancels the run when the tool loop is aborted", async () => {
  await using codeMode = new CodeMode({ tools: [WEATHER] });
  const abort = new AbortController();
  const results: { ok: boolean; error?: { kind: string } }[] = [];
  const model = new MockLanguageModelV4({
    doGenerate: () =>
      Promise.resolve(callTool(
        "call-1",
        `print("started"); await get_weather({ city: "Rome" }); await new Promise((r) => setTimeout(r, 600_000));`,
      )),
  });
  const tool = codeModeTool(codeMode, {
    run: { onToolCall: () => abort.abort(new Error("the user pressed stop")) },
    onResult: (r) => results.push(r),
  });
  await assert.rejects(
    generateText({
      model,
      tools: { [RUN_PROGRAM_TOOL]: tool },
      stopWhen: isStepCount(3),
      prompt: "Wait forever",
      abortSignal: abort.signal,
    }),
  );
  assert.equal(results.length, 1);
  assert.equal(results[0].ok, false);
  assert.equal(results[0].error?.kind, "timeout");
});
