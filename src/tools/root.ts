/**
 * Confinement of the built-in tools to one root directory: every path a program passes is
 * resolved against the root, and paths that leave it — absolute paths, `..` escapes, symlinks
 * whose real target is outside — are refused with an error that names the path and the root
 * (never where a symlink leads). {@linkcode Root.resolve} is the check that explains; the opens
 * ({@linkcode Root.open}, {@linkcode Root.create}) go through `beneath.ts`, which holds even while
 * another process swaps symlinks.
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { type _Access, _BeneathError, type _Dir, type _Entry, _openBeneath } from "./beneath.ts";

/** Options for {@linkcode Root.resolve}. */
export interface ResolveOptions {
  /**
   * The tool asking, used as the prefix of error messages (e.g. `read_file`).
   * @default {"codemode"}
   */
  tool?: string;
  /**
   * Whether the path must exist. When false, the deepest existing ancestor is checked instead
   * (for files about to be created); a dangling symlink on the way is refused.
   * @default {true}
   */
  mustExist?: boolean;
}

/** A path inside the root, as {@linkcode Root.resolve} returns it. */
export interface ResolvedPath {
  /** Absolute path to operate on (lexically normalized, inside the root). */
  absolute: string;
  /** The same path relative to the root, with `/` separators (`.` for the root itself). */
  relative: string;
  /** Whether something exists at the path. */
  exists: boolean;
  /**
   * The real path relative to the root (symlinks resolved when checked; for a missing path, its
   * deepest existing ancestor's real path followed by the rest), with `/` separators.
   */
  real: string;
}

/** Options for {@linkcode Root.open}. */
export interface OpenOptions {
  /**
   * The tool asking, used as the prefix of error messages.
   * @default {"codemode"}
   */
  tool?: string;
  /**
   * Open a regular file for this access (never created or truncated); without it only the type
   * is read, and a directory is held for walking.
   * @default {undefined}
   */
  access?: _Access;
}

/**
 * What {@linkcode Root.open} found: the entry's type, and the open file (a regular file opened
 * with an access mode) or directory. Disposing it closes them.
 */
export class RootEntry implements Disposable {
  /** The path relative to the root, as the program named it (normalized). */
  readonly relative: string;
  /** The entry's type and size (the target's, for a symlink inside the root). */
  readonly info: Deno.FileInfo;
  /** The open file, for a regular file opened with an access mode. */
  readonly file: Deno.FsFile | undefined;
  /** The directory, held open, when the entry is one. */
  readonly dir: _Dir | undefined;

  /** Wraps what `beneath.ts` opened. */
  constructor(relative: string, entry: _Entry) {
    this.relative = relative;
    this.info = entry.info;
    this.file = entry.file;
    this.dir = entry.dir;
  }

  /** Closes the file or directory. */
  [Symbol.dispose](): void {
    this.file?.close();
    this.dir?.[Symbol.dispose]();
  }
}

/**
 * A directory the built-in tools are confined to.
 *
 * @example Resolve a user path inside a root
 * ```ts
 * import { Root } from "./root.ts";
 * const root = new Root(Deno.cwd());
 * const { relative } = await root.resolve("src/../deno.json", { tool: "read_file" });
 * console.log(relative); // "deno.json"
 * ```
 */
export class Root {
  /** The root's real absolute path (symlinks resolved). */
  readonly path: string;
  /** The root directory's identity when it was opened; a replaced root is refused. */
  readonly #identity: { dev: number; ino: number | null };

