/**
 * JSON Schema → TypeScript type text, for the declarations the model reads and the type-checker
 * compiles.
 *
 * Why our own generator and not `json-schema-to-typescript` (16.0.0, `format: false`): measured
 * by `deno run -A bench/schema_compare.ts` on the 60 schemas (36 inputs, 24 outputs) of the real
 * MCP servers server-everything, server-filesystem and server-memory.
 * - Size is a wash: types alone 2,480 bytes (ours) vs 2,484 (library with
 *   `additionalProperties: false`); with descriptions 6,549 (ours: indented one-line JSDoc plus
 *   `Default:` notes the library drops) vs 6,036, and 6,912 for the library's defaults, which open
 *   every object with `[k: string]: unknown` (hiding misspelled property names from the check).
 * - Correctness: both compile with no errors under TypeScript 6 strict, and 59 of 60 types are
 *   equivalent. The one difference favours ours for programs: `minItems: 1` becomes
 *   `[string, ...string[]]` in the library, which rejects an ordinary `string[]` variable, so a
 *   model's `read_multiple_files({ paths })` fails the type-check.
 * - Fit decides: the library is async and resolves `$ref`s with a resolver that can read files
 *   and URLs, is about 12× slower (0.8 ms vs 0.07 ms per schema), and emits named
 *   `export interface Name` declarations with unindented multi-line JSDoc that we would have to
 *   name uniquely across 1,000 tools and strip again. The description is regenerated
 *   synchronously whenever tools change, and it needs one inline type per parameter. Ours never
 *   throws: cycles, non-local `$ref`s and parts deeper than `maxDepth` become `unknown` there.
 *
 * @module
 */

import type { JsonSchema } from "../types.ts";
import { _comment, _shorten } from "./jsdoc.ts";

/**
 * Options for {@linkcode schemaToTypeScript}.
 *
 * @example One line, no comments, open parts as `any`
 * ```ts
 * import { schemaToTypeScript } from "@codemode/cli";
 * schemaToTypeScript({ type: "array" }, { descriptions: false, untyped: "any" }); // "any[]"
 * ```
 */
export interface SchemaToTypeScriptOptions {
  /**
   * The document that local `$ref`s (`#/$defs/…`, `#/definitions/…`, `#`) resolve against.
   * @default {the schema itself}
   */
  root?: JsonSchema;
  /**
   * Nesting depth (objects, arrays, combinators, `$ref`s) after which a part becomes `unknown`.
   * @default {10}
   */
  maxDepth?: number;
  /**
   * Property descriptions (and short defaults) as one-line JSDoc; `false` gives one line of type
   * text without comments.
   * @default {true}
   */
  descriptions?: boolean;
  /**
   * Characters of a property description kept in its JSDoc (whole sentences; constraints such
   * as `maximum` or `pattern` are stated after it in full).
   * @default {240}
   */
  maxDescriptionChars?: number;
  /**
   * Prefix of every line after the first, so the type can be nested in indented text.
   * @default {""}
   */
  indent?: string;
  /**
   * The type for parts the schema leaves open (`{}`, `true`, an array without `items`): `"any"`
   * suits tool results the program reads without narrowing.
   * @default {"unknown"}
   */
  untyped?: "unknown" | "any";
}

interface Context {
  root: unknown;
  maxDepth: number;
  docs: boolean;
  maxDesc: number;
  untyped: string;
  refs: string[];
  nodes: number;
}

