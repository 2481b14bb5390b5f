/**
 * The `write_file` built-in tool: create or replace a text file under the root.
 *
 * @module
 */

import type { Tool, ToolContext } from "../../types.ts";
import type { Root } from "../root.ts";
import { _field } from "./_input.ts";

/** What `write_file` returns. */
export interface WriteFileResult {
  /** The file's path relative to the root. */
  path: string;
  /** Bytes written (UTF-8). */
  bytes: number;
}

/**
 * Creates the `write_file` tool for a root (enabled by `allowWrite`).
 *
 * @example Write a file
 * ```ts
 * import { Root } from "../root.ts";
 * import { writeFileTool } from "./write_file.ts";
 * const dir = await Deno.makeTempDir();
 * const tool = writeFileTool(new Root(dir));
 * await tool.execute({ path: "notes/a.md", content: "# A\n" }, {
 *   signal: new AbortController().signal,
 *   name: "write_file",
 * }); // { path: "notes/a.md", bytes: 4 }
 * ```
 */
export function writeFileTool(root: Root): Tool {
  return {
    name: "write_file",
    description: `Create or replace a UTF-8 text file inside the root directory ${root.path} ` +
      `(paths relative to it; nothing outside it can be written), creating missing parent ` +
      `directories.`,
    inputSchema: {
      type: "object",
      properties: {
        path: {
          type: "string",
          description: 'File path relative to the root, e.g. "notes/summary.md".',
        },
        content: {
          type: "string",
          description: "The file's whole new content; an existing file is replaced.",
        },
      },
      required: ["path", "content"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "object",
      properties: {
        path: { type: "string", description: "The file's path relative to the root." },
        bytes: { type: "integer", description: "Bytes written (UTF-8)." },
      },
      required: ["path", "bytes"],
      additionalProperties: false,
    },
    execute: (input: unknown, context: ToolContext) => _writeFile(root, input, context.signal),
  };
}

async function _writeFile(
  root: Root,
  input: unknown,
  signal?: AbortSignal,
): Promise<WriteFileResult> {
  const tool = "write_file";
  const userPath = _field(tool, input, "path", "string", true)!;
  const content = _field(tool, input, "content", "string", true)!;
  signal?.throwIfAborted();
  using target = await root.create(userPath, { tool });
  if (target.info.isDirectory) {
    throw new TypeError(
      `${tool}: "${userPath}" is a directory in the root ${root.path}: ` +
        `pass a file path such as "${target.relative}/file.txt"`,
    );
  }
  if (target.file === undefined) {
    throw new TypeError(
      `${tool}: "${target.relative}" is not a regular file (a device, socket or pipe): ` +
        `write to another path`,
    );
  }
  const bytes = new TextEncoder().encode(content);
  signal?.throwIfAborted();
  // Opened without truncation, so nothing is lost before the open is known to be inside the root.
  await target.file.truncate(0);
  await _writeAll(target.file, bytes);
  return { path: target.relative, bytes: bytes.length };
}

/** Writes all of `bytes` at the file's current position. */
export async function _writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
}
