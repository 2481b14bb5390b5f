/**
 * The one rule that turns tool and server names into identifiers a program can call.
 *
 * @module
 */

const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends " +
    "false finally for function if import in instanceof new null return super switch this throw " +
    "true try typeof var void while with yield let static implements interface package private " +
    "protected public await async arguments eval undefined NaN Infinity globalThis")
    .split(" "),
);

/**
 * Makes a name identifier-safe: every character that cannot appear in a JavaScript identifier
 * becomes `_`, a leading digit gets a `_` prefix, a reserved word gets a `_` suffix.
 *
 * @example Sanitize MCP names
 * ```ts
 * import { toIdentifier } from "@codemode/cli";
 * toIdentifier("server-everything"); // "server_everything"
 * toIdentifier("get-sum"); // "get_sum"
 * toIdentifier("3d"); // "_3d"
 * toIdentifier("delete"); // "delete_"
 * ```
 */
export function toIdentifier(name: string): string {
  if (name.length === 0) return "_";
  let out = "";
  for (const ch of name) {
    out += /[\p{ID_Continue}$\u200c\u200d]/u.test(ch) ? ch : "_";
  }
  if (!/^[\p{ID_Start}$_]/u.test(out)) out = "_" + out;
  if (RESERVED.has(out)) out += "_";
  return out;
}

/**
 * The program-side name of a tool: `toIdentifier` applied to the name, or to each side of a
 * single `namespace.tool` dot.
 */
export function _programName(name: string): string {
  const dot = name.indexOf(".");
  if (dot < 0) return toIdentifier(name);
  return `${toIdentifier(name.slice(0, dot))}.${toIdentifier(name.slice(dot + 1))}`;
}
