/**
 * The program Worker's end of the host channel: records from its slot's ring in, chunks on the
 * process's stderr out, with no thread in between on the way out and only the router's blocking
 * read and an `Atomics.notify` on the way in.
 *
 * Three functions serialised with `Function.prototype.toString` into the Worker's module (see
 * `child_source.ts`), each self-contained: `_takeBytes` (typed-array operations), `_workerOutbox`
 * (sending) and `_workerInbox` (receiving). They run before any program code and take everything
 * they need then: a bound `writeSync` on stderr (the lock-down later replaces `Deno.stderr` with a
 * refusal; stderr because Deno's stdout is line-buffered, so a write there can come back half
 * done, while a write to stderr is one `write(2)`), the `Atomics` functions, bound encoders and
 * the V8 serialiser, so a program that patches built-ins later cannot reach the raw streams or the
 * ring through them. Typed arrays are built from buffers and read through the original getters,
 * so a `Symbol.species` or getter hook never sees a chunk with the token.
 *
 * Nothing here is trusted by the host: a program that subverts this code can at most put
 * messages on its own slot's stream, and the host checks every message as if the program had
 * written it.
 *
 * @module
 */

import type { _WIRE } from "./protocol.ts";

/** What the Worker gets from the main isolate when it starts. */
export interface _WorkerData {
  ring: SharedArrayBuffer;
  slot: number;
  token: number[];
}

