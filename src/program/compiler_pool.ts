/**
 * The compiler processes of one `ProgramCompiler`. Each process compiles one program at a time
 * and keeps its checker warm; a compile goes to the first process free, and when all are busy
 * with programs, another starts (up to a cap), so a compile that is slow or must be killed never
 * holds up the others. A killed or dead process is replaced at once, off the path of any
 * compile; a process whose heap grew large or that served many compiles is replaced once its
 * successor is warm.
 *
 * @module
 */

import type { CheckMode } from "./program_shapes.ts";
import type { _CompileStage, _EndReply, _HostRequest, _ProgramReply } from "./compiler_protocol.ts";
import { type _CompilerExit, _CompilerProcess, _grantedReads } from "./compiler_process.ts";

/** The stages a child reports itself in. */
const CHILD_STAGES: readonly _CompileStage[] = ["transpile", "imports", "check"];

/** How the pool runs its processes. */
export interface _PoolOptions {
  /** Path of the `deno` executable. */
  denoPath: string;
  /** Heap limit of each process, in megabytes. */
  memoryMb: number;
  /** Processes alive at most (not counting those being replaced). */
  maxProcesses: number;
  /** Compiles a process serves before it is replaced. */
  maxCompiles: number;
}

/** Why a job could not finish. */
export interface _JobFailure {
  /**
   * `memory`: its process ran out of heap; `crashed`: it died otherwise; `unavailable`: no
   * process could start; `closed`: the pool was closed.
   */
  reason: "memory" | "crashed" | "unavailable" | "closed";
  /** What the process or the system said. */
  detail: string;
}

/** One compile for the pool. */
export interface _Job {
  /** The program as sent. */
  source: string;
  /** The check mode. */
  check: CheckMode;
  /** The tool declarations. */
  declarations: string;
  /** The tool names. */
  toolNames: readonly string[];
  /** A warm-up compile (also loads the import policy's parser). */
  warm?: boolean;
  /** Where the job is now; the pool and the child's replies keep it up to date. */
  stage: _CompileStage;
  /** Gets the compiled program (when there is one) and the end. */
  onReply(reply: _ProgramReply | _EndReply): void;
  /** The job cannot finish (called at most once, and never after the end). */
  onFailure(failure: _JobFailure): void;
}

interface _Slot {
  process: _CompilerProcess;
  ready: boolean;
  job: _Job | undefined;
  /** Has type-checked (its library is parsed). */
  warmed: boolean;
  /** To be replaced: used only until a successor is warm. */
  retiring: boolean;
  compiles: number;
  nextId: number;
  declarations: string | undefined;
  toolNames: readonly string[] | undefined;
  toolNamesKey: string | undefined;
}

/** A process started before any pool, for the first pool with the same options to adopt. */
let _prestarted: { process: _CompilerProcess; denoPath: string; memoryMb: number } | undefined;

/**
 * Starts a compiler process now, before any pool exists (a command line can do this first thing,
 * so TypeScript loads in the child while the host still loads its own modules). The first pool
 * created with the same `denoPath` and `memoryMb` takes it as its first process; one never taken
 * ends with the host (it holds the host's event loop only while it starts).
 */
export function _prestartCompiler(options: Pick<_PoolOptions, "denoPath" | "memoryMb">): void {
  if (_prestarted && !_prestarted.process.gone) return;
  try {
    _prestarted = { process: new _CompilerProcess(options), ...options };
  } catch {
    // The pool will try again, and report what goes wrong.
  }
}

function _adoptPrestarted(options: _PoolOptions): _CompilerProcess | undefined {
  const found = _prestarted;
  if (
    !found || found.process.gone || found.denoPath !== options.denoPath ||
    found.memoryMb !== options.memoryMb
  ) {
    return undefined;
  }
  _prestarted = undefined;
  return found.process;
}

/** A pool of compiler processes. */
export class _CompilerPool {
  #options: _PoolOptions;
  #slots = new Set<_Slot>();
  #queue: _Job[] = [];
  #closed = false;
  #warmWith: { declarations: string; toolNames: readonly string[] } | undefined;
  #extraReads: string[] = [];

  constructor(options: _PoolOptions) {
    this.#options = options;
  }

