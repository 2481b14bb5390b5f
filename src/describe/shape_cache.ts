/**
 * The learned-shapes cache on disk: one JSON file under the user's cache directory, read at most
 * once per CodeMode (capped, every entry checked, anything off ignored — never a crash, and nothing
 * in it is ever run), written atomically (temporary file + rename) and bounded in entries and bytes.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { _parseShape, type _Shape } from "./result_shape.ts";
import { _MAX_EXAMPLE_CHARS } from "./shape_text.ts";

/** One learned shape as cached. */
export interface _CachedShape {
  /** The merged shape of the results seen. */
  shape: _Shape;
  /** A short example of one of them. */
  example: string;
  /** When a result was last seen (ms since the epoch): the least recent are dropped first. */
  at: number;
}

/** The file's name; another format version gets another name. */
export const _CACHE_FILE = "learned_shapes.v1.json";
/** What the file says it is. */
const FORMAT = "codemode learned result shapes";
/** A bigger file is ignored; writes stay below it. */
const MAX_BYTES = 512 * 1024;
/** Most entries kept (the most recently seen). */
const MAX_ENTRIES = 500;
/** Longest key (`server.tool` and a hash). */
export const _MAX_KEY = 300;

/** Whether a permission is granted, without ever prompting. */
function _granted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The cache directory: `$CODEMODE_CACHE_DIR`, else `$XDG_CACHE_HOME/codemode`, else the
 * platform's (`~/.cache/codemode`, `~/Library/Caches/codemode`, `%LOCALAPPDATA%\codemode`); null
 * when none can be known without a permission prompt (the shapes are then kept in memory only).
 */
export function _defaultCacheDir(): string | null {
  const env = (name: string): string | undefined => {
    if (!_granted({ name: "env", variable: name })) return undefined;
    const value = Deno.env.get(name);
    return value && isAbsolute(value) ? value : undefined;
  };
  const own = env("CODEMODE_CACHE_DIR");
  if (own) return own;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "codemode");
  if (Deno.build.os === "windows") {
    const local = env("LOCALAPPDATA");
    return local ? join(local, "codemode") : null;
  }
  const home = env("HOME");
  if (!home) return null;
  return Deno.build.os === "darwin"
    ? join(home, "Library", "Caches", "codemode")
    : join(home, ".cache", "codemode");
}

/** The cached shapes in `dir`; empty when there is no readable, well-formed cache. */
export function _readShapeCache(dir: string): Map<string, _CachedShape> {
  const path = join(dir, _CACHE_FILE);
  if (!_granted({ name: "read", path })) return new Map();
  let bytes: Uint8Array | undefined;
  try {
    // A regular file only: a FIFO or device would block or never end.
    if (!Deno.lstatSync(path).isFile) return new Map();
    using file = Deno.openSync(path, { read: true });
    if (file.statSync().size > MAX_BYTES) return new Map();
    const buffer = new Uint8Array(MAX_BYTES + 1);
    let n = 0;
    while (n < buffer.length) {
      const read = file.readSync(buffer.subarray(n));
      if (read === null) break;
      n += read;
    }
    if (n <= MAX_BYTES) bytes = buffer.subarray(0, n);
  } catch {
    return new Map();
  }
  return bytes ? _parseCache(new TextDecoder().decode(bytes)) : new Map();
}

/** The entries of a cache file's text; whatever does not check out is left out. */
export function _parseCache(text: string): Map<string, _CachedShape> {
  const out = new Map<string, _CachedShape>();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return out;
  }
  const d = data as { format?: unknown; version?: unknown; entries?: unknown } | null;
  if (d?.format !== FORMAT || d.version !== 1 || !Array.isArray(d.entries)) return out;
  for (const raw of d.entries.slice(0, MAX_ENTRIES)) {
    const e = raw as Record<string, unknown> | null;
    if (typeof e !== "object" || e === null) continue;
    const { key, example, at } = e;
    if (typeof key !== "string" || key.length > _MAX_KEY || out.has(key)) continue;
    if (typeof example !== "string" || example.length > _MAX_EXAMPLE_CHARS) continue;
    if (/[\n\r\u2028\u2029]/.test(example)) continue;
    if (typeof at !== "number" || !Number.isFinite(at)) continue;
    const shape = _parseShape(e.shape);
    if (shape) out.set(key, { shape, example, at });
  }
  return out;
}

/**
 * Writes `entries` to the cache in `dir`, merged with what another process wrote there meanwhile
 * (for a key in both, the one seen more recently wins), the most recently seen first, within the entry and byte caps. Atomic: a reader
 * sees the old file or the new one. Returns false when it could not write (nothing is thrown).
 */
export async function _writeShapeCache(
  dir: string,
  entries: ReadonlyMap<string, _CachedShape>,
): Promise<boolean> {
  const path = join(dir, _CACHE_FILE);
  if (!_granted({ name: "write", path: dir }) || !_granted({ name: "read", path })) return false;
  const tmp = join(dir, `.${_CACHE_FILE}.${Deno.pid}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const merged = await _readAsync(path);
    for (const [key, entry] of entries) {
      if (!((merged.get(key)?.at ?? -Infinity) > entry.at)) merged.set(key, entry);
    }
    const sorted = [...merged].sort((a, b) => b[1].at - a[1].at).slice(0, MAX_ENTRIES);
    const lines: string[] = [];
    let bytes = 100;
    for (const [key, { shape, example, at }] of sorted) {
      const line = JSON.stringify({ key, shape, example, at });
      bytes += new TextEncoder().encode(line).length + 2;
      if (bytes > MAX_BYTES) break;
      lines.push(line);
    }
    const text = `{"format":${JSON.stringify(FORMAT)},"version":1,"entries":[\n${
      lines.join(",\n")
    }\n]}\n`;
    await Deno.writeTextFile(tmp, text, { mode: 0o600 });
    await Deno.rename(tmp, path);
    return true;
  } catch {
    await Deno.remove(tmp).catch(() => {});
    return false;
  }
}

/** The cache file's entries, read without blocking (same checks as {@linkcode _readShapeCache}). */
async function _readAsync(path: string): Promise<Map<string, _CachedShape>> {
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile || info.size > MAX_BYTES) return new Map();
    using file = await Deno.open(path, { read: true });
    const buffer = new Uint8Array(MAX_BYTES + 1);
    let n = 0;
    while (n < buffer.length) {
      const read = await file.read(buffer.subarray(n));
      if (read === null) break;
      n += read;
    }
    return n > MAX_BYTES ? new Map() : _parseCache(new TextDecoder().decode(buffer.subarray(0, n)));
  } catch {
    return new Map();
  }
}
