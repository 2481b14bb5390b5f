/**
 * One run on the host side: hand a compiled program to a sandbox slot, answer its tool calls
 * within the budgets, collect its output, and turn how it ended into a {@linkcode RunResult}.
 * The parts are their own modules: admission (`call_admission.ts`), scheduling with per-call
 * timeouts (`call_scheduler.ts`), results on the channel (`result_encoder.ts`), the output buffer
 * (`output_buffer.ts`), what waits for the check (`message_hold.ts`), how a Worker's end becomes
 * an error (`exit_classifier.ts`) and the result (`run_result.ts`).
 *
 * **The type-check gate.** A run may start while its type check still runs (it overlaps the
 * Worker's start): the session then holds every message and the Worker's end until the check's
 * verdict (`gate`). A pass replays them in order; a failure ends the run with the check's error,
 * stops the Worker and drops what it said — no tool has run and no output was seen.
 *
 * @module
 */

import type { Limits } from "../limits.ts";
import type { _StubImport } from "../program/program_shapes.ts";
import { type _ChildMessage, type _RunMessage, _WIRE } from "../sandbox/protocol.ts";
import type { _SandboxSlot, _SlotEnd, _SlotListener } from "../sandbox/sandbox_slot.ts";
import { _stubsFor } from "../sandbox/stubs.ts";
import { _stageTimeout } from "../program/compile_outcome.ts";
import type { _ToolSet } from "../tools/tool_set.ts";
import type { Diagnostic, RunError, RunResult, ToolCallTrace } from "../types.ts";
import { _CallAdmission, type _Helper } from "./call_admission.ts";
import { _CallScheduler, QUEUED_BYTES } from "./call_scheduler.ts";
import { _exitError } from "./exit_classifier.ts";
import { _MessageHold } from "./message_hold.ts";
import { _OutputBuffer } from "./output_buffer.ts";
import { _encodeResult } from "./result_encoder.ts";
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
  return new _RunSession(o).result;
}

