/**
 * Opening files and directories beneath a directory so that no path can lead out of it, even while
 * another process swaps a directory on the way for a symlink.
 *
 * On Linux (x86_64, aarch64) with FFI allowed (the host runs with `-A`) every open is Linux's
 * `openat2` with `RESOLVE_BENEATH`: the kernel resolves the whole path relative to a descriptor of
 * the directory and fails with `EXDEV` the moment any step (a `..`, an absolute symlink, a symlink
 * swapped in a microsecond ago) would leave it. The file is opened `O_PATH` (no I/O, so a FIFO
 * cannot block), its type is read through `/proc/self/fd/N`, and only a regular file is reopened
 * through that magic link for reading or writing — the very inode the kernel found, never a path
 * resolved again. Directories are created one level at a time with `mkdirat` on a descriptor of
 * their parent, and new files with `O_CREAT | O_EXCL`, so neither can land outside either.
 *
 * Elsewhere (macOS, Windows, Linux without FFI or `/proc`), {@linkcode _PathDir} checks paths and
 * verifies the opened handle's identity after the open; that narrows the window but does not close
 * it (see README, "Confinement").
 *
 * @module
 */

import { join } from "node:path";

/** How a regular file is reopened: never created, never truncated here. */
export type _Access = "read" | "write" | "readwrite";

/** What {@linkcode _Dir.open} found. */
export interface _Entry {
  /** The entry's type and identity (the target's, when a symlink was followed). */
  info: Deno.FileInfo;
  /** The open file, when it is a regular file and an access mode was asked for. */
  file?: Deno.FsFile;
  /** A pinned handle on it, when it is a directory. */
  dir?: _Dir;
}

/** Why an open beneath a directory failed, in terms callers turn into messages. */
export type _BeneathCode =
  | "outside" // a step would leave the directory
  | "symlink" // a symlink where none may be (or too many of them)
  | "missing"
  | "notdir" // a file where a directory is needed
  | "exists"
  | "denied"
  | "changed" // the path kept changing while it was resolved
  | "other";

/** A failure of {@linkcode _Dir}; the message names no path. */
export class _BeneathError extends Error {
  /** What went wrong. */
  readonly code: _BeneathCode;
  constructor(code: _BeneathCode, detail: string) {
    super(detail);
    this.name = "BeneathError";
    this.code = code;
  }
}

/** A directory that paths are resolved beneath. Paths are relative, `/`-separated. */
export interface _Dir extends Disposable {
  /**
   * Opens `rel` (`.` for the directory itself). With `follow`, symlinks that stay beneath the
   * directory are followed; without, any symlink on the way fails with `symlink`.
   */
  open(rel: string, access: _Access | undefined, follow: boolean): Promise<_Entry>;
  /**
   * Opens `rel` for writing, creating it (and missing parent directories) when it does not exist;
   * an existing entry comes back as `open(rel, "write", true)` would return it.
   */
  create(rel: string): Promise<_Entry>;
  /** The entries of the directory `rel`, which is reached without following any symlink. */
  readDir(rel: string): Promise<Deno.DirEntry[]>;
}

/** Which implementation is in force: `openat2` (race-free) or `paths` (checked, not race-free). */
export type _BeneathMode = "openat2" | "paths";

/**
 * Opens the directory `path` (absolute, with no symlinks in it) for resolving beneath; `identity`
 * is its `dev`/`ino` when the root was opened, and a directory that no longer matches is refused.
 */
export async function _openBeneath(
  path: string,
  identity: { dev: number; ino: number | null },
): Promise<_Dir> {
  const libc = _mode() === "openat2" ? _libc! : undefined;
  if (libc === undefined) return new _PathDir(path, path);
  const fd = _check(
    libc.openat2(AT_FDCWD, path, libc.O_PATH | libc.O_DIRECTORY | O_CLOEXEC, 0, NO_LINKS),
  );
  try {
    const info = await Deno.stat(`/proc/self/fd/${fd}`);
    if (info.dev !== identity.dev || info.ino !== identity.ino) {
      throw new _BeneathError("changed", "the directory was moved or replaced since it was opened");
    }
  } catch (error) {
    libc.close(fd);
    throw error;
  }
  return new _FdDir(libc, fd);
}