/** The V8 serialiser (`node:v8`), for messages JSON cannot carry. */
export interface _CloneCodec {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

/** What the channel's two halves (`_workerOutbox`, `_workerInbox`) give the runtime together. */
export interface _WorkerChannel {
  /**
   * Sends one message as JSON. `urgent` messages are written before `send` returns, with
   * everything sent before them; others are written at once when they open a synchronous
   * stretch, else with the next urgent message, every 64 messages, or when the stretch ends.
   * Throws `TypeError` when `message` is not JSON data.
   */
  send(message: unknown, urgent?: boolean): void;
  /** Sends one pre-serialised JSON message (same timing as `send`). */
  sendJson(json: string, urgent?: boolean): void;
  /**
   * Sends one message as a structured clone (same timing as `send`). Throws when it cannot be
   * cloned, and a `RangeError` when its serialisation is over `maxBytes`.
   */
  sendClone(message: unknown, urgent?: boolean, maxBytes?: number): void;
  /** Whether this synchronous stretch has already sent a non-urgent message (a burst is on). */
  bursting(): boolean;
  /**
   * Reads the slot's ring until the Worker ends; `onMessage` gets each decoded message, `onPing`
   * runs at each of the watchdog's pings (twice a second).
   */
  listen(onMessage: (message: unknown) => void, onPing?: () => void): void;
}

/** The typed-array operations the channel uses, taken before any program code can patch them. */
export interface _Bytes {
  len(a: Uint8Array): number;
  view(a: Uint8Array, start: number, end?: number): Uint8Array;
  copy(dst: Uint8Array, src: Uint8Array, at: number): void;
}

/**
 * Runs inside the Worker first: the typed-array operations, read through the original getters
 * and built from buffers, never with `subarray` (which asks `constructor[Symbol.species]`, a hook
 * the program could plant to be handed a chunk with the token).
 */
export function _takeBytes(): _Bytes {
  const apply = Reflect.apply;
  const U8 = Uint8Array;
  const u8set = Uint8Array.prototype.set;
  const typedArray = Object.getPrototypeOf(Uint8Array.prototype);
  const getter = (name: string) => Object.getOwnPropertyDescriptor(typedArray, name)!.get!;
  const lengthGetter = getter("length");
  const bufferGetter = getter("buffer");
  const offsetGetter = getter("byteOffset");
  const len = (a: Uint8Array): number => apply(lengthGetter, a, []);
  const view = (a: Uint8Array, start: number, end = len(a)): Uint8Array =>
    new U8(apply(bufferGetter, a, []), apply(offsetGetter, a, []) + start, end - start);
  const copy = (dst: Uint8Array, src: Uint8Array, at: number) => apply(u8set, dst, [src, at]);
  return { len, view, copy };
}

/** What `_workerOutbox` gives the channel: the sending half. */
export type _Outbox = Omit<_WorkerChannel, "listen">;

/** Runs inside the Worker: the sending half of the channel (records in chunks on stderr). */
export function _workerOutbox(
  wire: typeof _WIRE,
  init: _WorkerData,
  codec: _CloneCodec,
  bytes: _Bytes,
): _Outbox {
  const { len, view, copy } = bytes;
  const U8 = Uint8Array;
  const stringify = JSON.stringify;
  const serialize = codec.serialize;
  const encoder = new TextEncoder();
  const encodeInto = encoder.encodeInto.bind(encoder);
  const encode = encoder.encode.bind(encoder);
  const writeSync = Deno.stderr.writeSync.bind(Deno.stderr);
  const load = Atomics.load;
  const store = Atomics.store;
  const later = queueMicrotask;
  const cells = new Int32Array(init.ring, 0, wire.ringCells);
  const room = wire.chunkBytes - wire.chunkHeaderBytes;

  // One chunk buffer, reused: the header (magic, token, slot) is written once.
  const chunk = new U8(wire.chunkBytes);
  for (let i = 0; i < 4; i++) chunk[i] = wire.magic[i];
  for (let i = 0; i < 16; i++) chunk[4 + i] = init.token[i];
  chunk[20] = (init.slot >>> 8) & 0xff;
  chunk[21] = init.slot & 0xff;

  // The slot's outgoing record stream waits in `stream[0, used)`, which is reused: writeSync has
  // copied the bytes when it returns. A write costs a system call (~5 us here), so the calls of a
  // burst (a `Promise.all` over many items) share writes: the first message of a synchronous
  // stretch is written at once, the next ones when the stretch ends (a microtask) or every
  // BURST_FRAMES. Urgent messages (output, the end) flush everything before them at once, so what
  // was printed before a busy loop or a crash has left the process.
  const BURST_FRAMES = 64;
  let stream = new U8(64 * 1024);
  let used = 0;
  let queued = 0;
  let burst = false;

  function stopped(): boolean {
    return load(cells, wire.cellStopped) !== 0;
  }

  function writeChunk(n: number): void {
    if (stopped()) throw new Error("the run was stopped");
    chunk[22] = (n >>> 8) & 0xff;
    chunk[23] = n & 0xff;
    const out = n + wire.chunkHeaderBytes === wire.chunkBytes
      ? chunk
      : view(chunk, 0, n + wire.chunkHeaderBytes);
    // One write of at most PIPE_BUF bytes to a pipe is atomic: it is never split or interleaved.
    // While it waits for the host to read, the watchdog must not take the Worker for stuck.
    store(cells, wire.cellWriting, 1);
    try {
      writeSync(out);
    } finally {
      store(cells, wire.cellWriting, 0);
    }
  }

  function flush(): void {
    if (stopped()) {
      used = 0;
      queued = 0;
      throw new Error("the run was stopped");
    }
    let at = 0;
    while (at < used) {
      const n = Math.min(room, used - at);
      copy(chunk, view(stream, at, at + n), wire.chunkHeaderBytes);
      writeChunk(n);
      at += n;
    }
    used = 0;
    queued = 0;
  }

  function reserve(need: number): void {
    if (used + need <= len(stream)) return;
    if (used > 0) flush();
    if (need > len(stream)) stream = new U8(need);
  }

  function header(at: number, n: number, kind: number): void {
    stream[at] = (n >>> 24) & 0xff;
    stream[at + 1] = (n >>> 16) & 0xff;
    stream[at + 2] = (n >>> 8) & 0xff;
    stream[at + 3] = n & 0xff;
    stream[at + 4] = kind;
  }

  function appendJson(json: string): void {
    // A long message is encoded exactly once rather than into room for its worst case.
    if (json.length > 64 * 1024) return appendBytes(encode(json), wire.kindJson);
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    reserve(json.length * 3 + wire.recordHeaderBytes);
    const n = encodeInto(json, view(stream, used + wire.recordHeaderBytes)).written;
    header(used, n, wire.kindJson);
    used += wire.recordHeaderBytes + n;
  }

  // A long record goes straight from its bytes into chunks, never copied into the stream buffer.
  function writeDirect(bytes: Uint8Array, kind: number): void {
    flush();
    const n = len(bytes);
    header(0, n, kind);
    copy(chunk, view(stream, 0, wire.recordHeaderBytes), wire.chunkHeaderBytes);
    let filled: number = wire.recordHeaderBytes;
    let at = 0;
    while (at < n || filled > 0) {
      const take = Math.min(room - filled, n - at);
      copy(chunk, view(bytes, at, at + take), wire.chunkHeaderBytes + filled);
      at += take;
      writeChunk(filled + take);
      filled = 0;
      if (at >= n) break;
    }
  }

  function appendBytes(bytes: Uint8Array, kind: number): void {
    const n = len(bytes);
    if (n > 64 * 1024) return writeDirect(bytes, kind);
    reserve(n + wire.recordHeaderBytes);
    header(used, n, kind);
    copy(stream, bytes, used + wire.recordHeaderBytes);
    used += wire.recordHeaderBytes + n;
  }

  function endBurst(): void {
    burst = false;
    flush();
  }

  function sent(urgent: boolean): void {
    queued++;
    if (urgent || queued >= BURST_FRAMES) flush();
    else if (!burst) {
      flush();
      burst = true;
      later(endBurst);
    }
  }

  function sendJson(json: string, urgent = false): void {
    appendJson(json);
    sent(urgent);
  }

  function send(message: unknown, urgent = false): void {
    const json = stringify(message);
    if (typeof json !== "string") throw new TypeError("a channel message must be JSON data");
    sendJson(json, urgent);
  }

  function sendClone(message: unknown, urgent = false, maxBytes = Infinity): void {
    const bytes = serialize(message);
    if (len(bytes) > maxBytes) {
      throw new RangeError(
        `arguments are ${len(bytes)} bytes, over the ${maxBytes}-byte limit; send less per call`,
      );
    }
    appendBytes(bytes, wire.kindClone);
    sent(urgent);
  }

  return { send, sendJson, sendClone, bursting: () => burst };
}

/**
 * Runs inside the Worker: the receiving half of the channel. Reads the slot's ring until the
 * Worker ends; acknowledges what it read (with `send`) and answers the watchdog's pings.
 */
export function _workerInbox(
  wire: typeof _WIRE,
  init: _WorkerData,
  codec: _CloneCodec,
  bytes: _Bytes,
  send: (message: unknown, urgent?: boolean) => void,
): Pick<_WorkerChannel, "listen"> {
  const { len, view, copy } = bytes;
  const U8 = Uint8Array;
  const parse = JSON.parse;
  const deserialize = codec.deserialize;
  const decoder = new TextDecoder();
  const decode = decoder.decode.bind(decoder);
  const load = Atomics.load;
  const store = Atomics.store;
  const waitAsync = Atomics.waitAsync;
  const PromiseCtor = Promise;
  const cells = new Int32Array(init.ring, 0, wire.ringCells);
  const data = new U8(init.ring, wire.ringCells * 4, wire.ringBytes);
  const mask = wire.ringBytes - 1;
  let read = 0;
  let consumed = 0;
  let acked = 0;
  const head = new U8(wire.recordHeaderBytes);

  function take(at: number, n: number, into: Uint8Array, offset: number): void {
    const start = at & mask;
    const first = Math.min(n, wire.ringBytes - start);
    copy(into, view(data, start, start + first), offset);
    if (first < n) copy(into, view(data, 0, n - first), offset + first);
  }

  function listen(onMessage: (message: unknown) => void, onPing?: () => void): void {
    let parts: Uint8Array[] = [];
    let partBytes = 0;
    function drain(): void {
      const written = load(cells, wire.cellWritten);
      while (read !== written) {
        take(read, wire.recordHeaderBytes, head, 0);
        const n = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
        const kind = head[4];
        const body = new U8(n);
        take(read + wire.recordHeaderBytes, n, body, 0);
        const size = wire.recordHeaderBytes + n;
        read = (read + size) | 0;
        store(cells, wire.cellRead, read);
        consumed += size;
        if (kind & wire.kindMore) {
          parts[parts.length] = body;
          partBytes += n;
          continue;
        }
        let whole = body;
        if (parts.length > 0) {
          parts[parts.length] = body;
          whole = new U8(partBytes + n);
          let at = 0;
          for (let i = 0; i < parts.length; i++) {
            copy(whole, parts[i], at);
            at += len(parts[i]);
          }
          parts = [];
          partBytes = 0;
        }
        let message: unknown;
        try {
          message = (kind & wire.kindClone) ? deserialize(whole) : parse(decode(whole));
        } catch {
          continue;
        }
        try {
          onMessage(message);
        } catch {
          // A handler the program broke (it may patch built-ins): the channel goes on.
        }
      }
      if (consumed - acked >= wire.ackBytes) {
        acked = consumed;
        send({ t: "ack", n: consumed }, true);
      }
      const ping = load(cells, wire.cellPing);
      if (load(cells, wire.cellPong) !== ping) {
        store(cells, wire.cellPong, ping);
        try {
          onPing?.();
        } catch {
          // A handler the program broke: the channel goes on.
        }
      }
    }
    (async () => {
      for (;;) {
        drain();
        const seen = load(cells, wire.cellWritten);
        if (seen !== read) continue;
        const waiting = waitAsync(cells, wire.cellWritten, seen);
        if (waiting.async) await PromiseCtor.resolve(waiting.value);
      }
    })();
  }

  return { listen };
}
