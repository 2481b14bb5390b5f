/**
 * The `read_file` built-in tool: a text file under the root, whole or a range of lines.
 *
 * @module
 */

import type { Tool, ToolContext } from "../../types.ts";
import type { Root } from "../root.ts";
import { _field, _integer } from "./_input.ts";

/** Characters `read_file` returns at most; the rest is cut with a note saying how to read on. */
export const READ_FILE_MAX_CHARS = 2_000_000;

const CHUNK_BYTES = 64 * 1024;

/**
 * Creates the `read_file` tool for a root.
 *
 * @example Read the first ten lines of a file
 * ```ts
 * import { Root } from "../root.ts";
 * import { readFileTool } from "./read_file.ts";
 * const tool = readFileTool(new Root("."));
 * const text = await tool.execute({ path: "deno.json", limit: 10 }, {
 *   signal: new AbortController().signal,
 *   name: "read_file",
 * });
 * ```
 */
export function readFileTool(root: Root): Tool {
  return {
    name: "read_file",
    description: `Read a UTF-8 text file inside the root directory ${root.path} (paths relative ` +
      `to it; nothing outside it can be read), whole or from line \`offset\` for \`limit\` lines.`,
    inputSchema: {
      type: "object",
      properties: {
        path: {
          type: "string",
          description: 'File path relative to the root, e.g. "README.md" or "src/mod.ts".',
        },
        offset: {
          type: "integer",
          minimum: 1,
          description: "First line to return, counting from 1. Default: 1.",
        },
        limit: {
          type: "integer",
          minimum: 1,
          description: `Number of lines to return. Default: all lines to the end of the file ` +
            `(at most ${READ_FILE_MAX_CHARS.toLocaleString("en-US")} characters per call).`,
        },
      },
      required: ["path"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "string",
      description: "The file's text, line endings kept. When the size cap cuts it, the text ends " +
        'with a note "[read_file: ... offset: N ...]" giving the offset to read on from.',
    },
    execute: (input: unknown, context: ToolContext) => _readFile(root, input, context.signal),
  };
}

async function _readFile(root: Root, input: unknown, signal?: AbortSignal): Promise<string> {
  const tool = "read_file";
  const userPath = _field(tool, input, "path", "string", true)!;
  const offset = _integer(tool, input, "offset", { min: 1, max: Number.MAX_SAFE_INTEGER });
  const first = offset ?? 1;
  const limit = _integer(tool, input, "limit", { min: 1, max: Number.MAX_SAFE_INTEGER });
  const stop = limit === undefined ? Infinity : first + limit; // first line NOT returned
  signal?.throwIfAborted();
  using entry = await root.open(userPath, { tool, access: "read" });
  const { relative, info, file } = entry;
  if (info.isDirectory) {
    throw new TypeError(
      `${tool}: "${userPath}" is a directory in the root ${root.path}, not a file: ` +
        `call list_files({ path: "${relative}" }) to see its files`,
    );
  }
  if (file === undefined) {
    throw new TypeError(
      `${tool}: "${relative}" is not a regular file (a device, socket or pipe): read a text file`,
    );
  }
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(CHUNK_BYTES);
  const parts: string[] = [];
  let chars = 0;
  let line = 1;
  let atLineStart = true;
  let firstChunk = true;
  let note = "";
  reading: for (;;) {
    signal?.throwIfAborted();
    const n = await file.read(buffer);
    const bytes = n === null ? new Uint8Array() : buffer.subarray(0, n);
    if (firstChunk && bytes.includes(0)) {
      throw new TypeError(
        `${tool}: "${relative}" looks binary (it contains NUL bytes) and read_file returns text ` +
          `only: skip it, or read a text file instead`,
      );
    }
    firstChunk = false;
    const text = decoder.decode(bytes, { stream: n !== null });
    let pos = 0;
    while (pos < text.length) {
      const newline = text.indexOf("\n", pos);
      const end = newline < 0 ? text.length : newline + 1;
      if (line >= first && line < stop) {
        const piece = text.slice(pos, end);
        if (chars + piece.length > READ_FILE_MAX_CHARS) {
          const take = READ_FILE_MAX_CHARS - chars;
          parts.push(piece.slice(0, take));
          const next = atLineStart && take === 0 ? line : line + 1;
          const cutLine = atLineStart && take === 0 ? "" : ` (line ${line} was cut short)`;
          note = `\n[read_file: output cut at ${READ_FILE_MAX_CHARS.toLocaleString("en-US")} ` +
            `characters${cutLine}; call read_file({ path: ${JSON.stringify(relative)}, ` +
            `offset: ${next} }) to read on, or pass a smaller limit]`;
          break reading;
        }
        parts.push(piece);
        chars += piece.length;
      }
      atLineStart = newline >= 0;
      if (newline >= 0) line++;
      pos = end;
      if (line >= stop) break reading;
    }
    if (n === null) {
      const lines = atLineStart ? line - 1 : line;
      if (first > 1 && first > lines) {
        throw new RangeError(
          `${tool}: offset ${first} is past the end of "${relative}", which has ${lines} ` +
            `line${lines === 1 ? "" : "s"}: pass an offset from 1 to ${Math.max(1, lines)}`,
        );
      }
      break;
    }
  }
  return parts.join("") + note;
}
