/**
 * Streamable HTTP spoken by hand, for what the SDK client hides: status codes, headers, SSE event
 * ids, a dropped stream, `Last-Event-ID`.
 */

/** The protocol version the raw sessions announce (the one with priming events). */
export const PROTOCOL = "2025-11-25";

/** The JSON text of an `initialize` request (id 0) from a client called `client`. */
export function initializeRequest(client: string): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: PROTOCOL,
      capabilities: {},
      clientInfo: { name: client, version: "0" },
    },
  });
}

/** One server-sent event. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** The events of an SSE body, as they arrive (comments and keep-alives skipped). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  let pending = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let end: number;
    while ((end = pending.indexOf("\n\n")) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const event: SseEvent = { data: "" };
      let fields = 0;
      for (const line of block.split("\n")) {
        const m = /^(id|event|data): ?(.*)$/.exec(line);
        if (!m) continue;
        fields++;
        if (m[1] === "data") event.data += m[2];
        else event[m[1] as "id" | "event"] = m[2];
      }
      if (fields > 0) yield event;
    }
  }
}

/** The JSON-RPC messages among `events` (priming events have no data). */
export function messages(events: SseEvent[]): Record<string, unknown>[] {
  return events.filter((e) => e.data.trim() !== "").map((e) => JSON.parse(e.data));
}

/** Reads every event of a response until its stream ends. */
export async function allEvents(response: Response): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of sseEvents(response.body!)) out.push(e);
  return out;
}

/** An MCP session over raw HTTP requests. */
export class RawSession {
  readonly url: string;
  readonly id: string;
  #headers: Record<string, string>;

  private constructor(url: string, id: string, headers: Record<string, string>) {
    this.url = url;
    this.id = id;
    this.#headers = headers;
  }

  /** The GET stream opened by `open(url, { stream: true })`; abort it to close it. */
  stream?: { response: Response; abort: AbortController };

  /**
   * Initializes a session (and sends `initialized`); with `stream`, opens the GET stream right
   * after `initialize`, so the session is never without a request or stream.
   */
  static async open(
    url: string,
    options: { headers?: Record<string, string>; stream?: boolean } = {},
  ): Promise<RawSession> {
    const headers = options.headers ?? {};
    const response = await fetch(url, {
      method: "POST",
      headers: { ...headers, ...POST_HEADERS },
      body: initializeRequest("raw"),
    });
    if (!response.ok) {
      throw new Error(`initialize answered ${response.status}: ${await response.text()}`);
    }
    const id = response.headers.get("mcp-session-id")!;
    await allEvents(response);
    const session = new RawSession(url, id, headers);
    if (options.stream) {
      const abort = new AbortController();
      session.stream = { response: await session.get(undefined, abort.signal), abort };
    }
    const initialized = await session.post({ jsonrpc: "2.0", method: "notifications/initialized" });
    await initialized.body?.cancel();
    return session;
  }

  /** The headers every request of this session carries. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...this.#headers,
      "mcp-session-id": this.id,
      "mcp-protocol-version": PROTOCOL,
      ...extra,
    };
  }

  /** POSTs one message (or a batch). */
  post(message: unknown, init: RequestInit = {}): Promise<Response> {
    return fetch(this.url, {
      ...init,
      method: "POST",
      headers: this.headers(POST_HEADERS),
      body: JSON.stringify(message),
    });
  }

  /** Opens the GET stream, or resumes one after `lastEventId`. */
  get(lastEventId?: string, signal?: AbortSignal): Promise<Response> {
    const extra: Record<string, string> = { accept: "text/event-stream" };
    if (lastEventId !== undefined) extra["last-event-id"] = lastEventId;
    return fetch(this.url, { method: "GET", headers: this.headers(extra), signal });
  }

  /** Ends the session. */
  async delete(): Promise<number> {
    const response = await fetch(this.url, { method: "DELETE", headers: this.headers() });
    await response.body?.cancel();
    return response.status;
  }
}

const POST_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

/** A `tools/call` of `run_program` with `program`. */
export function runProgram(id: number, program: string, progressToken?: string): unknown {
  const params: Record<string, unknown> = { name: "run_program", arguments: { program } };
  if (progressToken !== undefined) params._meta = { progressToken };
  return { jsonrpc: "2.0", id, method: "tools/call", params };
}
