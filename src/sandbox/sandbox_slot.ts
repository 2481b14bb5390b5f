/**
 * One slot of a sandbox process as the host sees it: the channel to one program Worker. It
 * decodes and checks what the Worker sends (a message over the run's size cap, nested too deep,
 * not JSON, or a flood of malformed ones stops the slot as a violation), keeps the host from
 * putting more in the Worker's ring than it acknowledged room for (holding the rest, up to a cap),
 * and reports how the Worker ended.
 *
 * @module
 */

import v8 from "node:v8";
import { _RecordStream } from "./chunk_reader.ts";
import {
  type _ChildMessage,
  _childMessage,
  type _HostMessage,
  _jsonDeeperThan,
  _WIRE,
} from "./protocol.ts";

/** Nesting of the deepest JSON message the runtime sends (`end` with its `error` object). */
const MAX_MESSAGE_DEPTH = 2;
/** Malformed messages (wrong shape) dropped before the slot counts as flooding. */
const MAX_DROPPED = 1_000;
/** Bytes of malformed messages dropped before the slot counts as flooding. */
const MAX_DROPPED_BYTES = 4 * 1024 * 1024;

/** How a slot's Worker ended. */
export interface _SlotEnd {
  /**
   * `done`: it ended itself; `stopped`: the host stopped it; `memory`: its heap limit;
   * `overflow`/`violation`: it broke the channel's rules; `backlog`: it left too much unread;
   * `died`: it failed; `process`: its whole process ended.
   */
  why: "done" | "stopped" | "memory" | "overflow" | "violation" | "backlog" | "died" | "process";
  /** What happened, in words (never the sandbox's own source or stderr noise). */
  message: string;
  /** For `process`: how the process ended, and the tail of its stderr. */
  status?: Deno.CommandStatus;
  stderr?: string;
}

/** Receives what a slot's Worker says; set by the run that uses the slot. */
export interface _SlotListener {
  message(m: _ChildMessage, bytes: number): void;
  ended(end: _SlotEnd): void;
}

/** What a slot needs from its process. */
export interface _SlotHost {
  /** Queues a frame for the slot (written with the others of this tick). */
  write(slot: number, kind: number, body: Uint8Array): void;
  /**
   * Asks the main isolate to stop the slot's Worker; `ranProgram` says whether it was sent one
   * (only then can it be spinning where `terminate()` does not reach).
   */
  stop(slot: number, ranProgram: boolean): void;
  /** Whether the process takes no new runs ever again. */
  draining(): boolean;
  /** Whether the process takes no new runs for now (a stopped Worker's end is not known yet). */
  unsure(): boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The channel to one Worker; a slot runs at most one program. */
export class _SandboxSlot {
  readonly index: number;
  readonly memoryMb: number;
  /** Resolves when the Worker waits, warm, for a program; rejects if it ends first. */
  readonly ready: Promise<void>;
  #resolveReady: () => void;
  #rejectReady: (error: Error) => void;
  #host: _SlotHost;
  #listener: _SlotListener | null = null;
  #early: { m: _ChildMessage; bytes: number }[] = [];
  #stream: _RecordStream;
  #credit: number = _WIRE.ringBytes;
  #sent = 0;
  #backlog: { kind: number; body: Uint8Array }[] = [];
  #backlogBytes = 0;
  #results: string[] = [];
  #flushing = false;
  #dropped = 0;
  #droppedBytes = 0;
  #violation: string | undefined;
  #stopping = false;
  #end: _SlotEnd | undefined;
  /** The Worker's thread id (its thread is named `worker-<id>`), once spawned. */
  thread: number | undefined;
  /** Whether a run took this slot. */
  taken = false;
  /** Bytes the host may hold for the Worker beyond its ring before the run is ended. */
  maxBacklogBytes: number = 64 * 1024 * 1024;

  constructor(index: number, memoryMb: number, host: _SlotHost) {
    this.index = index;
    this.memoryMb = memoryMb;
    this.#host = host;
    this.#stream = new _RecordStream(64 * 1024 * 1024);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.ready = promise;
    promise.catch(() => {});
    this.#resolveReady = resolve;
    this.#rejectReady = reject;
  }

  /** Caps the size of each message from the Worker (a run sets it from its limits). */
  set maxFrameBytes(bytes: number) {
    this.#stream.maxBytes = bytes;
  }

  /** How the Worker ended, once it has. */
  get end(): _SlotEnd | undefined {
    return this.#end;
  }

  /** Whether the Worker runs no more program code (ended, or being stopped). */
  get over(): boolean {
    return this.#end !== undefined || this.#stopping;
  }

  /** Whether this slot is warm (or getting warm) for a run: not taken, and may still be. */
  get spare(): boolean {
    return !this.over && !this.taken && !this.#host.draining();
  }

  /** Whether a run may take this slot now. */
  get usable(): boolean {
    return this.spare && !this.#host.unsure();
  }

