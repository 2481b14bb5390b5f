/**
 * codemode for the AI SDK (`npm:ai` 7): {@linkcode codeModeTool} turns a {@linkcode CodeMode} into
 * one tool a model calls with a whole TypeScript program, instead of one tool per action.
 *
 * This module loads the AI SDK and the core; nothing of MCP or the CLI.
 *
 * @example One tool, in the real tool loop
 * ```ts ignore
 * import { generateText, isStepCount } from "ai";
 * import { CodeMode } from "@codemode/cli";
 * import { codeModeTool } from "@codemode/cli/ai";
 *
 * await using codeMode = new CodeMode({ tools: [] });
 * const { text } = await generateText({
 *   model, // any AI SDK language model
 *   tools: { run_program: codeModeTool(codeMode) },
 *   stopWhen: isStepCount(5),
 *   prompt: "How many markdown files are there?",
 * });
 * ```
 *
 * @module
 */

import { jsonSchema, type Tool, tool } from "ai";
import type { CodeMode, RunOptions } from "../code_mode.ts";
import { _runResultText, PROGRAM_DESCRIPTION, RUN_PROGRAM_TOOL } from "../program_tool.ts";
import { formatRunError } from "../run/run_errors.ts";
import type { RunErrorKind, RunResult } from "../types.ts";

export { RUN_PROGRAM_TOOL };

/** The tool's input: one program. */
export interface CodeModeToolInput {
  /** One complete TypeScript program that calls the tools and prints the answer. */
  program: string;
}

/**
 * What a run gives the tool loop. The model sees it as text: the printed output, then the error
 * report (`kind error at line L, column C: message`) and any type-check warnings, sent as an
 * error result when the run failed, so that it writes a corrected program.
 */
export interface CodeModeToolOutput {
  /** Whether the program ran to its end without an error or a limit. */
  ok: boolean;
  /** Everything the program printed, also when it failed. */
  output: string;
  /** The error's kind, when it failed. */
  errorKind?: RunErrorKind;
  /** The error report, when it failed (`kind error at line L, column C: message`). */
  error?: string;
  /** The text the model is given: output, then the error report and warnings. */
  text: string;
}

/**
 * What {@linkcode codeModeTool} returns: an AI SDK tool whose `execute` is always there.
 *
 * @example Put it in a tool set
 * ```ts ignore
 * const tools: Record<string, CodeModeTool> = { run_program: codeModeTool(codeMode) };
 * ```
 */
export type CodeModeTool = Tool<CodeModeToolInput, CodeModeToolOutput> & {
  /** Runs the program (the AI SDK calls it in its tool loop). */
  execute: NonNullable<Tool<CodeModeToolInput, CodeModeToolOutput>["execute"]>;
};

/**
 * Options for {@linkcode codeModeTool}.
 *
 * @example Tighter limits for the model's programs
 * ```ts ignore
 * codeModeTool(codeMode, { run: { limits: { timeoutMs: 10_000 } } });
 * ```
 */
export interface CodeModeToolOptions {
  /**
   * Options for every run (limits, check mode, streaming callbacks); the tool loop's abort signal
   * is added to them.
   * @default {{}}
   */
  run?: Omit<RunOptions, "signal">;
  /**
   * Receives each run's whole {@linkcode RunResult} (calls, stats, trace), e.g. for logging.
   * @default {undefined}
   */
  onResult?: (result: RunResult) => void;
}

/** The tool's output for a result. */
function _output(result: RunResult): CodeModeToolOutput {
  const out: CodeModeToolOutput = { ok: result.ok, output: result.output, text: "" };
  if (result.error) {
    out.errorKind = result.error.kind;
    out.error = formatRunError(result.error);
  }
  out.text = _runResultText(result);
  return out;
}

const INPUT = jsonSchema<CodeModeToolInput>({
  type: "object",
  properties: { program: { type: "string", description: PROGRAM_DESCRIPTION } },
  required: ["program"],
  additionalProperties: false,
}, {
  validate: (value) =>
    typeof (value as { program?: unknown } | null)?.program === "string"
      ? { success: true, value: value as CodeModeToolInput }
      : {
        success: false,
        error: new TypeError(
          `${RUN_PROGRAM_TOOL} needs { program: string }: send the TypeScript program as "program"`,
        ),
      },
});

/**
 * One AI SDK tool that runs a program with `codeMode`. Its description is
 * `codeMode.describe().description` at the time of the call (the tools' declarations and how to
 * write a program); its input is `{ program }`; its result is the run's output and, when the run
 * failed, its error, sent to the model as an error result it can act on. The tool loop's abort
 * signal cancels the run. Create the tool again after `codeMode.setTools(...)`.
 *
 * @param codeMode The CodeMode that runs the programs (not closed by the tool).
 * @param options Per-run options and a result callback.
 * @returns The tool, to put in `generateText({ tools: { run_program: … } })` or `streamText`.
 *
 * @example Run one program through the tool directly
 * ```ts
 * import { CodeMode } from "../../mod.ts";
 * import { codeModeTool } from "./mod.ts";
 *
 * await using codeMode = new CodeMode({
 *   tools: [{
 *     name: "add",
 *     description: "Adds two numbers.",
 *     inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } },
 *     execute: ({ a, b }) => a + b,
 *   }],
 * });
 * const runProgram = codeModeTool(codeMode);
 * const out = await runProgram.execute(
 *   { program: "print(await add({ a: 2, b: 3 }))" },
 *   { toolCallId: "1", messages: [], context: {} },
 * );
 * console.log(out); // { ok: true, output: "5\n", text: "5\n" }
 * ```
 */
export function codeModeTool(codeMode: CodeMode, options: CodeModeToolOptions = {}): CodeModeTool {
  return tool<CodeModeToolInput, CodeModeToolOutput, Record<string, never>>({
    description: codeMode.describe().description,
    inputSchema: INPUT,
    execute: async ({ program }, { abortSignal }) => {
      const result = await codeMode.run(program, { ...options.run, signal: abortSignal });
      options.onResult?.(result);
      return _output(result);
    },
    toModelOutput: ({ output }) =>
      output.ok ? { type: "text", value: output.text } : { type: "error-text", value: output.text },
  }) as CodeModeTool;
}
