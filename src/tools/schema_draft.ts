/**
 * Which JSON Schema draft a tool's schema is written in: its `$schema`, or a guess from the
 * keywords it uses.
 *
 * @module
 */

import type { JsonSchema } from "../types.ts";

/** The JSON Schema drafts a tool's `inputSchema` may be written in. */
export type _Draft = "draft-04" | "draft-06" | "draft-07" | "2019-09" | "2020-12";

/**
 * The draft a schema is written in: its `$schema`, or when it has none, a guess from what it
 * uses — draft-04 for a boolean `exclusiveMinimum`/`exclusiveMaximum`, 2020-12 for keywords only
 * 2019-09 and later know (`prefixItems`, `$defs`, `unevaluatedProperties`, …) unless it also uses
 * the array form of `items`, else draft-07.
 *
 * @throws {TypeError} for a `$schema` that names no draft this compiler knows.
 */
export function _draftOf(schema: JsonSchema): _Draft {
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared !== undefined) {
    const match = typeof declared === "string"
      ? /^https?:\/\/json-schema\.org\/(draft-0[467]|draft\/2019-09|draft\/2020-12)\/schema#?$/
        .exec(declared)
      : null;
    if (match === null) {
      throw new TypeError(
        `its "$schema" ${
          JSON.stringify(declared)?.slice(0, 120)
        } is not a draft this host knows: use draft-04, -06, -07, 2019-09 or 2020-12 ` +
          `(e.g. "https://json-schema.org/draft/2020-12/schema"), or leave "$schema" out`,
      );
    }
    return match[1].replace("draft/", "") as _Draft;
  }
  let newer = false;
  let arrayItems = false;
  for (const node of _subschemas(schema)) {
    if (typeof node.exclusiveMinimum === "boolean" || typeof node.exclusiveMaximum === "boolean") {
      return "draft-04";
    }
    if (Array.isArray(node.items)) arrayItems = true;
    for (const key of NEWER_KEYWORDS) if (key in node) newer = true;
  }
  return newer && !arrayItems ? "2020-12" : "draft-07";
}

const NEWER_KEYWORDS = [
  "prefixItems",
  "$defs",
  "$anchor",
  "$dynamicRef",
  "$dynamicAnchor",
  "$recursiveRef",
  "$recursiveAnchor",
  "unevaluatedProperties",
  "unevaluatedItems",
  "dependentRequired",
  "dependentSchemas",
  "minContains",
  "maxContains",
];
const ONE_SCHEMA = [
  "additionalItems",
  "additionalProperties",
  "contains",
  "else",
  "if",
  "items",
  "not",
  "propertyNames",
  "then",
  "unevaluatedItems",
  "unevaluatedProperties",
];
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/** Keywords whose value maps names to subschemas. */
export const SCHEMA_MAPS: readonly string[] = [
  "$defs",
  "definitions",
  "dependencies",
  "dependentSchemas",
  "patternProperties",
  "properties",
];

/** Every object subschema of `schema` (keyword positions only, not `enum` or `default` data). */
function* _subschemas(schema: JsonSchema): Generator<Record<string, unknown>> {
  const stack: unknown[] = [schema];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null || Array.isArray(node)) continue;
    const s = node as Record<string, unknown>;
    yield s;
    for (const key of ONE_SCHEMA) if (!Array.isArray(s[key])) stack.push(s[key]);
    for (const key of SCHEMA_LISTS) if (Array.isArray(s[key])) stack.push(...(s[key] as unknown[]));
    for (const key of SCHEMA_MAPS) {
      const map = s[key];
      if (typeof map === "object" && map !== null) stack.push(...Object.values(map));
    }
  }
}