  /** Queues a job; it starts at once when a process is free. */
  submit(job: _Job): void {
    if (this.#closed) {
      job.onFailure({ reason: "closed", detail: "the compiler is closed" });
      return;
    }
    if (!job.warm) this.#warmWith = { declarations: job.declarations, toolNames: job.toolNames };
    job.stage = "queue";
    this.#queue.push(job);
    this.#pump();
  }

  /**
   * Gives up a job: a queued one is dropped, a running one's process is killed and a replacement
   * started. The job gets no reply after this.
   */
  cancel(job: _Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      return;
    }
    for (const slot of this.#slots) {
      if (slot.job !== job) continue;
      slot.job = undefined;
      this.#drop(slot);
      this.#replace();
    }
    this.#pump();
  }

  /** Starts a process if none is alive, and warms one with this tool set. */
  warm(declarations: string, toolNames: readonly string[]): Promise<void> {
    this.#warmWith = { declarations, toolNames };
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.submit({
      source: "export {};",
      check: "warn",
      declarations,
      toolNames,
      warm: true,
      stage: "queue",
      onReply: (reply) => reply.t === "end" && resolve(),
      onFailure: (failure) => reject(new Error(failure.detail)),
    });
    return promise;
  }

  /** Process ids of the live processes. */
  get pids(): number[] {
    return [...this.#slots].filter((s) => !s.process.gone).map((s) => s.process.pid);
  }

  /** Kills every process and waits until they are gone; queued and running jobs fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      job.onFailure({ reason: "closed", detail: "the compiler was closed" });
    }
    const slots = [...this.#slots];
    for (const slot of slots) slot.process.kill();
    await Promise.all(slots.map((s) => s.process.exited));
  }

  /** Processes that count against the cap: alive and not being replaced. */
  #active(): _Slot[] {
    return [...this.#slots].filter((s) => !s.process.gone && !s.retiring);
  }

  /** Hands queued jobs to free processes, and starts processes for jobs nothing will take soon. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#freeSlot();
      if (!slot) break;
      this.#dispatch(slot, this.#queue.shift()!);
    }
    if (this.#queue.length === 0 || this.#closed) return;
    const active = this.#active();
    // A process still starting, or warming up (a trivial program), will be free soon.
    let soon = active.filter((s) => !s.ready || s.job?.warm).length;
    let live = active.length;
    while (this.#queue.length > soon && live < this.#options.maxProcesses) {
      if (!this.#spawn()) break;
      soon++;
      live++;
    }
    const stage = active.some((s) => s.ready) ? "queue" : "start";
    for (const job of this.#queue) job.stage = stage;
  }

  #freeSlot(): _Slot | undefined {
    let best: _Slot | undefined;
    let bestScore = -1;
    for (const slot of this.#slots) {
      if (!slot.ready || slot.job || slot.process.gone) continue;
      const score = (slot.retiring ? 0 : 2) + (slot.warmed ? 1 : 0);
      if (score > bestScore) [best, bestScore] = [slot, score];
    }
    return best;
  }

  #dispatch(slot: _Slot, job: _Job): void {
    slot.job = job;
    job.stage = "transpile";
    const request: _HostRequest = {
      t: "compile",
      id: ++slot.nextId,
      source: job.source,
      check: job.check,
    };
    if (slot.declarations !== job.declarations) {
      request.declarations = job.declarations;
      slot.declarations = job.declarations;
    }
    if (slot.toolNames !== job.toolNames) {
      const key = job.toolNames.join("\n");
      if (key !== slot.toolNamesKey) request.toolNames = [...job.toolNames];
      slot.toolNames = job.toolNames;
      slot.toolNamesKey = key;
    }
    if (job.warm) request.warm = true;
    slot.process.send(request, (reply) => {
      if (slot.job !== job) return;
      if (reply.t === "at") {
        if (CHILD_STAGES.includes(reply.stage)) job.stage = reply.stage;
      } else if (reply.t === "program") {
        job.stage = "check";
        job.onReply(reply);
      } else if (reply.t === "end") {
        this.#ended(slot, job, reply);
      }
    });
  }

  #ended(slot: _Slot, job: _Job, reply: _EndReply): void {
    slot.job = undefined;
    slot.compiles++;
    if (job.check !== "off") slot.warmed = true;
    job.onReply(reply);
    if (reply.recycle) {
      // The compiler threw: its state may be damaged, so it serves nothing more.
      this.#drop(slot);
      this.#replace();
    } else if (
      !slot.retiring &&
      ((reply.heap ?? 0) > this.#options.memoryMb * 0.6 * 1024 * 1024 ||
        slot.compiles >= this.#options.maxCompiles)
    ) {
      slot.retiring = true;
      if (this.#active().length < this.#options.maxProcesses) this.#spawn();
    }
    this.#retireOld();
    this.#pump();
  }

  /** Kills processes being replaced once a successor is warm (busy ones when their job ends). */
  #retireOld(): void {
    const successor = [...this.#slots].some((s) =>
      s.ready && s.warmed && !s.retiring && !s.process.gone
    );
    if (!successor) return;
    for (const slot of this.#slots) if (slot.retiring && !slot.job) this.#drop(slot);
  }

  #drop(slot: _Slot): void {
    slot.process.kill();
  }

  /**
   * After losing a process that worked (killed at a deadline, crashed, or damaged): start its
   * successor now, so the pool keeps the size its load asked for and the next compile finds a
   * warm process.
   */
  #replace(): void {
    if (!this.#closed && this.#active().length < this.#options.maxProcesses) this.#spawn();
  }

  #spawn(): boolean {
    let process = _adoptPrestarted(this.#options);
    try {
      process ??= new _CompilerProcess({ ...this.#options, extraReads: this.#extraReads });
    } catch (error) {
      this.#startFailed(error instanceof Error ? error.message : String(error));
      return false;
    }
    const slot: _Slot = {
      process,
      ready: false,
      job: undefined,
      warmed: false,
      retiring: false,
      compiles: 0,
      nextId: 0,
      declarations: undefined,
      toolNames: undefined,
      toolNamesKey: undefined,
    };
    this.#slots.add(slot);
    process.ready.then((reply) => this.#onReady(slot, reply.libDir), () => {});
    process.exited.then((exit) => this.#onExit(slot, exit));
    return true;
  }

  #onReady(slot: _Slot, libDir: string): void {
    if (slot.process.gone || this.#closed) return;
    const granted = _grantedReads(this.#extraReads);
    if (!granted.some((dir) => libDir === dir || libDir.startsWith(dir + "/"))) {
      if (!this.#extraReads.includes(libDir)) {
        // TypeScript sits elsewhere than the host resolved: start again, allowed to read there.
        this.#extraReads.push(libDir);
        this.#drop(slot);
        this.#spawn();
        return;
      }
    }
    slot.ready = true;
    this.#pump();
    if (!slot.job && !slot.warmed && this.#warmWith) {
      const { declarations, toolNames } = this.#warmWith;
      this.#dispatch(slot, {
        source: "export {};",
        check: "warn",
        declarations,
        toolNames,
        warm: true,
        stage: "transpile",
        onReply: () => {},
        onFailure: () => {},
      });
    }
    this.#retireOld();
  }

  #onExit(slot: _Slot, exit: _CompilerExit): void {
    this.#slots.delete(slot);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const memory = /out of memory|Reached heap limit|allocation failed/i.test(exit.stderr);
      job.onFailure({
        reason: this.#closed ? "closed" : memory ? "memory" : "crashed",
        detail: this.#closed ? "the compiler was closed" : _exitDetail(exit),
      });
    }
    if (this.#closed) return;
    if (!slot.ready && !exit.killed) {
      this.#startFailed(_exitDetail(exit));
      return;
    }
    // A process that died by itself (out of memory) is replaced; one the pool killed already was.
    if (!exit.killed) this.#replace();
    this.#pump();
  }

  /** No process could start: jobs fail unless another process is alive to take them. */
  #startFailed(detail: string): void {
    if (this.#active().length > 0) return;
    for (const job of this.#queue.splice(0)) job.onFailure({ reason: "unavailable", detail });
  }
}

function _exitDetail(exit: _CompilerExit): string {
  const { code, signal } = exit.status;
  const said = exit.stderr.trim().split("\n").slice(-3).join(" ");
  return `exit code ${code}${signal ? `, ${signal}` : ""}${said ? `: ${said}` : ""}`;
}
