/**
 * Small checks the host applies to what crosses the sandbox channel and what tools give back.
 *
 * @module
 */

/**
 * The first key path that could pollute a prototype in a handler that deep-merges its input:
 * `__proto__` anywhere, or `constructor` holding `prototype`. Walks without recursion and without
 * a depth cut-off, so nesting cannot hide a key; an object met twice (a cycle, which structured
 * clones can carry) is walked once.
 */
export function _pollutingKey(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (key === "__proto__") return "__proto__";
      if (
        key === "constructor" && typeof child === "object" && child !== null &&
        Object.hasOwn(child, "prototype")
      ) {
        return "constructor.prototype";
      }
      stack.push(child);
    }
  }
  return undefined;
}

/** Whether `value` is a promise or another thenable (duck-typed, as `await` does). */
export function _isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === "function";
  } catch {
    return false;
  }
}

/** What a handler threw, as text; never throws itself (a thrown value may defeat `String`). */
export function _thrownText(err: unknown): string {
  try {
    return String(err instanceof Error ? err.message : err) || "failed without a message";
  } catch {
    return "failed with an error that cannot be shown as text";
  }
}
