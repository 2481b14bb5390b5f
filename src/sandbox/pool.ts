/**
 * A small pool of pre-started sandbox processes, so a run does not pay process start-up.
 *
 * @module
 */

import { _SandboxProcess, type _SandboxSpawnOptions } from "./sandbox_process.ts";

/**
 * Keeps `size` sandbox processes started and ready. `take()` hands one out (it is never given
 * back: one program per process) and starts a replacement.
 */
export class _SandboxPool {
  #options: _SandboxSpawnOptions;
  #size: number;
  #idle: _SandboxProcess[] = [];
  #live = new Set<_SandboxProcess>();
  #closed = false;

  constructor(options: _SandboxSpawnOptions, size: number) {
    this.#options = options;
    this.#size = size;
  }

  /** Starts the idle processes now instead of at the first run. */
  warm(): void {
    while (!this.#closed && this.#idle.length < this.#size) this.#idle.push(this.#spawn());
  }

  #spawn(): _SandboxProcess {
    const p = new _SandboxProcess(this.#options);
    this.#live.add(p);
    p.exited.then(() => {
      this.#live.delete(p);
      const i = this.#idle.indexOf(p);
      if (i >= 0) this.#idle.splice(i, 1);
    });
    return p;
  }

  /** A ready process for one run; its replacement starts in the background. */
  async take(signal?: AbortSignal): Promise<_SandboxProcess> {
    if (this.#closed) {
      throw new TypeError("CodeMode is closed: create a new CodeMode to run programs");
    }
    let p = this.#idle.shift();
    if (p === undefined || p.done) p = this.#spawn();
    // Starting a process costs tens of milliseconds of CPU; while others wait idle, start the
    // replacement once this run is over rather than on top of it.
    if (this.#idle.length === 0) this.warm();
    else p.exited.then(() => this.warm());
    if (signal) {
      let onAbort = () => {};
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
      aborted.catch(() => {});
      try {
        await Promise.race([p.ready, aborted]);
      } catch (err) {
        p.kill();
        throw err;
      } finally {
        // A long-lived signal must not collect one listener per run.
        signal.removeEventListener("abort", onAbort);
      }
    } else {
      await p.ready;
    }
    return p;
  }

  /** Processes alive right now (idle or running). */
  get liveCount(): number {
    return this.#live.size;
  }

  /** Process ids of the processes idle or running now (not those already being killed). */
  get pids(): number[] {
    return [...this.#live].filter((p) => !p.retired && !p.done).map((p) => p.pid);
  }

  /** Kills every process, idle or running, and waits for them to be gone. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#live];
    for (const p of all) p.kill();
    await Promise.all(all.map((p) => p.exited));
    this.#idle = [];
  }
}
