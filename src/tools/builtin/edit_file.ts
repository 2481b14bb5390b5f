/**
 * The `edit_file` built-in tool: replace exact text in a file under the root.
 *
 * @module
 */

import type { Tool, ToolContext } from "../../types.ts";
import type { Root } from "../root.ts";
import { _field } from "./_input.ts";
import { _writeAll } from "./write_file.ts";

/** What `edit_file` returns. */
export interface EditFileResult {
  /** The file's path relative to the root. */
  path: string;
  /** How many occurrences of `old` were replaced. */
  replacements: number;
}

/**
 * Creates the `edit_file` tool for a root (enabled by `allowWrite`).
 *
 * @example Rename a word in a file
 * ```ts
 * import { Root } from "../root.ts";
 * import { editFileTool } from "./edit_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello world\n");
 * const tool = editFileTool(new Root(dir));
 * await tool.execute({ path: "a.txt", old: "world", new: "there" }, {
 *   signal: new AbortController().signal,
 *   name: "edit_file",
 * }); // { path: "a.txt", replacements: 1 }
 * ```
 */
export function editFileTool(root: Root): Tool {
  return {
    name: "edit_file",
    description: `Replace exact text in a UTF-8 file inside the root directory ${root.path} ` +
      `(paths relative to it; nothing outside it can be edited): \`old\` must occur exactly ` +
      `once unless \`replaceAll\` is true.`,
    inputSchema: {
      type: "object",
      properties: {
        path: {
          type: "string",
          description: 'File path relative to the root, e.g. "src/mod.ts".',
        },
        old: {
          type: "string",
          minLength: 1,
          description: "The exact text to replace, white space and line breaks included; " +
            "include surrounding lines to make it unique.",
        },
        new: {
          type: "string",
          description: "The replacement text (taken literally; `$` has no special meaning).",
        },
        replaceAll: {
          type: "boolean",
          description: "Replace every occurrence instead of requiring exactly one. Default: false.",
        },
      },
      required: ["path", "old", "new"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "object",
      properties: {
        path: { type: "string", description: "The file's path relative to the root." },
        replacements: {
          type: "integer",
          description: "How many occurrences of `old` were replaced.",
        },
      },
      required: ["path", "replacements"],
      additionalProperties: false,
    },
    execute: (input: unknown, context: ToolContext) => _editFile(root, input, context.signal),
  };
}

async function _editFile(
  root: Root,
  input: unknown,
  signal?: AbortSignal,
): Promise<EditFileResult> {
  const tool = "edit_file";
  const userPath = _field(tool, input, "path", "string", true)!;
  const old = _field(tool, input, "old", "string", true)!;
  const replacement = _field(tool, input, "new", "string", true)!;
  const replaceAll = _field(tool, input, "replaceAll", "boolean") ?? false;
  if (old.length === 0) {
    throw new TypeError(
      `${tool}: "old" is empty: pass the exact text to replace (use write_file to replace a ` +
        `whole file)`,
    );
  }
  signal?.throwIfAborted();
  using entry = await root.open(userPath, { tool, access: "readwrite" });
  const { relative, file } = entry;
  if (entry.info.isDirectory) {
    throw new TypeError(
      `${tool}: "${userPath}" is a directory in the root ${root.path}, not a file: ` +
        `call list_files({ path: "${relative}" }) to find the file to edit`,
    );
  }
  if (file === undefined) {
    throw new TypeError(
      `${tool}: "${relative}" is not a regular file (a device, socket or pipe): edit a text file`,
    );
  }
  const text = new TextDecoder().decode(await _readAll(file));
  if (text.includes("\0")) {
    throw new TypeError(
      `${tool}: "${relative}" looks binary (it contains NUL bytes) and edit_file edits text ` +
        `only: leave it alone, or replace it whole with write_file`,
    );
  }
  const positions: number[] = [];
  for (let at = text.indexOf(old); at >= 0; at = text.indexOf(old, at + old.length)) {
    positions.push(at);
  }
  if (positions.length === 0) {
    throw new RangeError(
      `${tool}: the text of "old" was not found in "${relative}": read the file again and copy ` +
        `the text exactly, white space and line breaks included`,
    );
  }
  if (positions.length > 1 && !replaceAll) {
    const lines = positions.slice(0, 5).map((p) => text.slice(0, p).split("\n").length);
    throw new RangeError(
      `${tool}: the text of "old" occurs ${positions.length} times in "${relative}" (lines ` +
        `${lines.join(", ")}${positions.length > 5 ? ", ..." : ""}): include surrounding lines ` +
        `to make it unique, or pass replaceAll: true to replace them all`,
    );
  }
  let result = "";
  let from = 0;
  for (const at of positions) {
    result += text.slice(from, at) + replacement;
    from = at + old.length;
  }
  result += text.slice(from);
  signal?.throwIfAborted();
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start);
  await _writeAll(file, new TextEncoder().encode(result));
  return { path: relative, replacements: positions.length };
}

/** Reads a file from its current position to the end. */
async function _readAll(file: Deno.FsFile): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(64 * 1024);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    chunks.push(buffer.slice(0, n));
    size += n;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}
