/**
 * How many programs an MCP server runs at once: a fixed number of slots shared by every session,
 * a bounded queue in front of them, and "busy" past the queue.
 *
 * @module
 */

/** Options for {@linkcode RunLimit}. */
export interface RunLimitOptions {
  /**
   * Programs that may run at once.
   * @default {navigator.hardwareConcurrency (at least 1)}
   */
  maxRuns?: number;
  /**
   * Programs that may wait for a slot; one more is refused as busy at once.
   * @default {4 × maxRuns}
   */
  maxQueued?: number;
}

/** A slot taken from a {@linkcode RunLimit}; disposing of it (or `release()`) frees it. */
export interface RunSlot extends Disposable {
  /** Frees the slot for the next waiting run. Idempotent. */
  release(): void;
}

interface _Waiter {
  resolve: (slot: RunSlot) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** The default number of runs at once: one per CPU core the host reports. */
export function _defaultMaxRuns(): number {
  const cores = globalThis.navigator?.hardwareConcurrency;
  return typeof cores === "number" && cores >= 1 ? Math.floor(cores) : 1;
}

/** `value` when it is a whole number of at least `min`, else a RangeError naming `name`. */
export function _count(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `${name} must be a whole number of at least ${min}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * At most `maxRuns` programs at once across every session of a server; up to `maxQueued` more
 * wait in arrival order; past that, {@linkcode RunLimit.acquire} answers `null` at once so the
 * caller can say "busy, retry".
 *
 * @example Share one limit between sessions
 * ```ts
 * import { RunLimit } from "./run_limit.ts";
 * const limit = new RunLimit({ maxRuns: 2, maxQueued: 8 });
 * const slot = await limit.acquire();
 * if (slot === null) console.log("busy: retry later");
 * else slot.release();
 * ```
 */
export class RunLimit {
  /** Programs that may run at once. */
  readonly maxRuns: number;
  /** Programs that may wait for a slot. */
  readonly maxQueued: number;
  #running = 0;
  #queue: _Waiter[] = [];

  /**
   * Creates a limit with no run under way.
   *
   * @param options Slots and queue length.
   * @throws {RangeError} When `maxRuns` is not a whole number ≥ 1 or `maxQueued` one ≥ 0.
   */
  constructor(options: RunLimitOptions = {}) {
    this.maxRuns = _count("maxRuns", options.maxRuns ?? _defaultMaxRuns(), 1);
    this.maxQueued = _count("maxQueued", options.maxQueued ?? 4 * this.maxRuns, 0);
  }

  /** Programs running now. */
  get running(): number {
    return this.#running;
  }

  /** Programs waiting for a slot now. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Takes a slot, waiting in line when all are taken.
   *
   * @param signal Aborting while waiting leaves the line and rejects with its reason.
   * @returns The slot, or `null` when the line is full (the caller should report "busy").
   */
  acquire(signal?: AbortSignal): Promise<RunSlot | null> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.maxRuns) {
      this.#running++;
      return Promise.resolve(this.#slot());
    }
    if (this.#queue.length >= this.maxQueued) return Promise.resolve(null);
    return new Promise<RunSlot>((resolve, reject) => {
      const waiter: _Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
    });
  }

  #slot(): RunSlot {
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#running--;
        return;
      }
      // The slot passes straight to the next in line: `running` stays the same.
      if (next.onAbort) next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve(this.#slot());
    };
    return { release, [Symbol.dispose]: release };
  }
}
