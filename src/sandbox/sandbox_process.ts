/**
 * One sandbox process as the host sees it: a permission-less child `deno` hosting up to `slots`
 * runs at once, each in its own Worker. It spawns the child, writes frames to it, splits what it
 * writes into its slots' streams, and reports how each slot and the process ended.
 *
 * A slot is reused only once its Worker's thread is proven gone. A Worker stopped while it spun
 * (`worker.terminate()` cannot stop a busy loop) leaves its thread running: the process then
 * *drains* — it takes no new runs, and is ended once the runs it still has are over.
 *
 * @module
 */

import { _childModuleUrl, _workerModuleSource } from "./child_source.ts";
import { _ChunkReader } from "./chunk_reader.ts";
import { type _ControlReport, _controlReport, type _ControlRequest, _WIRE } from "./protocol.ts";
import { _dataLimitBytes, _setSoftDataLimit } from "./data_limit.ts";
import { _SandboxSlot, type _SlotEnd } from "./sandbox_slot.ts";

/** How a sandbox process is started. */
export interface _SandboxSpawnOptions {
  /** Path of the `deno` executable. */
  denoPath: string;
  /** Runs the process hosts at once. */
  slots: number;
  /** Heap limit of a program, in megabytes (the most any slot of this process may have). */
  memoryMb: number;
}

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

/** The command line of a sandbox process: no permissions, no prompt, no remote or npm imports. */
export function _sandboxCommand(options: _SandboxSpawnOptions): { cmd: string; args: string[] } {
  const deno = [
    "run",
    "--no-prompt",
    "--no-remote",
    "--no-npm",
    "--no-config",
    "--no-lock",
    "--quiet",
    // V8's heap flag caps every isolate of the process, Workers' own limits included: it is set
    // to a program's limit, which each Worker then gets (`resourceLimits`).
    `--v8-flags=--max-old-space-size=${
      options.memoryMb + _WIRE.runtimeHeapMb
    },--disallow-code-generation-from-strings`,
    _childModuleUrl(),
  ];
  const prlimit = findPrlimit();
  if (prlimit === null) return { cmd: options.denoPath, args: deno };
  // The soft limit starts at one Worker's worth and follows the Workers the process hosts
  // (`_setSoftDataLimit`); the hard limit is for all of them.
  const soft = _dataLimitBytes(Math.min(options.slots, 1 + DATA_SPARE_WORKERS), options.memoryMb);
  const hard = _dataLimitBytes(options.slots, options.memoryMb);
  return { cmd: prlimit, args: [`--data=${soft}:${hard}`, options.denoPath, ...deno] };
}

/** Workers' worth of data limit kept above what a process hosts (Workers starting, ending). */
const DATA_SPARE_WORKERS = 2;
/** How long the data limit waits before it comes down after Workers ended. */
const DATA_LOWER_AFTER_MS = 2_000;

/** Bytes from ended slots after which the process is ended (their Worker would not stop). */
const MAX_ORPHAN_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A started sandbox process and its slots. */
export class _SandboxProcess {
  readonly options: _SandboxSpawnOptions;
  /** Resolves once the process's main isolate is up; rejects if the process ends first. */
  readonly ready: Promise<void>;
  /** Resolves with the process's status once it has ended. */
  readonly exited: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #slots: (_SandboxSlot | null)[];
  /** Slots whose Worker has ended but whose thread is not yet proven gone. */
  #settling = new Set<number>();
  #outbox: Uint8Array[] = [];
  #outboxBytes = 0;
  #flushing = false;
  #stderr = "";
  #stderrDecoder = new TextDecoder();
  #killed = false;
  #status: Deno.CommandStatus | null = null;
  #draining = false;
  /** Slots stopped whose end is not yet known: the process takes no new run meanwhile. */
  #suspects = new Set<number>();
  /** Bytes that arrived for slots that had ended (a stopped Worker that spins and writes). */
  #orphanBytes = 0;
  /** Workers the soft data limit is set for now, and the timer that lowers it. */
  #dataWorkers = 1 + DATA_SPARE_WORKERS;
  #dataTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Control requests (`spawn`, `stop`) held until the process says hello: until then it may not
   * have exec'd past \`prlimit\`, which would overwrite a data limit raised meanwhile, and a
   * Worker started under the initial limit fails to reserve its memory.
   */
  #held: _ControlRequest[] | null = [];
  /** Called when a slot becomes free, the process drains, or it ends. */
  onChange: () => void = () => {};

