/**
 * The messages that cross between the host and a sandbox child process.
 *
 * Host → child (stdin): frames of a 4-byte big-endian length followed by UTF-8 JSON.
 * Child → host (stdout): frames of `MAGIC` (4 bytes), the process's secret token (16 bytes), a
 * 4-byte big-endian length and UTF-8 JSON. The token is the host's first frame; the Worker's
 * channel keeps it out of the program's reach, so stray bytes on stdout cannot pass for a frame.
 * The channel itself is not trusted: a program can put any JSON on it (its `postMessage` does
 * just that), so {@linkcode _childMessage} admits only well-formed messages.
 *
 * @module
 */

/** The four bytes that open every child → host frame. */
export const _MAGIC: Uint8Array = new Uint8Array([0x00, 0x43, 0x4d, 0x01]);
/** Length of the per-process secret token in bytes. */
export const _TOKEN_BYTES = 16;
/** Largest frame either side accepts (a result may carry `maxResultBytes` of JSON plus escaping). */
export const _MAX_FRAME_BYTES: number = 64 * 1024 * 1024;

/** An error as the sandbox reports it. */
export interface _WireError {
  name: string;
  message: string;
  stack?: string;
  /** Set for a failed tool call the program did not catch. */
  tool?: string;
  /** Set by the runtime for errors whose class it knows ("tool", "import", "limit"). */
  kind?: string;
}

/** Child → host messages. */
export type _ChildMessage =
  | { t: "ready" }
  | { t: "out"; s: string }
  | { t: "call"; id: number; tool: string; a: string }
  | { t: "end"; ok: boolean; cut: number; error?: _WireError };

/** A stub module the host generated, keyed by what the program imports (`null` = all tools). */
export interface _StubModule {
  stub: string | null;
  source: string;
}

/** Host → child messages. */
export type _HostMessage =
  | { t: "init"; token: number[] }
  | {
    t: "run";
    js: string;
    imports: { start: number; end: number; stub: string | null }[];
    stubs: _StubModule[];
    tools: string[];
    maxOutputChars: number;
    maxArgumentBytes: number;
  }
  | { t: "res"; id: number; ok: true; v: unknown }
  | { t: "res"; id: number; ok: false; e: string }
  | { t: "resv"; r: { t: "res"; id: number; ok: boolean; v?: unknown; e?: string }[] };

/** The fields each child message may have. */
const FIELDS = new Map<unknown, readonly string[]>([
  ["ready", ["t"]],
  ["out", ["t", "s"]],
  ["call", ["t", "id", "tool", "a"]],
  ["end", ["t", "ok", "cut", "error"]],
]);
const ERROR_FIELDS = ["name", "message", "stack", "tool", "kind"];

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) return false;
  return true;
}

/** Longest error text the host keeps from the sandbox. */
const MAX_ERROR_CHARS = 16_384;

function errorText(value: unknown, fallback?: string): string | undefined {
  if (value === undefined || value === null) return fallback;
  return String(typeof value === "object" ? "[object]" : value).slice(0, MAX_ERROR_CHARS);
}

/**
 * The message a parsed child frame holds, or `null` when it is not one the host accepts (wrong
 * type, missing or mistyped fields). Fields are copied, so nothing else the program put on the
 * message travels further.
 */
export function _childMessage(value: unknown): _ChildMessage | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  // Exactly the runtime's fields: a field the host would ignore could still be megabytes it
  // had to read, uncounted.
  const allowed = FIELDS.get(m.t);
  if (allowed === undefined || !onlyKeys(m, allowed)) return null;
  switch (m.t) {
    case "ready":
      return { t: "ready" };
    case "out":
      return typeof m.s === "string" ? { t: "out", s: m.s } : null;
    case "call":
      return typeof m.id === "number" && Number.isSafeInteger(m.id) &&
          typeof m.tool === "string" && typeof m.a === "string"
        ? { t: "call", id: m.id, tool: m.tool, a: m.a }
        : null;
    case "end": {
      const cut = typeof m.cut === "number" && Number.isFinite(m.cut) && m.cut > 0 ? m.cut : 0;
      const e = m.error;
      if (typeof e !== "object" || e === null) return { t: "end", ok: m.ok === true, cut };
      const w = e as Record<string, unknown>;
      if (Array.isArray(e) || !onlyKeys(w, ERROR_FIELDS)) return null;
      return {
        t: "end",
        ok: m.ok === true,
        cut,
        error: {
          name: errorText(w.name, "Error")!,
          message: errorText(w.message, "")!,
          stack: errorText(w.stack),
          tool: errorText(w.tool),
          kind: errorText(w.kind),
        },
      };
    }
    default:
      return null;
  }
}

/**
 * Whether the JSON text in `bytes` nests objects or arrays deeper than `max`, found in one pass
 * over the bytes (quotes and backslashes are single bytes in UTF-8, so strings are skipped
 * exactly). Lets the host refuse a hostile message before `JSON.parse` spends time on it.
 */
export function _jsonDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > max) return true;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return false;
}

const encoder = new TextEncoder();

/** Encodes one host → child frame. `rawJson` lets the host splice an already-serialised body. */
export function _encodeHostFrame(message: _HostMessage | string): Uint8Array {
  const body = encoder.encode(typeof message === "string" ? message : JSON.stringify(message));
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}