  /**
   * Opens a root. Throws a `TypeError` when the directory does not exist or is not a directory.
   *
   * @param dir The root directory, absolute or relative to the current directory.
   */
  constructor(dir: string) {
    if (typeof dir !== "string" || dir.length === 0) {
      throw new TypeError(
        `The root directory must be a non-empty path string, got ${JSON.stringify(dir)}: ` +
          `pass a directory such as "." or "/path/to/project"`,
      );
    }
    let real: string;
    try {
      real = Deno.realPathSync(dir);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new TypeError(
          `The root directory "${dir}" does not exist: pass an existing directory (e.g. --root .)`,
        );
      }
      throw error;
    }
    const info = Deno.statSync(real);
    if (!info.isDirectory) {
      throw new TypeError(
        `The root "${dir}" is a file, not a directory: pass the directory that contains it`,
      );
    }
    this.path = real;
    this.#identity = { dev: info.dev, ino: info.ino };
  }

  /** Whether an absolute, normalized path is the root or inside it. */
  contains(absolute: string): boolean {
    return absolute === this.path ||
      absolute.startsWith(this.path.endsWith(sep) ? this.path : this.path + sep);
  }

  /** The root-relative form of an absolute path inside the root, with `/` separators. */
  relative(absolute: string): string {
    const rel = relative(this.path, absolute);
    return rel === "" ? "." : rel.split(sep).join("/");
  }

  /**
   * Resolves a path given by a program to a path inside the root, or throws a `RangeError`
   * (outside the root) / `TypeError` (not a usable path) / `Deno.errors.NotFound` (missing)
   * whose message names the path, the root and what to do.
   *
   * @param userPath A path relative to the root, e.g. `src/mod.ts`.
   * @param options Who asks and whether the path must exist.
   */
  async resolve(userPath: string, options: ResolveOptions = {}): Promise<ResolvedPath> {
    const tool = options.tool ?? "codemode";
    const mustExist = options.mustExist ?? true;
    if (typeof userPath !== "string" || userPath.length === 0) {
      throw new TypeError(
        `${tool}: path must be a non-empty string relative to the root ${this.path}, ` +
          `got ${JSON.stringify(userPath)}: pass e.g. "README.md" or "." for the root itself`,
      );
    }
    if (userPath.includes("\0")) {
      throw new TypeError(
        `${tool}: path ${JSON.stringify(userPath)} contains a NUL character: ` +
          `pass a plain path relative to the root ${this.path}`,
      );
    }
    if (isAbsolute(userPath)) {
      const inside = this.contains(resolve(userPath));
      const hint = inside
        ? `use the relative path "${this.relative(resolve(userPath))}" instead`
        : `only files under the root can be used; pass a path relative to it, e.g. "README.md"`;
      throw new RangeError(
        `${tool}: "${userPath}" is an absolute path; paths are relative to the allowed root ` +
          `${this.path}: ${hint}`,
      );
    }
    const absolute = resolve(this.path, userPath);
    if (!this.contains(absolute)) {
      throw new RangeError(
        `${tool}: "${userPath}" is outside the allowed root ${this.path} (it climbs out with ".."): ` +
          `pass a path that stays inside the root, e.g. "README.md"`,
      );
    }
    // Follow symlinks: the real path of the target (or of its deepest existing ancestor).
    let probe = absolute;
    for (;;) {
      let real: string | undefined;
      try {
        real = await Deno.realPath(probe);
      } catch (error) {
        if (!_isMissing(error)) throw error;
      }
      if (real !== undefined) {
        if (!this.contains(real)) {
          const what = probe === absolute
            ? `"${userPath}"`
            : `"${userPath}" (through "${this.relative(probe)}")`;
          throw new RangeError(
            `${tool}: ${what} is a symlink that leads outside the allowed root ${this.path}: ` +
              `only files whose real location is inside the root can be used`,
          );
        }
        const rest = relative(probe, absolute);
        const realPath = rest === "" ? real : join(real, rest);
        return {
          absolute,
          relative: this.relative(absolute),
          exists: probe === absolute,
          real: this.relative(realPath),
        };
      }
      if (await _lexists(probe)) {
        throw new RangeError(
          `${tool}: "${userPath}" goes through the symlink "${
            this.relative(probe)
          }" whose target ` +
            `does not exist, so it cannot be checked against the allowed root ${this.path}: ` +
            `remove or fix the symlink, or use another path`,
        );
      }
      if (mustExist) {
        throw new Deno.errors.NotFound(
          `${tool}: "${userPath}" does not exist in the root ${this.path}: ` +
            `check the spelling, or call list_files to see what is there`,
        );
      }
      probe = dirname(probe);
    }
  }

  /**
   * Opens a path given by a program, confined to the root even while another process swaps
   * symlinks (see `beneath.ts`). Throws like {@linkcode Root.resolve}; a path that leads outside
   * only at the moment of the open is a `RangeError` too. Dispose the result to close it.
   *
   * @param userPath A path relative to the root, e.g. `src/mod.ts`.
   * @param options Who asks, and the access to open a regular file with.
   */
  async open(userPath: string, options: OpenOptions = {}): Promise<RootEntry> {
    const tool = options.tool ?? "codemode";
    const target = await this.resolve(userPath, { tool });
    using dir = await this.#openRoot(tool);
    const entry = await this.#confined(tool, userPath, dir.open(target.real, options.access, true));
    return new RootEntry(target.relative, entry);
  }

  /**
   * Opens a path given by a program for writing, creating it and its missing parent directories
   * when it does not exist, confined like {@linkcode Root.open}. An existing regular file is
   * opened as it is (not truncated); a directory or special file comes back without `file`.
   *
   * @param userPath A path relative to the root, e.g. `notes/summary.md`.
   * @param options Who asks (`access` is always `"write"`).
   */
  async create(userPath: string, options: OpenOptions = {}): Promise<RootEntry> {
    const tool = options.tool ?? "codemode";
    const target = await this.resolve(userPath, { tool, mustExist: false });
    using dir = await this.#openRoot(tool);
    const entry = await this.#confined(tool, userPath, dir.create(target.real));
    return new RootEntry(target.relative, entry);
  }

  async #openRoot(tool: string): Promise<_Dir> {
    try {
      return await _openBeneath(this.path, this.#identity);
    } catch (error) {
      if (!(error instanceof _BeneathError)) throw error;
      throw new Deno.errors.NotFound(
        `${tool}: the root directory ${this.path} was moved, removed or replaced since the ` +
          `tools were created: create the tools again (restart codemode) with the new root`,
      );
    }
  }

  /** Turns a `beneath.ts` failure into a message naming the program's path, never a target. */
  async #confined<T>(tool: string, userPath: string, opening: Promise<T>): Promise<T> {
    try {
      return await opening;
    } catch (error) {
      if (!(error instanceof _BeneathError)) throw error;
      throw _confinementError(tool, JSON.stringify(userPath), this.path, error);
    }
  }
}

