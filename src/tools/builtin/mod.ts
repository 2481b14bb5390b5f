/**
 * The built-in tools, host-side and confined to a root directory, with Deno-style opt-ins:
 * `read_file`, `list_files` and `search_files` always; `write_file` and `edit_file` with
 * `allowWrite`; `bash` with `allowRun`; `web_fetch` with `allowNet`.
 *
 * @module
 */

import type { Tool } from "../../types.ts";
import { _ownSchema } from "../tool_set.ts";
import { Root } from "../root.ts";
import { bashTool } from "./bash.ts";
import { editFileTool } from "./edit_file.ts";
import { listFilesTool } from "./list_files.ts";
import { readFileTool } from "./read_file.ts";
import { searchFilesTool } from "./search_files.ts";
import { _parseAllowed, webFetchTool } from "./web_fetch.ts";
import { writeFileTool } from "./write_file.ts";

/** Which built-in tools to create and where they may act. */
export interface BuiltinToolsOptions {
  /**
   * The directory every file tool is confined to (absolute or relative to the current
   * directory); `bash` starts in it. Must exist.
   */
  root: string;
  /**
   * Add `write_file` and `edit_file` (like Deno's `--allow-write`).
   * @default {false}
   */
  allowWrite?: boolean;
  /**
   * Add `bash`, which runs commands with the host's permissions (like Deno's `--allow-run`:
   * a command can reach outside the root).
   * @default {false}
   */
  allowRun?: boolean;
  /**
   * Add `web_fetch`, allowed to reach only these hosts: `"example.com"` (any port) or
   * `"localhost:8080"` (that port only); redirects are checked against the list too.
   * An empty list adds no `web_fetch`.
   * @default {[]}
   */
  allowNet?: string[];
}

/**
 * Creates the built-in tools for a root. Throws a `TypeError` when the root does not exist or an
 * `allowNet` entry is not a host.
 *
 * @example Read-only tools over the current directory, plus web_fetch for one host
 * ```ts
 * import { builtinTools } from "./mod.ts";
 * const tools = builtinTools({ root: ".", allowNet: ["example.com"] });
 * console.log(tools.map((t) => t.name));
 * // ["read_file", "list_files", "search_files", "web_fetch"]
 * ```
 */
export function builtinTools(options: BuiltinToolsOptions): Tool[] {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `builtinTools() needs an options object such as { root: "." }, got ${String(options)}`,
    );
  }
  const root = new Root(options.root);
  const allowNet = options.allowNet ?? [];
  if (!Array.isArray(allowNet)) {
    throw new TypeError(
      `allowNet must be an array of hosts such as ["example.com", "localhost:8080"], got ` +
        `${JSON.stringify(allowNet)}`,
    );
  }
  allowNet.forEach(_parseAllowed);
  const tools = [readFileTool(root), listFilesTool(root), searchFilesTool(root)];
  if (options.allowWrite) tools.push(writeFileTool(root), editFileTool(root));
  if (options.allowRun) tools.push(bashTool(root));
  if (allowNet.length > 0) tools.push(webFetchTool(allowNet));
  // Ours: compiled on first use, not when a tool set is built (tests prove they all compile).
  for (const tool of tools) _ownSchema(tool.inputSchema);
  return tools;
}