  /** Attaches the run's listener and sends the program. */
  start(listener: _SlotListener, run: _HostMessage): void {
    this.#listener = listener;
    for (const { m, bytes } of this.#early.splice(0)) listener.message(m, bytes);
    this.send(run);
    if (this.#end) listener.ended(this.#end);
  }

  /** Sends a message as JSON. */
  send(message: _HostMessage | string): void {
    if (this.over) return;
    this.#batchResults();
    this.#enqueue(
      _WIRE.kindJson,
      encoder.encode(typeof message === "string" ? message : JSON.stringify(message)),
    );
  }

  /**
   * Sends one pre-serialised JSON `res` message. Results sent in one tick (replies to parallel
   * calls) travel as one `resv` record: each record costs the Worker a decode and a parse.
   */
  sendResult(json: string): void {
    if (this.over) return;
    // The first result of a tick goes at once (a sequential program waits for it); the ones after
    // it in the same tick (answers to parallel calls) travel together when the tick ends.
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => {
        this.#flushing = false;
        this.#batchResults();
      });
      this.#enqueue(_WIRE.kindJson, encoder.encode(json));
      return;
    }
    this.#results.push(json);
  }

  /** Sends a message already serialised as a structured clone (`v8.serialize`). */
  sendClone(bytes: Uint8Array): void {
    if (this.over) return;
    this.#batchResults();
    this.#enqueue(_WIRE.kindClone, bytes);
  }

  #batchResults(): void {
    const results = this.#results;
    if (results.length === 0) return;
    this.#results = [];
    const json = results.length === 1 ? results[0] : `{"t":"resv","r":[${results.join(",")}]}`;
    this.#enqueue(_WIRE.kindJson, encoder.encode(json));
  }

  #enqueue(kind: number, body: Uint8Array): void {
    // Long bodies travel in parts, so no record is bigger than a quarter of the ring.
    for (let at = 0; at < body.length || at === 0; at += _WIRE.partBytes) {
      const end = Math.min(body.length, at + _WIRE.partBytes);
      const part = body.subarray(at, end);
      const more = end < body.length ? _WIRE.kindMore : 0;
      this.#backlog.push({ kind: kind | more, body: part });
      this.#backlogBytes += part.length;
      if (end >= body.length) break;
    }
    this.#drain();
    if (this.#backlogBytes > this.maxBacklogBytes) {
      this.#finish({
        why: "backlog",
        message: `over ${
          Math.round(this.maxBacklogBytes / 1024 / 1024)
        } MB of tool results wait for the program, which does not read them`,
      });
      this.stop();
    }
  }

  #drain(): void {
    while (this.#backlog.length > 0) {
      const next = this.#backlog[0];
      const cost = _WIRE.recordHeaderBytes + next.body.length;
      if (cost > this.#credit) return;
      this.#backlog.shift();
      this.#backlogBytes -= next.body.length;
      this.#credit -= cost;
      this.#sent += cost;
      this.#host.write(this.index, next.kind, next.body);
    }
  }

  /** The Worker says it has read `n` bytes in all. */
  #ack(n: number): void {
    // Never more room than the ring has, whatever the message claims.
    this.#credit = Math.max(0, Math.min(_WIRE.ringBytes, _WIRE.ringBytes - (this.#sent - n)));
    this.#drain();
  }

  /** A chunk of this slot's record stream arrived. */
  receive(payload: Uint8Array): void {
    if (this.#violation !== undefined || this.#end !== undefined) return;
    try {
      this.#stream.push(payload, (kind, body) => this.#record(kind, body));
    } catch (err) {
      this.#violate(err instanceof RangeError ? err.message : "a message that could not be read");
    }
  }

  #record(kind: number, body: Uint8Array): void {
    if (this.#violation !== undefined) return;
    let parsed: unknown;
    if (kind === _WIRE.kindJson) {
      // Messages the runtime writes nest two levels deep; anything deeper is refused before
      // JSON.parse could spend seconds and gigabytes on it.
      if (_jsonDeeperThan(body, MAX_MESSAGE_DEPTH)) {
        this.#violate("a message nested deeper than any the runtime sends");
        return;
      }
      try {
        parsed = JSON.parse(decoder.decode(body));
      } catch {
        this.#violate("a message that is not JSON");
        return;
      }
    } else if (kind === _WIRE.kindClone) {
      try {
        parsed = v8.deserialize(body);
      } catch {
        this.#violate("a message that is not a structured clone the host can read");
        return;
      }
    } else {
      this.#violate(`a message of an unknown kind (${kind})`);
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
    if (m.t === "ack") return this.#ack(m.n);
    if (m.t === "ready") {
      this.#resolveReady();
      return;
    }
    if (this.#listener) this.#listener.message(m, body.length);
    else this.#early.push({ m, bytes: body.length });
  }

  #violate(what: string): void {
    this.#violation ??= what;
    this.#finish({ why: "violation", message: what });
    this.stop();
  }

  /** Stops the Worker (a run that ended by the host's decision). Safe to call more than once. */
  stop(): void {
    if (this.#stopping || this.#end?.why === "done") return;
    this.#stopping = true;
    this.#backlog = [];
    this.#backlogBytes = 0;
    this.#host.stop(this.index, this.#listener !== null);
  }

  /** The main isolate reported the Worker's end (or the process ended). */
  ended(end: _SlotEnd): void {
    this.#finish(end);
  }

  #finish(end: _SlotEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.#rejectReady(new Error(`the sandbox Worker ended before it was ready: ${end.message}`));
    this.#listener?.ended(end);
  }
}
