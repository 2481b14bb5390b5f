/**
 * The program Worker's end of the host channel: framed messages on the child process's own
 * stdin and stdout, read and written by the Worker itself, with no relay in between.
 *
 * Serialised with `Function.prototype.toString` into the Worker's `data:` module (see
 * `child_source.ts`), so it must not refer to anything outside its own body. It runs before any
 * program code and takes everything it needs then: the stdin reader and a bound `writeSync` on
 * stdout (the runtime then replaces `Deno.stdin`/`Deno.stdout` with refusals), and bound copies of
 * the encoders, so a program that patches `TextEncoder.prototype` or `JSON` later cannot reach the
 * raw streams through it. The 16-byte token arrives in the host's first frame and prefixes every
 * frame the Worker writes.
 *
 * Nothing here is trusted by the host: a program that subverts this code can at most put
 * messages on the channel, and the host checks every message (`src/sandbox/sandbox_process.ts`,
 * `src/run/run_session.ts`) exactly as if the program had written it.
 *
 * @module
 */

/** What `_workerChannel` gives the runtime. */
export interface _WorkerChannel {
  /**
   * Sends one message to the host. `urgent` messages are written before `send` returns, with
   * everything sent before them; others are written at once when they open a synchronous
   * stretch, else with the next urgent message, every 64 messages, or when the stretch ends.
   * Messages sent before the host's token arrived wait for it. Throws `TypeError` when `message`
   * is not JSON data.
   */
  send(message: unknown, urgent?: boolean): void;
  /** Whether this synchronous stretch has already sent a non-urgent message (a burst is on). */
  bursting(): boolean;
  /**
   * Reads host frames until stdin closes: `onMessage` gets each message after the first (the
   * token), `onClosed` runs once the host has gone.
   */
  listen(onMessage: (message: unknown) => void, onClosed: () => void): void;
}

