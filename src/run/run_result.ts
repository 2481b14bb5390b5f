/**
 * Assembling a {@linkcode RunResult}: one definition for runs that ran and runs that never
 * reached a sandbox.
 *
 * @module
 */

import type { Diagnostic, RunError, RunResult, ToolCallTrace } from "../types.ts";

/** What a finished run is made of. */
export interface _RunParts {
  output: string;
  error?: RunError;
  calls: number;
  toolResultBytes: number;
  startedAt: number;
  diagnostics?: Diagnostic[];
  trace?: ToolCallTrace[];
}

const encoder = new TextEncoder();

/** Milliseconds since `startedAt`, to the microsecond. */
export function _elapsed(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000;
}

/** Builds the result of a run. */
export function _runResult(parts: _RunParts): RunResult {
  const result: RunResult = {
    ok: parts.error === undefined,
    output: parts.output,
    calls: parts.calls,
    stats: {
      durationMs: _elapsed(parts.startedAt),
      toolResultBytes: parts.toolResultBytes,
      outputBytes: encoder.encode(parts.output).length,
    },
  };
  if (parts.trace) result.trace = parts.trace;
  if (parts.error) result.error = parts.error;
  if (parts.diagnostics?.length) result.diagnostics = parts.diagnostics;
  return result;
}

/** The result of a run that failed before its program ran. */
export function _failedResult(
  error: RunError,
  startedAt: number,
  diagnostics?: Diagnostic[],
): RunResult {
  return _runResult({ output: "", error, calls: 0, toolResultBytes: 0, startedAt, diagnostics });
}