/** Past this many schema nodes in one call the rest becomes `unknown` (guards `$ref` blow-up). */
const MAX_NODES = 5_000;
/** Single-line objects up to this width; wider (or documented) ones get one property per line. */
const LINE_WIDTH = 80;
/** Keywords that carry no type information next to a `$ref`. */
const ANNOTATIONS = new Set([
  "$ref",
  "$schema",
  "$id",
  "$comment",
  "$defs",
  "definitions",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

/**
 * Turns a JSON Schema into TypeScript type text: required vs optional properties, `enum` and
 * `const` as literals, arrays and tuples (`prefixItems` / `items: [...]`), nested objects,
 * `anyOf`/`oneOf` unions, `allOf` intersections, local `$ref`s into `$defs`/`definitions`,
 * `nullable`, type arrays such as `["string", "null"]`, `additionalProperties` and
 * `patternProperties` as index signatures, and property descriptions as short JSDoc. Property
 * names that are not identifiers are quoted. Never throws: cycles, remote `$ref`s and parts deeper
 * than `maxDepth` become `unknown` for that part only.
 *
 * @example Render a tool's input schema
 * ```ts
 * import { schemaToTypeScript } from "@codemode/cli";
 * schemaToTypeScript({
 *   type: "object",
 *   properties: { path: { type: "string" }, head: { type: ["integer", "null"] } },
 *   required: ["path"],
 * }); // "{ path: string; head?: number | null }"
 * ```
 */
export function schemaToTypeScript(
  schema: JsonSchema | boolean,
  options: SchemaToTypeScriptOptions = {},
): string {
  const ctx: Context = {
    root: options.root ?? schema,
    maxDepth: options.maxDepth ?? 10,
    docs: options.descriptions ?? true,
    maxDesc: options.maxDescriptionChars ?? 240,
    untyped: options.untyped ?? "unknown",
    refs: options.root === undefined || options.root === schema ? ["#"] : [],
    nodes: 0,
  };
  return _render(schema, ctx, 0, options.indent ?? "");
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function _render(schema: unknown, ctx: Context, depth: number, indent: string): string {
  if (schema === false) return "never";
  if (!_isObject(schema)) return ctx.untyped;
  if (depth > ctx.maxDepth || ++ctx.nodes > MAX_NODES) return "unknown";
  if (typeof schema.$ref === "string") {
    const target = _renderRef(schema.$ref, ctx, depth, indent);
    const rest = Object.keys(schema).filter((k) => !ANNOTATIONS.has(k));
    if (rest.length === 0) return target;
    const sibling = Object.fromEntries(rest.map((k) => [k, schema[k]]));
    return _intersection([target, _render(sibling, ctx, depth, indent)], ctx);
  }
  const parts: string[] = [];
  const own = _ownType(schema, ctx, depth, indent);
  if (own !== null) parts.push(own);
  for (const key of ["anyOf", "oneOf"]) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      const union = _union(branches.map((b) => _render(b, ctx, depth + 1, indent)));
      if (union !== "unknown" && union !== "any") parts.push(union);
    }
  }
  if (Array.isArray(schema.allOf)) {
    for (const branch of schema.allOf) parts.push(_render(branch, ctx, depth + 1, indent));
  }
  return _intersection(parts, ctx);
}

/** The type from `const`, `enum` or `type` (with `nullable`), or null when the schema has none. */
function _ownType(
  schema: Record<string, unknown>,
  ctx: Context,
  depth: number,
  indent: string,
): string | null {
  const nullable = schema.nullable === true;
  const withNull = (t: string) => (nullable ? _union([t, "null"]) : t);
  if ("const" in schema) return withNull(_literal(schema.const));
  if (Array.isArray(schema.enum)) {
    return schema.enum.length ? withNull(_union(schema.enum.map(_literal))) : "never";
  }
  let types: unknown[];
  if (Array.isArray(schema.type)) types = schema.type;
  else if (typeof schema.type === "string") types = [schema.type];
  else if (
    _isObject(schema.properties) || "additionalProperties" in schema ||
    _isObject(schema.patternProperties)
  ) types = ["object"];
  else if ("items" in schema || Array.isArray(schema.prefixItems)) types = ["array"];
  else return nullable ? "null" : null;
  if (types.length === 0) return null;
  return withNull(_union(types.map((t) => {
    switch (t) {
      case "string":
      case "number":
      case "boolean":
      case "null":
        return t;
      case "integer":
        return "number";
      case "object":
        return _object(schema, ctx, depth + 1, indent);
      case "array":
        return _array(schema, ctx, depth + 1, indent);
      default:
        return ctx.untyped;
    }
  })));
}

function _renderRef(ref: string, ctx: Context, depth: number, indent: string): string {
  if (ctx.refs.includes(ref)) return "unknown";
  const target = _resolvePointer(ctx.root, ref);
  if (target === undefined) return "unknown";
  ctx.refs.push(ref);
  try {
    return _render(target, ctx, depth + 1, indent);
  } finally {
    ctx.refs.pop();
  }
}

/** Resolves a local JSON pointer (`#`, `#/$defs/Name`); undefined for anything else. */
function _resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  if (path === "") return root;
  if (!path.startsWith("/")) return undefined;
  let node: unknown = root;
  for (const raw of path.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (_isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

function _object(
  schema: Record<string, unknown>,
  ctx: Context,
  depth: number,
  indent: string,
): string {
  if (depth > ctx.maxDepth) return "unknown";
  const inner = indent + "  ";
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === "string") : [],
  );
  const props = _isObject(schema.properties) ? schema.properties : null;
  const members: { doc: string; text: string; type: string; optional: boolean }[] = [];
  for (const [key, sub] of Object.entries(props ?? {})) {
    const type = _render(sub, ctx, depth, inner);
    const optional = !required.has(key);
    const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
    const doc = ctx.docs ? _propertyDoc(sub, ctx) : "";
    members.push({ doc, text: `${name}${optional ? "?" : ""}: ${type}`, type, optional });
  }
  const extra: string[] = [];
  const ap = schema.additionalProperties;
  if (_isObject(ap)) extra.push(_render(ap, ctx, depth, inner));
  const patterns = _isObject(schema.patternProperties);
  if (ap === true || (ap === undefined && props === null && !patterns)) extra.push(ctx.untyped);
  if (patterns) {
    for (const sub of Object.values(schema.patternProperties as Record<string, unknown>)) {
      extra.push(_render(sub, ctx, depth, inner));
    }
  }
  if (extra.length > 0) {
    let value = _union(extra);
    if (members.length === 0) return `Record<string, ${value}>`;
    if (value !== "unknown" && value !== "any") {
      // An index signature must admit every named property's type (optional ones add undefined).
      const all = [value, ...members.map((m) => m.type)];
      if (members.some((m) => m.optional)) all.push("undefined");
      value = _union(all);
      if (value.includes("\n") || value.length > LINE_WIDTH / 2) value = "unknown";
    }
    members.push({ doc: "", text: `[key: string]: ${value}`, type: value, optional: false });
  }
  if (members.length === 0) return "{}";
  const flat = `{ ${members.map((m) => m.text).join("; ")} }`;
  const fits = !flat.includes("\n") && flat.length + indent.length <= LINE_WIDTH;
  if (!ctx.docs || (fits && !members.some((m) => m.doc))) return flat;
  const lines = members.map((m) => (m.doc ? `${inner}${m.doc}\n` : "") + `${inner}${m.text};`);
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** One-line JSDoc for a property: its description (whole sentences) and every constraint. */
function _propertyDoc(sub: unknown, ctx: Context): string {
  if (!_isObject(sub)) return "";
  const text = typeof sub.description === "string" ? _shorten(sub.description, ctx.maxDesc) : "";
  const notes = _constraints(sub, /\bdefault\b/i.test(text));
  if (_isObject(sub.items)) {
    const each = _constraints(sub.items, false);
    if (each.length) notes.push(`Each item: ${each.join(", ")}`);
  }
  const stop = text && !/[.!?…]$/.test(text) ? "." : "";
  return _comment(notes.length ? `${text}${stop}${text ? " " : ""}${notes.join(". ")}.` : text);
}

/** Longest `default` (as JSON) and `pattern` stated in a property's JSDoc. */
const MAX_DEFAULT = 80;
const MAX_PATTERN = 1_000;

/** What a schema allows beyond its type, in words: `Maximum: 10000`, `Format: uri`, `Default: 5`. */
function _constraints(s: Record<string, unknown>, saysDefault: boolean): string[] {
  const out: string[] = [];
  const num = (key: string): number | null => {
    const v = s[key];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  const min = num("minimum");
  const max = num("maximum");
  // Draft 4 spells exclusive bounds as booleans next to minimum/maximum.
  const exMin = num("exclusiveMinimum") ?? (s.exclusiveMinimum === true ? min : null);
  const exMax = num("exclusiveMaximum") ?? (s.exclusiveMaximum === true ? max : null);
  if (exMin !== null) out.push(`Greater than ${exMin}`);
  else if (min !== null) out.push(`Minimum: ${min}`);
  if (exMax !== null) out.push(`Less than ${exMax}`);
  else if (max !== null) out.push(`Maximum: ${max}`);
  if (num("multipleOf") !== null) out.push(`Multiple of ${num("multipleOf")}`);
  for (
    const [key, words] of [
      ["minLength", "Min length"],
      ["maxLength", "Max length"],
      ["minItems", "Min items"],
      ["maxItems", "Max items"],
    ] as const
  ) {
    if (num(key) !== null) out.push(`${words}: ${num(key)}`);
  }
  if (s.uniqueItems === true) out.push("Items unique");
  if (typeof s.pattern === "string") {
    out.push(
      s.pattern.length <= MAX_PATTERN
        ? `Pattern: /${s.pattern}/`
        : `Pattern: a ${s.pattern.length}-character regular expression (too long to show)`,
    );
  }
  if (typeof s.format === "string" && s.format.length <= 40) out.push(`Format: ${s.format}`);
  if ("default" in s && !saysDefault) {
    let json: string | undefined;
    try {
      json = JSON.stringify(s.default);
    } catch {
      json = undefined;
    }
    if (json !== undefined && json.length <= MAX_DEFAULT) out.push(`Default: ${json}`);
  }
  return out;
}

function _array(
  schema: Record<string, unknown>,
  ctx: Context,
  depth: number,
  indent: string,
): string {
  if (depth > ctx.maxDepth) return "unknown";
  const tuple = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
    ? schema.items
    : null;
  if (tuple === null) {
    const items = "items" in schema ? _render(schema.items, ctx, depth, indent) : ctx.untyped;
    return `${_wrap(items)}[]`;
  }
  const rest = Array.isArray(schema.prefixItems) ? schema.items : schema.additionalItems;
  // Without minItems every listed element is taken as required (the common intent).
  const min = typeof schema.minItems === "number" ? schema.minItems : tuple.length;
  const elements = tuple.map((item, i) => {
    const t = _render(item, ctx, depth, indent);
    return i >= min ? `${_wrap(t)}?` : t;
  });
  if (_isObject(rest)) elements.push(`...${_wrap(_render(rest, ctx, depth, indent))}[]`);
  else if (rest === true) elements.push(`...${ctx.untyped}[]`);
  return `[${elements.join(", ")}]`;
}

/** A JSON value as a TypeScript literal type. */
function _literal(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "number";
    case "boolean":
      return String(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(_literal).join(", ")}]`;
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) return "{}";
      return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${_literal(v)}`).join("; ")} }`;
    }
    default:
      return "unknown";
  }
}

/** A union of distinct members; `unknown`/`any` absorb the rest. */
function _union(members: string[]): string {
  const unique = [...new Set(members)].filter((m) => m !== "never");
  if (unique.includes("any")) return "any";
  if (unique.includes("unknown")) return "unknown";
  if (unique.length === 0) return "never";
  if (unique.length === 1) return unique[0];
  return unique.map((m) => (_topLevel(m, "&") ? `(${m})` : m)).join(" | ");
}

/** An intersection of distinct members without the open ones; open when nothing is left. */
function _intersection(members: string[], ctx: Context): string {
  const unique = [...new Set(members)].filter((m) => m !== "unknown" && m !== "any");
  if (unique.length === 0) return ctx.untyped;
  if (unique.length === 1) return unique[0];
  return unique.map(_wrap).join(" & ");
}

/** Parenthesizes a type that holds a top-level union or intersection. */
function _wrap(type: string): string {
  return _topLevel(type, "|") || _topLevel(type, "&") ? `(${type})` : type;
}

/** Whether `op` occurs in `type` outside brackets and string literals. */
function _topLevel(type: string, op: string): boolean {
  let depth = 0;
  for (let i = 0; i < type.length; i++) {
    const ch = type[i];
    if (ch === '"') {
      for (i++; i < type.length && type[i] !== '"'; i++) if (type[i] === "\\") i++;
    } else if ("{[(<".includes(ch)) depth++;
    else if ("}])>".includes(ch)) depth--;
    else if (depth === 0 && ch === op) return true;
  }
  return false;
}
