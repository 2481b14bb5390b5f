/**
 * What crosses between the host and a sandbox process: the wire constants, the framing and the
 * messages. Defined once here; the serialised code that runs inside the sandbox gets
 * {@linkcode _WIRE} as an argument (it cannot import), and its types through `import type`.
 *
 * A sandbox process hosts several runs at once, one per *slot*, each in its own permission-less
 * Worker. Both directions carry, per slot, a stream of records `[u32 length][u8 kind][body]`:
 *
 * - Host → child, on stdin: frames `[u32 body length][u16 slot][u8 kind][body]`. The process's
 *   router thread copies each frame for a slot into that slot's ring (a `SharedArrayBuffer`) as
 *   `[u32 length][u8 kind][body]` and wakes the Worker; frames for {@linkcode _WIRE.controlSlot}
 *   go to the process's main isolate. The host never puts more bytes in a ring than the Worker has
 *   acknowledged room for (`ack` messages), so the router never waits.
 * - Child → host, on stderr: chunks `[magic 4][token 16][u16 slot][u16 length][bytes]` of at most
 *   {@linkcode _WIRE.chunkBytes} bytes, each written with one `write(2)` (pipe writes of that size
 *   are atomic, so the chunks of Workers writing at once never interleave); the chunks of a slot,
 *   in order, are its record stream. The 16-byte token is the host's first frame to the process
 *   and stays out of every program's reach, so stray bytes on stderr (V8's and Deno's own reports land there too) cannot pass for a
 *   chunk; they are kept, as the process's diagnostics. (Not stdout: Deno line-buffers it, so a
 *   write there can return half done.)
 *
 * A record's kind is {@linkcode _WIRE.kindJson} (UTF-8 JSON) or {@linkcode _WIRE.kindClone} (V8's
 * structured-clone serialisation), with {@linkcode _WIRE.kindMore} set on every part of a body
 * that was split but the last. The channel itself is not trusted: a program can put any message
 * on it (its `postMessage` does just that), so {@linkcode _childMessage} admits only well-formed
 * messages, with exactly the fields the runtime sends.
 *
 * @module
 */

import type { _StubImport } from "../program/program_shapes.ts";

/** Wire constants, shared with the serialised sandbox code (which receives them as an argument). */
export const _WIRE = Object.freeze({
  /** The four bytes that open every child → host chunk. */
  magic: Object.freeze([0x00, 0x43, 0x4d, 0x02]) as readonly number[],
  /** Length of the per-process secret token in bytes. */
  tokenBytes: 16,
  /** Child → host chunk header: magic, token, slot, length. */
  chunkHeaderBytes: 24,
  /** Largest child → host chunk, header included: `PIPE_BUF` on Linux, so one write is atomic. */
  chunkBytes: 4096,
  /** Host → child frame header: body length, slot, kind. */
  frameHeaderBytes: 7,
  /** Header of a record in a slot's ring: length, kind. */
  recordHeaderBytes: 5,
  /** The slot number of messages for (and from) the process's main isolate. */
  controlSlot: 0xffff,
  /** Bytes of one slot's ring (a power of two). */
  ringBytes: 1 << 20,
  /** Int32 cells before a ring's data (the five below, and room to grow). */
  ringCells: 8,
  /** Ring cell: bytes written so far (wrapping), set by the router. */
  cellWritten: 0,
  /** Ring cell: bytes read so far (wrapping), set by the Worker. */
  cellRead: 1,
  /** Ring cell: liveness pings, counted up by the main isolate. */
  cellPing: 2,
  /** Ring cell: the last ping the Worker answered. */
  cellPong: 3,
  /** Ring cell: 1 once a frame did not fit (the slot is then stopped). */
  cellOverflow: 4,
  /** Ring cell: 1 once the host stopped the slot: the Worker writes nothing more. */
  cellStopped: 5,
  /** Ring cell: 1 while the Worker writes (a write the host has not read yet may wait). */
  cellWriting: 6,
  /** A Worker acknowledges what it has read every this many bytes. */
  ackBytes: 1 << 18,
  /** Largest record body the host writes in one piece; longer bodies travel in parts. */
  partBytes: 1 << 18,
  /** Record kind: UTF-8 JSON. */
  kindJson: 0,
  /** Record kind: V8 structured-clone serialisation. */
  kindClone: 1,
  /** Record kind flag: more parts of this body follow. */
  kindMore: 2,
  /** Heap a program's Worker gets on top of the program's `memoryMb`, for the runtime itself. */
  runtimeHeapMb: 16,
  /** Characters printed past the output limit after which a program counts as a flood. */
  floodChars: 4_000_000,
  /** Longest text of an error the host keeps from the sandbox. */
  errorChars: 16_384,
});

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

/** Messages a slot's Worker sends. `call` carries JSON arguments in `a`, or rich ones in `v`. */
export type _ChildMessage =
  | { t: "ready" }
  | { t: "out"; s: string }
  | { t: "call"; id: number; tool: string; a: string }
  | { t: "call"; id: number; tool: string; v: unknown }
  | { t: "ack"; n: number }
  | { t: "end"; ok: boolean; cut: number; error?: _WireError };

