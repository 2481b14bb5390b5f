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
  const { absolute, relative } = await root.resolve(userPath, { tool });
  const files: { absolute: string; relative: string }[] = [];
  if ((await Deno.stat(absolute)).isDirectory) {
    const walk = walkFiles(root, absolute, { includeIgnored, includeSymlinks: false, signal });
    for await (const entry of walk) {
      if (!matcher || matcher.test(entry.fromStart)) files.push(entry);
    }
  } else if (!matcher || matcher.test(relative.slice(relative.lastIndexOf("/") + 1))) {
    files.push({ absolute, relative });
  }
  if (files.length === 0) return [];
  return await _runSearchChild(
    root,
    {
      files: files.map((f) => f.absolute),
      source: pattern,
      flags,
      maxResults,
      maxFileBytes: SEARCH_FILES_MAX_FILE_BYTES,
      maxLineChars: MAX_LINE_CHARS,
    },
    files.map((f) => f.relative),
    signal,
  );
}

interface _SearchRequest {
  files: string[];
  source: string;
  flags: string;
  maxResults: number;
  maxFileBytes: number;
  maxLineChars: number;
}

async function _runSearchChild(
  root: Root,
  request: _SearchRequest,
  names: string[],
  signal?: AbortSignal,
): Promise<SearchMatch[]> {
  signal?.throwIfAborted();
  const source = `(${_searchChild.toString()})();`;
  const allowRead = root.path.includes(",") ? "--allow-read" : `--allow-read=${root.path}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--no-config",
      "--no-lock",
      allowRead,
      "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks," +
      "--max-old-space-size=512",
      "data:application/javascript," + encodeURIComponent(source),
    ],
    cwd: root.path,
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
    const writing = (async () => {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(JSON.stringify(request)));
        await writer.close();
      } catch { /* the child died early; its exit status tells why */ }
    })();
    const [out, err, status] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.status,
      writing,
    ]);
    if (stopped !== undefined) throw stopped;
    const matches: SearchMatch[] = [];
    let done = false;
    for (const line of out.split("\n")) {
      if (line === "") continue;
      const record = JSON.parse(line) as { f?: number; l?: number; t?: string; done?: boolean };
      if (record.done) done = true;
      else matches.push({ file: names[record.f!], line: record.l!, text: record.t! });
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
 * The search child's whole program, run from a `data:` URL, so it must not refer to anything
 * outside itself. Reads the request as JSON on stdin; writes one JSON record per match and a
 * final `{"done":true}`.
 */
async function _searchChild(): Promise<void> {
  const request = JSON.parse(await new Response(Deno.stdin.readable).text()) as {
    files: string[];
    source: string;
    flags: string;
    maxResults: number;
    maxFileBytes: number;
    maxLineChars: number;
  };
  const regex = new RegExp(request.source, request.flags);
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const writer = Deno.stdout.writable.getWriter();
  let batch = "";
  let found = 0;
  files: for (let i = 0; i < request.files.length; i++) {
    let bytes: Uint8Array;
    try {
      const info = Deno.lstatSync(request.files[i]);
      if (!info.isFile || info.size > request.maxFileBytes || info.size === 0) continue;
      bytes = Deno.readFileSync(request.files[i]);
    } catch {
      continue;
    }
    if (bytes.subarray(0, 8192).includes(0)) continue;
    const text = decoder.decode(bytes);
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
        batch += JSON.stringify({ f: i, l: lineNo, t: shown }) + "\n";
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
