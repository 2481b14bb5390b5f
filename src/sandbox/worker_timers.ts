/**
 * Timers a run waits for: `setTimeout` and `setImmediate` as programs see them, tracked so the
 * run ends only after every callback the program set has run (intervals would never end and are
 * not tracked). Also `macrotask()`, the real macrotask the runtime waits for before it ends a run.
 *
 * Serialised with `Function.prototype.toString` into the program Worker's module (see
 * `child_source.ts`), so it must not refer to anything outside its own body. The real timer
 * functions are read when it runs, while the Worker waits for a program (Deno defines them
 * lazily: the first read costs milliseconds).
 *
 * @module
 */

/** What `_makeTimers` gives the runtime. */
export interface _Timers {
  /** Puts the tracked `setTimeout`/`clearTimeout`/`setImmediate`/`clearImmediate` on `scope`. */
  install(scope: Record<string, unknown>): void;
  /** Timers set and not yet run or cleared. */
  pending(): number;
  /**
   * One real macrotask: it runs only once the microtask queue has drained. (A MessageChannel
   * message is not enough in Deno: it is dispatched from a promise continuation and can run
   * between the microtasks of an earlier settle.) `setImmediate` takes ~0.06 ms; `setTimeout(0)`
   * ~2 ms, so it is only the fallback.
   */
  macrotask(): Promise<void>;
}

/** Returns the timers; `onIdle` is called when the last tracked timer has run or been cleared. */
export function _makeTimers(onIdle: () => void): _Timers {
  const scope = globalThis as unknown as Record<string, unknown>;
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const realSetImmediate = scope.setImmediate as ((f: () => void) => unknown) | undefined;
  const realClearImmediate = scope.clearImmediate as ((id: unknown) => void) | undefined;
  const live = new Set<unknown>();
  const settled = (id: unknown) => {
    if (live.delete(id) && live.size === 0) onIdle();
  };
  function install(target: Record<string, unknown>): void {
    target.setTimeout = (fn: unknown, ms?: number, ...args: unknown[]) => {
      const id: unknown = realSetTimeout(() => {
        try {
          if (typeof fn === "function") fn(...args);
        } finally {
          settled(id);
        }
      }, ms);
      live.add(id);
      return id;
    };
    target.clearTimeout = (id: unknown) => {
      realClearTimeout(id as number);
      settled(id);
    };
    if (typeof realSetImmediate === "function" && typeof realClearImmediate === "function") {
      // Immediates are waited for like timeouts; their handles are objects, so they cannot be
      // mistaken for a timeout's number.
      target.setImmediate = (fn: unknown, ...args: unknown[]) => {
        const handle: unknown = realSetImmediate(() => {
          try {
            if (typeof fn === "function") fn(...args);
          } finally {
            settled(handle);
          }
        });
        live.add(handle);
        return handle;
      };
      target.clearImmediate = (handle: unknown) => {
        realClearImmediate(handle);
        settled(handle);
      };
    }
  }
  function macrotask(): Promise<void> {
    return new Promise((r) =>
      typeof realSetImmediate === "function" ? realSetImmediate(r) : realSetTimeout(r, 0)
    );
  }
  return { install, pending: () => live.size, macrotask };
}
