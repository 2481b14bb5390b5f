/**
 * SSE resumability for one Streamable HTTP session: every event sent on a stream gets an id and
 * is kept (a bounded number, oldest dropped first), so a client whose stream dropped can come
 * back with `Last-Event-ID` and get what it missed — a finished run's result included.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import type { EventStore } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/**
 * The method of the marker the protocol guard sends on a cancelled request's stream after
 * closing it: the buffer records the stream as ended (a resume gets 204) and never stores or
 * replays the marker, and the closed stream cannot carry it to the client.
 */
export const _STREAM_ENDED = "notifications/codemode/stream_ended";

/** Bounds of a {@linkcode _ReplayBuffer}. */
export interface _ReplayLimits {
  /** Events kept. */
  maxEvents: number;
  /** Characters of JSON kept. */
  maxChars: number;
}

/** The default bounds: per session, enough for dozens of full results. */
export const _REPLAY_LIMITS: _ReplayLimits = { maxEvents: 1_000, maxChars: 4 * 1024 * 1024 };

interface _Event {
  streamId: string;
  message: JSONRPCMessage;
  chars: number;
}

interface _Stream {
  /** `complete`: every response was stored, nothing more will come; `ended`: cancelled. */
  state: "open" | "complete" | "ended";
}

/** A JSON-RPC request id. */
type _Id = string | number;

/** Where a `Last-Event-ID` leads. */
export type _Resume =
  | { kind: "unknown" }
  | { kind: "dropped" }
  | { kind: "open" }
  | { kind: "ended" }
  | { kind: "complete"; events: [id: string, message: JSONRPCMessage][] };

function _isResponse(message: JSONRPCMessage): boolean {
  return "id" in message && ("result" in message || "error" in message);
}

/** A priming event (`{}`): an anchor to resume from, never replayed. */
function _isPriming(message: JSONRPCMessage): boolean {
  return !("jsonrpc" in message);
}

/**
 * The SDK's `EventStore` for one session, bounded; also answers where a resume leads.
 *
 * @example Store and replay
 * ```ts
 * import { _ReplayBuffer } from "./replay_buffer.ts";
 * const buffer = new _ReplayBuffer();
 * const first = await buffer.storeEvent("s", {} as never);
 * await buffer.storeEvent("s", { jsonrpc: "2.0", id: 1, result: {} });
 * buffer.resume(first).kind; // "complete"
 * ```
 */
export class _ReplayBuffer implements EventStore {
  #limits: _ReplayLimits;
  #seq = 0;
  #events = new Map<string, _Event>(); // in id order
  #chars = 0;
  #streams = new Map<string, _Stream>();
  /** For each request of a batch not yet answered, the batch's unanswered ids. */
  #batches = new Map<_Id, Set<_Id>>();

  /** @param limits How much to keep. */
  constructor(limits: _ReplayLimits = _REPLAY_LIMITS) {
    this.#limits = limits;
  }

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = String(++this.#seq);
    const stream = this.#stream(streamId);
    if ("method" in message && message.method === _STREAM_ENDED) {
      stream.state = "ended";
      return Promise.resolve(id);
    }
    if (_isResponse(message) && stream.state === "open" && this.#lastOfItsBatch(message)) {
      stream.state = "complete";
    }
    const chars = JSON.stringify(message).length;
    this.#events.set(id, { streamId, message, chars });
    this.#chars += chars;
    this.#evict();
    return Promise.resolve(id);
  }

  /**
   * The requests of one POST, answered on one stream: the stream is complete once every one of
   * them is answered, not at the first answer (a resume would end it and lose the rest).
   */
  expectBatch(ids: readonly _Id[]): void {
    if (ids.length < 2) return;
    const batch = new Set(ids);
    for (const id of ids) this.#batches.set(id, batch);
  }

  #lastOfItsBatch(response: JSONRPCMessage): boolean {
    const id = (response as { id?: _Id }).id;
    const batch = id === undefined ? undefined : this.#batches.get(id);
    if (batch === undefined) return true;
    batch.delete(id!);
    this.#batches.delete(id!);
    return batch.size === 0;
  }

  getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return Promise.resolve(this.#events.get(eventId)?.streamId);
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const from = this.#events.get(lastEventId);
    if (from === undefined) throw new Error(`unknown event id ${lastEventId}`);
    for (const [id, message] of this.#after(lastEventId, from.streamId)) await send(id, message);
    return from.streamId;
  }

  /** Where resuming after `eventId` leads. */
  resume(eventId: string): _Resume {
    const from = this.#events.get(eventId);
    if (from === undefined) {
      const n = Number(eventId);
      return Number.isInteger(n) && n > 0 && n <= this.#seq
        ? { kind: "dropped" }
        : { kind: "unknown" };
    }
    const state = this.#streams.get(from.streamId)?.state ?? "open";
    if (state !== "complete") return { kind: state };
    return { kind: "complete", events: this.#after(eventId, from.streamId) };
  }

  #after(eventId: string, streamId: string): [string, JSONRPCMessage][] {
    const out: [string, JSONRPCMessage][] = [];
    const after = Number(eventId);
    for (const [id, event] of this.#events) {
      if (Number(id) > after && event.streamId === streamId && !_isPriming(event.message)) {
        out.push([id, event.message]);
      }
    }
    return out;
  }

  #stream(streamId: string): _Stream {
    let stream = this.#streams.get(streamId);
    if (stream === undefined) {
      stream = { state: "open" };
      this.#streams.set(streamId, stream);
    }
    return stream;
  }

  /** Drops the oldest events past the bounds (the newest is always kept), and their streams. */
  #evict(): void {
    const { maxEvents, maxChars } = this.#limits;
    while (this.#events.size > 1 && (this.#events.size > maxEvents || this.#chars > maxChars)) {
      const [id, event] = this.#events.entries().next().value!;
      this.#events.delete(id);
      this.#chars -= event.chars;
    }
    // A stream none of whose events is left cannot be resumed: forget it.
    if (this.#streams.size > this.#events.size) {
      const live = new Set([...this.#events.values()].map((e) => e.streamId));
      for (const id of this.#streams.keys()) if (!live.has(id)) this.#streams.delete(id);
    }
  }
}
