/**
 * Walking the files under a directory inside the root, for `list_files` and `search_files`.
 *
 * @module
 */

import { _BeneathError, type _Dir } from "./beneath.ts";

/**
 * Work the walk (and whatever its caller does per entry, such as matching a glob) may do on the
 * host's thread before it lets other tasks run, in milliseconds.
 */
const SLICE_MS = 10;

/** Directory names skipped unless `includeIgnored` is set. */
export const IGNORED_DIRECTORIES: ReadonlySet<string> = new Set([".git", "node_modules"]);

/** Options for {@linkcode walkFiles}. */
export interface WalkOptions {
  /**
   * Also descend into `.git` and `node_modules`.
   * @default {false}
   */
  includeIgnored?: boolean;
  /**
   * Include symlinks (never followed) as entries; otherwise only regular files are yielded.
   * @default {true}
   */
  includeSymlinks?: boolean;
  /** Stops the walk when aborted (the generator throws the abort reason). */
  signal?: AbortSignal;
}

/** One file found by {@linkcode walkFiles}. */
export interface WalkEntry {
  /** Path relative to the root, `/`-separated. */
  relative: string;
  /** Path relative to the directory the walk started in, `/`-separated. */
  fromStart: string;
  /** Whether the entry is a symlink (not followed). */
  isSymlink: boolean;
}

/**
 * Yields the files under `start` (a directory held open, whose path relative to the root is
 * `startRelative`) depth-first, each directory's entries in sorted order, without following
 * symlinks. Every directory is opened beneath `start` with no symlink on the way, so a directory
 * swapped for a symlink while the walk runs is skipped, not followed. Every
 * {@linkcode SLICE_MS} ms of work (the caller's per entry included) it yields the host's thread
 * to other tasks and checks `signal`, so a huge directory or a slow match cannot hold the thread.
 *
 * @example List the TypeScript files under a root
 * ```ts
 * import { Root } from "./root.ts";
 * import { walkFiles } from "./walk.ts";
 * const root = new Root(".");
 * using start = await root.open(".");
 * for await (const file of walkFiles(start.dir!, start.relative)) {
 *   if (file.relative.endsWith(".ts")) console.log(file.relative);
 * }
 * ```
 */
export async function* walkFiles(
  start: _Dir,
  startRelative: string,
  options: WalkOptions = {},
): AsyncGenerator<WalkEntry> {
  const includeIgnored = options.includeIgnored ?? false;
  const includeSymlinks = options.includeSymlinks ?? true;
  const prefix = startRelative === "." ? "" : `${startRelative}/`;
  const stack: string[] = [""];
  let sliceStart = performance.now();
  while (stack.length > 0) {
    options.signal?.throwIfAborted();
    const fromStart = stack.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = await start.readDir(fromStart === "" ? "." : fromStart);
    } catch (error) {
      // A directory that vanished, cannot be read, or became a symlink or a file is skipped.
      if (error instanceof _BeneathError) continue;
      throw error;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const entry of entries) {
      const rel = fromStart === "" ? entry.name : `${fromStart}/${entry.name}`;
      if (entry.isDirectory) {
        if (!includeIgnored && IGNORED_DIRECTORIES.has(entry.name)) continue;
        subdirs.push(rel);
      } else if (entry.isFile || (entry.isSymlink && includeSymlinks)) {
        yield { relative: prefix + rel, fromStart: rel, isSymlink: entry.isSymlink };
        if (performance.now() - sliceStart > SLICE_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          options.signal?.throwIfAborted();
          sliceStart = performance.now();
        }
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
}
