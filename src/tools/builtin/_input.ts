/**
 * Small input checks shared by the built-in tools. The runner already validates arguments
 * against each tool's `inputSchema`; these keep a direct library call (`tool.execute(...)`) from
 * doing something surprising with a wrong type.
 *
 * @module
 */

/** Reads an input object's field, checking its type; `undefined` when absent and optional. */
export function _field<T extends "string" | "number" | "boolean" | "object">(
  tool: string,
  input: unknown,
  key: string,
  type: T,
  required = false,
):
  | (T extends "string" ? string
    : T extends "number" ? number
    : T extends "boolean" ? boolean
    : Record<string, unknown>)
  | undefined {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError(
      `${tool}: the input must be an object such as { ${key}: ... }, got ${_show(input)}`,
    );
  }
  const value = (input as Record<string, unknown>)[key];
  if (value === undefined || value === null) {
    if (required) {
      throw new TypeError(`${tool}: "${key}" is required: pass it as a ${type}`);
    }
    return undefined;
  }
  if (typeof value !== type || (type === "object" && Array.isArray(value))) {
    throw new TypeError(`${tool}: "${key}" must be a ${type}, got ${_show(value)}`);
  }
  // deno-lint-ignore no-explicit-any -- the conditional return type is checked by `typeof` above
  return value as any;
}

/** Reads an optional integer field within [min, max]; `fallback` when absent. */
export function _integer(
  tool: string,
  input: unknown,
  key: string,
  range: { min: number; max: number; fallback?: number },
): number | undefined {
  const value = _field(tool, input, key, "number");
  if (value === undefined) return range.fallback;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new RangeError(
      `${tool}: "${key}" must be an integer from ${range.min} to ${range.max}, got ${value}`,
    );
  }
  return value;
}

function _show(value: unknown): string {
  if (value === undefined) return "undefined";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