/** The error a program gets for a `beneath.ts` failure on `path` (already quoted). */
export function _confinementError(
  tool: string,
  path: string,
  root: string,
  error: _BeneathError,
): Error {
  switch (error.code) {
    case "outside":
      return new RangeError(
        `${tool}: ${path} leads outside the allowed root ${root} (a symlink on the way points ` +
          `out of it, or was swapped in while it was opened): only files whose real location ` +
          `is inside the root can be used`,
      );
    case "symlink":
      return new RangeError(
        `${tool}: ${path} goes through a symlink that cannot be followed here (too many ` +
          `levels, or one appeared while it was opened): use the path without the symlink`,
      );
    case "missing":
      return new Deno.errors.NotFound(
        `${tool}: ${path} does not exist in the root ${root} (or it was removed while it was ` +
          `opened): check the spelling, or call list_files to see what is there`,
      );
    case "notdir":
      return new TypeError(
        `${tool}: a part of ${path} is a file, not a directory, in the root ${root}: ` +
          `check the path, or call list_files to see what is there`,
      );
    case "denied":
      return new Deno.errors.PermissionDenied(
        `${tool}: ${path} in the root ${root} cannot be opened (permission denied): ` +
          `use a file the host can access`,
      );
    case "changed":
    case "exists":
      return new Error(
        `${tool}: ${path} kept changing while it was opened (another process is moving files ` +
          `in the root ${root}): try again`,
      );
    default:
      return new Error(
        `${tool}: ${path} in the root ${root} could not be opened (${error.message})`,
      );
  }
}

async function _lexists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (_isMissing(error)) return false;
    throw error;
  }
}

function _isMissing(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
}
