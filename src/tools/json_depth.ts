/**
 * How deeply a value nests, found without recursion, so a value nested thousands of levels deep
 * is measured rather than overflowing the host's stack; and, for values that may share objects (a
 * structured clone), how many objects it unfolds to, in time linear in its distinct objects.
 *
 * @module
 */

/** What is wrong with a value's nesting, if anything. */
export type _NestingProblem = "deep" | "large" | "cycle";

/** Marks an object whose children are being measured (on the current path). */
const ENTERED = -1;

/**
 * Measures a value that may share objects (a structured clone): `"cycle"` when it refers to
 * itself, `"deep"` when arrays, objects, maps or sets nest more than `max` levels (a scalar is
 * level 0, `[]` and `{}` level 1), `"large"` when it unfolds to more than `maxNodes` of them (a
 * shared one counted every time it appears, as a validator, a tool or `JSON.stringify` would
 * walk it), else `null`. Each distinct object is visited once, so an object shared at every level
 * (`a = { x: a, y: a }` sixty times over: 2^60 paths) is measured at once. For parsed JSON, a
 * tree, {@linkcode _nestedDeeperThan} answers the depth question faster.
 */
export function _nestingProblem(
  value: unknown,
  max: number,
  maxNodes: number,
): _NestingProblem | null {
  if (typeof value !== "object" || value === null) return null;
  // Post-order over distinct objects, without recursion: an object is entered once (its children
  // pushed), then measured once all of them are: its height and the size it unfolds to.
  const heights = new Map<object, number>();
  const sizes = new Map<object, number>();
  const objects: object[] = [value];
  const levels: number[] = [1];
  const kids: (unknown[] | null)[] = [null];
  while (objects.length > 0) {
    const top = objects.length - 1;
    const v = objects[top];
    const level = levels[top];
    if (level > max) return "deep";
    const children = kids[top];
    if (children === null) {
      if (heights.has(v)) {
        // Pushed twice before it was entered (`[c, c]`): measured by the other push.
        objects.pop(), levels.pop(), kids.pop();
        continue;
      }
      heights.set(v, ENTERED);
      const list = _children(v);
      kids[top] = list;
      for (const child of list) {
        if (typeof child !== "object" || child === null) continue;
        const known = heights.get(child);
        if (known === ENTERED) return "cycle";
        if (known === undefined) objects.push(child), levels.push(level + 1), kids.push(null);
      }
      continue;
    }
    objects.pop(), levels.pop(), kids.pop();
    let height = 0;
    let size = 1;
    for (const child of children) {
      if (typeof child !== "object" || child === null) continue;
      height = Math.max(height, heights.get(child)!);
      size += sizes.get(child)!;
    }
    // The height is the longest path below, whichever path first reached each child.
    if (level + height > max) return "deep";
    if (size > maxNodes) return "large";
    heights.set(v, height + 1);
    sizes.set(v, size);
  }
  return null;
}

/** What a walk of `v` goes on to: elements, own enumerable values, a map's keys and values. */
function _children(v: object): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Map) return [...v.keys(), ...v.values()];
  if (v instanceof Set) return [...v];
  return Object.values(v);
}

/**
 * Whether `value` holds arrays or objects nested more than `max` levels deep (a scalar is level
 * 0, `[]` and `{}` level 1). Walks with an explicit stack and stops at the first level too deep.
 * Also stops, answering true, after `maxNodes` values: an object graph that shares or loops
 * (possible for schemas built in code and for structured clones, never for parsed JSON) cannot
 * make it run away; a clone's sharing is bounded first with {@linkcode _nestingProblem}.
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
