/**
 * The `search_files` built-in tool: a regular-expression search over the files under the root.
 *
 * The host walks the files (confined to the root); the matching runs in a short-lived child
 * `deno` process that may only read the root. A regular expression comes from the program, and
 * a backtracking one (`(a+)+$`) would otherwise freeze the host's thread for good — a Worker
 * cannot be stopped mid-match. The child runs V8's linear-time engine for patterns that
 * backtrack too much, and is killed on abort or after {@linkcode SEARCH_FILES_TIMEOUT_MS}.
 *
 * @module
 */

import type { Tool, ToolContext } from "../../types.ts";
import type { Root } from "../root.ts";
import { _BeneathError } from "../beneath.ts";
import { walkFiles } from "../walk.ts";
import { _field, _integer } from "./_input.ts";
import { _compileGlob } from "./list_files.ts";

/** Matches `search_files` returns by default. */
export const SEARCH_FILES_DEFAULT_RESULTS = 100;
/** The largest `maxResults` `search_files` accepts. */
export const SEARCH_FILES_MAX_RESULTS = 10_000;
/** Files larger than this are skipped. */
export const SEARCH_FILES_MAX_FILE_BYTES = 10_000_000;
/** A search still running after this long is stopped with an error. */
export const SEARCH_FILES_TIMEOUT_MS = 30_000;
/** Characters of a matching line returned, around the match. */
const MAX_LINE_CHARS = 300;

/** One match of `search_files`. */
export interface SearchMatch {
  /** File path relative to the root. */
  file: string;
  /** Line number, counting from 1. */
  line: number;
  /** The line's text (long lines cut around the match, marked with `…`). */
  text: string;
}

/**
 * Creates the `search_files` tool for a root.
 *
 * @example Find TODO comments in TypeScript files
 * ```ts
 * import { Root } from "../root.ts";
 * import { searchFilesTool } from "./search_files.ts";
 * const tool = searchFilesTool(new Root("."));
 * const matches = await tool.execute({ pattern: "TODO", glob: "*.ts" }, {
 *   signal: new AbortController().signal,
 *   name: "search_files",
 * });
 * ```
 */
