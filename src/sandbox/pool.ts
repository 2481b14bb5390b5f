/**
 * The sandbox processes of one tenant (a `CodeMode`, or one MCP session): runs of one tenant
 * share processes, runs of different tenants never do, so what a hostile program can disturb is
 * its own tenant's runs. Keeps Workers started and warm, so a run does not wait for one: at
 * least `warm`, and as many as the tenant's recent peak of runs at once needs on top of the runs
 * under way (up to `maxWarm`), since starting a Worker costs tens of milliseconds of CPU that the
 * next burst of runs would otherwise wait for. Runs under way are not counted twice: while a burst
 * holds its Workers only `warm` spares are kept, and the pool grows back as its runs end. What is
 * idle for `idleMs` is closed.
 *
 * @module
 */

import { _SandboxProcess, type _SandboxSpawnOptions } from "./sandbox_process.ts";
import type { _SandboxSlot } from "./sandbox_slot.ts";

/** How a pool runs its processes. */
export interface _PoolOptions {
  /** Path of the `deno` executable. */
  denoPath: string;
  /** Runs one process hosts at once. */
  slots: number;
  /** Heap limit of a program in megabytes, for the Workers kept warm. */
  memoryMb: number;
  /** Workers kept started and warm at least. */
  warm: number;
  /** Workers kept warm at most, however many runs the tenant had at once. */
  maxWarm: number;
  /** Milliseconds without a run after which warm Workers and empty processes are closed. */
  idleMs: number;
}

/** A pool of sandbox processes for one tenant. */
export class _SandboxPool {
  #options: _PoolOptions;
  #processes = new Set<_SandboxProcess>();
  #warm: _SandboxSlot[] = [];
  #taken = 0;
  /** The most runs at once since the pool was last idle: how many Workers to keep warm. */
  #peak = 0;
  #closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called once the pool has been idle for `idleMs` and closed what it kept. */
  onIdle: () => void = () => {};

  constructor(options: _PoolOptions) {
    this.#options = options;
  }

  /** Starts the warm Workers now instead of at the first run. Never throws. */
  warm(): void {
    if (this.#closed) return;
    this.#warm = this.#warm.filter((s) => s.spare);
    try {
      const want = Math.max(
        this.#options.warm,
        Math.min(this.#peak - this.#taken, this.#options.maxWarm),
      );
      while (this.#warm.length < want) {
        const slot = this.#open(this.#options.memoryMb);
        this.#warm.push(slot);
      }
    } catch {
      // Spawning failed (too many processes or files): the next take() reports it.
    }
  }

  /** Opens a Worker in a process with room, starting a process if none has any. */
  #open(memoryMb: number): _SandboxSlot {
    for (const p of this.#processes) {
      if (p.draining || p.unsure || p.options.memoryMb < memoryMb) continue;
      const slot = p.openSlot(memoryMb);
      if (slot) return slot;
    }
    const process = new _SandboxProcess(
      {
        denoPath: this.#options.denoPath,
        slots: this.#options.slots,
        memoryMb: Math.max(memoryMb, this.#options.memoryMb),
      } satisfies _SandboxSpawnOptions,
    );
    this.#processes.add(process);
    process.onChange = () => this.#changed(process);
    process.exited.then(() => {
      this.#processes.delete(process);
      this.#warm = this.#warm.filter((s) => s.spare);
    });
    return process.openSlot(memoryMb)!;
  }

  #changed(process: _SandboxProcess): void {
    this.#warm = this.#warm.filter((s) => s.spare);
    // A process that lost its warm Workers to draining leaves the pool short: refill elsewhere.
    if (process.draining && !this.#closed && this.#taken > 0) this.warm();
  }

  /**
   * A warm Worker for one run (taken: it serves that run only). Rejects when no process can be
   * started, or when `signal` aborts first.
   */
  async take(memoryMb: number, signal?: AbortSignal): Promise<_SandboxSlot> {
    if (this.#closed) {
      throw new TypeError("CodeMode is closed: create a new CodeMode to run programs");
    }
    clearTimeout(this.#idleTimer);
    this.#warm = this.#warm.filter((s) => s.spare);
    const i = this.#warm.findIndex((s) => s.usable && s.memoryMb === memoryMb);
    const slot = i >= 0 ? this.#warm.splice(i, 1)[0] : this.#open(memoryMb);
    slot.taken = true;
    this.#taken++;
    this.#peak = Math.max(this.#peak, this.#taken);
    this.warm();
    try {
      if (signal) {
        let onAbort = () => {};
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        });
        aborted.catch(() => {});
        try {
          await Promise.race([slot.ready, aborted]);
        } finally {
          // A long-lived signal must not collect one listener per run.
          signal.removeEventListener("abort", onAbort);
        }
      } else await slot.ready;
    } catch (err) {
      slot.stop();
      this.release();
      throw err;
    }
    return slot;
  }

  /** A run that took a Worker is over (its slot ends by itself or was stopped). */
  release(): void {
    this.#taken = Math.max(0, this.#taken - 1);
    this.warm();
    if (this.#taken > 0 || this.#closed || this.#options.idleMs === Infinity) return;
    clearTimeout(this.#idleTimer);
    const timer = setTimeout(() => this.#shrink(), this.#options.idleMs);
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #shrink(): void {
    if (this.#taken > 0) return;
    for (const p of this.#processes) p.kill();
    this.#warm = [];
    this.#peak = 0;
    this.onIdle();
  }

  /** Process ids of the processes alive now (not those draining or ending). */
  get pids(): number[] {
    return [...this.#processes].filter((p) => !p.done && !p.draining).map((p) => p.pid);
  }

  /** Runs under way. */
  get taken(): number {
    return this.#taken;
  }

  /** Kills every process and waits for them to be gone. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const all = [...this.#processes];
    for (const p of all) p.kill();
    await Promise.all(all.map((p) => p.exited));
    this.#warm = [];
  }
}
