/**
 * How deeply a JSON value nests, found without recursion, so a value nested thousands of levels
 * deep is measured rather than overflowing the host's stack.
 *
 * @module
 */

/**
 * Whether `value` holds arrays or objects nested more than `max` levels deep (a scalar is level
 * 0, `[]` and `{}` level 1). Walks with an explicit stack and stops at the first level too deep.
 * Also stops, answering true, after `maxNodes` values: an object graph that shares or loops
 * (possible for schemas built in code, never for parsed JSON) cannot make it run away.
 */
export function _nestedDeeperThan(value: unknown, max: number, maxNodes = 10_000_000): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > max || ++nodes > maxNodes) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
