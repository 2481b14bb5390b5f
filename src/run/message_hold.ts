/**
 * What a Worker says, held while the run is not ready for it: while the type check still runs
 * (the gate: no tool runs and no output is seen before the program has passed it), or while the
 * schema checker loads before the first call to a tool. Held messages replay in order once
 * nothing holds them; a run that is over replays them at once (its handlers then ignore them,
 * but a held end of the Worker is what the run waits for). What it holds is counted: past its
 * byte cap, the run is told (it ends), so a program cannot park the host's memory behind a slow
 * type check.
 *
 * @module
 */

/** The reasons a run holds what its Worker says. */
export type _HoldReason = "check" | "schemas";

/** A queue of deliveries, held while any reason holds. */
export class _MessageHold {
  #reasons = new Set<_HoldReason>();
  #queue: { fn: () => void; bytes: number }[] = [];
  #over = false;
  #heldBytes = 0;
  #maxBytes: number;
  #overflow: (() => void) | undefined;

  /**
   * Holds for the `initial` reasons; `overflow` is called once when what is held passes
   * `maxBytes`.
   */
  constructor(
    initial: Iterable<_HoldReason> = [],
    maxBytes = Infinity,
    overflow?: () => void,
  ) {
    for (const reason of initial) this.#reasons.add(reason);
    this.#maxBytes = maxBytes;
    this.#overflow = overflow;
  }

  /** Whether a delivery made now would wait. */
  get holding(): boolean {
    return !this.#over && (this.#reasons.size > 0 || this.#queue.length > 0);
  }

  /** Delivers at once, or queues behind what waits; `bytes` is what holding it costs. */
  deliver(fn: () => void, bytes = 0): void {
    if (!this.holding) return fn();
    this.#queue.push({ fn, bytes });
    this.#heldBytes += bytes;
    if (this.#heldBytes > this.#maxBytes) {
      const overflow = this.#overflow;
      this.#overflow = undefined;
      overflow?.();
    }
  }

  /** Holds for `reason`, putting `first` (if any) before everything queued. */
  hold(reason: _HoldReason, first?: () => void): void {
    this.#reasons.add(reason);
    if (first) this.#queue.unshift({ fn: first, bytes: 0 });
  }

  /** `reason` no longer holds: replays what it held, unless another reason still holds. */
  release(reason: _HoldReason): void {
    this.#reasons.delete(reason);
    this.#drain();
  }

  /** The run is over: everything queued replays now. */
  end(): void {
    this.#over = true;
    this.#drain();
  }

  #drain(): void {
    while (this.#queue.length > 0 && (this.#over || this.#reasons.size === 0)) {
      const { fn, bytes } = this.#queue.shift()!;
      this.#heldBytes -= bytes;
      fn();
    }
  }
}
