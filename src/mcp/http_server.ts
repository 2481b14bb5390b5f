/**
 * Serving MCP servers over Streamable HTTP on the loopback interface: one SDK transport and one
 * server per session, with the Host/Origin checks that keep web pages from reaching it.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";

/** Options for {@linkcode _serveHttp}. */
export interface _HttpServeOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** A new, unconnected server for each session. */
  newServer: () => McpServer;
  /** Called once listening, with the endpoint URL. */
  onListen?: (url: string) => void;
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

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function _jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}

/** Whether a Host or Origin header names this machine (DNS-rebinding protection). */
function _isLoopback(value: string, origin: boolean): boolean {
  try {
    return LOOPBACK.has(new URL(origin ? value : `http://${value}`).hostname);
  } catch {
    return false;
  }
}

/**
 * Serves `newServer()` sessions at `/mcp` over Streamable HTTP (stateful sessions, SSE streams).
 *
 * @example Serve until closed
 * ```ts ignore
 * const serving = await _serveHttp({ port: 0, newServer: () => createCodeModeServer(codeMode) });
 * console.log(serving.url);
 * await serving.close();
 * ```
 */
export async function _serveHttp(options: _HttpServeOptions): Promise<_HttpServing> {
  const log = options.log ?? (() => {});
  const sessions = new Map<
    string,
    { server: McpServer; transport: WebStandardStreamableHTTPServerTransport }
  >();
  const closing = new Set<Promise<void>>();
  const closeServer = (server: McpServer) => {
    const p = server.close().catch((err: unknown) => log(`closing a session: ${String(err)}`));
    closing.add(p);
    p.finally(() => closing.delete(p));
  };

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname !== "/mcp") {
      return new Response(`Not found: the MCP endpoint is /mcp\n`, { status: 404 });
    }
    const host = req.headers.get("host");
    const origin = req.headers.get("origin");
    if ((host !== null && !_isLoopback(host, false)) || (origin && !_isLoopback(origin, true))) {
      return _jsonRpcError(403, -32000, "Forbidden: only local clients may connect");
    }
    const id = req.headers.get("mcp-session-id");
    if (id !== null) {
      const session = sessions.get(id);
      if (session === undefined) {
        return _jsonRpcError(404, -32001, `Session not found: ${id}; initialize a new session`);
      }
      return await session.transport.handleRequest(req);
    }
    if (req.method !== "POST") {
      return _jsonRpcError(400, -32000, "Bad Request: no session; POST an initialize request");
    }
    const server = options.newServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, { server, transport });
        log(`session ${sid} opened`);
      },
    });
    const previous = server.server.onclose;
    server.server.onclose = () => {
      if (transport.sessionId !== undefined && sessions.delete(transport.sessionId)) {
        log(`session ${transport.sessionId} closed`);
      }
      previous?.();
    };
    await server.connect(transport);
    const response = await transport.handleRequest(req);
    // Not an initialize request: nothing will ever reach this server again.
    if (transport.sessionId === undefined) closeServer(server);
    return response;
  };

  const { promise: listening, resolve } = Promise.withResolvers<string>();
  const http = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    onListen: ({ hostname, port }) => resolve(`http://${hostname}:${port}/mcp`),
    onError: (err) => {
      log(`HTTP request failed: ${String(err)}`);
      return _jsonRpcError(500, -32603, "Internal error");
    },
  }, handle);
  const url = await listening;
  options.onListen?.(url);
  return {
    url,
    get sessions() {
      return sessions.size;
    },
    async close() {
      for (const { server } of sessions.values()) closeServer(server);
      sessions.clear();
      await Promise.all([...closing]);
      await http.shutdown();
    },
  };
}
