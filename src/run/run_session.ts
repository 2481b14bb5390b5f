/**
 * One run on the host side: hand a compiled program to a sandbox slot, answer its tool calls
 * within the budgets, collect its output, and turn how it ended into a {@linkcode RunResult}.
 * The parts are their own modules: admission (`call_admission.ts`), scheduling with per-call
 * timeouts (`call_scheduler.ts`), the output buffer (`output_buffer.ts`), how a Worker's end
 * becomes an error (`exit_classifier.ts`) and the result (`run_result.ts`).
 *
 * **The type-check gate.** A run may start while its type check still runs (it overlaps the
 * Worker's start): the session then holds every message and the Worker's end until the check's
 * verdict (`gate`). A pass replays them in order; a failure ends the run with the check's error,
 * stops the Worker and drops what it said — no tool has run and no output was seen.
 *
 * @module
 */

import v8 from "node:v8";
import type { Limits } from "../limits.ts";
import type { _StubImport } from "../program/program_shapes.ts";
import type { _ChildMessage, _RunMessage } from "../sandbox/protocol.ts";
import type { _SandboxSlot, _SlotEnd, _SlotListener } from "../sandbox/sandbox_slot.ts";
import { _stubsFor } from "../sandbox/stubs.ts";
import { _isPlainJson, _PLAIN_JSON_BUDGET } from "../sandbox/value_codec.ts";
import { _stageTimeout } from "../program/compile_outcome.ts";
import type { _ToolSet } from "../tools/tool_set.ts";
import type { Diagnostic, RunError, RunResult, ToolCallTrace } from "../types.ts";
import { _CallAdmission, type _Helper } from "./call_admission.ts";
import { _thrownText } from "./call_checks.ts";
import { _CallScheduler } from "./call_scheduler.ts";
import { _exitError } from "./exit_classifier.ts";
import { _OutputBuffer } from "./output_buffer.ts";
import { _cleanText, _errorFromWire } from "./run_errors.ts";
import { _runResult } from "./run_result.ts";

export type { _Helper } from "./call_admission.ts";

/** What the compiler hands the sandbox (see `src/program/compile.ts`). */
export interface _RunnableProgram {
  js: string;
  imports: _StubImport[];
  mapPosition(line: number, column: number): { line: number; column: number } | undefined;
}

/** How the type check of a running program came out (its diagnostics replace the session's). */
export type _GateResult =
  | { ok: true; diagnostics: Diagnostic[] }
  | { ok: false; error: RunError; diagnostics: Diagnostic[] };

/** Everything one run needs. */
export interface _SessionOptions {
  slot: _SandboxSlot;
  program: _RunnableProgram;
  registry: _ToolSet;
  limits: Limits;
  helpers: Record<string, _Helper>;
  startedAt: number;
  /**
   * Milliseconds of the run's time already spent before the session (compiling): the deadline
   * is `timeoutMs` minus this, from the session's start. Waiting for a Worker is not counted.
   */
  spentMs?: number;
  signal?: AbortSignal;
  diagnostics?: Diagnostic[];
  /** The type check's verdict, when it runs alongside the Worker's start (see the module doc). */
  gate?: Promise<_GateResult>;
  onOutput?: (text: string) => void;
  onToolCall?: (trace: ToolCallTrace) => void;
}

/** How long a stopped Worker's end report is waited for before the result is given anyway. */
const STOP_GRACE_MS = 2_000;

