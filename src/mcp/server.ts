/**
 * codemode as an MCP server: one tool, `run_program`, whose description is the generated
 * description of a {@linkcode CodeMode}'s tools. Connect it to any MCP server transport (stdio,
 * Streamable HTTP); the type it returns is codemode's own, whatever SDK version is underneath.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server"
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { CodeMode, RunOptions } from "../code_mode.ts";
import type { RunResult, ToolCallTrace } from "../types.ts";
import { VERSION } from "../version.ts";
import { _ProtocolGuard } from "./protocol_guard.ts";
import type { RunLimit } from "./run_limit.ts";
import {
  type _CallResult,
  _callResult,
  _progressMessage,
  _refusedRun,
  _runProgramDefinition,
  RUN_PROGRAM_TOOL,
} from "./run_program_tool.ts";

export { RUN_PROGRAM_TOOL };

/** A JSON-RPC 2.0 message, as MCP transports carry them. */
export interface JsonRpcMessage {
  /** Always `"2.0"`. */
  jsonrpc: "2.0";
  /** The request, notification or response fields. */
  [field: string]: unknown;
}

/**
 * A server-side MCP transport: the shape every transport of the official MCP SDK has
 * (`StdioServerTransport`, `WebStandardStreamableHTTPServerTransport`, …), so any of them can be
 * passed to {@linkcode CodeModeMcpServer.connect}.
 *
 * @example Pass the SDK's stdio transport
 * ```ts ignore
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * const transport: McpServerTransport = new StdioServerTransport();
 * ```
 */
export interface McpServerTransport {
  /** Starts receiving messages. */
  start(): Promise<void>;
  /** Sends one message; `relatedRequestId` routes a notification to its request's stream. */
  send(message: JsonRpcMessage, options?: { relatedRequestId?: string | number }): Promise<void>;
  /** Ends the transport. */
  close(): Promise<void>;
  /** Set by the server: receives each incoming message. */
  onmessage?(message: JsonRpcMessage, extra?: unknown): void;
  /** Set by the server: the transport closed. */
  onclose?(): void;
  /** Set by the server: a transport error. */
  onerror?(error: Error): void;
  /** The session this transport serves (Streamable HTTP). */
  readonly sessionId?: string;
}

/**
 * What {@linkcode createCodeModeServer} returns: a server for one connection, with `run_program`
 * ready. Connect it with any MCP server transport; close it (or dispose of it) when done.
 *
 * @example Connect over stdio
 * ```ts ignore
 * import { CodeMode } from "@codemode/cli";
 * import { createCodeModeServer, type CodeModeMcpServer } from "@codemode/cli/mcp-server";
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * await using server: CodeModeMcpServer = createCodeModeServer(new CodeMode());
 * await server.connect(new StdioServerTransport());
 * await server.closed;
 * ```
 */
export interface CodeModeMcpServer extends AsyncDisposable {
  /** Starts serving over `transport` (one connection per server). */
  connect(transport: McpServerTransport): Promise<void>;
  /** Ends the connection; runs under way are cancelled. Idempotent. */
  close(): Promise<void>;
  /** Whether a transport is connected now. */
  readonly connected: boolean;
  /** Resolves once the connection has ended, closed by either side. */
  readonly closed: Promise<void>;
}

/**
 * Options for {@linkcode createCodeModeServer}.
 *
 * @example Re-describe when MCP servers change their tools
 * ```ts ignore
 * import { CodeMode } from "@codemode/cli";
 * import { connectMcpServers } from "@codemode/cli/mcp";
 * import { createCodeModeServer } from "@codemode/cli/mcp-server";
 * const mcp = await connectMcpServers({ mcpServers: {} });
 * const codeMode = new CodeMode({ tools: mcp.tools });
 * const server = createCodeModeServer(codeMode, {
 *   watchTools: (changed) =>
 *     mcp.onToolsChanged((tools) => {
 *       codeMode.setTools(tools);
 *       changed();
 *     }),
 * });
 * ```
 */
