/**
 * Serving MCP servers over Streamable HTTP: one SDK transport and one server per session, the
 * Host/Origin checks that keep web pages out, an optional bearer token, a cap on sessions, idle
 * sessions closed, and SSE streams that a client can resume with `Last-Event-ID`.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { _BearerCheck, _isLoopback, _originProblem, _unauthorized } from "./http_access.ts";
import { _REPLAY_LIMITS, _ReplayBuffer, type _ReplayLimits } from "./replay_buffer.ts";
import type { CodeModeMcpServer } from "./server.ts";
import { _count } from "./run_limit.ts";

/** Default cap on open sessions. */
export const _DEFAULT_MAX_SESSIONS = 100;
/** Default time a session may go without a request before it is closed: 10 minutes. */
export const _DEFAULT_SESSION_IDLE_MS = 600_000;

/** Options for {@linkcode _serveHttp}. */
export interface _HttpServeOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to listen on; beyond loopback, `token` is required. @default {"127.0.0.1"} */
  hostname?: string;
  /** When set, every request needs `Authorization: Bearer <token>`. @default {undefined} */
  token?: string;
  /** Sessions open at once; one more `initialize` is refused. @default {100} */
  maxSessions?: number;
  /** A session without a request (or an open stream) this long is closed. @default {600_000} */
  sessionIdleMs?: number;
  /** Bounds of each session's replay buffer. @default {1,000 events, 4 Mi characters} */
  replay?: _ReplayLimits;
  /** A new, unconnected server for each session. */
  newServer: () => CodeModeMcpServer;
  /** Log lines. */
  log?: (message: string) => void;
}

/** A running HTTP endpoint. */
export interface _HttpServing {
  /** The endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  url: string;
  /** Number of open sessions. */
  readonly sessions: number;
  /** Closes every session and the listener; resolves when the listener is down. */
  close(): Promise<void>;
}

interface _Session {
  id: string;
  server: CodeModeMcpServer;
  transport: WebStandardStreamableHTTPServerTransport;
  replay: _ReplayBuffer;
  /** Requests under way, open SSE streams included. */
  active: number;
  idleTimer?: ReturnType<typeof setTimeout>;
}

function _jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers?: HeadersInit,
): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status, headers });
}

