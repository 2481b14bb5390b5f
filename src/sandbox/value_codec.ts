/**
 * How values cross the channel: plain JSON when JSON carries them unchanged (the fast path, and
 * what MCP tools always return), V8's structured-clone serialisation otherwise — so a
 * `Uint8Array`, `Date`, `Map`, `Set`, `BigInt`, `undefined`, `NaN` or a cycle arrives as itself.
 *
 * {@linkcode _isPlainJson} is self-contained: the host calls it, and it is serialised with
 * `Function.prototype.toString` into the sandbox's Worker module too (see `child_source.ts`).
 *
 * @module
 */

/** Nodes `_isPlainJson` visits before it gives up (and the value takes the clone path). */
export const _PLAIN_JSON_BUDGET = 1_000_000;

/**
 * Whether `JSON.parse(JSON.stringify(value))` gives back an equal value: only `null`, booleans,
 * finite numbers (not `-0`), strings, and arrays and plain objects of those, with no `toJSON`.
 * Walks without recursion and gives up (returns false) after `budget` nodes, so a cycle or a
 * huge value costs at most that.
 */
export function _isPlainJson(value: unknown, budget: number): boolean {
  const stack: unknown[] = [value];
  const arrayProto = Array.prototype;
  const objectProto = Object.prototype;
  const getProto = Object.getPrototypeOf;
  const isArray = Array.isArray;
  const keys = Object.keys;
  const isFinite = Number.isFinite;
  while (stack.length > 0) {
    if (--budget < 0) return false;
    const v = stack.pop();
    switch (typeof v) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (!isFinite(v) || (v === 0 && 1 / v < 0)) return false;
        continue;
      case "object": {
        if (v === null) continue;
        if (isArray(v)) {
          if (getProto(v) !== arrayProto) return false;
          for (let i = 0; i < v.length; i++) stack.push(v[i]);
          continue;
        }
        const proto = getProto(v);
        if (proto !== objectProto && proto !== null) return false;
        const o = v as Record<string, unknown>;
        if (typeof o.toJSON === "function") return false;
        const k = keys(o);
        for (let i = 0; i < k.length; i++) stack.push(o[k[i]]);
        continue;
      }
      default:
        return false;
    }
  }
  return true;
}