export interface CodeModeServerOptions {
  /**
   * The server name announced to clients.
   * @default {"codemode"}
   */
  name?: string;
  /**
   * The server version announced to clients.
   * @default {codemode's version}
   */
  version?: string;
  /**
   * Subscribes the server to changes of the CodeMode's tool set. It is called once with a
   * `changed` callback; call that after each `codeMode.setTools(...)` and the server describes the
   * tools again and sends `notifications/tools/list_changed`. Return a function that unsubscribes;
   * the server calls it when it closes.
   * @default {undefined}
   */
  watchTools?: (changed: () => void) => () => void;
  /**
   * Receives one line per event worth logging (a failed notification, a finished run); stdio
   * servers must not write these to standard output.
   * @default {undefined}
   */
  log?: (message: string) => void;
  /**
   * Called as each `run_program` request arrives, before the program runs (e.g. to restart MCP
   * servers that failed, so the next run can reach them).
   * @default {undefined}
   */
  beforeRun?: () => void;
  /**
   * Caps programs running at once. Share one {@linkcode RunLimit} between the servers of every
   * session; a call past its queue gets a `limit` error result saying to retry.
   * @default {undefined (no cap)}
   */
  runLimit?: RunLimit;
}

/** What a request handler gets from the SDK, as far as `run_program` uses it. */
interface _RequestExtra {
  signal: AbortSignal;
  sessionId?: string;
  _meta?: { progressToken?: string | number };
  sendNotification(notification: {
    method: "notifications/progress";
    params: { progressToken: string | number; progress: number; message: string };
  }): Promise<void>;
}

/** The connection a request came on. */
interface _Connection {
  /** The MCP session id (Streamable HTTP), or one made up per stdio connection. */
  id: string;
}

