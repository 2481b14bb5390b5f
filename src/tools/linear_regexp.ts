/**
 * Regular expressions from tools' schemas (`pattern`, `patternProperties`) and the `format`
 * expressions, which the host runs on strings a program sends, go through one linear-time
 * engine: RE2JS, the JavaScript port of RE2 (`npm:re2js`, MIT, maintained). It matches in time
 * linear in the text — no backtracking, so no pattern can freeze the host's thread — at the
 * price of lookaheads and backreferences, which it refuses. (Globs have their own matcher,
 * `glob.ts`; `search_files` runs the program's own expression in a child process.)
 *
 * The engine is loaded with the schema compiler, on first use ({@linkcode _loadRegExpEngine}).
 *
 * @module
 */

import type { RE2JS as Re2Class } from "re2js";

/** A compiled linear-time regular expression: `test` answers like `RegExp.prototype.test`. */
export interface _LinearRegExp {
  /** The pattern as given. */
  readonly source: string;
  /** Whether the pattern matches anywhere in `text` (anchors make it a whole-text match). */
  test(text: string): boolean;
  /** `/source/flags`, unique per pattern and flags (ajv caches compiled patterns by it). */
  toString(): string;
}

/** Compiles patterns to {@linkcode _LinearRegExp}s. */
export interface _RegExpEngine {
  /**
   * Compiles an ECMAScript (JSON Schema) pattern: `\uXXXX`, `\u{…}`, `(?<name>…)` and the flags
   * `i`, `m`, `s` (`u` is implied: matching is by code point) are translated, and RE2's inline
   * flags such as a leading `(?i)` are accepted too. Lookbehinds are allowed (RE2JS runs them in
   * linear time); lookaheads and backreferences are not.
   *
   * @throws {SyntaxError} naming the pattern and what to change, when it does not compile.
   */
  compile(pattern: string, flags?: string): _LinearRegExp;
}

let loading: Promise<_RegExpEngine> | undefined;

/** Loads the engine once; later calls share the first load. */
export function _loadRegExpEngine(): Promise<_RegExpEngine> {
  return loading ??= import("re2js").then(({ RE2JS }) => _engine(RE2JS));
}

function _engine(RE2JS: typeof Re2Class): _RegExpEngine {
  const flagBits = (flags: string): number => {
    let bits = RE2JS.LOOKBEHINDS;
    for (const f of flags) {
      if (f === "i") bits |= RE2JS.CASE_INSENSITIVE;
      else if (f === "m") bits |= RE2JS.MULTILINE;
      else if (f === "s") bits |= RE2JS.DOTALL;
      else if (f !== "u" && f !== "g" && f !== "y" && f !== "d" && f !== "v") {
        throw new SyntaxError(`unknown regular expression flag "${f}": use i, m, s or u`);
      }
    }
    return bits;
  };
  return {
    compile(pattern, flags = "") {
      let compiled: Re2Class;
      try {
        compiled = RE2JS.compile(RE2JS.translateRegExp(pattern), flagBits(flags));
      } catch (error) {
        throw new SyntaxError(_compileProblem(pattern, (error as Error).message));
      }
      const text = `/${pattern}/${flags}`;
      return {
        source: pattern,
        test: (s: string) => compiled.test(s),
        toString: () => text,
      };
    },
  };
}

/** What is wrong with a pattern and what to do, from RE2JS's complaint. */
function _compileProblem(pattern: string, message: string): string {
  const shown = JSON.stringify(pattern.length > 200 ? pattern.slice(0, 200) + "…" : pattern);
  const cause = message.replace(/^error parsing regexp: /, "");
  const hint = /\(\?[=!]/.test(cause)
    ? "lookaheads cannot be matched in linear time: rewrite the pattern without them"
    : /escape sequence: `\\[1-9k]/.test(cause)
    ? "backreferences cannot be matched in linear time: rewrite the pattern without them"
    : "fix the pattern (RE2 syntax: no lookaheads or backreferences)";
  return `the pattern ${shown} cannot be compiled (${cause}); ${hint}`;
}
