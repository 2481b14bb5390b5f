/**
 * The OS cap on a sandbox process's data (RLIMIT_DATA on Linux): it covers what heap limits do
 * not see — `ArrayBuffer` and wasm memory — for all the runs a process hosts together.
 *
 * A process is started (through `prlimit`) with a hard limit for all its slots and a soft limit
 * for what it hosts now. As Workers start and end, the host moves the soft limit with the
 * `prlimit64` system call (through FFI, when the host may use it), so a buffer bomb in one run
 * meets the limit after about its own share rather than after every empty slot's.
 *
 * @module
 */

/** V8 and Deno's writable reservations in a process with no program Worker (main + router). */
export const _DATA_BASE_MB = 1150;
/** What one program Worker reserves beyond its heap (its code range, stacks, tables). */
export const _DATA_PER_WORKER_MB = 96;

/** The data limit of a process hosting `workers` program Workers of `memoryMb` each, in bytes. */
export function _dataLimitBytes(workers: number, memoryMb: number): number {
  return (_DATA_BASE_MB + workers * (_DATA_PER_WORKER_MB + memoryMb)) * 1024 * 1024;
}

const RLIMIT_DATA = 2;

interface _Prlimit {
  prlimit64(pid: number, resource: number, limits: BigUint64Array): number;
}

let _libc: _Prlimit | null | undefined;

function _load(): _Prlimit | null {
  if (_libc !== undefined) return _libc;
  _libc = null;
  if (Deno.build.os !== "linux") return _libc;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return _libc;
  } catch {
    return _libc;
  }
  const symbols = {
    prlimit64: { parameters: ["i32", "i32", "buffer", "buffer"], result: "i32" },
  } as const;
  for (const name of ["libc.so.6", `libc.musl-${Deno.build.arch}.so.1`]) {
    try {
      const lib = Deno.dlopen(name, symbols);
      _libc = {
        prlimit64: (pid, resource, limits) => lib.symbols.prlimit64(pid, resource, limits, null),
      };
      return _libc;
    } catch {
      // Try the next name.
    }
  }
  return _libc;
}

/**
 * Sets the soft data limit of process `pid` (keeping its hard limit `hardBytes`). Returns whether
 * it could; where it cannot (no FFI for the host, not Linux), the hard limit alone applies.
 */
export function _setSoftDataLimit(pid: number, softBytes: number, hardBytes: number): boolean {
  const libc = _load();
  if (libc === null) return false;
  const limits = new BigUint64Array([BigInt(Math.min(softBytes, hardBytes)), BigInt(hardBytes)]);
  try {
    return libc.prlimit64(pid, RLIMIT_DATA, limits) === 0;
  } catch {
    return false;
  }
}
