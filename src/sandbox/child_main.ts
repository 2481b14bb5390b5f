/**
 * The sandbox process's main isolate: the control plane. It starts the router, then starts,
 * watches and stops one program Worker per slot as the host asks, and reports how each ended.
 *
 * Serialised with `Function.prototype.toString` into the process's `data:` main module (see
 * `child_source.ts`), so it must not refer to anything outside its own body.
 *
 * Program Workers are `node:worker_threads` Workers with a heap limit (`resourceLimits`): a heap
 * bomb ends its own Worker (`ERR_WORKER_OUT_OF_MEMORY`) and the process lives on. The process has
 * no permissions at all, so neither does any Worker in it. What `worker.terminate()` cannot do —
 * stop a Worker that spins — is the host's to detect (the thread is still there afterwards) and
 * handle (the process takes no new runs and is ended once its other runs are over).
 *
 * A watchdog pings every live Worker through its ring twice a second. A Worker that stops
 * answering while its thread uses no CPU is stuck: V8 stopped it at its heap limit inside a
 * microtask, where the limit's error never arrives. Such a Worker is ended and reported as out of
 * memory. (One that stops answering while it uses CPU is running the program's code.)
 *
 * @module
 */

import type { _ControlReport, _ControlRequest, _WIRE } from "./protocol.ts";
import type { _RouterNote } from "./child_router.ts";

/** The parts of a `node:worker_threads` Worker used here. */
interface _NodeWorker {
  readonly threadId: number;
  on(event: "error", listener: (error: Error & { code?: string }) => void): void;
  on(event: "exit", listener: (code: number) => void): void;
  on(event: "message", listener: (message: unknown) => void): void;
  terminate(): Promise<number>;
  cpuUsage(): { user: number; system: number } | Promise<{ user: number; system: number }>;
}

/** The `node:worker_threads` Worker constructor, as the main module imports it. */
export type _NodeWorkerConstructor = new (
  url: URL,
  options: Record<string, unknown>,
) => _NodeWorker;

/** Runs as the sandbox process's main module. */
export function _childMain(
  wire: typeof _WIRE,
  routerUrl: string,
  NodeWorker: _NodeWorkerConstructor,
): void {
  let workerUrl = "";
  const encoder = new TextEncoder();
  let token: Uint8Array | null = null;
  let rings: SharedArrayBuffer[] = [];
  interface Entry {
    worker: _NodeWorker;
    cells: Int32Array;
    why?: "stopped" | "memory" | "overflow";
    error?: string;
    silent: number;
    cpu: number;
  }
  const live = new Map<number, Entry>();

  function report(m: _ControlReport): void {
    if (token === null) return;
    const body = encoder.encode(JSON.stringify(m));
    // Reports are small; one chunk each, written at once.
    const out = new Uint8Array(wire.chunkHeaderBytes + wire.recordHeaderBytes + body.length);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 4; i++) out[i] = wire.magic[i];
    out.set(token, 4);
    view.setUint16(20, wire.controlSlot);
    view.setUint16(22, wire.recordHeaderBytes + body.length);
    view.setUint32(24, body.length);
    out[28] = wire.kindJson;
    out.set(body, 29);
    // stderr: one write(2) per call (Deno's stdout is line-buffered and may split a write).
    Deno.stderr.writeSync(out);
  }

  function spawn(slot: number, memoryMb: number): void {
    if (live.has(slot) || rings[slot] === undefined || token === null) return;
    const worker = new NodeWorker(new URL(workerUrl), {
      name: `codemode-${slot}`,
      workerData: { ring: rings[slot], slot, token: [...token] },
      // A small code range: V8's default reserves 512 MB of writable memory per isolate.
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, stackSizeMb: 4, codeRangeSizeMb: 64 },
      env: {},
      argv: [],
      execArgv: [],
      stdin: false,
    });
    const entry: Entry = {
      worker,
      cells: new Int32Array(rings[slot], 0, wire.ringCells),
      silent: 0,
      cpu: -1,
    };
    live.set(slot, entry);
    worker.on("error", (error) => {
      if (error?.code === "ERR_WORKER_OUT_OF_MEMORY") entry.why ??= "memory";
      else entry.error ??= String(error?.message ?? error);
    });
    worker.on("message", () => {});
    worker.on("exit", (code) => {
      live.delete(slot);
      const why = entry.why ?? (entry.error !== undefined ? "died" : code === 0 ? "done" : "died");
      report({ t: "exit", slot, why, message: entry.error ?? `exit code ${code}` });
    });
    report({ t: "spawned", slot, thread: worker.threadId });
  }

  function stop(slot: number, why: "stopped" | "memory" | "overflow"): void {
    const entry = live.get(slot);
    if (entry === undefined) return;
    entry.why ??= why;
    // A Worker that spins cannot be terminated; this at least keeps it from writing more, and
    // makes every runtime function it calls throw.
    Atomics.store(entry.cells, wire.cellStopped, 1);
    entry.worker.terminate().catch(() => {});
  }

  async function watch(): Promise<void> {
    for (const [slot, entry] of live) {
      if (entry.why !== undefined) continue;
      const cells = entry.cells;
      const answered = Atomics.load(cells, wire.cellPong) === Atomics.load(cells, wire.cellPing) ||
        // Waiting for the host to read what it wrote is not being stuck.
        Atomics.load(cells, wire.cellWriting) !== 0;
      if (answered) entry.silent = 0;
      else {
        let cpu = -1;
        try {
          const usage = await entry.worker.cpuUsage();
          cpu = usage.user + usage.system;
        } catch {
          // The Worker is going.
        }
        // Silent for two rounds with no CPU used in between: stuck, not running code.
        if (entry.silent > 0 && cpu >= 0 && cpu === entry.cpu) {
          stop(slot, "memory");
          continue;
        }
        entry.silent++;
        entry.cpu = cpu;
      }
      Atomics.add(cells, wire.cellPing, 1);
      Atomics.notify(cells, wire.cellWritten);
    }
  }
  setInterval(() => void watch(), 500);

  function control(m: _ControlRequest | null): void {
    if (m === null || typeof m !== "object") return;
    if (m.t === "spawn") spawn(m.slot, m.memoryMb);
    else if (m.t === "stop") stop(m.slot, "stopped");
  }

  const router = new Worker(routerUrl, { type: "module", name: "codemode-router" });
  router.onmessage = (e: MessageEvent<_RouterNote>) => {
    const note = e.data;
    if (note.t === "init") {
      token = new Uint8Array(note.token);
      rings = note.rings;
      const bytes = encoder.encode(note.worker);
      let binary = "";
      for (let i = 0; i < bytes.length; i += 0x8000) {
        binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      }
      workerUrl = "data:text/javascript;base64," + btoa(binary);
      report({ t: "hello" });
    } else if (note.t === "control") control(note.m as _ControlRequest);
    else if (note.t === "overflow") stop(note.slot, "overflow");
    else if (note.t === "eof") Deno.exit(0);
  };
  router.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    try {
      Deno.stderr.writeSync(
        encoder.encode(`\ncodemode-sandbox: the router failed: ${e.message}\n`),
      );
    } finally {
      Deno.exit(70);
    }
  };
}
