/**
 * Shapes that cross from the front end to the rest of codemode (the compiler process, the
 * session, the sandbox), defined once: the check mode and where a surviving import sits.
 *
 * @module
 */

/**
 * How strictly a program is type-checked before it runs: `"error"` refuses a program with type
 * errors, `"warn"` runs it and returns them as diagnostics, `"off"` skips the check (syntax and
 * imports are still checked).
 */
export type CheckMode = "error" | "warn" | "off";

/** The check mode `mode` names; throws a TypeError saying what to pass when it names none. */
export function _checkMode(mode: unknown): CheckMode {
  if (mode !== "error" && mode !== "warn" && mode !== "off") {
    throw new TypeError(`check must be "error", "warn" or "off", got ${JSON.stringify(mode)}`);
  }
  return mode;
}

/**
 * A static import or export-from that survived elision: the offsets in the emitted JavaScript of
 * its specifier's string literal (quotes included), and the stub module it names (`null` for
 * `codemode:tools`, else the name after `codemode:tools/`).
 */
export interface _StubImport {
  start: number;
  end: number;
  stub: string | null;
}