/** Runs one program in `slot`; resolves when the run is over. */
export function _runSession(o: _SessionOptions): Promise<RunResult> {
  const { slot, program, registry, limits } = o;
  const programNames = registry.programNames;
  const { promise, resolve } = Promise.withResolvers<RunResult>();
  const output = new _OutputBuffer(limits.maxOutputChars, o.onOutput);
  const admission = new _CallAdmission(limits, registry, o.helpers);
  let toolResultBytes = 0;
  let finished = false;
  let resolved = false;
  let finalError: RunError | undefined;
  let workerCut = 0;
  let diagnostics = o.diagnostics;

  const reply = (json: string) => {
    if (!finished) slot.sendResult(json);
  };
  const replyError = (id: number, message: string) =>
    reply(JSON.stringify({ t: "res", id, ok: false, e: _cleanText(message) }));

  // Serialises a result and sends it, or an error when it cannot travel.
  const answer = (id: number, value: unknown, entry: ToolCallTrace) => {
    const v = value === undefined ? null : value;
    let size: number;
    let send: () => void;
    try {
      if (_isPlainJson(v, _PLAIN_JSON_BUDGET)) {
        const json = JSON.stringify(v);
        size = json.length;
        send = () => reply(`{"t":"res","id":${id},"ok":true,"v":${json}}`);
      } else {
        const bytes = v8.serialize({ t: "res", id, ok: true, v: value });
        size = bytes.length;
        send = () => {
          if (!finished) slot.sendClone(bytes);
        };
      }
    } catch (err) {
      const what = typeof value === "function" || typeof value === "symbol"
        ? `returned a ${typeof value}, which cannot be sent to the program`
        : `returned a value that cannot be sent to the program (${_thrownText(err)})`;
      replyError(id, `${what}; return data: objects, arrays, strings, numbers, Uint8Array, Date…`);
      return;
    }
    if (size > limits.maxResultBytes) {
      replyError(
        id,
        `returned ${size} bytes, over the ${limits.maxResultBytes}-byte result limit; ask for less (a smaller range, a filter, a page)`,
      );
      return;
    }
    entry.ok = true;
    entry.outputBytes = size;
    toolResultBytes += size;
    send();
  };

  const scheduler = new _CallScheduler({
    maxConcurrentCalls: limits.maxConcurrentCalls,
    toolTimeoutMs: limits.toolTimeoutMs,
    maxArgumentBytes: limits.maxArgumentBytes,
    startedAt: o.startedAt,
    answer,
    fail: replyError,
    onToolCall: o.onToolCall,
  });

  // `ended`: the program said it is done, so every message it sent has arrived and the result
  // can be given now. Otherwise the Worker is stopped first and its end report waited for, so
  // what it printed before it was stopped is read to the end.
  function finish(error: RunError | undefined, cut = 0, ended = false, wait = !ended): void {
    if (finished) return;
    finished = true;
    finalError = error;
    workerCut = cut;
    clearTimeout(deadline);
    o.signal?.removeEventListener("abort", onAbort);
    scheduler.close(new Error("the run has ended"));
    if (!ended) slot.stop();
    if (!wait || slot.end !== undefined) settle();
    else graceTimer = setTimeout(settle, STOP_GRACE_MS);
    // Nothing is held once the run is over: a held end of the Worker is what `settle` waits for.
    drain();
  }
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  // The run's time counts from its start; time spent waiting for a Worker beyond compiling is not
  // the program's.
  const remaining = Math.max(0, limits.timeoutMs - (o.spentMs ?? 0));
  const deadline = setTimeout(() => {
    finish(
      gateOpen
        ? {
          kind: "timeout",
          message:
            `the program did not finish within ${limits.timeoutMs} ms and was stopped; do less per run or call tools in parallel`,
        }
        : _stageTimeout("check", limits.timeoutMs),
    );
  }, remaining);
  const onAbort = () =>
    finish({
      kind: "timeout",
      message: `the run was cancelled: ${String(o.signal?.reason ?? "aborted")}`,
    });
  if (o.signal?.aborted) queueMicrotask(onAbort);
  else o.signal?.addEventListener("abort", onAbort, { once: true });

  const handlers: _SlotListener = {
    message(m: _ChildMessage, bytes: number) {
      if (finished) return;
      switch (m.t) {
        case "out":
          if (!output.push(m.s)) {
            finish({ kind: "limit", message: "the program flooded its output; print less" });
          }
          return;
        case "call": {
          const admitted = admission.admit(m, bytes);
          if (admitted.t === "end") finish(admitted.error);
          else if (admitted.t === "refuse") replyError(admitted.id, admitted.message);
          else if (admitted.t === "run") {
            const refused = scheduler.submit(admitted.call);
            if (refused !== undefined) replyError(admitted.call.id, refused);
          }
          return;
        }
        case "end":
          finish(
            m.ok
              ? undefined
              : m.error
              ? _errorFromWire(m.error, program.mapPosition, programNames)
              : { kind: "runtime", message: "the program failed without an error" },
            m.cut,
            true,
          );
          return;
      }
    },
    ended(end: _SlotEnd) {
      if (!finished) finish(_exitError(end, { memoryMb: slot.memoryMb }), 0, true, false);
      settle();
    },
  };

  // What the Worker says waits while something is not ready yet: the type check (the gate, see
  // the module doc), or the schema checker before the first call to a tool (it loads on first
  // use, so a run that calls no tool never loads it). Held messages replay in order.
  let gateOpen = o.gate === undefined;
  let loadingSchemas = false;
  const held: (() => void)[] = [];
  const holding = () => !finished && (!gateOpen || loadingSchemas);
  const drain = () => {
    while (held.length > 0 && !holding()) held.shift()!();
  };
  const receive = (m: _ChildMessage, bytes: number) => {
    if (m.t === "call" && !finished && !registry.isReady && registry.byProgramName.has(m.tool)) {
      loadingSchemas = true;
      held.unshift(() => receive(m, bytes));
      registry.ready().then(() => {
        loadingSchemas = false;
        drain();
      });
      return;
    }
    handlers.message(m, bytes);
  };
  o.gate?.then((g) => {
    diagnostics = g.diagnostics;
    if (finished) return;
    if (!g.ok) {
      finish(g.error, 0, false, false);
      return;
    }
    gateOpen = true;
    drain();
  });

  // Every message the runtime sends fits in this; a bigger one is refused unread.
  slot.maxFrameBytes = 6 * Math.max(limits.maxArgumentBytes, limits.maxOutputChars, 32_768) +
    65_536;
  const run: _RunMessage = {
    t: "run",
    js: program.js,
    imports: program.imports,
    stubs: _stubsFor(program.imports, programNames),
    tools: [...programNames],
    maxOutputChars: limits.maxOutputChars,
    maxArgumentBytes: limits.maxArgumentBytes,
    memoryMb: limits.memoryMb,
  };
  slot.start({
    message(m, bytes) {
      if (holding() || held.length > 0) held.push(() => receive(m, bytes));
      else receive(m, bytes);
    },
    ended(end) {
      if (holding() || held.length > 0) held.push(() => handlers.ended(end));
      else handlers.ended(end);
    },
  }, run);
  return promise;

  function settle(): void {
    if (resolved || !finished) return;
    resolved = true;
    clearTimeout(graceTimer);
    const { text, note } = output.finish(workerCut);
    resolve(_runResult({
      output: text,
      error: finalError ?? (note ? { kind: "limit", message: note } : undefined),
      calls: Math.min(admission.count, limits.maxToolCalls + 1),
      toolResultBytes,
      startedAt: o.startedAt,
      diagnostics,
      trace: scheduler.trace,
    }));
  }
}
