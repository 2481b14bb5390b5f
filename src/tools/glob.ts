/**
 * Glob patterns for the built-in tools, compiled to regular expressions.
 *
 * `node:path`'s `matchesGlob` exists in Deno 2.9 but asks for environment access on first use
 * (`__MINIMATCH_TESTING_PLATFORM__`), which a host running with narrow permissions may not have,
 * so the built-in tools use this small compiler instead.
 *
 * @module
 */

/**
 * Compiles a glob to a regular expression over `/`-separated relative paths.
 *
 * - `*` matches any characters except `/`; `?` matches one character except `/`;
 * - `**` as a whole segment matches any number of segments (also none);
 * - `[abc]`, `[a-z]`, `[!abc]` match one character of (or not of) a set;
 * - `{ts,tsx}` matches one of the alternatives (alternatives may hold globs);
 * - `\x` matches `x` literally;
 * - a pattern without `/` matches the file name at any depth (`*.ts` finds `src/a/b.ts`),
 *   like ripgrep's `-g`; a pattern with `/` matches the whole relative path.
 *
 * Throws a `SyntaxError` naming the pattern when a `[` or `{` is not closed.
 *
 * @example Match TypeScript files under src
 * ```ts
 * import { globToRegExp } from "./glob.ts";
 * globToRegExp(["src", "**", "*.ts"].join("/")).test("src/a/b.ts"); // true
 * globToRegExp("*.md").test("docs/intro.md"); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  if (typeof glob !== "string" || glob.length === 0) {
    throw new TypeError(
      `A glob must be a non-empty string, got ${JSON.stringify(glob)}: pass e.g. "**/*.ts"`,
    );
  }
  let pattern = glob;
  while (pattern.startsWith("./")) pattern = pattern.slice(2);
  const anyDepth = !pattern.replace(/\/+$/, "").includes("/");
  const body = _compile(pattern, glob);
  return new RegExp(anyDepth ? `^(?:.*/)?${body}$` : `^${body}$`, "s");
}

function _compile(pattern: string, original: string): string {
  let out = "";
  let braces = 0;
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(
      `The glob "${original}" has ${what}: close it, or escape it with a backslash to match it ` +
        `literally`,
    );
  };
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "*") {
      let j = i;
      while (pattern[j] === "*") j++;
      const segmentStart = i === 0 || pattern[i - 1] === "/";
      const segmentEnd = j === pattern.length || pattern[j] === "/";
      if (j - i >= 2 && segmentStart && segmentEnd) {
        if (j === pattern.length) {
          out += ".*";
          i = j;
        } else {
          out += "(?:.*/)?"; // "**/" — zero or more whole segments
          i = j + 1;
        }
      } else {
        out += "[^/]*";
        i = j;
      }
      continue;
    }
    if (ch === "?") out += "[^/]";
    else if (ch === "\\") {
      i++;
      if (i >= pattern.length) fail("a trailing backslash");
      out += _escape(pattern[i]);
    } else if (ch === "[") {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === "!" || pattern[j] === "^") (negate = true, j++);
      let set = "";
      if (pattern[j] === "]") (set += "\\]", j++);
      while (j < pattern.length && pattern[j] !== "]") {
        const c = pattern[j];
        if (c === "\\" && j + 1 < pattern.length) (set += "\\" + pattern[j + 1], j += 2);
        else (set += c === "[" || c === "^" ? "\\" + c : c, j++);
      }
      if (j >= pattern.length) fail(`an unclosed "[" at position ${i + 1}`);
      out += negate ? `[^/${set}]` : `[${set}]`;
      i = j;
    } else if (ch === "{") {
      braces++;
      out += "(?:";
    } else if (ch === "," && braces > 0) out += "|";
    else if (ch === "}" && braces > 0) {
      braces--;
      out += ")";
    } else out += _escape(ch);
    i++;
  }
  if (braces > 0) fail(`an unclosed "{"`);
  return out;
}

function _escape(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? "\\" + ch : ch;
}