/** The implementation in force (detected once). */
export function _beneathMode(): _BeneathMode {
  return _mode();
}

/**
 * Forces an implementation, for tests of the fallback (`undefined` goes back to detection).
 * Returns the mode that was in force.
 */
export function _setBeneathModeForTests(mode: _BeneathMode | undefined): _BeneathMode {
  const before = _mode();
  forced = mode;
  return before;
}

// --- Linux openat2 through FFI -------------------------------------------------------------------

const AT_FDCWD = -100;
const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const NO_LINKS = RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
const BENEATH = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
/** `openat2` is syscall 437 on every Linux architecture that has it. */
const SYS_OPENAT2 = 437n;
/** `EAGAIN` retries: the kernel returns it when a rename raced a `..` step. */
const RETRIES = 8;

const ERRNO: Record<number, _BeneathCode> = {
  1: "denied", // EPERM
  2: "missing", // ENOENT
  11: "changed", // EAGAIN
  13: "denied", // EACCES
  17: "exists", // EEXIST
  18: "outside", // EXDEV
  20: "notdir", // ENOTDIR
  40: "symlink", // ELOOP
};

interface _Libc {
  O_PATH: number;
  O_DIRECTORY: number;
  /** An fd, or `-errno`. */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** 0, or `-errno`. */
  mkdirat(dirfd: number, name: string, mode: number): number;
  close(fd: number): void;
}

let detected: _BeneathMode | undefined;
let forced: _BeneathMode | undefined;
let _libc: _Libc | undefined;

function _mode(): _BeneathMode {
  if (forced !== undefined) return forced === "openat2" && _libc === undefined ? "paths" : forced;
  if (detected === undefined) {
    try {
      _libc = _loadLibc();
    } catch {
      _libc = undefined;
    }
    detected = _libc === undefined ? "paths" : "openat2";
  }
  return detected;
}

function _loadLibc(): _Libc | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const arch = Deno.build.arch;
  if (arch !== "x86_64" && arch !== "aarch64") return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  const proc = Deno.permissions.querySync({ name: "read", path: "/proc/self/fd" });
  if (proc.state !== "granted") return undefined;
  const symbols = {
    syscall: { parameters: ["i64", "i64", "buffer", "buffer", "usize"], result: "i64" },
    mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
    __errno_location: { parameters: [], result: "pointer" },
  } as const;
  let lib: Deno.DynamicLibrary<typeof symbols> | undefined;
  for (const name of ["libc.so.6", `libc.musl-${arch}.so.1`]) {
    try {
      lib = Deno.dlopen(name, symbols);
      break;
    } catch { /* try the next name */ }
  }
  if (lib === undefined) return undefined;
  const errnoAt = lib.symbols.__errno_location();
  if (errnoAt === null) return undefined;
  const errno = new Deno.UnsafePointerView(errnoAt);
  const s = lib.symbols;
  const encoder = new TextEncoder();
  const how = new BigUint64Array(3);
  const libc: _Libc = {
    O_PATH: 0o10000000,
    // aarch64 numbers O_DIRECTORY differently from x86_64.
    O_DIRECTORY: arch === "aarch64" ? 0o40000 : 0o200000,
    openat2(dirfd, path, flags, mode, resolve) {
      how[0] = BigInt(flags);
      how[1] = BigInt(mode);
      how[2] = BigInt(resolve);
      const r = Number(
        s.syscall(SYS_OPENAT2, BigInt(dirfd), encoder.encode(path + "\0"), how, 24n),
      );
      return r < 0 ? -errno.getInt32() : r;
    },
    mkdirat(dirfd, name, mode) {
      return s.mkdirat(dirfd, encoder.encode(name + "\0"), mode) < 0 ? -errno.getInt32() : 0;
    },
    close(fd) {
      s.close(fd);
    },
  };
  // The kernel must have openat2 (5.6+) and /proc must show our descriptors.
  const fd = libc.openat2(AT_FDCWD, "/", libc.O_PATH | libc.O_DIRECTORY | O_CLOEXEC, 0, 0);
  if (fd < 0) return undefined;
  try {
    if (!Deno.statSync(`/proc/self/fd/${fd}`).isDirectory) return undefined;
  } catch {
    return undefined;
  } finally {
    libc.close(fd);
  }
  return libc;
}

