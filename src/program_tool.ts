/**
 * What a model sees of codemode's one tool, whatever carries it (the MCP server's `run_program`,
 * the AI SDK tool): its name, what its `program` input is, and how a run's result reads as text.
 *
 * @module
 */

import { formatRunError } from "./run/run_errors.ts";
import type { Diagnostic, RunResult } from "./types.ts";

/** The one tool's name. */
export const RUN_PROGRAM_TOOL = "run_program";

/** What a program is, for the model: the one field of the tool's input. */
export const PROGRAM_DESCRIPTION =
  "One complete TypeScript program (an ES module, top-level await allowed). Call the tools " +
  "declared in this tool's description as async functions and print() only what the answer needs.";

/**
 * The diagnostics of a result that are warnings: none when the run failed on them (a syntax,
 * type or import error already reports them in its message).
 *
 * @example Warnings of a run checked with "warn"
 * ```ts
 * import { _warnings } from "./program_tool.ts";
 * _warnings({
 *   ok: true, output: "", calls: 0, stats: { durationMs: 1, toolResultBytes: 0, outputBytes: 0 },
 *   diagnostics: [{ kind: "type", message: "x", line: 1, column: 1 }],
 * }).length; // 1
 * ```
 */
export function _warnings(result: RunResult): Diagnostic[] {
  const kind = result.error?.kind;
  if (kind === "syntax" || kind === "type" || kind === "import") return [];
  return result.diagnostics ?? [];
}

/**
 * The text a client shows for a run: what the program printed, then the error report on failure
 * and any type-check warnings — each finding once.
 *
 * @param result The run's result.
 * @returns The text content of the `run_program` result.
 *
 * @example Format a failed run
 * ```ts
 * import { _runResultText } from "./program_tool.ts";
 * _runResultText({
 *   ok: false,
 *   output: "partial\n",
 *   error: { kind: "runtime", message: "Error: boom" },
 *   calls: 0,
 *   stats: { durationMs: 1, toolResultBytes: 0, outputBytes: 8 },
 * }); // "partial\nruntime error: Error: boom"
 * ```
 */
export function _runResultText(result: RunResult): string {
  const warnings = _warnings(result);
  if (result.error === undefined && warnings.length === 0) {
    return result.output === "" ? "(the program printed nothing)" : result.output;
  }
  const parts: string[] = [];
  if (result.output !== "") parts.push(result.output.replace(/\n$/, ""));
  if (result.error) parts.push(formatRunError(result.error));
  for (const d of warnings) parts.push(`warning ${d.line}:${d.column} ${d.kind} ${d.message}`);
  return parts.join("\n");
}
