/**
 * Why a run's Worker ended without its `end` message, as a {@linkcode RunError} a model can act
 * on. Messages never carry the sandbox's stderr (it may hold the sandbox's own source and
 * whatever a program managed to print there), only what codemode itself reports, cleaned.
 *
 * @module
 */

import type { _SlotEnd } from "../sandbox/sandbox_slot.ts";
import type { RunError } from "../types.ts";
import { _cleanText } from "./run_errors.ts";

/** What the classifier needs to know about the run. */
export interface _ExitContext {
  memoryMb: number;
}

/** Under an OS data limit V8 may die of a failed allocation with SIGSEGV or SIGTRAP. */
const OOM_TEXT = /out of memory|OOM|allocation fail|Last few GCs|heap limit/i;
const OOM_SIGNALS = new Set(["SIGABRT", "SIGTRAP", "SIGSEGV", "SIGBUS"]);

function memoryError(memoryMb: number, shared: boolean): RunError {
  return {
    kind: "memory",
    message: shared
      ? `the sandbox process hosting this run ran out of memory (programs of this caller share its ${memoryMb} MB per run of buffers and wasm memory) and was stopped; process data in smaller pieces and keep less in memory`
      : `the program ran out of memory (limit ${memoryMb} MB) and was stopped; process data in smaller pieces and keep less in memory`,
  };
}

/** The error of a run whose Worker ended (`end`) before the run had ended. */
export function _exitError(end: _SlotEnd, context: _ExitContext): RunError {
  switch (end.why) {
    case "memory":
      return memoryError(context.memoryMb, false);
    case "violation":
    case "overflow":
      return {
        kind: "runtime",
        message: `the program wrote to the sandbox's message channel directly and was stopped (${
          _cleanText(end.message, 300)
        }); call tools as functions and print with print()`,
      };
    case "backlog":
      return {
        kind: "limit",
        message: `${
          _cleanText(end.message, 300)
        }; await tool calls as you make them, or start fewer at once (gatherLimited(tasks, 4))`,
      };
    case "process": {
      const status = end.status;
      const stderr = end.stderr ?? "";
      const oom = OOM_TEXT.test(stderr) || OOM_SIGNALS.has(status?.signal ?? "") ||
        status?.code === 133 || status?.code === 134;
      if (oom) return memoryError(context.memoryMb, true);
      const died = /codemode-sandbox: (.*)/.exec(stderr)?.[1];
      return {
        kind: "runtime",
        message: `the sandbox process ended unexpectedly (exit code ${status?.code ?? "unknown"}${
          status?.signal ? `, ${status.signal}` : ""
        })${died ? `: ${_cleanText(died, 300)}` : ""}; run the program again`,
      };
    }
    case "died":
      return {
        kind: "runtime",
        message: `the program's sandbox stopped: ${_cleanText(end.message, 500)}`,
      };
    default:
      return {
        kind: "runtime",
        message:
          "the program's sandbox ended before the program finished; run it again, and end the program by reaching its last line",
      };
  }
}