/** An fd, or a {@linkcode _BeneathError} for `-errno`. */
function _check(result: number): number {
  if (result >= 0) return result;
  const code = ERRNO[-result] ?? "other";
  throw new _BeneathError(code, `openat2 failed (errno ${-result}, ${code})`);
}

function _accessOptions(access: _Access): Deno.OpenOptions {
  return access === "read"
    ? { read: true }
    : access === "write"
    ? { write: true }
    : { read: true, write: true };
}

/** A directory held by an `O_PATH` descriptor; every path is resolved beneath it by the kernel. */
class _FdDir implements _Dir {
  #libc: _Libc;
  #fd: number;

  constructor(libc: _Libc, fd: number) {
    this.#libc = libc;
    this.#fd = fd;
  }

  #openat2(rel: string, flags: number, mode: number, resolve: number, dir = this.#fd): number {
    let result = -11;
    for (let i = 0; i < RETRIES && result === -11; i++) {
      result = this.#libc.openat2(dir, rel, flags | O_CLOEXEC, mode, resolve);
    }
    return result;
  }

  /** Wraps an `O_PATH` descriptor: a regular file is reopened, a directory kept, the fd owned. */
  async #entry(fd: number, access: _Access | undefined): Promise<_Entry> {
    let keep = false;
    try {
      // Errors are mapped so that no message names the magic link (or anything else).
      const info = await _mapped(Deno.stat(`/proc/self/fd/${fd}`));
      if (info.isDirectory) {
        keep = true;
        return { info, dir: new _FdDir(this.#libc, fd) };
      }
      if (!info.isFile || access === undefined) return { info };
      // The magic link is the inode the kernel found beneath the directory, not a path.
      const file = await _mapped(Deno.open(`/proc/self/fd/${fd}`, _accessOptions(access)));
      return { info, file };
    } finally {
      if (!keep) this.#libc.close(fd);
    }
  }

  async open(rel: string, access: _Access | undefined, follow: boolean): Promise<_Entry> {
    const resolve = follow ? BENEATH : BENEATH | RESOLVE_NO_SYMLINKS;
    const fd = _check(this.#openat2(rel, this.#libc.O_PATH, 0, resolve));
    return await this.#entry(fd, access);
  }

  async create(rel: string): Promise<_Entry> {
    const flags = O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_NOCTTY;
    for (let attempt = 0; attempt < 3; attempt++) {
      const fd = this.#openat2(rel, flags, 0o666, BENEATH);
      if (fd >= 0) {
        // A new, empty regular file: reopen it like any other (the write fd is closed).
        const entry = await this.#entry(fd, "write");
        if (entry.file === undefined) throw new _BeneathError("changed", "not a new file");
        return entry;
      }
      if (fd === -17) return await this.open(rel, "write", true); // EEXIST
      if (fd !== -2) _check(fd); // anything but ENOENT
      this.#mkdirs(rel.split("/").slice(0, -1));
    }
    throw new _BeneathError("changed", "the parent directory kept disappearing");
  }

  /**
   * Creates each missing directory of `parts` with `mkdirat` on its parent's descriptor, and
   * opens each level beneath the one before (linear in the depth: the path is never walked again
   * from the root).
   */
  #mkdirs(parts: string[]): void {
    const libc = this.#libc;
    let parent = this.#fd;
    try {
      for (const part of parts) {
        const flags = libc.O_PATH | libc.O_DIRECTORY;
        let fd = this.#openat2(part, flags, 0, BENEATH, parent);
        if (fd === -2) {
          const made = libc.mkdirat(parent, part, 0o777);
          if (made < 0 && made !== -17) _check(made);
          fd = this.#openat2(part, flags, 0, BENEATH, parent);
        }
        _check(fd);
        if (parent !== this.#fd) libc.close(parent);
        parent = fd;
      }
    } finally {
      if (parent !== this.#fd) libc.close(parent);
    }
  }

  async readDir(rel: string): Promise<Deno.DirEntry[]> {
    const flags = this.#libc.O_PATH | this.#libc.O_DIRECTORY;
    const fd = _check(this.#openat2(rel, flags, 0, BENEATH | RESOLVE_NO_SYMLINKS));
    try {
      return await _mapped(Array.fromAsync(Deno.readDir(`/proc/self/fd/${fd}`)));
    } finally {
      this.#libc.close(fd);
    }
  }

  [Symbol.dispose](): void {
    if (this.#fd >= 0) this.#libc.close(this.#fd);
    this.#fd = -1;
  }
}

// --- the fallback: paths, checked before and verified after the open -----------------------------

/**
 * A directory by path. Each open is checked (the real path must be inside `root`) and, after the
 * open, the handle's `dev`/`ino` must match the real path's: a swap that happens between those
 * steps and is undone before the check still gets through. Used only where `openat2` is not.
 */
class _PathDir implements _Dir {
  readonly #path: string;
  readonly #root: string;

  constructor(path: string, root: string) {
    this.#path = path;
    this.#root = root;
  }

  #inside(real: string): boolean {
    return real === this.#root ||
      real.startsWith(this.#root.endsWith("/") ? this.#root : this.#root + "/");
  }

  async #real(path: string): Promise<string> {
    const real = await _mapped(Deno.realPath(path));
    if (!this.#inside(real)) throw new _BeneathError("outside", "the real path is outside");
    return real;
  }

  async #verified(file: Deno.FsFile, path: string): Promise<void> {
    try {
      const real = await this.#real(path);
      const [held, now] = await Promise.all([file.stat(), Deno.stat(real)]);
      if (held.dev !== now.dev || held.ino !== now.ino) {
        throw new _BeneathError("changed", "the file changed while it was opened");
      }
    } catch (error) {
      file.close();
      throw error;
    }
  }

  async open(rel: string, access: _Access | undefined, follow: boolean): Promise<_Entry> {
    const path = join(this.#path, rel);
    if (!follow && (await _mapped(Deno.lstat(path))).isSymlink) {
      throw new _BeneathError("symlink", "a symlink where none may be");
    }
    const real = await this.#real(path);
    const info = await _mapped(Deno.stat(real));
    if (info.isDirectory) return { info, dir: new _PathDir(real, this.#root) };
    if (!info.isFile || access === undefined) return { info };
    const file = await _mapped(Deno.open(real, _accessOptions(access)));
    await this.#verified(file, real);
    return { info, file };
  }

  async create(rel: string): Promise<_Entry> {
    const path = join(this.#path, rel);
    await _mapped(Deno.mkdir(join(path, ".."), { recursive: true }));
    await this.#real(join(path, ".."));
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return await this.open(rel, "write", true);
      throw _fromDeno(error);
    }
    await this.#verified(file, path);
    return { info: await file.stat(), file };
  }

  async readDir(rel: string): Promise<Deno.DirEntry[]> {
    const path = join(this.#path, rel);
    if (rel !== "." && (await _mapped(Deno.lstat(path))).isSymlink) {
      throw new _BeneathError("symlink", "a symlink where none may be");
    }
    await this.#real(path);
    return await _mapped(Array.fromAsync(Deno.readDir(path)));
  }

  [Symbol.dispose](): void {}
}

async function _mapped<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw _fromDeno(error);
  }
}

function _fromDeno(error: unknown): unknown {
  if (error instanceof Deno.errors.NotFound) return new _BeneathError("missing", "not found");
  if (error instanceof Deno.errors.NotADirectory) return new _BeneathError("notdir", "not a dir");
  if (error instanceof Deno.errors.PermissionDenied) return new _BeneathError("denied", "denied");
  if (error instanceof Deno.errors.FilesystemLoop) return new _BeneathError("symlink", "loop");
  // Any other system error by its name only: Deno's messages name the path.
  const system = Object.values(Deno.errors).some((kind) => error instanceof kind);
  return system ? new _BeneathError("other", (error as Error).name) : error;
}
