/**
 * The checks the schema compiler puts in place of ajv's own where those could be made
 * super-linear by an argument: `uniqueItems` (pairwise in ajv) and the `format` expressions of
 * ajv-formats (backtracking `RegExp`s).
 *
 * @module
 */

import type { ErrorObject, FormatDefinition } from "ajv";
import type { _RegExpEngine } from "./linear_regexp.ts";

/**
 * Formats whose expression needs a lookaround RE2 lacks, and that were reviewed as linear or
 * bounded in V8's engine: `hostname` is capped at 254 characters by its leading lookahead;
 * `duration`'s groups are unambiguous. They keep their native expression.
 */
const NATIVE_FORMATS = new Set(["hostname", "duration"]);

/** `uniqueItems` in time linear in the data: items compared by a canonical JSON key. */
export function _uniqueItems(
  this: unknown,
  unique: boolean,
  data: unknown[],
): boolean {
  if (!unique) return true;
  const seen = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const key = _canonical(data[i]);
    const first = seen.get(key);
    if (first !== undefined) {
      _uniqueItems.errors = [{
        keyword: "uniqueItems",
        message: `must NOT have duplicate items (items ## ${first} and ${i} are identical)`,
        params: { i: first, j: i },
      }];
      return false;
    }
    seen.set(key, i);
  }
  return true;
}
_uniqueItems.errors = [] as Partial<ErrorObject>[];

/** JSON with object keys sorted: equal values (as JSON Schema compares them) get equal keys. */
function _canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(_canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${
      Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${_canonical(o[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * ajv-formats' formats, each on a linear-time expression: a format given as a regular expression
 * is recompiled for the linear engine; `url` loses its private-address lookaheads (RE2 has
 * none); the formats in {@linkcode NATIVE_FORMATS} keep theirs; the formats given as functions
 * (`date`, `time`, `date-time`, `uri`, `byte`, `regex`, …) were reviewed as linear.
 */
export function _linearFormats(
  formats: Record<string, unknown>,
  engine: _RegExpEngine,
): Record<string, FormatDefinition<string> | FormatDefinition<number> | true> {
  const out: Record<string, FormatDefinition<string> | FormatDefinition<number> | true> = {};
  for (const [name, format] of Object.entries(formats)) {
    if (!(format instanceof RegExp)) {
      out[name] = format as FormatDefinition<string> | true;
      continue;
    }
    if (NATIVE_FORMATS.has(name)) {
      out[name] = { validate: format };
      continue;
    }
    const source = name === "url"
      ? format.source.replace(/\(\?!(?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)/g, "")
      : format.source;
    const linear = engine.compile(source, format.flags);
    out[name] = { validate: (s: string) => linear.test(s) };
  }
  return out;
}