export function searchFilesTool(root: Root): Tool {
  return {
    name: "search_files",
    description: `Search the text files inside the root directory ${root.path} (paths relative ` +
      `to it; nothing outside it is searched) for lines matching a JavaScript regular ` +
      `expression, returning each match's file, line number and text.`,
    inputSchema: {
      type: "object",
      properties: {
        pattern: {
          type: "string",
          description:
            'JavaScript regular expression matched against each line, e.g. "TODO|FIXME" ' +
            'or "function\\\\s+\\\\w+"; escape ( ) [ ] { } . * + ? with a backslash to match them ' +
            "literally.",
        },
        path: {
          type: "string",
          description: 'Directory or file relative to the root to search. Default: "." (the root).',
        },
        glob: {
          type: "string",
          description: 'Only search files matching this glob, relative to `path`: "*.ts" (any ' +
            'depth), "src/**/*.{ts,tsx}". Default: all files.',
        },
        maxResults: {
          type: "integer",
          minimum: 1,
          maximum: SEARCH_FILES_MAX_RESULTS,
          description: `Most matches to return; getting exactly this many means there may be ` +
            `more. Default: ${SEARCH_FILES_DEFAULT_RESULTS}.`,
        },
        ignoreCase: {
          type: "boolean",
          description: "Match letters regardless of case. Default: false.",
        },
        includeIgnored: {
          type: "boolean",
          description: "Also search under .git and node_modules. Default: false.",
        },
      },
      required: ["pattern"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "array",
      description: "Matches in file order, then line order; binary files, files over " +
        `${SEARCH_FILES_MAX_FILE_BYTES / 1_000_000} MB and symlinks are skipped.`,
      items: {
        type: "object",
        properties: {
          file: { type: "string", description: "File path relative to the root." },
          line: { type: "integer", description: "Line number, counting from 1." },
          text: {
            type: "string",
            description: `The matching line (cut to ${MAX_LINE_CHARS} characters around the ` +
              "match, marked with …).",
          },
        },
        required: ["file", "line", "text"],
        additionalProperties: false,
      },
    },
    execute: (input: unknown, context: ToolContext) => _searchFiles(root, input, context.signal),
  };
}

async function _searchFiles(
  root: Root,
  input: unknown,
  signal?: AbortSignal,
): Promise<SearchMatch[]> {
  const tool = "search_files";
  const pattern = _field(tool, input, "pattern", "string", true)!;
  const userPath = _field(tool, input, "path", "string") ?? ".";
  const glob = _field(tool, input, "glob", "string");
  const maxResults = _integer(tool, input, "maxResults", {
    min: 1,
    max: SEARCH_FILES_MAX_RESULTS,
    fallback: SEARCH_FILES_DEFAULT_RESULTS,
  })!;
  const ignoreCase = _field(tool, input, "ignoreCase", "boolean") ?? false;
  const includeIgnored = _field(tool, input, "includeIgnored", "boolean") ?? false;
  const flags = (ignoreCase ? "i" : "") + (/\\[pPu]\{/.test(pattern) ? "u" : "");
  try {
    new RegExp(pattern, flags); // compile only, to report a bad pattern before any work
  } catch (error) {
    throw new SyntaxError(
      `${tool}: pattern ${JSON.stringify(pattern)} is not a valid regular expression ` +
        `(${(error as Error).message}): escape special characters such as ( ) [ ] { } . * + ? ` +
        `with a backslash to match them literally`,
    );
  }
  const matcher = glob === undefined ? undefined : _compileGlob(tool, glob);
  using entry = await root.open(userPath, { tool, access: "read" });
  const files: _SearchFile[] = [];
  if (entry.dir !== undefined) {
    const dir = entry.dir;
    const walk = walkFiles(dir, entry.relative, {
      includeIgnored,
      includeSymlinks: false,
      signal,
    });
    for await (const file of walk) {
      if (!matcher || matcher.test(file.fromStart)) {
        files.push({
          relative: file.relative,
          open: () => dir.open(file.fromStart, "read", false),
        });
      }
    }
  } else if (
    entry.file !== undefined &&
    (!matcher || matcher.test(entry.relative.slice(entry.relative.lastIndexOf("/") + 1)))
  ) {
    const only = entry.file;
    files.push({
      relative: entry.relative,
      open: () => Promise.resolve({ info: entry.info, file: only, keep: true }),
    });
  }
  if (files.length === 0) return [];
  return await _runSearchChild(
    { source: pattern, flags, maxResults, maxLineChars: MAX_LINE_CHARS },
    files,
    signal,
  );
}

/** One file to search, opened (confined to the root) only when its turn comes. */
interface _SearchFile {
  relative: string;
  /** The open file (`keep`: the caller closes it), or no file for anything but a regular file. */
  open(): Promise<{ info: Deno.FileInfo; file?: Deno.FsFile; keep?: boolean }>;
}

interface _SearchRequest {
  source: string;
  flags: string;
  maxResults: number;
  maxLineChars: number;
}

/** The index that ends the stream of files to the search child. */
const END_OF_FILES = 0xffffffff;

/**
 * Runs the search in a child process with no permissions at all: the host opens each file
 * confined to the root and streams its bytes to the child (a length-prefixed frame each), so the
 * child reads nothing by path and needs no `--allow-read` (whose flag syntax has no way to say a
 * path with a comma in it).
 */
async function _runSearchChild(
  request: _SearchRequest,
  files: _SearchFile[],
  signal?: AbortSignal,
): Promise<SearchMatch[]> {
  signal?.throwIfAborted();
  const source = `(${_searchChild.toString()})();`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--no-config",
      "--no-lock",
      "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks," +
      "--max-old-space-size=512",
      "data:application/javascript," + encodeURIComponent(source),
    ],
    cwd: "/",
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stopped: unknown;
  const stop = (reason: unknown) => {
    stopped ??= reason;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  };
  const onAbort = () => stop(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(
    () =>
      stop(
        new Error(
          `search_files: the search for ${JSON.stringify(request.source)} was stopped after ` +
            `${SEARCH_FILES_TIMEOUT_MS / 1000} s: use a simpler pattern, or narrow path or glob`,
        ),
      ),
    SEARCH_FILES_TIMEOUT_MS,
  );
  try {
    const writing = _streamFiles(child.stdin, request, files, () => stopped !== undefined);
    const [out, err, status, failure] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.status,
      writing,
    ]);
    if (stopped !== undefined) throw stopped;
    if (failure !== undefined) throw failure;
    const matches: SearchMatch[] = [];
    let done = false;
    for (const line of out.split("\n")) {
      if (line === "") continue;
      const record = JSON.parse(line) as { f?: number; l?: number; t?: string; done?: boolean };
      if (record.done) done = true;
      else matches.push({ file: files[record.f!].relative, line: record.l!, text: record.t! });
    }
    if (!done || !status.success) {
      throw new Error(
        `search_files: the search process failed (exit code ${status.code}): ` +
          `${err.trim().slice(0, 500) || "no message"}`,
      );
    }
    return matches;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Writes the request and then each file's bytes to the child, until the files run out or the
 * child stops reading (it has enough matches, or was killed). Resolves to an error that must end
 * the search (anything but a file that cannot be read, which is skipped), or `undefined`.
 */
async function _streamFiles(
  stdin: WritableStream<Uint8Array>,
  request: _SearchRequest,
  files: _SearchFile[],
  stopped: () => boolean,
): Promise<unknown> {
  const writer = stdin.getWriter();
  const header = new TextEncoder().encode(JSON.stringify(request));
  let failure: unknown;
  try {
    await writer.write(_frameHead(0, header.length));
    await writer.write(header);
    for (let i = 0; i < files.length && !stopped(); i++) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = await _readForSearch(files[i]);
      } catch (error) {
        if (!(error instanceof _BeneathError) && !(error instanceof Deno.errors.PermissionDenied)) {
          failure = error;
          break;
        }
      }
      if (bytes === undefined) continue;
      await writer.write(_frameHead(i, bytes.length));
      await writer.write(bytes);
    }
    await writer.write(_frameHead(END_OF_FILES, 0));
    await writer.close();
  } catch {
    // The child stopped reading: it has its matches, or died (its exit status tells why).
    await writer.abort().catch(() => {});
  }
  return failure;
}