/**
 * Creates an MCP server offering one tool, `run_program` (`{ program: string }`), that runs the
 * program with `codeMode` and returns what it printed.
 *
 * - The tool's description is `codeMode.describe().description`; with `watchTools`, it follows
 *   changes of the tool set and the server sends `notifications/tools/list_changed`.
 * - The result's text content is the printed output; a failed run has `isError: true` and the
 *   error report after the output. `structuredContent` is the whole {@linkcode RunResult}
 *   (declared as the tool's `outputSchema`).
 * - A request with a progress token gets one `notifications/progress` per tool call completed.
 * - A cancelled request (`notifications/cancelled`) ends its run, and its HTTP stream.
 * - Malformed params get JSON-RPC error -32602; a second `initialize` is refused; an unknown
 *   tool gets an error result.
 *
 * The server does not own `codeMode`: close it yourself after the server. One server serves one
 * connection; create one per session (e.g. per Streamable HTTP session) over the same CodeMode,
 * with one shared `runLimit`.
 *
 * @param codeMode The CodeMode that runs programs.
 * @param options Name, version, tool-change subscription, logging and the run limit.
 * @returns A server, not yet connected.
 *
 * @example Serve a CodeMode over stdio
 * ```ts ignore
 * import { CodeMode } from "@codemode/cli";
 * import { createCodeModeServer } from "@codemode/cli/mcp-server";
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 *
 * const codeMode = new CodeMode({ tools: [] });
 * const server = createCodeModeServer(codeMode);
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function createCodeModeServer(
  codeMode: CodeMode,
  options: CodeModeServerOptions = {},
): CodeModeMcpServer {
  return new _CodeModeServer(codeMode, options);
}

class _CodeModeServer implements CodeModeMcpServer {
  #codeMode: CodeMode;
  #options: CodeModeServerOptions;
  #log: (message: string) => void;
  #server: Server;
  #description: string;
  #connection: _Connection = { id: crypto.randomUUID() };
  #closed = Promise.withResolvers<void>();
  #unsubscribe?: () => void;

  constructor(codeMode: CodeMode, options: CodeModeServerOptions) {
    this.#codeMode = codeMode;
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#server = new Server(
      { name: options.name ?? "codemode", version: options.version ?? VERSION },
      { capabilities: { tools: { listChanged: true } } },
    );
    this.#description = codeMode.describe().description;
    this.#server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: [_runProgramDefinition(this.#description)],
    }));
    this.#server.setRequestHandler(
      CallToolRequestSchema,
      (request, extra) =>
        this.#call(request.params.name, request.params.arguments, extra as _RequestExtra),
    );
    this.#unsubscribe = options.watchTools?.(() => this.#toolsChanged());
    this.#server.onclose = () => {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
      this.#closed.resolve();
    };
  }

  get connected(): boolean {
    return this.#server.transport !== undefined;
  }

  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  async connect(transport: McpServerTransport): Promise<void> {
    // McpServerTransport is the SDK's Transport shape written down here, so this is the same type.
    await this.#server.connect(new _ProtocolGuard(transport as unknown as Transport));
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The options of one run of `run_program`, made in this one place. `connection` is the session
   * the request came on, and its id is the run's `tenant`: sandbox processes are shared only
   * within a session.
   */
  _runOptions(connection: _Connection, extra: _RequestExtra): RunOptions {
    const token = extra._meta?.progressToken;
    let done = 0;
    const onToolCall = token === undefined ? undefined : (call: ToolCallTrace) => {
      done++;
      extra.sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: done, message: _progressMessage(call) },
      }).catch((err: unknown) => this.#log(`progress notification failed: ${String(err)}`));
    };
    // Each session is its own tenant: its runs never share a sandbox process with another's.
    return { signal: extra.signal, onToolCall, tenant: connection.id };
  }

  async #call(name: string, args: unknown, extra: _RequestExtra): Promise<_CallResult> {
    if (name !== RUN_PROGRAM_TOOL) {
      // As the SDK's McpServer answers it: a tool error the model reads, not a protocol error.
      return {
        content: [{
          type: "text",
          text: `Unknown tool "${name}": this server has one tool, ${RUN_PROGRAM_TOOL}`,
        }],
        isError: true,
      } as _CallResult;
    }
    const program = (args as { program?: unknown } | undefined)?.program;
    if (typeof program !== "string") {
      return _callResult(_refusedRun(
        "syntax",
        `${RUN_PROGRAM_TOOL} needs { program: string }, got ${
          program === undefined ? "no program" : `a program of type ${typeof program}`
        }: send the TypeScript program as the "program" argument`,
      ));
    }
    this.#options.beforeRun?.();
    const connection = { id: extra.sessionId ?? this.#connection.id };
    const limit = this.#options.runLimit;
    let slot;
    try {
      slot = limit ? await limit.acquire(extra.signal) : undefined;
    } catch {
      return _callResult(
        _refusedRun("timeout", "the request was cancelled while it waited to run"),
      );
    }
    if (slot === null) {
      this.#log(`run_program refused: busy (${limit!.running} running, ${limit!.queued} waiting)`);
      return _callResult(_refusedRun(
        "limit",
        `codemode is busy: ${limit!.running} programs are running and ${limit!.queued} are ` +
          `waiting, the most this server takes; retry in a few seconds`,
      ));
    }
    let result: RunResult;
    try {
      result = await this.#codeMode.run(program, this._runOptions(connection, extra));
    } finally {
      slot?.release();
    }
    this.#log(
      `run_program: ${result.ok ? "ok" : `${result.error?.kind} error`}, ${result.calls} tool ` +
        `calls, ${result.stats.durationMs.toFixed(0)} ms${
          extra.signal.aborted ? " (cancelled)" : ""
        }`,
    );
    return _callResult(result);
  }

  #toolsChanged(): void {
    let next: string;
    try {
      next = this.#codeMode.describe().description;
    } catch (err) {
      this.#log(`cannot describe the new tool set: ${(err as Error).message}`);
      return;
    }
    if (next === this.#description) return;
    this.#description = next;
    if (this.connected) {
      this.#server.sendToolListChanged().catch((err: unknown) =>
        this.#log(`tools/list_changed notification failed: ${String(err)}`)
      );
    }
  }
}