/** `response` with a body that calls `onEnd` once when it is done, fails or is cancelled. */
function _onBodyEnd(response: Response, onEnd: () => void): Response {
  if (response.body === null) {
    onEnd();
    return response;
  }
  const reader = response.body.getReader();
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** Tells `replay` which requests a batch POST carries (they share one stream). */
async function _noteBatch(replay: _ReplayBuffer, req: Request): Promise<void> {
  const text = await req.clone().text().catch(() => "");
  if (!text.trimStart().startsWith("[")) return;
  try {
    const batch: unknown = JSON.parse(text);
    if (!Array.isArray(batch)) return;
    replay.expectBatch(
      batch.filter((m) => typeof m === "object" && m !== null && "method" in m && "id" in m)
        .map((m) => m.id),
    );
  } catch {
    // Not JSON: the transport answers it.
  }
}

/**
 * Serves `newServer()` sessions at `/mcp` over Streamable HTTP (stateful sessions, SSE streams
 * with event ids).
 *
 * @throws {TypeError} When `hostname` is beyond loopback and no `token` is set.
 *
 * @example Serve until closed
 * ```ts ignore
 * const serving = await _serveHttp({ port: 0, newServer: () => createCodeModeServer(codeMode) });
 * console.log(serving.url);
 * await serving.close();
 * ```
 */
export async function _serveHttp(options: _HttpServeOptions): Promise<_HttpServing> {
  const hostname = options.hostname ?? "127.0.0.1";
  const loopbackOnly = _isLoopback(hostname);
  if (!loopbackOnly && !options.token) {
    throw new TypeError(
      `serving on ${hostname} reaches beyond this machine: set a token for clients to send`,
    );
  }
  const sessions = new _Sessions(options);
  const bearer = options.token ? new _BearerCheck(options.token) : undefined;

  const handle = async (req: Request): Promise<Response> => {
    if (new URL(req.url).pathname !== "/mcp") {
      return new Response(`Not found: the MCP endpoint is /mcp\n`, { status: 404 });
    }
    const forbidden = _originProblem(req.headers, loopbackOnly);
    if (forbidden !== null) return _jsonRpcError(403, -32000, forbidden);
    if (bearer) {
      const verdict = await bearer.verdict(req.headers);
      if (verdict !== "ok") return _unauthorized(verdict);
    }
    return await sessions.handle(req);
  };

  const { promise: listening, resolve } = Promise.withResolvers<string>();
  const http = Deno.serve({
    hostname,
    port: options.port,
    onListen: ({ hostname, port }) =>
      resolve(`http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/mcp`),
    onError: (err) => {
      options.log?.(`HTTP request failed: ${String(err)}`);
      return _jsonRpcError(500, -32603, "Internal error");
    },
  }, handle);
  const url = await listening;
  return {
    url,
    get sessions() {
      return sessions.size;
    },
    async close() {
      await sessions.closeAll();
      await http.shutdown();
    },
  };
}

/** The open sessions: opening under the cap, routing, idle expiry, resuming streams. */
class _Sessions {
  #options: _HttpServeOptions;
  #log: (message: string) => void;
  #maxSessions: number;
  #idleMs: number;
  #open = new Map<string, _Session>();
  #opening = 0;
  #closing = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: _HttpServeOptions) {
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#maxSessions = _count("maxSessions", options.maxSessions ?? _DEFAULT_MAX_SESSIONS, 1);
    this.#idleMs = _count("sessionIdleMs", options.sessionIdleMs ?? _DEFAULT_SESSION_IDLE_MS, 1);
  }

  get size(): number {
    return this.#open.size;
  }

  async handle(req: Request): Promise<Response> {
    const id = req.headers.get("mcp-session-id");
    if (id !== null) {
      const session = this.#open.get(id);
      if (session === undefined) {
        return _jsonRpcError(404, -32001, `Session not found: ${id}; initialize a new session`);
      }
      return await this.#forward(session, req);
    }
    if (req.method !== "POST") {
      return _jsonRpcError(400, -32000, "Bad Request: no session; POST an initialize request");
    }
    if (this.#stopped) return _jsonRpcError(503, -32000, "Service Unavailable: shutting down");
    if (this.#open.size + this.#opening >= this.#maxSessions) {
      this.#log(`session refused: ${this.#maxSessions} open (--max-sessions)`);
      return _jsonRpcError(
        503,
        -32000,
        `Too many sessions: this server holds at most ${this.#maxSessions} at once and all are ` +
          `open; end one (DELETE /mcp with its Mcp-Session-Id) or retry after idle ones expire`,
      );
    }
    this.#opening++;
    try {
      return await this.#openSession(req);
    } finally {
      this.#opening--;
    }
  }

  async #openSession(req: Request): Promise<Response> {
    const server = this.#options.newServer();
    const replay = new _ReplayBuffer(this.#options.replay ?? _REPLAY_LIMITS);
    let session: _Session | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      eventStore: replay,
      onsessioninitialized: (sid) => {
        session = { id: sid, server, transport, replay, active: 1 };
        this.#open.set(sid, session);
        this.#log(`session ${sid} opened`);
      },
    });
    server.closed.then(() => {
      const sid = transport.sessionId;
      const s = sid === undefined ? undefined : this.#open.get(sid);
      if (s === undefined || s.server !== server) return;
      clearTimeout(s.idleTimer);
      this.#open.delete(s.id);
      this.#log(`session ${s.id} closed`);
    });
    await server.connect(transport);
    let response: Response;
    try {
      response = await transport.handleRequest(req);
    } catch (err) {
      this.#closeServer(server);
      throw err;
    }
    // Not an initialize request: nothing will ever reach this server again.
    if (session === undefined) {
      this.#closeServer(server);
      return response;
    }
    const opened = session;
    return _onBodyEnd(response, () => this.#settle(opened));
  }

  async #forward(session: _Session, req: Request): Promise<Response> {
    session.active++;
    clearTimeout(session.idleTimer);
    let response: Response;
    try {
      if (req.method === "POST") await _noteBatch(session.replay, req);
      const lastEventId = req.method === "GET" ? req.headers.get("last-event-id") : null;
      response = (lastEventId === null ? undefined : this.#resume(session, lastEventId)) ??
        await session.transport.handleRequest(req);
    } catch (err) {
      this.#settle(session);
      throw err;
    }
    return _onBodyEnd(response, () => this.#settle(session));
  }

  /** A request or stream of `session` ended: with none left, the idle clock starts. */
  #settle(session: _Session): void {
    if (--session.active > 0 || this.#open.get(session.id) !== session) return;
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => {
      if (session.active > 0 || this.#open.get(session.id) !== session) return;
      this.#log(`session ${session.id} idle for ${this.#idleMs} ms (--session-idle-ms): closing`);
      this.#closeServer(session.server);
    }, this.#idleMs);
  }

  /**
   * Resumes after `lastEventId` itself when the SDK transport would get it wrong: a stream whose
   * response is stored is replayed and ended (the transport would hold it open forever), a
   * cancelled one gets 204 (nothing will come), a dropped event 410. Otherwise undefined: the
   * transport replays and keeps the stream for what is still to come.
   */
  #resume(session: _Session, lastEventId: string): Response | undefined {
    const resumed = session.replay.resume(lastEventId);
    const headers = { "mcp-session-id": session.id };
    switch (resumed.kind) {
      case "ended":
        return new Response(null, { status: 204, headers });
      case "dropped":
        return _jsonRpcError(
          410,
          -32000,
          `Gone: event ${lastEventId} is no longer kept (each session keeps its latest events); ` +
            `what followed it is lost, so send the request again`,
          headers,
        );
      case "complete": {
        const text = resumed.events.map(([id, message]) =>
          `event: message\nid: ${id}\ndata: ${JSON.stringify(message)}\n\n`
        ).join("");
        return new Response(text, {
          headers: { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" },
        });
      }
      default:
        return undefined;
    }
  }

  #closeServer(server: CodeModeMcpServer): void {
    const p = server.close().catch((err: unknown) => this.#log(`closing a session: ${err}`));
    this.#closing.add(p);
    p.finally(() => this.#closing.delete(p));
  }

  async closeAll(): Promise<void> {
    this.#stopped = true;
    for (const session of this.#open.values()) {
      clearTimeout(session.idleTimer);
      this.#closeServer(session.server);
    }
    while (this.#closing.size > 0) await Promise.all([...this.#closing]);
  }
}