  constructor(options: _SandboxSpawnOptions) {
    this.options = options;
    this.#slots = Array.from({ length: options.slots }, () => null);
    const { cmd, args } = _sandboxCommand(options);
    // Throws (EMFILE, EAGAIN, ENOMEM…) to the caller, which turns it into the run's error.
    const child = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
      clearEnv: true,
      cwd: "/", // not the host's directory: Deno.cwd() in a program must not reveal it
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.#child = child;
    const token = crypto.getRandomValues(new Uint8Array(_WIRE.tokenBytes));
    const writer = child.stdin.getWriter();
    this.#writer = writer;
    const slots = this.#slots;
    const { promise: ready, resolve, reject } = Promise.withResolvers<void>();
    this.ready = ready;
    ready.catch(() => {});
    this.#control({
      t: "init",
      token: [...token],
      slots: options.slots,
      worker: _workerModuleSource(),
    });
    const reading = this.#read(token, resolve);
    this.exited = (async () => {
      const status = await child.status;
      clearTimeout(this.#dataTimer);
      await reading;
      this.#status = status;
      reject(
        new Error(
          `the sandbox process ended before it was ready (exit code ${status.code}${
            status.signal ? `, ${status.signal}` : ""
          })`,
        ),
      );
      await writer.close().catch(() => {});
      const end: _SlotEnd = {
        why: "process",
        message: "the sandbox process ended",
        status,
        stderr: this.#stderr,
      };
      for (const slot of slots) slot?.ended(end);
      this.onChange();
      return status;
    })();
    this.exited.catch(() => {});
  }

  /** Process id (for monitoring, and tests that check nothing outlives a run). */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has ended. */
  get done(): boolean {
    return this.#status !== null;
  }

  /** Whether the process takes no new runs (it was told to end, or hosts a Worker that spins). */
  get draining(): boolean {
    return this.#draining || this.#killed || this.#status !== null;
  }

  /** Whether a stopped Worker's end is not known yet (the process takes no new run meanwhile). */
  get unsure(): boolean {
    return this.#suspects.size > 0;
  }

  /** Slots in use (a Worker starting, waiting warm, running, or not yet proven gone). */
  get busySlots(): number {
    let n = this.#settling.size;
    for (const s of this.#slots) if (s !== null) n++;
    return n;
  }

  /** Starts a Worker in a free slot, or returns `undefined` when none is free. */
  openSlot(memoryMb: number): _SandboxSlot | undefined {
    if (this.draining || this.unsure) return undefined;
    const index = this.#slots.findIndex((s, i) => s === null && !this.#settling.has(i));
    if (index < 0) return undefined;
    const slot = new _SandboxSlot(index, memoryMb, {
      write: (i, kind, body) => this.#frame(i, kind, body),
      stop: (i, ranProgram) => {
        // A Worker that never got a program runs only the runtime's wait: it cannot spin.
        if (ranProgram) this.#suspects.add(i);
        this.#control({ t: "stop", slot: i });
      },
      draining: () => this.draining,
      unsure: () => this.unsure,
    });
    this.#slots[index] = slot;
    this.#fitDataLimit();
    this.#control({ t: "spawn", slot: index, memoryMb: memoryMb + _WIRE.runtimeHeapMb });
    return slot;
  }

  /**
   * Moves the soft data limit to the Workers the process hosts (a no-op without FFI): up at once
   * when a Worker starts, down only after a while, since an ended Worker's memory is given back
   * some time after its end is reported, and two spare Workers' worth on top.
   */
  #fitDataLimit(): void {
    if (this.#status || this.#killed || findPrlimit() === null) return;
    const want = Math.min(this.options.slots, this.busySlots + DATA_SPARE_WORKERS);
    if (want > this.#dataWorkers) {
      this.#setDataLimit(want);
      return;
    }
    clearTimeout(this.#dataTimer);
    if (want === this.#dataWorkers) return;
    const timer = setTimeout(() => {
      const now = Math.min(this.options.slots, this.busySlots + DATA_SPARE_WORKERS);
      if (now < this.#dataWorkers && !this.#status && !this.#killed) this.#setDataLimit(now);
    }, DATA_LOWER_AFTER_MS);
    Deno.unrefTimer(timer);
    this.#dataTimer = timer;
  }

  #setDataLimit(workers: number): void {
    const { slots, memoryMb } = this.options;
    _setSoftDataLimit(
      this.pid,
      _dataLimitBytes(workers, memoryMb),
      _dataLimitBytes(slots, memoryMb),
    );
    this.#dataWorkers = workers;
  }

  /** Takes no new runs; ends the process once its runs are over. */
  drain(): void {
    this.#draining = true;
    this.#maybeEnd();
    this.onChange();
  }

  #maybeEnd(): void {
    if (!this.#draining) return;
    const running = this.#slots.some((s) => s !== null && s.taken && s.end === undefined);
    if (!running) this.kill();
  }

  #control(m: _ControlRequest): void {
    if (this.#held !== null && m.t !== "init") {
      this.#held.push(m);
      return;
    }
    this.#frame(_WIRE.controlSlot, _WIRE.kindJson, encoder.encode(JSON.stringify(m)));
  }

  #frame(slot: number, kind: number, body: Uint8Array): void {
    if (this.#killed || this.#status) return;
    const frame = new Uint8Array(_WIRE.frameHeaderBytes + body.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, body.length);
    view.setUint16(4, slot);
    frame[6] = kind;
    frame.set(body, _WIRE.frameHeaderBytes);
    // The first frame of a tick is written at once (a lone tool result must not wait); the
    // frames after it in the same tick travel together, in one write, when the tick ends.
    if (!this.#flushing) {
      this.#flushing = true;
      this.#write(frame);
      queueMicrotask(() => this.#flush());
      return;
    }
    this.#outbox.push(frame);
    this.#outboxBytes += frame.length;
  }

  #write(bytes: Uint8Array): void {
    this.#writer.write(bytes).catch(() => {});
  }

  #flush(): void {
    this.#flushing = false;
    const frames = this.#outbox;
    const size = this.#outboxBytes;
    this.#outbox = [];
    this.#outboxBytes = 0;
    if (this.#killed || this.#status || frames.length === 0) return;
    let out = frames[0];
    if (frames.length > 1) {
      out = new Uint8Array(size);
      let at = 0;
      for (const f of frames) {
        out.set(f, at);
        at += f.length;
      }
    }
    this.#write(out);
  }

  async #read(token: Uint8Array, ready: () => void): Promise<void> {
    const chunks = new _ChunkReader(token);
    const onStray = (bytes: Uint8Array) => {
      this.#stderr = (this.#stderr + this.#stderrDecoder.decode(bytes, { stream: true })).slice(
        -8192,
      );
    };
    const onChunk = (slot: number, payload: Uint8Array) => {
      if (slot === _WIRE.controlSlot) this.#onControl(payload, ready);
      else {
        const target = this.#slots[slot];
        if (target !== null && target !== undefined && target.end === undefined) {
          target.receive(payload);
        } else if ((this.#orphanBytes += payload.length) > MAX_ORPHAN_BYTES) {
          // A Worker that was stopped but spins, writing: only the end of its process stops it.
          this.kill();
        }
      }
    };
    try {
      const reader = this.#child.stderr.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value, onChunk, onStray);
      }
    } catch {
      // The process is gone; its exit is reported by `exited`.
    }
  }

  #onControl(payload: Uint8Array, ready: () => void): void {
    // Control chunks carry one small record each (`_childMain` writes them so).
    if (payload.length < _WIRE.recordHeaderBytes) return;
    let m: _ControlReport | null = null;
    try {
      m = _controlReport(JSON.parse(decoder.decode(payload.subarray(_WIRE.recordHeaderBytes))));
    } catch {
      return;
    }
    if (m === null) return;
    if (m.t === "hello") this.#hello(ready);
    else if (m.t === "spawned") {
      const slot = this.#slots[m.slot];
      if (slot) slot.thread = m.thread;
    } else if (m.t === "exit") this.#onExit(m);
  }

  /** The process runs its own code now: set the data limit again, then send what was held. */
  #hello(ready: () => void): void {
    if (this.#held === null) return;
    const held = this.#held;
    this.#held = null;
    if (findPrlimit() !== null && !this.#killed && !this.#status) {
      this.#setDataLimit(this.#dataWorkers);
    }
    for (const m of held) this.#control(m);
    ready();
  }

  #onExit(m: Extract<_ControlReport, { t: "exit" }>): void {
    const slot = this.#slots[m.slot];
    if (!slot) return;
    this.#slots[m.slot] = null;
    this.#settling.add(m.slot);
    const messages: Record<string, string> = {
      done: "the program's Worker ended",
      stopped: "the program's Worker was stopped",
      memory: "the program's Worker reached its heap limit",
      overflow: "the program's Worker was sent more than its ring holds",
      died: `the program's Worker failed: ${m.message}`,
    };
    slot.ended({ why: m.why, message: messages[m.why] });
    // A Worker that ended itself ran no program code at its end; one that was stopped may still
    // spin on its thread, which only the end of the process stops.
    const proven = m.why === "done" ? Promise.resolve(true) : this.#threadEnds(slot.thread);
    proven.then((gone) => {
      this.#suspects.delete(m.slot);
      if (gone) this.#settling.delete(m.slot);
      else this.#draining = true;
      this.#fitDataLimit();
      this.#maybeEnd();
      this.onChange();
    });
  }

  /**
   * Whether the thread of a stopped Worker ends: looked for a few times over about a second (a
   * thread that was waiting takes a moment to go after its Worker reported its end).
   */
  async #threadEnds(thread: number | undefined): Promise<boolean> {
    for (const wait of [0, 20, 100, 300, 600]) {
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (await this.#threadGone(thread)) return true;
    }
    return false;
  }

  /** Whether the thread of a Worker is gone (Linux: `/proc`; elsewhere it cannot be told). */
  async #threadGone(thread: number | undefined): Promise<boolean> {
    if (thread === undefined || Deno.build.os !== "linux" || this.#status) {
      return this.#status !== null;
    }
    const name = `worker-${thread}`;
    try {
      for await (const task of Deno.readDir(`/proc/${this.pid}/task`)) {
        const comm = await Deno.readTextFile(`/proc/${this.pid}/task/${task.name}/comm`)
          .catch(() => "");
        if (comm.trim() === name) return false;
      }
      return true;
    } catch {
      return this.#status !== null;
    }
  }

  /** Ends the process at once (SIGKILL). Safe to call more than once. */
  kill(): void {
    clearTimeout(this.#dataTimer);
    if (this.#killed || this.#status) return;
    this.#killed = true;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