/** Two little-endian u32s: a file's index (or the header's length) and its byte length. */
function _frameHead(index: number, length: number): Uint8Array {
  const head = new Uint8Array(8);
  const view = new DataView(head.buffer);
  view.setUint32(0, index, true);
  view.setUint32(4, length, true);
  return head;
}

/** A file's bytes, or `undefined` for a file skipped (not regular, empty, too big, binary). */
async function _readForSearch(source: _SearchFile): Promise<Uint8Array | undefined> {
  const { info, file, keep } = await source.open();
  if (file === undefined) return undefined;
  try {
    if (info.size === 0 || info.size > SEARCH_FILES_MAX_FILE_BYTES) return undefined;
    const bytes = new Uint8Array(info.size);
    let at = 0;
    while (at < bytes.length) {
      const n = await file.read(bytes.subarray(at));
      if (n === null) break;
      at += n;
    }
    const read = bytes.subarray(0, at);
    return at === 0 || read.subarray(0, 8192).includes(0) ? undefined : read;
  } finally {
    if (!keep) file.close();
  }
}

/**
 * The search child's whole program, run from a `data:` URL, so it must not refer to anything
 * outside itself. Reads frames on stdin — the request as JSON, then each file as its index and
 * bytes, then the end — and writes one JSON record per match and a final `{"done":true}`.
 */
async function _searchChild(): Promise<void> {
  const reader = Deno.stdin.readable.getReader();
  const queue: Uint8Array[] = [];
  let queued = 0;
  /** The next `n` bytes of stdin, or `null` at its end. */
  const take = async (n: number): Promise<Uint8Array | null> => {
    while (queued < n) {
      const { value, done } = await reader.read();
      if (done) return null;
      queue.push(value);
      queued += value.length;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = queue[0];
      const use = Math.min(head.length, n - at);
      out.set(head.subarray(0, use), at);
      at += use;
      if (use === head.length) queue.shift();
      else queue[0] = head.subarray(use);
    }
    queued -= n;
    return out;
  };
  const frame = async (): Promise<{ index: number; bytes: Uint8Array } | null> => {
    const head = await take(8);
    if (head === null) return null;
    const view = new DataView(head.buffer);
    const index = view.getUint32(0, true);
    const bytes = await take(view.getUint32(4, true));
    return bytes === null ? null : { index, bytes };
  };
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const first = await frame();
  if (first === null) throw new Error("no request on stdin");
  const request = JSON.parse(decoder.decode(first.bytes)) as {
    source: string;
    flags: string;
    maxResults: number;
    maxLineChars: number;
  };
  const regex = new RegExp(request.source, request.flags);
  const writer = Deno.stdout.writable.getWriter();
  let batch = "";
  let found = 0;
  files: for (;;) {
    const next = await frame();
    if (next === null || next.index === 0xffffffff) break;
    const text = decoder.decode(next.bytes);
    let lineNo = 0;
    let pos = 0;
    while (pos < text.length) {
      const newline = text.indexOf("\n", pos);
      const end = newline < 0 ? text.length : newline;
      lineNo++;
      let line = text.slice(pos, end);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      const match = regex.exec(line);
      if (match) {
        let shown = line;
        if (line.length > request.maxLineChars) {
          const start = Math.max(
            0,
            Math.min(match.index - 100, line.length - request.maxLineChars),
          );
          const stop = start + request.maxLineChars;
          shown = (start > 0 ? "…" : "") + line.slice(start, stop) +
            (stop < line.length ? "…" : "");
        }
        batch += JSON.stringify({ f: next.index, l: lineNo, t: shown }) + "\n";
        if (++found >= request.maxResults) break files;
      }
      pos = end + 1;
    }
    if (batch.length > 65536) {
      await writer.write(encoder.encode(batch));
      batch = "";
    }
  }
  await writer.write(encoder.encode(batch + JSON.stringify({ done: true }) + "\n"));
  await writer.close();
}
