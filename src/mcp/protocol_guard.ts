/**
 * A transport wrapper in front of the SDK's `Server` that makes stdio and Streamable HTTP answer
 * alike: malformed params get -32602 with one readable line (not -32603 with a schema dump), a
 * second `initialize` is refused, and a cancelled request's SSE stream is ended.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type {
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  type JSONRPCMessage,
  ListToolsRequestSchema,
  type MessageExtraInfo,
  PingRequestSchema,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { _STREAM_ENDED } from "./replay_buffer.ts";

/** The request schemas whose params are checked before the SDK parses them. */
const CHECKED: Record<string, { safeParse(value: unknown): _Parsed }> = {
  "initialize": InitializeRequestSchema,
  "ping": PingRequestSchema,
  "tools/list": ListToolsRequestSchema,
  "tools/call": CallToolRequestSchema,
};

interface _Parsed {
  success: boolean;
  error?: { issues?: { path: PropertyKey[]; message: string }[] };
}

/** The one-line message for params that do not fit `method`'s schema, or null when they fit. */
export function _paramsProblem(method: string, request: Record<string, unknown>): string | null {
  const schema = CHECKED[method];
  if (schema === undefined) {
    const params = request.params;
    if (params === undefined || (typeof params === "object" && params !== null)) return null;
    return `Invalid params for ${method}: params must be an object`;
  }
  const parsed = schema.safeParse(request);
  if (parsed.success) return null;
  const issue = parsed.error?.issues?.[0];
  const where = issue?.path.map(String).join(".") || "params";
  const missing = request.params === undefined
    ? "params are missing"
    : `${where}: ${issue?.message ?? "not valid"}`;
  const hint = method === "tools/call" ? ` (send params { name, arguments })` : "";
  return `Invalid params for ${method}: ${missing}${hint}`;
}

/** Whether the inner transport can end one request's SSE stream (Streamable HTTP). */
function _canCloseStream(t: Transport): t is Transport & { closeSSEStream(id: RequestId): void } {
  return typeof (t as { closeSSEStream?: unknown }).closeSSEStream === "function";
}

/**
 * Wraps `inner` for one SDK `Server`: checks each incoming request before the SDK sees it and
 * answers the malformed ones itself.
 *
 * @example Guard a transport
 * ```ts ignore
 * await sdkServer.connect(new _ProtocolGuard(new StdioServerTransport()));
 * ```
 */
export class _ProtocolGuard implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  #inner: Transport;
  #initialized = false;
  /** Requests in flight, with the object shared by the messages of the same HTTP POST. */
  #inFlight = new Map<RequestId, object | undefined>();

  /** @param inner The transport to guard. */
  constructor(inner: Transport) {
    this.#inner = inner;
  }

  /** The inner transport's session id (Streamable HTTP). */
  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  /** Passes the negotiated version on (the HTTP transport checks the header against it). */
  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    this.#inner.onclose = () => this.onclose?.();
    this.#inner.onerror = (error) => this.onerror?.(error);
    this.#inner.onmessage = (message, extra) => this.#receive(message, extra);
    return this.#inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (("result" in message || "error" in message) && message.id !== undefined) {
      this.#inFlight.delete(message.id);
    }
    return this.#inner.send(message, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if ("method" in message && "id" in message) {
      const problem = this.#requestProblem(message as Record<string, unknown> & { method: string });
      if (problem !== null) {
        this.#inner.send({ jsonrpc: "2.0", id: message.id, error: problem }).catch((err) =>
          this.onerror?.(err instanceof Error ? err : new Error(String(err)))
        );
        return;
      }
      this.#inFlight.set(message.id, extra?.requestInfo);
    }
    this.onmessage?.(message, extra);
    if ("method" in message && message.method === "notifications/cancelled") {
      this.#endCancelled((message.params as { requestId?: RequestId } | undefined)?.requestId);
    }
  }

  #requestProblem(
    request: Record<string, unknown> & { method: string },
  ): { code: number; message: string } | null {
    if (request.method === "initialize") {
      if (this.#initialized) {
        return {
          code: ErrorCode.InvalidRequest,
          message: "Invalid Request: Server already initialized",
        };
      }
    }
    const problem = _paramsProblem(request.method, request);
    if (problem !== null) return { code: ErrorCode.InvalidParams, message: problem };
    if (request.method === "initialize") this.#initialized = true;
    return null;
  }

  /** A cancelled request gets no response (MCP): end its HTTP stream unless it carries others. */
  #endCancelled(id: RequestId | undefined): void {
    if (id === undefined || !this.#inFlight.has(id)) return;
    const post = this.#inFlight.get(id);
    this.#inFlight.delete(id);
    if (!_canCloseStream(this.#inner)) return;
    for (const other of this.#inFlight.values()) if (post !== undefined && other === post) return;
    this.#inner.closeSSEStream(id);
    // The stream is gone, so this marker reaches only the session's replay buffer: a client
    // resuming the cancelled stream is told it ended instead of waiting on it forever.
    this.#inner.send({ jsonrpc: "2.0", method: _STREAM_ENDED }, { relatedRequestId: id })
      .catch(() => {});
  }
}
