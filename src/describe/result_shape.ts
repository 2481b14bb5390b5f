/**
 * The observed type of tool results: a bounded summary of one value (`_shapeOf`), merged across
 * results (`_mergeShapes`), and rebuilt from untrusted JSON for the cache (`_parseShape`). Every
 * step is bounded (depth, fields, array items looked at, union width, a node budget), so it is
 * cheap and linear whatever a tool returns. Strings are never kept as literal types: a shape says
 * `string`, not the value. Rendering is in `shape_text.ts`.
 *
 * @module
 */

/** The observed type of a value, as plain JSON (so it can be cached). */
export type _Shape =
  | { t: "null" | "boolean" | "number" | "bigint" | "unknown" }
  /** `json`: every string seen was JSON text of this shape. */
  | { t: "string"; json?: _Shape }
  /** `of` absent: only empty arrays were seen. */
  | { t: "array"; of?: _Shape }
  /** `more`: fields past the limit were left out. */
  | { t: "object"; fields: _Field[]; more?: true }
  /** An object used as a map: keys that are data, or many keys of one type. */
  | { t: "record"; of?: _Shape }
  | { t: "class"; name: string }
  /** An MCP tool's content blocks (`McpContent[]`) of these types. */
  | { t: "content"; blocks: string[] }
  | { t: "union"; of: _Shape[] };

/** One field of an object shape. */
export interface _Field {
  name: string;
  shape: _Shape;
  optional?: true;
}

/** Levels of arrays and objects below the result that are looked into. */
export const _MAX_DEPTH = 4;
/** Fields kept per object. */
export const _MAX_FIELDS = 16;
/** Members of a union before it becomes `unknown`. */
const MAX_UNION = 4;
/** Elements of an array looked at. */
const MAX_ITEMS = 16;
/** Values visited per observation (and schema nodes per parse). */
const NODE_BUDGET = 2_000;
/** Longest result text parsed to see whether it is JSON. */
const MAX_JSON_TEXT = 128 * 1024;
/** A key shown as a field name: identifier-like and short; other keys make the object a record. */
export const _FIELD_NAME = /^[A-Za-z_$][\w$]{0,63}$/;

/** Built-in classes a value may be (they cross to the program as themselves in a structured clone). */
export const _CLASSES: ReadonlySet<string> = new Set([
  "Date",
  "RegExp",
  "Map",
  "Set",
  "ArrayBuffer",
  "DataView",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int8Array",
  "Uint16Array",
  "Int16Array",
  "Uint32Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
]);
/** The block types of MCP content (`McpContent`). */
export const _BLOCKS: readonly string[] = ["text", "image", "audio", "resource", "resource_link"];

const UNKNOWN: _Shape = { t: "unknown" };
type Budget = { nodes: number };

/**
 * The shape of one tool result. `mcp`: the tool follows the MCP conversion rule, so an array is
 * its content blocks. A string that is JSON text of an object or array records that JSON's shape.
 */
export function _shapeOf(value: unknown, mcp = false): _Shape {
  const budget = { nodes: NODE_BUDGET };
  if (mcp && Array.isArray(value)) {
    const blocks = _blockTypes(value);
    if (blocks) return { t: "content", blocks };
  }
  if (typeof value === "string") {
    const json = _jsonShape(value, budget);
    return json ? { t: "string", json } : { t: "string" };
  }
  return _walk(value, 0, budget);
}

/** The sorted block types of MCP content, or undefined when an element is not a known block. */
function _blockTypes(blocks: unknown[]): string[] | undefined {
  const seen = new Set<string>();
  for (const block of blocks.slice(0, 100)) {
    const type = (block as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !_BLOCKS.includes(type)) return undefined;
    seen.add(type);
  }
  return _BLOCKS.filter((b) => seen.has(b));
}

/** The shape of the JSON in `text` when it is a JSON object or array (not too long to parse). */
function _jsonShape(text: string, budget: Budget): _Shape | undefined {
  if (text.length > MAX_JSON_TEXT) return undefined;
  const start = text.trimStart()[0];
  if (start !== "{" && start !== "[") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return _walk(parsed, 0, budget);
}

