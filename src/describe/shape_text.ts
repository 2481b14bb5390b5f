/**
 * Learned result shapes as text for the model: the observed type in TypeScript notation
 * (`_shapeText`) and a short example value (`_exampleText`), each on one line and bounded.
 *
 * @module
 */

import { _FIELD_NAME, _MAX_DEPTH, type _Shape } from "./result_shape.ts";

/** Longest type text; a longer one is shown less deep. */
export const _MAX_TYPE_CHARS = 300;
/** Longest example. */
export const _MAX_EXAMPLE_CHARS = 200;
/** Characters of a string kept in an example: the whole result, and a string inside it. */
const TOP_STRING = 80;
const INNER_STRING = 32;
/** Elements of an array and fields of an object shown in an example. */
const EXAMPLE_ITEMS = 3;
const EXAMPLE_FIELDS = 6;

/**
 * A shape as TypeScript-like text on one line: `{ id: string; tags?: string[] }`,
 * `string (JSON: { a: number })`, `McpContent[] (text, image blocks)`. Cut-off parts are `…`;
 * a type longer than `max` is shown less deep.
 */
export function _shapeText(shape: _Shape, max = _MAX_TYPE_CHARS): string {
  let text = "";
  for (let depth = _MAX_DEPTH + 1; depth >= 0; depth--) {
    text = _render(shape, depth, true);
    if (text.length <= max) return text;
  }
  return text.slice(0, max - 1) + "…";
}

function _render(s: _Shape, depth: number, top = false): string {
  switch (s.t) {
    case "string":
      return s.json && top ? `string (JSON: ${_render(s.json, depth)})` : "string";
    case "array":
      return `${s.of && depth > 0 ? _wrap(_render(s.of, depth - 1)) : "unknown"}[]`;
    case "record":
      return `Record<string, ${s.of && depth > 0 ? _render(s.of, depth - 1) : "unknown"}>`;
    case "object": {
      if (s.fields.length === 0) return s.more ? "{ … }" : "{}";
      if (depth <= 0) return "{ … }";
      const members = s.fields.map((f) =>
        `${_FIELD_NAME.test(f.name) ? f.name : JSON.stringify(f.name)}${f.optional ? "?" : ""}: ${
          _render(f.shape, depth - 1)
        }`
      );
      if (s.more) members.push("…");
      return `{ ${members.join("; ")} }`;
    }
    case "class":
      return s.name;
    case "content":
      return `McpContent[] (${s.blocks.join(", ")} blocks)`;
    case "union":
      return s.of.map((m) => _render(m, depth, top)).join(" | ");
    default:
      return s.t;
  }
}

/** Parenthesizes a union inside an array type. */
function _wrap(type: string): string {
  return type.includes(" | ") ? `(${type})` : type;
}

/**
 * A short example of a value on one line, JSON-like: strings cut (marked `…`), the first few
 * elements and fields, at most `_MAX_EXAMPLE_CHARS` characters. Never throws.
 */
export function _exampleText(value: unknown): string {
  let text: string;
  try {
    text = _example(value, 0, { left: 200 });
  } catch {
    text = "…";
  }
  if (text.length <= _MAX_EXAMPLE_CHARS) return text;
  let cut = text.slice(0, _MAX_EXAMPLE_CHARS - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + "…";
}

function _example(v: unknown, depth: number, budget: { left: number }): string {
  if (--budget.left < 0) return "…";
  switch (typeof v) {
    case "string":
      // JSON text reads better on one line, without its indentation's escapes.
      if (depth === 0 && /^\s*[[{]/.test(v)) {
        const head = v.slice(0, TOP_STRING * 4);
        return _quote(head.replace(/\s+/g, " ").trim(), TOP_STRING, head.length < v.length);
      }
      return _quote(v, depth === 0 ? TOP_STRING : INNER_STRING);
    case "number":
    case "boolean":
      return String(v);
    case "bigint":
      return `${v}n`;
    case "undefined":
      return "null";
    case "object":
      break;
    default:
      return "…";
  }
  if (v === null) return "null";
  if (Array.isArray(v)) {
    if (depth >= 3) return v.length ? "[…]" : "[]";
    const items = v.slice(0, EXAMPLE_ITEMS).map((x) => _example(x, depth + 1, budget));
    if (v.length > EXAMPLE_ITEMS) items.push("…");
    return `[${items.join(", ")}]`;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === "string" && name !== "Object") {
      const size = (v as { length?: unknown; size?: unknown }).length ??
        (v as { size?: unknown }).size;
      return typeof size === "number" ? `${name}(${size})` : name;
    }
  }
  if (depth >= 3) return "{…}";
  const parts: string[] = [];
  for (const key in v as Record<string, unknown>) {
    if (!Object.hasOwn(v, key)) continue;
    const field = (v as Record<string, unknown>)[key];
    if (field === undefined) continue;
    if (parts.length === EXAMPLE_FIELDS) {
      parts.push("…");
      break;
    }
    const name = _FIELD_NAME.test(key) ? key : _quote(key, INNER_STRING);
    parts.push(`${name}: ${_example(field, depth + 1, budget)}`);
  }
  return parts.length ? `{ ${parts.join(", ")} }` : "{}";
}

/**
 * A string cut to `max` characters, quoted: in single quotes when it holds double ones. `longer`:
 * `s` is already the start of a longer string.
 */
function _quote(s: string, max: number, longer = false): string {
  let cut = s.length > max ? s.slice(0, max) : s;
  if (cut.length < s.length && /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const mark = longer || cut.length < s.length ? "…" : "";
  // deno-lint-ignore no-control-regex -- control characters need JSON's escapes
  if (cut.includes('"') && !/['\\\u0000-\u001f\u2028\u2029]/.test(cut)) return `'${cut}${mark}'`;
  const json = JSON.stringify(cut);
  return mark ? `${json.slice(0, -1)}${mark}"` : json;
}