/** One run: its parts, and how they meet. */
class _RunSession {
  readonly result: Promise<RunResult>;
  #o: _SessionOptions;
  #resolve: (result: RunResult) => void;
  #output: _OutputBuffer;
  #admission: _CallAdmission;
  #scheduler: _CallScheduler;
  #hold: _MessageHold;
  #toolResultBytes = 0;
  #finished = false;
  #resolved = false;
  #error: RunError | undefined;
  #workerCut = 0;
  #diagnostics: Diagnostic[] | undefined;
  #deadline: ReturnType<typeof setTimeout>;
  #grace: ReturnType<typeof setTimeout> | undefined;
  #gateOpen = false;
  #onAbort = () =>
    this.#finish({
      kind: "timeout",
      message: `the run was cancelled: ${String(this.#o.signal?.reason ?? "aborted")}`,
    });

  constructor(o: _SessionOptions) {
    this.#o = o;
    const { promise, resolve } = Promise.withResolvers<RunResult>();
    this.result = promise;
    this.#resolve = resolve;
    const limits = o.limits;
    this.#diagnostics = o.diagnostics;
    this.#output = new _OutputBuffer(limits.maxOutputChars, o.onOutput);
    this.#admission = new _CallAdmission(limits, o.registry, o.helpers);
    this.#scheduler = new _CallScheduler({
      maxConcurrentCalls: limits.maxConcurrentCalls,
      toolTimeoutMs: limits.toolTimeoutMs,
      maxArgumentBytes: limits.maxArgumentBytes,
      startedAt: o.startedAt,
      answer: (id, value, trace) => this.#answer(id, value, trace),
      fail: (id, message) => this.#replyError(id, message),
      onToolCall: o.onToolCall,
    });
    // What waits for the type check: output up to a flood and call arguments up to what may wait
    // for a call slot anyway.
    const maxHeld = 2 * _WIRE.floodChars + Math.max(QUEUED_BYTES, 2 * limits.maxArgumentBytes);
    this.#hold = new _MessageHold(
      o.gate === undefined ? [] : ["check"],
      maxHeld,
      () =>
        this.#finish({
          kind: "limit",
          message: `the program sent more than ${
            Math.round(maxHeld / 1024 / 1024)
          } MB of output and call arguments before its type check finished; print less and start fewer calls at once`,
        }),
    );
    // The run's time counts from its start; time spent waiting for a Worker beyond compiling is
    // not the program's.
    this.#deadline = setTimeout(
      () => this.#finish(this.#timeoutError()),
      Math.max(0, limits.timeoutMs - (o.spentMs ?? 0)),
    );
    if (o.signal?.aborted) queueMicrotask(this.#onAbort);
    else o.signal?.addEventListener("abort", this.#onAbort, { once: true });
    o.gate?.then((g) => this.#checked(g));
    this.#start();
  }

  #timeoutError(): RunError {
    const { timeoutMs } = this.#o.limits;
    if (this.#o.gate !== undefined && !this.#gateOpen) {
      return _stageTimeout("check", timeoutMs);
    }
    return {
      kind: "timeout",
      message:
        `the program did not finish within ${timeoutMs} ms and was stopped; do less per run or call tools in parallel`,
    };
  }

  /** The type check's verdict: a failure ends the run; a pass replays what waited for it. */
  #checked(g: _GateResult): void {
    this.#diagnostics = g.diagnostics;
    if (this.#finished) return;
    if (!g.ok) {
      this.#finish(g.error, 0, false, false);
      return;
    }
    this.#gateOpen = true;
    this.#hold.release("check");
  }

  #start(): void {
    const { slot, program, registry, limits } = this.#o;
    const programNames = registry.programNames;
    // Every message the runtime sends fits in this; a bigger one is refused unread.
    slot.maxFrameBytes = 6 * Math.max(limits.maxArgumentBytes, limits.maxOutputChars, 32_768) +
      65_536;
    const run: _RunMessage = {
      t: "run",
      js: program.js,
      imports: program.imports,
      stubs: _stubsFor(program.imports, programNames),
      tools: programNames,
      maxOutputChars: limits.maxOutputChars,
      maxArgumentBytes: limits.maxArgumentBytes,
      memoryMb: limits.memoryMb,
    };
    const listener: _SlotListener = {
      message: (m, bytes) => this.#hold.deliver(() => this.#receive(m, bytes), bytes),
      ended: (end) => this.#hold.deliver(() => this.#ended(end)),
    };
    slot.start(listener, run);
  }

  /** A message, once nothing holds it; the first call to a tool waits for the schema checker. */
  #receive(m: _ChildMessage, bytes: number): void {
    const registry = this.#o.registry;
    if (
      m.t === "call" && !this.#finished && !registry.isReady && registry.byProgramName.has(m.tool)
    ) {
      this.#hold.hold("schemas", () => this.#receive(m, bytes));
      registry.ready().then(() => this.#hold.release("schemas"));
      return;
    }
    if (this.#finished) return;
    switch (m.t) {
      case "out":
        if (!this.#output.push(m.s)) {
          this.#finish({ kind: "limit", message: "the program flooded its output; print less" });
        }
        return;
      case "call": {
        const admitted = this.#admission.admit(m, bytes);
        if (admitted.t === "end") this.#finish(admitted.error);
        else if (admitted.t === "refuse") this.#replyError(admitted.id, admitted.message);
        else if (admitted.t === "run") {
          const refused = this.#scheduler.submit(admitted.call);
          if (refused !== undefined) this.#replyError(admitted.call.id, refused);
        }
        return;
      }
      case "end": {
        const { program, registry: set } = this.#o;
        this.#finish(
          m.ok
            ? undefined
            : m.error
            ? _errorFromWire(m.error, program.mapPosition, set.programNames)
            : { kind: "runtime", message: "the program failed without an error" },
          m.cut,
          true,
        );
        return;
      }
    }
  }

  /** The Worker ended: before its `end`, that ends the run; after it, the result can be given. */
  #ended(end: _SlotEnd): void {
    if (!this.#finished) {
      this.#finish(_exitError(end, { memoryMb: this.#o.slot.memoryMb }), 0, true, false);
    }
    this.#settle();
  }

  #reply(json: string): void {
    if (!this.#finished) this.#o.slot.sendResult(json);
  }

  #replyError(id: number, message: string): void {
    this.#reply(JSON.stringify({ t: "res", id, ok: false, e: _cleanText(message) }));
  }

  /** A tool's result, on its way to the program (or an error when it cannot travel). */
  #answer(id: number, value: unknown, trace: ToolCallTrace): void {
    const encoded = _encodeResult(id, value, this.#o.limits.maxResultBytes);
    if ("refused" in encoded) return this.#replyError(id, encoded.refused);
    trace.ok = true;
    trace.outputBytes = encoded.bytes;
    this.#toolResultBytes += encoded.bytes;
    if ("json" in encoded) this.#reply(encoded.json);
    else if (!this.#finished) this.#o.slot.sendClone(encoded.clone);
  }

  /**
   * Ends the run. `ended`: the program said it is done, so every message it sent has arrived and
   * the result can be given now. Otherwise the Worker is stopped first and its end report waited
   * for (`wait`), so what it printed before it was stopped is read to the end.
   */
  #finish(error: RunError | undefined, cut = 0, ended = false, wait = !ended): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#error = error;
    this.#workerCut = cut;
    clearTimeout(this.#deadline);
    this.#o.signal?.removeEventListener("abort", this.#onAbort);
    this.#scheduler.close(new Error("the run has ended"));
    const slot = this.#o.slot;
    if (!ended) slot.stop();
    if (!wait || slot.end !== undefined) this.#settle();
    else this.#grace = setTimeout(() => this.#settle(), STOP_GRACE_MS);
    this.#hold.end();
  }

  /** Gives the result, once the run is over. */
  #settle(): void {
    if (this.#resolved || !this.#finished) return;
    this.#resolved = true;
    clearTimeout(this.#grace);
    const limits = this.#o.limits;
    const { text, note } = this.#output.finish(this.#workerCut);
    this.#resolve(_runResult({
      output: text,
      error: this.#error ?? (note ? { kind: "limit", message: note } : undefined),
      calls: Math.min(this.#admission.count, limits.maxToolCalls + 1),
      toolResultBytes: this.#toolResultBytes,
      startedAt: this.#o.startedAt,
      diagnostics: this.#diagnostics,
      trace: this.#scheduler.trace,
    }));
  }
}
