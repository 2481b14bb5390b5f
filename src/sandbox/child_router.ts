/**
 * The sandbox process's router: a Worker of its own that reads the host's frames from stdin with
 * blocking reads and puts each one in its slot's ring, waking the slot's Worker with
 * `Atomics.notify`. A blocking read and a notify cost less than any message between threads (a
 * tool call's round trip is ~0.1 ms here, against ~0.3–0.7 ms through `postMessage`), and the
 * router never runs program code, so a spinning program cannot keep it from seeing the host go.
 *
 * Serialised with `Function.prototype.toString` (see `child_source.ts`), so it must not refer to
 * anything outside its own body; it receives the wire constants as its argument.
 *
 * The first frame is the host's `init` (the token, the number of slots and the program Worker's
 * module): the router makes one ring per slot and hands them on to the main isolate. Frames for the control
 * slot go to the main isolate as parsed JSON. A frame that does not fit in its ring (only a
 * Worker that acknowledged room it did not have can cause one) is dropped and reported, and the
 * main isolate stops that slot. End of stdin (the host has gone) is reported as `eof`.
 *
 * @module
 */

import type { _WIRE } from "./protocol.ts";

/** What the router tells the main isolate. */
export type _RouterNote =
  | { t: "init"; token: number[]; worker: string; rings: SharedArrayBuffer[] }
  | { t: "control"; m: unknown }
  | { t: "overflow"; slot: number }
  | { t: "eof" };

/** Runs inside the router Worker. */
export function _childRouter(wire: typeof _WIRE): void {
  const post = (note: _RouterNote) => (globalThis as unknown as Worker).postMessage(note);
  const decoder = new TextDecoder();
  const dataStart = wire.ringCells * 4;
  const mask = wire.ringBytes - 1;
  let rings: { cells: Int32Array; data: Uint8Array }[] = [];
  const touched = new Set<number>();

  function deliver(slot: number, kind: number, body: Uint8Array): void {
    const ring = rings[slot];
    if (ring === undefined) return;
    const { cells, data } = ring;
    const written = cells[wire.cellWritten];
    const free = wire.ringBytes - ((written - Atomics.load(cells, wire.cellRead)) >>> 0);
    const need = wire.recordHeaderBytes + body.length;
    if (need > free) {
      Atomics.store(cells, wire.cellOverflow, 1);
      touched.add(slot);
      post({ t: "overflow", slot });
      return;
    }
    const header = new Uint8Array(wire.recordHeaderBytes);
    new DataView(header.buffer).setUint32(0, body.length);
    header[4] = kind;
    let at = written & mask;
    for (const part of [header, body]) {
      const first = Math.min(part.length, wire.ringBytes - at);
      data.set(part.subarray(0, first), at);
      if (first < part.length) data.set(part.subarray(first), 0);
      at = (at + part.length) & mask;
    }
    Atomics.store(cells, wire.cellWritten, (written + need) | 0);
    touched.add(slot);
  }

  function wake(): void {
    for (const slot of touched) Atomics.notify(rings[slot].cells, wire.cellWritten);
    touched.clear();
  }

  const chunk = new Uint8Array(1 << 16);
  let pending = new Uint8Array(1 << 16);
  let used = 0;
  let started = false;
  for (;;) {
    let n: number | null;
    try {
      n = Deno.stdin.readSync(chunk);
    } catch {
      n = null;
    }
    if (n === null || n === 0) break;
    if (used + n > pending.length) {
      const bigger = new Uint8Array(Math.max(pending.length * 2, used + n));
      bigger.set(pending.subarray(0, used));
      pending = bigger;
    }
    pending.set(chunk.subarray(0, n), used);
    used += n;
    let at = 0;
    while (used - at >= wire.frameHeaderBytes) {
      const view = new DataView(pending.buffer, at);
      const length = view.getUint32(0);
      const slot = view.getUint16(4);
      const kind = pending[at + 6];
      const end = at + wire.frameHeaderBytes + length;
      if (end > used) break;
      const body = pending.subarray(at + wire.frameHeaderBytes, end);
      if (slot === wire.controlSlot) {
        let m: unknown;
        try {
          m = JSON.parse(decoder.decode(body));
        } catch {
          m = null;
        }
        if (!started && (m as { t?: unknown })?.t === "init") {
          started = true;
          const init = m as { token: number[]; slots: number; worker: string };
          const buffers: SharedArrayBuffer[] = [];
          for (let i = 0; i < init.slots; i++) {
            const sab = new SharedArrayBuffer(dataStart + wire.ringBytes);
            buffers.push(sab);
          }
          rings = buffers.map((sab) => ({
            cells: new Int32Array(sab, 0, wire.ringCells),
            data: new Uint8Array(sab, dataStart, wire.ringBytes),
          }));
          post({ t: "init", token: init.token, worker: init.worker, rings: buffers });
        } else {
          // A slot's ring starts empty for each Worker: what its last Worker left unread (a run
          // that was stopped) must never reach the next one. The host sends `spawn` only once
          // the slot's last Worker is gone, and before any frame for the new one.
          const spawn = m as { t?: unknown; slot?: unknown };
          if (spawn?.t === "spawn" && typeof spawn.slot === "number" && rings[spawn.slot]) {
            const cells = rings[spawn.slot].cells;
            for (let i = 0; i < wire.ringCells; i++) Atomics.store(cells, i, 0);
          }
          post({ t: "control", m });
        }
      } else deliver(slot, kind, body);
      at = end;
    }
    wake();
    if (at > 0) {
      pending.copyWithin(0, at, used);
      used -= at;
    }
    // Keep the buffer from staying huge after one large frame.
    if (used === 0 && pending.length > 1 << 20) pending = new Uint8Array(1 << 16);
  }
  post({ t: "eof" });
}
