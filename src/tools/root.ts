/**
 * Confinement of the built-in tools to one root directory: every path a program passes is
 * resolved against the root, and paths that leave it — absolute paths, `..` escapes, symlinks
 * whose real target is outside — are refused with an error that names the path and the root.
 *
 * @module
 */

import { dirname, isAbsolute, relative, resolve, sep } from "node:path";

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
    if (!Deno.statSync(real).isDirectory) {
      throw new TypeError(
        `The root "${dir}" is a file, not a directory: pass the directory that contains it`,
      );
    }
    this.path = real;
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
            `${tool}: ${what} is a symlink that leads outside the allowed root ${this.path} ` +
              `(to ${real}): only files whose real location is inside the root can be used`,
          );
        }
        if (probe === absolute) {
          return { absolute, relative: this.relative(absolute), exists: true };
        }
        break;
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
    return { absolute, relative: this.relative(absolute), exists: false };
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
