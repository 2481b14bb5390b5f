/**
 * One sandbox child process as the host sees it: spawn, the framed channel, kill.
 *
 * @module
 */

import { _childModuleUrl } from "./child_source.ts";
import {
  type _ChildMessage,
  _childMessage,
  _encodeHostFrame,
  type _HostMessage,
  _jsonDeeperThan,
  _MAGIC,
  _MAX_FRAME_BYTES,
  _TOKEN_BYTES,
} from "./protocol.ts";

/** Nesting of the deepest message the runtime sends (`end` with its `error` object). */
const MAX_MESSAGE_DEPTH = 2;
/** Malformed messages (wrong shape) dropped before the process counts as flooding. */
const MAX_DROPPED = 1_000;
/** Bytes of malformed messages dropped before the process counts as flooding. */
const MAX_DROPPED_BYTES = 4 * 1024 * 1024;

/** How a sandbox process is started. */
export interface _SandboxSpawnOptions {
  /** Path of the `deno` executable. */
  denoPath: string;
  /** Heap and buffer budget of the program in megabytes. */
  memoryMb: number;
}

/**
 * V8 reserves about a gigabyte of writable address space at start-up (code range and cages);
 * RLIMIT_DATA above that caps `ArrayBuffer` and wasm memory, which the heap limit does not see.
 */
const DATA_LIMIT_BASE_MB = 1100;

let prlimitPath: string | null | undefined;

function findPrlimit(): string | null {
  if (prlimitPath !== undefined) return prlimitPath;
  prlimitPath = null;
  if (Deno.build.os !== "linux") return prlimitPath;
  for (const p of ["/usr/bin/prlimit", "/bin/prlimit", "/usr/local/bin/prlimit"]) {
    try {
      if (Deno.statSync(p).isFile) return (prlimitPath = p);
    } catch {
      // not there
    }
  }
  return prlimitPath;
}

/** The command line of a sandbox child: no permissions, no prompt, no remote or npm imports. */
export function _sandboxCommand(options: _SandboxSpawnOptions): { cmd: string; args: string[] } {
  const deno = [
    "run",
    "--no-prompt",
    "--no-remote",
    "--no-npm",
    "--no-config",
    "--no-lock",
    "--quiet",
    "--unstable-worker-options",
    `--v8-flags=--max-old-space-size=${options.memoryMb},--disallow-code-generation-from-strings,--no-lazy`,
    _childModuleUrl(),
  ];
  const prlimit = findPrlimit();
  if (prlimit === null) return { cmd: options.denoPath, args: deno };
  const dataBytes = (DATA_LIMIT_BASE_MB + options.memoryMb) * 1024 * 1024;
  return { cmd: prlimit, args: [`--data=${dataBytes}`, options.denoPath, ...deno] };
}

/** Removes every frame in `data`, handing each to `onFrame`; returns the bytes not yet framed. */
export class _FrameReader {
  #token: Uint8Array;
  #chunks: Uint8Array[] = [];
  #total = 0;
  #need = 24;
  /** Bytes seen on stdout that were not frames (the program wrote to stdout itself). */
  strayBytes = 0;
  /** Largest frame body accepted; a larger one is a protocol violation (`RangeError`). */
  maxFrameBytes: number = _MAX_FRAME_BYTES;