/** Runs inside the Worker, before the runtime; returns the channel. */
export function _workerChannel(): _WorkerChannel {
  const MAGIC = [0x00, 0x43, 0x4d, 0x01];
  const apply = Reflect.apply;
  const U8 = Uint8Array;
  const u8set = Uint8Array.prototype.set;
  // Views are built from the buffer, never with `subarray` (which asks `constructor[Symbol.species]`,
  // a hook the program could plant to be handed a frame with the token), and lengths are read
  // through the original getters.
  const typedArray = Object.getPrototypeOf(Uint8Array.prototype);
  const getter = (name: string) => Object.getOwnPropertyDescriptor(typedArray, name)!.get!;
  const lengthGetter = getter("length");
  const bufferGetter = getter("buffer");
  const offsetGetter = getter("byteOffset");
  const len = (a: Uint8Array): number => apply(lengthGetter, a, []);
  const view = (a: Uint8Array, start: number, end = len(a)): Uint8Array =>
    new U8(apply(bufferGetter, a, []), apply(offsetGetter, a, []) + start, end - start);
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const encoder = new TextEncoder();
  const encode = encoder.encode.bind(encoder);
  const encodeInto = encoder.encodeInto.bind(encoder);
  const decoder = new TextDecoder();
  const decode = decoder.decode.bind(decoder);
  const writeSync = Deno.stdout.writeSync.bind(Deno.stdout);
  const reader = Deno.stdin.readable.getReader();
  const read = reader.read.bind(reader);
  let token: Uint8Array | null = null;
  let waiting: Uint8Array[] = [];

  function header(out: Uint8Array, at: number, n: number): void {
    for (let i = 0; i < 4; i++) out[at + i] = MAGIC[i];
    for (let i = 0; i < 16; i++) out[at + 4 + i] = token![i];
    out[at + 20] = (n >>> 24) & 0xff;
    out[at + 21] = (n >>> 16) & 0xff;
    out[at + 22] = (n >>> 8) & 0xff;
    out[at + 23] = n & 0xff;
  }

  function frame(body: Uint8Array): Uint8Array {
    const out = new U8(24 + len(body));
    header(out, 0, len(body));
    apply(u8set, out, [body, 24]);
    return out;
  }

  function writeAll(bytes: Uint8Array): void {
    let at = 0;
    const n = len(bytes);
    while (at < n) at += writeSync(view(bytes, at));
  }

  // Frames not yet written wait in `scratch[0, used)`, which is reused: writeSync has copied the
  // bytes when it returns. A write costs a system call (~5 us here), so the calls of a burst (a
  // `Promise.all` over many items) share writes: the first message of a synchronous stretch is
  // written at once, the next ones when the stretch ends (a microtask) or every BURST_FRAMES.
  // Urgent messages (output, the end) flush everything before them at once, so what was printed
  // before a busy loop or a crash has left the process.
  const BURST_FRAMES = 64;
  const later = queueMicrotask;
  let scratch = new U8(64 * 1024);
  let used = 0;
  let queued = 0;
  let burst = false;

  function flush(): void {
    if (used === 0) return;
    writeAll(view(scratch, 0, used));
    used = 0;
    queued = 0;
  }

  function endBurst(): void {
    burst = false;
    flush();
  }

  function append(json: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    const need = json.length * 3 + 24;
    if (used + need > len(scratch)) {
      flush();
      if (need > 1024 * 1024) {
        writeAll(frame(encode(json)));
        return;
      }
      if (need > len(scratch)) scratch = new U8(need);
    }
    const n = encodeInto(json, view(scratch, used + 24)).written;
    header(scratch, used, n);
    used += 24 + n;
    queued++;
  }

  function send(message: unknown, urgent = false): void {
    const json = stringify(message);
    if (typeof json !== "string") throw new TypeError("a channel message must be JSON data");
    if (token === null) {
      waiting.push(encode(json));
      return;
    }
    append(json);
    if (urgent || queued >= BURST_FRAMES) flush();
    else if (!burst) {
      flush();
      burst = true;
      later(endBurst);
    }
  }

  function listen(onMessage: (message: unknown) => void, onClosed: () => void): void {
    (async () => {
      // Chunks are joined only once a whole frame is there, so a large frame costs one copy.
      let chunks: Uint8Array[] = [];
      let total = 0;
      let need = 4;
      try {
        for (;;) {
          const step = await read();
          if (step.done) break;
          const chunk = step.value as Uint8Array;
          chunks[chunks.length] = chunk;
          total += len(chunk);
          if (total < need) continue;
          let buffer: Uint8Array;
          if (chunks.length === 1) buffer = chunks[0];
          else {
            buffer = new U8(total);
            let at = 0;
            for (let i = 0; i < chunks.length; i++) {
              apply(u8set, buffer, [chunks[i], at]);
              at += len(chunks[i]);
            }
          }
          let offset = 0;
          need = 4;
          const size0 = len(buffer);
          while (size0 - offset >= 4) {
            const size = ((buffer[offset] << 24) | (buffer[offset + 1] << 16) |
              (buffer[offset + 2] << 8) | buffer[offset + 3]) >>> 0;
            if (size0 - offset < 4 + size) {
              need = 4 + size;
              break;
            }
            const m = parse(decode(view(buffer, offset + 4, offset + 4 + size)));
            offset += 4 + size;
            if (token === null) {
              token = new U8(m.token);
              const early = waiting;
              waiting = [];
              for (let i = 0; i < early.length; i++) writeAll(frame(early[i]));
            } else {
              try {
                onMessage(m);
              } catch {
                // A handler the program broke (it may patch built-ins): the channel goes on.
              }
            }
          }
          chunks = offset < size0 ? [view(buffer, offset)] : [];
          total = size0 - offset;
        }
      } finally {
        onClosed();
      }
    })();
  }

  return { send, listen, bursting: () => burst };
}
