/**
 * `gatherLimited` as programs see it, serialised with `Function.prototype.toString` into the
 * program Worker's module next to the runtime (see `child_source.ts`), so it must not refer to
 * anything outside its own body. Pulls tasks lazily from an iterable or async iterable, runs at
 * most `limit` at once, keeps results in task order, stops on the first failure (or records every
 * outcome with `{ settle: true }`).
 *
 * @module
 */

/** Returns `gatherLimited`; `inspect` formats the values its errors name. */
export function _makeGatherLimited(
  inspect: (value: unknown) => string,
): (
  tasks: Iterable<() => Promise<unknown>> | AsyncIterable<() => Promise<unknown>>,
  limit?: number,
  options?: { settle?: boolean },
) => Promise<unknown[]> {
  async function gatherLimited(
    tasks: Iterable<() => Promise<unknown>> | AsyncIterable<() => Promise<unknown>>,
    limit = 10,
    options?: { settle?: boolean },
  ): Promise<unknown[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `gatherLimited: limit must be a positive integer, got ${inspect(limit)}`,
      );
    }
    const t = tasks as Partial<Iterable<unknown> & AsyncIterable<unknown>> | null;
    const iterator = t?.[Symbol.asyncIterator]?.() ?? t?.[Symbol.iterator]?.();
    if (!iterator) {
      throw new TypeError(
        "gatherLimited: tasks must be an iterable or async iterable of functions, e.g. items.map((x) => () => tool(x))",
      );
    }
    const settle = options?.settle === true;
    const results: unknown[] = [];
    let index = 0;
    let stopped = false;
    let pulling: Promise<unknown> = Promise.resolve();
    // Pulls are chained so an async iterator is never asked for two items at once.
    const next = (): Promise<IteratorResult<unknown>> => {
      const p = pulling.then(() => iterator.next() as Promise<IteratorResult<unknown>>);
      pulling = p.catch(() => {});
      return p;
    };
    const lane = async (): Promise<void> => {
      while (!stopped) {
        const step = await next();
        if (step.done || stopped) return;
        const task = step.value;
        const i = index++;
        if (typeof task !== "function") {
          stopped = true;
          const what = task instanceof Promise
            ? "a Promise, which has already started, so the limit cannot apply"
            : inspect(task);
          throw new TypeError(
            `gatherLimited: task ${i} is ${what}; pass functions that start the work, e.g. items.map((x) => () => tool(x))`,
          );
        }
        try {
          const value = await task();
          results[i] = settle ? { status: "fulfilled", value } : value;
        } catch (reason) {
          if (!settle) {
            stopped = true;
            throw reason;
          }
          results[i] = { status: "rejected", reason };
        }
      }
    };
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < limit; i++) lanes.push(lane());
    await Promise.all(lanes);
    return results;
  }
  return gatherLimited;
}
