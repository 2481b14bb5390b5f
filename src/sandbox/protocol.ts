/**
 * The messages that cross between the host and a sandbox child process.
 *
 * Host → child (stdin): frames of a 4-byte big-endian length followed by UTF-8 JSON.
 * Child → host (stdout): frames of `MAGIC` (4 bytes), the run's secret token (16 bytes), a 4-byte
 * big-endian length and UTF-8 JSON. The token is sent to the child's broker before any program
 * code exists and never reaches the program's Worker, so bytes the program writes to the
 * process's stdout cannot pass for a frame.
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
  }
  | { t: "res"; id: number; ok: true; v: unknown }
  | { t: "res"; id: number; ok: false; e: string };

const encoder = new TextEncoder();

/** Encodes one host → child frame. `rawJson` lets the host splice an already-serialised body. */
export function _encodeHostFrame(message: _HostMessage | string): Uint8Array {
  const body = encoder.encode(typeof message === "string" ? message : JSON.stringify(message));
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}