  constructor(token: Uint8Array) {
    this.#token = token;
  }

  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => void): void {
    this.#chunks.push(chunk);
    this.#total += chunk.length;
    if (this.#total < this.#need) return;
    const buf = this.#chunks.length === 1 ? this.#chunks[0] : concat(this.#chunks, this.#total);
    let offset = 0;
    this.#need = 24;
    while (buf.length - offset >= 24) {
      if (!this.#isHeader(buf, offset)) {
        // Not a frame: skip to the next place a real header could start.
        const next = this.#findHeader(buf, offset + 1);
        this.strayBytes += (next < 0 ? buf.length - 23 : next) - offset;
        offset = next < 0 ? buf.length - 23 : next;
        if (next < 0) break;
        continue;
      }
      const size = new DataView(buf.buffer, buf.byteOffset + offset + 20, 4).getUint32(0);
      if (size > this.maxFrameBytes) {
        throw new RangeError(
          `a message of ${size} bytes, over the ${this.maxFrameBytes}-byte limit for this run`,
        );
      }
      if (buf.length - offset < 24 + size) {
        this.#need = 24 + size;
        break;
      }
      onFrame(buf.subarray(offset + 24, offset + 24 + size));
      offset += 24 + size;
    }
    const rest = buf.subarray(offset);
    this.#chunks = rest.length ? [rest] : [];
    this.#total = rest.length;
  }

  #isHeader(buf: Uint8Array, at: number): boolean {
    for (let i = 0; i < 4; i++) if (buf[at + i] !== _MAGIC[i]) return false;
    for (let i = 0; i < _TOKEN_BYTES; i++) if (buf[at + 4 + i] !== this.#token[i]) return false;
    return true;
  }

  #findHeader(buf: Uint8Array, from: number): number {
    for (let i = buf.indexOf(0, from); i >= 0 && i + 24 <= buf.length; i = buf.indexOf(0, i + 1)) {
      if (this.#isHeader(buf, i)) return i;
    }
    return -1;
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Receives what a sandbox says; set by whoever runs a program in it. */
export interface _SandboxListener {
  message(m: _ChildMessage, bytes: number): void;
  /** The process ended (after `kill()` or on its own); `stderr` is the tail of what it printed. */
  exit(status: Deno.CommandStatus, stderr: string): void;
}

/**
 * A started sandbox child. `ready` resolves once its Worker waits for a program; `run` hands it
 * one program. A process runs one program and is then killed; it is never reused.
 */
export class _SandboxProcess {
  readonly ready: Promise<void>;
  readonly exited: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #listener: _SandboxListener | null = null;
  #early: _ChildMessage[] = [];
  #outbox: Uint8Array[] = [];
  #results: string[] = [];
  #flushing = false;
  #stderr = "";
  #killed = false;
  #retiring: ReturnType<typeof setTimeout> | undefined;
  #status: Deno.CommandStatus | null = null;
  // Two decoders: stderr is decoded as a stream, and half a character left there must not be
  // glued onto the next frame.
  #frameDecoder = new TextDecoder();
  #stderrDecoder = new TextDecoder();
  #frames: _FrameReader | null = null;
  #violation: string | undefined;
  #dropped = 0;
  #droppedBytes = 0;

  constructor(options: _SandboxSpawnOptions) {
    const { cmd, args } = _sandboxCommand(options);
    const child = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      cwd: "/", // not the host's directory: Deno.cwd() in a program must not reveal it
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.#child = child;
    const token = crypto.getRandomValues(new Uint8Array(_TOKEN_BYTES));
    const writer = child.stdin.getWriter();
    this.#writer = writer;
    writer.write(_encodeHostFrame({ t: "init", token: [...token] })).catch(() => {});
    const { promise: ready, resolve, reject } = Promise.withResolvers<void>();
    this.ready = ready;
    ready.catch(() => {});
    const stdoutDone = this.#readStdout(token, resolve);
    const stderrDone = this.#readStderr();
    this.exited = (async () => {
      const status = await child.status;
      clearTimeout(this.#retiring);
      await Promise.allSettled([stdoutDone, stderrDone]);
      this.#status = status;
      reject(
        new Error(
          `the sandbox process exited before it was ready (code ${status.code}${
            status.signal ? `, ${status.signal}` : ""
          }): ${this.#stderr.trim().slice(-500) || "no output"}`,
        ),
      );
      await writer.close().catch(() => {});
      this.#listener?.exit(status, this.#stderr);
      return status;
    })();
  }

  /** Process id, for tests that check nothing outlives a run. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process was told to end (it may not have exited yet). */
  get killed(): boolean {
    return this.#killed;
  }

  /** Whether the process has ended. */
  get done(): boolean {
    return this.#status !== null;
  }

  async #readStdout(token: Uint8Array, ready: () => void): Promise<void> {
    const frames = new _FrameReader(token);
    this.#frames = frames;
    const onFrame = (body: Uint8Array) => {
      if (this.#violation !== undefined) return;
      // Messages the runtime writes nest two levels deep; anything deeper is refused before
      // JSON.parse could spend seconds and gigabytes on it.
      if (_jsonDeeperThan(body, MAX_MESSAGE_DEPTH)) {
        this.#violate("a message nested deeper than any the runtime sends");
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(this.#frameDecoder.decode(body));
      } catch {
        this.#violate("a message that is not JSON");
        return;
      }
      const m = _childMessage(parsed);
      if (m === null) {
        // A few malformed messages are dropped, as if never sent; a stream of them is a flood.
        this.#dropped++;
        this.#droppedBytes += body.length;
        if (this.#dropped > MAX_DROPPED || this.#droppedBytes > MAX_DROPPED_BYTES) {
          this.#violate(
            `a flood of messages the host does not accept (${this.#dropped} messages, ${this.#droppedBytes} bytes)`,
          );
        }
        return;
      }
      if (m.t === "ready") ready();
      else if (this.#listener) this.#listener.message(m, body.length);
      else this.#early.push(m);
    };
    try {
      for await (const chunk of this.#child.stdout) frames.push(chunk, onFrame);
    } catch (err) {
      this.#violate(err instanceof RangeError ? err.message : "a message that could not be read");
    }
  }

  #violate(what: string): void {
    this.#violation ??= what;
    this.kill();
  }

  /**
   * Why the host stopped reading this process's messages (a frame too large, not JSON, nested too
   * deep, a flood of malformed ones), if it did; the process has then been killed.
   */
  get violation(): string | undefined {
    return this.#violation;
  }

  /** Caps the size of each message from now on (a run sets it from its limits). */
  set maxFrameBytes(bytes: number) {
    if (this.#frames) this.#frames.maxFrameBytes = bytes;
  }

  async #readStderr(): Promise<void> {
    try {
      for await (const chunk of this.#child.stderr) {
        this.#stderr = (this.#stderr + this.#stderrDecoder.decode(chunk, { stream: true }))
          .slice(-8192);
      }
    } catch {
      // The process is gone; what was read is kept.
    }
  }

  /** Attaches the run's listener and sends it the program. */
  start(listener: _SandboxListener, run: _HostMessage): void {
    this.#listener = listener;
    for (const m of this.#early.splice(0)) listener.message(m, 0);
    this.send(run);
    if (this.#status) listener.exit(this.#status, this.#stderr);
  }

  /** Sends a message (or pre-serialised JSON) to the child; a dead child ignores it. */
  send(message: _HostMessage | string): void {
    if (this.#killed || this.#status) return;
    this.#batchResults();
    this.#outbox.push(_encodeHostFrame(message));
    this.#schedule();
  }

  /**
   * Sends one pre-serialised `res` message. Results sent in one tick (replies to parallel calls)
   * travel as one `resv` frame in one write: each write wakes the child, and each frame costs it
   * a decode and a parse.
   */
  sendResult(json: string): void {
    if (this.#killed || this.#status) return;
    this.#results.push(json);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => this.#flush());
  }

  #batchResults(): void {
    const results = this.#results;
    if (results.length === 0) return;
    this.#results = [];
    this.#outbox.push(
      _encodeHostFrame(
        results.length === 1 ? results[0] : `{"t":"resv","r":[${results.join(",")}]}`,
      ),
    );
  }

  #flush(): void {
    this.#flushing = false;
    this.#batchResults();
    const frames = this.#outbox;
    this.#outbox = [];
    if (this.#killed || this.#status || frames.length === 0) return;
    let size = 0;
    for (const f of frames) size += f.length;
    this.#writer.write(frames.length === 1 ? frames[0] : concat(frames, size)).catch(() => {});
  }

  /** Ends the process at once (SIGKILL). Safe to call more than once. */
  kill(): void {
    clearTimeout(this.#retiring);
    if (this.#killed || this.#status) return;
    this.#killed = true;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /**
   * Ends a process whose program has finished: it is at once no longer counted as live, and is
   * killed on the next macrotask unless it has exited by itself by then (the runtime ends its
   * process after its last message). A SIGKILL here takes 0.1–5 ms of the host's thread, which
   * this keeps off the path of the run's result.
   */
  retire(): void {
    if (this.#killed || this.#status || this.#retiring !== undefined) return;
    this.#retiring = setTimeout(() => this.kill(), 0);
  }

  /** Whether `retire()` or `kill()` was called: the process runs no more program code. */
  get retired(): boolean {
    return this.#killed || this.#retiring !== undefined;
  }
}