function _walk(value: unknown, depth: number, budget: Budget): _Shape {
  if (--budget.nodes < 0) return UNKNOWN;
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
      return { t: typeof value as "string" | "number" | "boolean" | "bigint" };
    case "undefined":
      return { t: "null" };
    case "object":
      break;
    default:
      return UNKNOWN;
  }
  if (value === null) return { t: "null" };
  if (Array.isArray(value)) {
    if (depth >= _MAX_DEPTH) return { t: "array", of: UNKNOWN };
    let of: _Shape | undefined;
    for (let i = 0; i < value.length && i < MAX_ITEMS; i++) {
      const item = _walk(value[i], depth + 1, budget);
      of = of ? _mergeShapes(of, item) : item;
    }
    return of ? { t: "array", of } : { t: "array" };
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === "string" && _CLASSES.has(name)) return { t: "class", name };
  }
  if (depth >= _MAX_DEPTH) return { t: "object", fields: [], more: true };
  return _object(value as Record<string, unknown>, depth, budget);
}

function _object(value: Record<string, unknown>, depth: number, budget: Budget): _Shape {
  const fields: _Field[] = [];
  let more = false;
  let dataKeys = false;
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    const field = value[name];
    if (field === undefined) continue; // absent once it crosses as JSON
    if (fields.length === _MAX_FIELDS) {
      more = true;
      break;
    }
    if (!_FIELD_NAME.test(name)) dataKeys = true;
    fields.push({ name, shape: _walk(field, depth + 1, budget) });
  }
  if (dataKeys || more) {
    // Keys that are data (paths, ids) or many keys of one type: a map, whose keys are not shown.
    const of = fields.reduce<_Shape | undefined>(
      (s, f) => (s ? _mergeShapes(s, f.shape) : f.shape),
      undefined,
    );
    if (dataKeys || (of && of.t !== "union" && of.t !== "unknown")) {
      return of ? { t: "record", of } : { t: "record" };
    }
  }
  return more ? { t: "object", fields, more: true } : { t: "object", fields };
}

/** Which members of a union merge with each other: a record is an object. */
function _kind(s: _Shape): string {
  if (s.t === "class") return `class ${s.name}`;
  return s.t === "record" ? "object" : s.t;
}

/** The shape of values of either shape: unions by kind, optional fields, bounded width. */
export function _mergeShapes(a: _Shape, b: _Shape): _Shape {
  if (a.t === "unknown" || b.t === "unknown") return UNKNOWN;
  const members = a.t === "union" ? [...a.of] : [a];
  for (const m of b.t === "union" ? b.of : [b]) {
    const i = members.findIndex((x) => _kind(x) === _kind(m));
    if (i < 0) members.push(m);
    else members[i] = _mergeSame(members[i], m);
  }
  if (members.length > MAX_UNION) return UNKNOWN;
  return members.length === 1 ? members[0] : { t: "union", of: members };
}

/** Merges two shapes of the same kind. */
function _mergeSame(a: _Shape, b: _Shape): _Shape {
  if (a.t === "string" && b.t === "string") {
    return a.json && b.json ? { t: "string", json: _mergeShapes(a.json, b.json) } : { t: "string" };
  }
  if (a.t === "array" && b.t === "array") {
    const of = a.of && b.of ? _mergeShapes(a.of, b.of) : a.of ?? b.of;
    return of ? { t: "array", of } : { t: "array" };
  }
  if (a.t === "content" && b.t === "content") {
    return {
      t: "content",
      blocks: _BLOCKS.filter((x) => a.blocks.includes(x) || b.blocks.includes(x)),
    };
  }
  if (a.t === "object" && b.t === "object") return _mergeObjects(a, b);
  if ((a.t === "object" || a.t === "record") && (b.t === "object" || b.t === "record")) {
    const values = [a, b].flatMap((s) =>
      s.t === "record"
        ? (s.of ? [s.of] : [])
        : (s as { fields: _Field[] }).fields.map((f) => f.shape)
    );
    const of = values.reduce<_Shape | undefined>((s, v) => (s ? _mergeShapes(s, v) : v), undefined);
    return of ? { t: "record", of } : { t: "record" };
  }
  return a; // null, boolean, number, bigint, the same class
}