/** A stub module the host generated, keyed by what the program imports (`null` = all tools). */
export interface _StubModule {
  stub: string | null;
  source: string;
}

/** The `run` message: everything a Worker needs to run one program. */
export interface _RunMessage {
  t: "run";
  js: string;
  imports: _StubImport[];
  stubs: _StubModule[];
  tools: string[];
  maxOutputChars: number;
  maxArgumentBytes: number;
  /** The run's memory limit: its buffers and wasm memory are counted against it too. */
  memoryMb: number;
}

/** One tool call's answer. */
export type _ResultMessage =
  | { t: "res"; id: number; ok: true; v: unknown }
  | { t: "res"; id: number; ok: false; e: string };

/** Host → Worker messages. */
export type _HostMessage = _RunMessage | _ResultMessage | { t: "resv"; r: _ResultMessage[] };

/** Host → main isolate messages (on the control slot). */
export type _ControlRequest =
  | { t: "init"; token: number[]; slots: number; worker: string }
  | { t: "spawn"; slot: number; memoryMb: number }
  | { t: "stop"; slot: number };

/** Main isolate → host messages (on the control slot). */
export type _ControlReport =
  | { t: "hello" }
  | { t: "spawned"; slot: number; thread: number }
  | {
    t: "exit";
    slot: number;
    /** `done`: it ended itself; `stopped`: ended on request; else why it died. */
    why: "done" | "stopped" | "memory" | "overflow" | "died";
    message: string;
  };

/** The fields each slot message may have. */
const FIELDS = new Map<unknown, readonly string[]>([
  ["ready", ["t"]],
  ["out", ["t", "s"]],
  ["call", ["t", "id", "tool", "a", "v"]],
  ["ack", ["t", "n"]],
  ["end", ["t", "ok", "cut", "error"]],
]);
const ERROR_FIELDS = ["name", "message", "stack", "tool", "kind"];

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) return false;
  return true;
}

function errorText(value: unknown, fallback?: string): string | undefined {
  if (value === undefined || value === null) return fallback;
  return String(typeof value === "object" ? "[object]" : value).slice(0, _WIRE.errorChars);
}

function plainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The message a decoded record holds, or `null` when it is not one the host accepts (wrong
 * type, missing, extra or mistyped fields). Fields are copied, so nothing else the program put on
 * the message travels further.
 */
export function _childMessage(value: unknown): _ChildMessage | null {
  if (!plainObject(value)) return null;
  const m = value;
  // Exactly the runtime's fields: a field the host would ignore could still be megabytes it
  // had to read, uncounted.
  const allowed = FIELDS.get(m.t);
  if (allowed === undefined || !onlyKeys(m, allowed)) return null;
  switch (m.t) {
    case "ready":
      return { t: "ready" };
    case "out":
      return typeof m.s === "string" ? { t: "out", s: m.s } : null;
    case "ack":
      return typeof m.n === "number" && Number.isSafeInteger(m.n) && m.n >= 0
        ? { t: "ack", n: m.n }
        : null;
    case "call": {
      if (typeof m.id !== "number" || !Number.isSafeInteger(m.id) || typeof m.tool !== "string") {
        return null;
      }
      if (typeof m.a === "string" && !("v" in m)) {
        return { t: "call", id: m.id, tool: m.tool, a: m.a };
      }
      if ("v" in m && !("a" in m)) return { t: "call", id: m.id, tool: m.tool, v: m.v };
      return null;
    }
    case "end": {
      const cut = typeof m.cut === "number" && Number.isFinite(m.cut) && m.cut > 0 ? m.cut : 0;
      const e = m.error;
      if (e === undefined || e === null) return { t: "end", ok: m.ok === true, cut };
      if (!plainObject(e) || !onlyKeys(e, ERROR_FIELDS)) return null;
      return {
        t: "end",
        ok: m.ok === true,
        cut,
        error: {
          name: errorText(e.name, "Error")!,
          message: errorText(e.message, "")!,
          stack: errorText(e.stack),
          tool: errorText(e.tool),
          kind: errorText(e.kind),
        },
      };
    }
    default:
      return null;
  }
}

const REPORT_WHY = new Set(["done", "stopped", "memory", "overflow", "died"]);

/** A control report from the main isolate, or `null` when it is malformed. */
export function _controlReport(value: unknown): _ControlReport | null {
  if (!plainObject(value)) return null;
  const slot = value.slot;
  const slotOk = typeof slot === "number" && Number.isInteger(slot) && slot >= 0;
  switch (value.t) {
    case "hello":
      return { t: "hello" };
    case "spawned":
      return slotOk && typeof value.thread === "number"
        ? { t: "spawned", slot: slot as number, thread: value.thread }
        : null;
    case "exit":
      return slotOk && REPORT_WHY.has(value.why as string)
        ? {
          t: "exit",
          slot: slot as number,
          why: value.why as "done",
          message: errorText(value.message, "")!.slice(0, 500),
        }
        : null;
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
