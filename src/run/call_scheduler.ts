/**
 * Running a run's admitted tool calls: at most `maxConcurrentCalls` at once (the rest wait, with
 * their arguments' bytes capped), each with its own timeout (one sweep timer for all calls in
 * flight rather than a timer per call), its `context.signal` aborted when the call times out or
 * the run ends, and its trace recorded. A tool that answers synchronously is answered at once;
 * only a promise pays for the timeout bookkeeping.
 *
 * @module
 */

import type { ToolCallTrace } from "../types.ts";
import type { _AdmittedCall } from "./call_admission.ts";
import { _isThenable, _thrownText } from "./call_checks.ts";

/** Bytes of arguments that may wait for a call slot (at least twice `maxArgumentBytes`). */
export const QUEUED_BYTES = 32 * 1024 * 1024;

/** How a run's calls are run and answered. */
export interface _SchedulerOptions {
  maxConcurrentCalls: number;
  toolTimeoutMs: number;
  maxArgumentBytes: number;
  startedAt: number;
  /** Answers a call with its value (the session serialises it, or fails it). */
  answer(id: number, value: unknown, trace: ToolCallTrace): void;
  /** Answers a call with an error message. */
  fail(id: number, message: string): void;
  /** Called as each call completes. */
  onToolCall?: (trace: ToolCallTrace) => void;
}

/** The calls of one run. */
export class _CallScheduler {
  #o: _SchedulerOptions;
  #queue: _AdmittedCall[] = [];
  #queuedBytes = 0;
  #maxQueuedBytes: number;
  #running = 0;
  #closed = false;
  #inflight = new Map<number, { deadline: number; fail(err: Error): void }>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #sweepEvery: number;
  // Abort controllers are made only for tools that read `context.signal`.
  #controllers = new Set<AbortController>();
  #reason: unknown;
  /** Every call, in the order they started. */
  readonly trace: ToolCallTrace[] = [];

  constructor(options: _SchedulerOptions) {
    this.#o = options;
    this.#maxQueuedBytes = Math.max(QUEUED_BYTES, 2 * options.maxArgumentBytes);
    this.#sweepEvery = Math.max(10, Math.min(250, Math.floor(options.toolTimeoutMs / 4)));
  }

  /** Queues an admitted call; returns an error message when too much is already waiting. */
  submit(call: _AdmittedCall): string | undefined {
    if (this.#queuedBytes + call.bytes > this.#maxQueuedBytes) {
      return `too many calls are waiting with large arguments (over ${
        Math.round(this.#maxQueuedBytes / 1024 / 1024)
      } MB queued); start fewer at once, e.g. gatherLimited(tasks, 4)`;
    }
    this.#queuedBytes += call.bytes;
    this.#queue.push(call);
    this.#pump();
    return undefined;
  }

  #pump(): void {
    while (this.#running < this.#o.maxConcurrentCalls && this.#queue.length > 0 && !this.#closed) {
      this.#running++;
      const next = this.#queue.shift()!;
      this.#queuedBytes -= next.bytes;
      const inFlight = this.#execute(next);
      if (inFlight === undefined) this.#running--;
      else {
        inFlight.then(() => {
          this.#running--;
          this.#pump();
        });
      }
    }
  }

  #sweep = (): void => {
    const now = performance.now();
    for (const call of this.#inflight.values()) {
      if (now >= call.deadline) {
        call.fail(
          new Error(
            `timed out after ${this.#o.toolTimeoutMs} ms; ask for less, or catch this error and go on`,
          ),
        );
      }
    }
    if (this.#inflight.size === 0) this.#sweeper = void clearInterval(this.#sweeper);
  };

  /** Runs one call; returns a promise only while the call is still in flight. */
  #execute(call: _AdmittedCall): Promise<void> | undefined {
    const o = this.#o;
    const started = performance.now();
    const entry: ToolCallTrace = {
      tool: call.name,
      startMs: Math.round((started - o.startedAt) * 1000) / 1000,
      durationMs: 0,
      inputBytes: call.bytes,
      outputBytes: 0,
      ok: false,
    };
    this.trace.push(entry);
    let controller: AbortController | undefined;
    const makeSignal = (): AbortSignal => {
      if (controller === undefined) {
        controller = new AbortController();
        if (this.#closed) controller.abort(this.#reason);
        else this.#controllers.add(controller);
      }
      return controller.signal;
    };
    const context = {
      name: call.name,
      get signal(): AbortSignal {
        return makeSignal();
      },
    };
    const done = (value: unknown, failure?: unknown) => {
      this.#inflight.delete(call.id);
      if (controller) this.#controllers.delete(controller);
      if (!this.#closed) {
        if (failure === undefined) o.answer(call.id, value, entry);
        else o.fail(call.id, _thrownText(failure));
      }
      entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      o.onToolCall?.(entry);
    };
    let value: unknown;
    try {
      value = call.run(call.input, context);
    } catch (err) {
      done(undefined, err ?? "failed without a message");
      return undefined;
    }
    if (!_isThenable(value)) {
      done(value);
      return undefined;
    }
    return new Promise<void>((settled) => {
      let over = false;
      const once = (v: unknown, failure?: unknown) => {
        if (over) return;
        over = true;
        done(v, failure);
        settled();
      };
      this.#inflight.set(call.id, {
        deadline: started + o.toolTimeoutMs,
        fail: (err) => {
          controller?.abort(err);
          once(undefined, err);
        },
      });
      this.#sweeper ??= setInterval(this.#sweep, this.#sweepEvery);
      Promise.resolve(value).then(
        (v) => once(v),
        (err) => once(undefined, err ?? "failed without a message"),
      );
    });
  }

  /** The run is over: nothing more starts, every tool that reads its signal is told. */
  close(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    this.#queue = [];
    clearInterval(this.#sweeper);
    for (const c of this.#controllers) c.abort(reason);
  }
}