function _mergeObjects(
  a: Extract<_Shape, { t: "object" }>,
  b: Extract<_Shape, { t: "object" }>,
): _Shape {
  const fields: _Field[] = [];
  for (const f of a.fields) {
    const g = b.fields.find((x) => x.name === f.name);
    // A field missing from a cut-off object may just have been past the cut.
    const optional = g ? f.optional || g.optional : f.optional || !b.more;
    const shape = g ? _mergeShapes(f.shape, g.shape) : f.shape;
    fields.push(optional ? { name: f.name, shape, optional: true } : { name: f.name, shape });
  }
  for (const g of b.fields) {
    if (a.fields.some((x) => x.name === g.name)) continue;
    const optional = g.optional || !a.more;
    fields.push(optional ? { ...g, optional: true } : { name: g.name, shape: g.shape });
  }
  const more = a.more || b.more || fields.length > _MAX_FIELDS;
  const kept = fields.slice(0, _MAX_FIELDS);
  return more ? { t: "object", fields: kept, more: true } : { t: "object", fields: kept };
}

/**
 * Rebuilds a shape from untrusted JSON (the cache), checking every bound `_shapeOf` keeps;
 * undefined when anything is off. Only known tags, field names, class names and block types pass.
 */
export function _parseShape(raw: unknown, depth = 0, budget: Budget = { nodes: NODE_BUDGET }):
  | _Shape
  | undefined {
  if (--budget.nodes < 0 || depth > _MAX_DEPTH + 2) return undefined;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const sub = (v: unknown) => _parseShape(v, depth + 1, budget);
  switch (r.t) {
    case "null":
    case "boolean":
    case "number":
    case "bigint":
    case "unknown":
      return { t: r.t };
    case "string": {
      if (r.json === undefined) return { t: "string" };
      const json = sub(r.json);
      return json && { t: "string", json };
    }
    case "array":
    case "record": {
      if (r.of === undefined) return { t: r.t };
      const of = sub(r.of);
      return of && { t: r.t, of };
    }
    case "class":
      return typeof r.name === "string" && _CLASSES.has(r.name)
        ? { t: "class", name: r.name }
        : undefined;
    case "content": {
      const blocks = r.blocks;
      if (!Array.isArray(blocks) || !blocks.every((b) => _BLOCKS.includes(b))) return undefined;
      return { t: "content", blocks: _BLOCKS.filter((b) => blocks.includes(b)) };
    }
    case "object":
      return _parseObject(r, sub);
    case "union": {
      if (!Array.isArray(r.of) || r.of.length < 2 || r.of.length > MAX_UNION) return undefined;
      const of: _Shape[] = [];
      for (const m of r.of) {
        const s = sub(m);
        if (!s || s.t === "union" || s.t === "unknown") return undefined;
        if (of.some((x) => _kind(x) === _kind(s))) return undefined;
        of.push(s);
      }
      return { t: "union", of };
    }
    default:
      return undefined;
  }
}

function _parseObject(
  r: Record<string, unknown>,
  sub: (v: unknown) => _Shape | undefined,
): _Shape | undefined {
  if (!Array.isArray(r.fields) || r.fields.length > _MAX_FIELDS) return undefined;
  if (r.more !== undefined && r.more !== true) return undefined;
  const fields: _Field[] = [];
  for (const f of r.fields) {
    if (typeof f !== "object" || f === null) return undefined;
    const { name, shape, optional } = f as Record<string, unknown>;
    if (typeof name !== "string" || !_FIELD_NAME.test(name)) return undefined;
    if (optional !== undefined && optional !== true) return undefined;
    if (fields.some((x) => x.name === name)) return undefined;
    const s = sub(shape);
    if (!s) return undefined;
    fields.push(optional ? { name, shape: s, optional } : { name, shape: s });
  }
  return r.more ? { t: "object", fields, more: true } : { t: "object", fields };
}
