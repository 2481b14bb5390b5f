/**
 * codemode's built-in tools, confined to one root directory: `read_file`, `list_files` and
 * `search_files` always; `write_file`/`edit_file`, `bash` and `web_fetch` when allowed. They are
 * ordinary {@linkcode Tool}s: give them to a `CodeMode` with your own.
 *
 * @example The read-only tools over this directory
 * ```ts
 * import { CodeMode } from "@codemode/cli";
 * import { builtinTools } from "@codemode/cli/tools";
 * await using codeMode = new CodeMode({ tools: builtinTools({ root: "." }) });
 * ```
 *
 * @module
 */

export { builtinTools, type BuiltinToolsOptions } from "./builtin/mod.ts";
export type { Tool } from "../types.ts";
