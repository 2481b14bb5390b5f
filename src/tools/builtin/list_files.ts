/**
 * The `list_files` built-in tool: files under the root matching a glob.
 *
 * @module
 */

import type { Tool, ToolContext } from "../../types.ts";
import { compileGlob, type Glob } from "../glob.ts";
import type { Root } from "../root.ts";
import { walkFiles } from "../walk.ts";
import { _field, _integer } from "./_input.ts";

/** Files `list_files` returns by default. */
export const LIST_FILES_DEFAULT_LIMIT = 1_000;
/** The largest `limit` `list_files` accepts. */
export const LIST_FILES_MAX_LIMIT = 10_000;

/** What `list_files` returns. */
export interface ListFilesResult {
  /** Matching file paths relative to the root, sorted. */
  files: string[];
  /** True when more files matched than `limit`; narrow `pattern` or `path` to see the rest. */
  truncated: boolean;
}

/**
 * Creates the `list_files` tool for a root.
 *
 * @example List Markdown files
 * ```ts
 * import { Root } from "../root.ts";
 * import { listFilesTool } from "./list_files.ts";
 * const tool = listFilesTool(new Root("."));
 * const { files } = await tool.execute({ pattern: "*.md" }, {
 *   signal: new AbortController().signal,
 *   name: "list_files",
 * }) as { files: string[] };
 * ```
 */
export function listFilesTool(root: Root): Tool {
  return {
    name: "list_files",
    description: `List the files inside the root directory ${root.path} (paths relative to it; ` +
      `nothing outside it is listed) that match a glob, sorted, skipping .git and node_modules.`,
    inputSchema: {
      type: "object",
      properties: {
        pattern: {
          type: "string",
          description: 'Glob over paths relative to `path`: "*" within a name, "**" across ' +
            'directories, "?", "[abc]", "{ts,tsx}". Without "/" it matches file names at any ' +
            'depth ("*.ts"); with "/" the whole path ("src/**/*.ts"). Default: all files.',
        },
        path: {
          type: "string",
          description: 'Directory (or file) relative to the root to list under. Default: "." ' +
            "(the root).",
        },
        limit: {
          type: "integer",
          minimum: 1,
          maximum: LIST_FILES_MAX_LIMIT,
          description: `Most files to return. Default: ${LIST_FILES_DEFAULT_LIMIT}.`,
        },
        includeIgnored: {
          type: "boolean",
          description: "Also list files under .git and node_modules. Default: false.",
        },
      },
      additionalProperties: false,
    },
    outputSchema: {
      type: "object",
      properties: {
        files: {
          type: "array",
          items: { type: "string" },
          description: "Matching file paths relative to the root, sorted; symlinks are listed " +
            "but not followed.",
        },
        truncated: {
          type: "boolean",
          description: "True when more files matched than `limit`: narrow pattern or path.",
        },
      },
      required: ["files", "truncated"],
      additionalProperties: false,
    },
    execute: (input: unknown, context: ToolContext) => _listFiles(root, input, context.signal),
  };
}

async function _listFiles(
  root: Root,
  input: unknown,
  signal?: AbortSignal,
): Promise<ListFilesResult> {
  const tool = "list_files";
  const pattern = _field(tool, input, "pattern", "string");
  const userPath = _field(tool, input, "path", "string") ?? ".";
  const limit = _integer(tool, input, "limit", {
    min: 1,
    max: LIST_FILES_MAX_LIMIT,
    fallback: LIST_FILES_DEFAULT_LIMIT,
  })!;
  const includeIgnored = _field(tool, input, "includeIgnored", "boolean") ?? false;
  const matcher = pattern === undefined ? undefined : _compileGlob(tool, pattern);
  using entry = await root.open(userPath, { tool });
  const { relative, dir } = entry;
  if (dir === undefined) {
    const name = relative.slice(relative.lastIndexOf("/") + 1);
    return { files: !matcher || matcher.test(name) ? [relative] : [], truncated: false };
  }
  const files: string[] = [];
  let truncated = false;
  for await (const file of walkFiles(dir, relative, { includeIgnored, signal })) {
    if (matcher && !matcher.test(file.fromStart)) continue;
    if (files.length === limit) {
      truncated = true;
      break;
    }
    files.push(file.relative);
  }
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { files, truncated };
}

/** Compiles a glob, prefixing its error with the tool's name. */
export function _compileGlob(tool: string, pattern: string): Glob {
  try {
    return compileGlob(pattern);
  } catch (error) {
    if (
      error instanceof SyntaxError || error instanceof TypeError || error instanceof RangeError
    ) {
      throw new (error.constructor as typeof SyntaxError)(`${tool}: ${error.message}`);
    }
    throw error;
  }
}
