/**
 * One MCP server: starting it (stdio child process or Streamable HTTP) through the official SDK,
 * listing its tools, calling them, noticing when it dies or hangs, reconnecting lazily, and ending
 * its processes.
 *
 * @module
 */

// The SDK's "./*" export maps `x.js` to a missing `x.js.d.ts`, so Deno would type `.js` imports as
// `any`; `@ts-types` points each at its real declarations.
import type { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/shared/protocol"
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type Tool as SdkTool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { ToolContext } from "../types.ts";
import type { McpServerState, McpServerStatus } from "./status.ts";
import type { McpServerConfig } from "./config.ts";
import { _terminate } from "./process_tree.ts";
import { _toolResultValue } from "./result.ts";
import {
  _closeSession,
  _isHttp,
  _newSession,
  _recordProcesses,
  type _Session,
  _sessionGone,
  _sessionPid,
  _startErrorText,
} from "./session.ts";
import { _StderrTail } from "./stderr_tail.ts";
import { _acceptTools, _listAllTools } from "./tool_list.ts";

/** Settings of one {@linkcode _McpConnection} (all required; defaults live in `servers.ts`). */
export interface _ConnectionOptions {
  /** Limit for starting: the `initialize` request and each `tools/list` page. */
  connectTimeoutMs: number;
  /** Limit for one `tools/call` without progress. */
  callTimeoutMs: number;
  /** Called when the server's tool list changed (after `list_changed` or a reconnect). */
  onToolsChanged: () => void;
}

/**
 * A connection to one MCP server that survives the server: a call after a death or a hang
 * starts it again.
 *
 * @example Call a tool of one server
 * ```ts ignore
 * import { _McpConnection } from "./connection.ts";
 * const conn = new _McpConnection("everything", { command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"] }, {
 *   connectTimeoutMs: 60_000, callTimeoutMs: 60_000, onToolsChanged: () => {},
 * });
 * await conn.start();
 * console.log(await conn.call("get-sum", { a: 1, b: 2 }, { signal: new AbortController().signal, name: "x" }));
 * await conn.close();
 * ```
 */
export class _McpConnection {
  /** The server's name in the configuration. */
  readonly name: string;
  /** Its configuration. */
  readonly config: McpServerConfig;
  #options: _ConnectionOptions;
  #state: McpServerState = "connecting";
  #error?: string;
  #session?: _Session;
  #opening?: Promise<_Session>;
  #tools: SdkTool[] = [];
  #toolsJson = "[]";
  #taskTools = new Set<string>();
  #structuredTools = new Set<string>();
  #warnings: string[] = [];
  #listWarning?: string;
  #serverInfo?: { name: string; version: string };
  #instructions?: string;
  #tail = new _StderrTail();
  #refreshing?: Promise<void>;
  #refreshAgain = false;
  #probing = false;
  #background = new Set<Promise<unknown>>();
  #closing?: Promise<void>;

  /**
   * @param name The server's name in the configuration.
   * @param config How to start or reach it.
   * @param options Limits and the change callback.
   */
  constructor(name: string, config: McpServerConfig, options: _ConnectionOptions) {
    this.name = name;
    this.config = config;
    this.#options = options;
  }

  /** Where the server stands. */
  get state(): McpServerState {
    return this.#state;
  }

  /** Its tools as last listed, without the ones whose names collide. */
  get tools(): readonly SdkTool[] {
    return this.#tools;
  }

  /**
   * Starts (or restarts) the server and lists its tools. Never throws: a failure is recorded in
   * {@linkcode _McpConnection.status}.
   */
  async start(signal?: AbortSignal): Promise<void> {
    try {
      await this.#ensure(signal);
    } catch {
      // Recorded in #state and #error.
    }
  }

  /** The server's state for `status()`. */
  status(): McpServerStatus {
    const out: McpServerStatus = {
      name: this.name,
      transport: "command" in this.config ? "stdio" : "http",
      state: this.#state,
      tools: this.#tools.length,
      warnings: this.#listWarning ? [...this.#warnings, this.#listWarning] : [...this.#warnings],
    };
    if (this.#error !== undefined && this.#state !== "connected") out.error = this.#error;
    const pid = _sessionPid(this.#session);
    if (pid !== undefined) out.pid = pid;
    if (this.#serverInfo) out.serverInfo = this.#serverInfo;
    if (this.#instructions) out.instructions = this.#instructions;
    return out;
  }

  /**
   * Calls a tool by its original name and converts the result (see `result.ts`). Errors name
   * the server; a dead server is restarted first.
   */
  async call(tool: string, input: unknown, context: ToolContext): Promise<unknown> {
    const signal = context.signal;
    const at = `MCP server "${this.name}": tool "${tool}"`;
    signal.throwIfAborted();
    let session: _Session;
    try {
      session = await _abortable(this.#ensure(), signal);
    } catch (error) {
      if (signal.aborted) throw new Error(`${at} was cancelled`, { cause: signal.reason });
      throw new Error(`${at} is unavailable: ${_message(error)}`, { cause: error });
    }
    const options: RequestOptions = {
      signal,
      timeout: this.#options.callTimeoutMs,
      resetTimeoutOnProgress: true,
      onprogress: (p) => {
        const of = p.total === undefined ? "" : `/${p.total}`;
        context.progress?.(`${p.progress}${of}${p.message ? ` ${p.message}` : ""}`);
      },
    };
    const params = { name: tool, arguments: (input ?? {}) as Record<string, unknown> };
    let result: CallToolResult;
    for (let attempt = 1;; attempt++) {
      try {
        result = this.#taskTools.has(tool)
          ? await this.#callTask(session.client, params, options, context)
          : await session.client.callTool(params, CallToolResultSchema, options) as CallToolResult;
        break;
      } catch (error) {
        if (attempt > 1 || !_sessionGone(error) || signal.aborted) {
          throw this.#callError(session, at, error, signal);
        }
      }
      // The HTTP server refused the session (it restarted, or expired the session) without
      // running anything: start a new session and send the call once more.
      await this.#drop(session, "the server no longer knew the session");
      try {
        session = await _abortable(this.#ensure(), signal);
      } catch (error) {
        if (signal.aborted) throw new Error(`${at} was cancelled`, { cause: signal.reason });
        throw new Error(`${at} is unavailable: ${_message(error)}`, { cause: error });
      }
    }
    return _toolResultValue(result, this.name, tool, this.#structuredTools.has(tool));
  }

  /** Ends the connection and every process the server started. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = "closed";
      const session = this.#session;
      this.#session = undefined;
      if (session) await _closeSession(session, false);
      await this.#opening?.catch(() => {});
      while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    })();
    return this.#closing;
  }

  #ensure(signal?: AbortSignal): Promise<_Session> {
    if (this.#state === "closed") {
      return Promise.reject(new Error(`the connection was closed`));
    }
    if (this.#session && this.#state === "connected") return Promise.resolve(this.#session);
    this.#opening ??= this.#open(signal).finally(() => this.#opening = undefined);
    return this.#opening;
  }

  async #open(signal?: AbortSignal): Promise<_Session> {
    this.#state = "connecting";
    this.#tail.clear();
    let session: _Session;
    try {
      session = await _newSession(this.config, this.#tail);
    } catch (error) {
      this.#state = "failed";
      this.#error = `failed to start: ${_message(error)}`;
      throw new Error(this.#error, { cause: error });
    }
    if (this.#closing) throw new Error("the connection was closed while starting");
    const { client, transport } = session;
    this.#session = session;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.#track(this.#refresh(session));
    });
    client.onclose = () => this.#onClosed(session);
    // Transport errors also fail the request that met them; that is where they are reported.
    // Over HTTP, an error can also be the only sign that the server died (an SSE stream cut
    // mid-call would otherwise wait for the call's timeout): ask the server whether it is there.
    client.onerror = () => {
      if (_isHttp(session) && this.#session === session && this.#state === "connected") {
        this.#track(this.#probe(session, "its HTTP stream broke, then a ping failed"));
      }
    };
    try {
      await client.connect(transport, { timeout: this.#options.connectTimeoutMs, signal });
      await _recordProcesses(session);
      const tools = await _listAllTools(client, {
        timeout: this.#options.connectTimeoutMs,
        signal,
      });
      if (this.#session !== session || this.#closing) {
        throw new Error("the connection was closed while starting");
      }
      this.#serverInfo = client.getServerVersion();
      this.#instructions = client.getInstructions();
      this.#state = "connected";
      this.#error = undefined;
      this.#setTools(tools);
      return session;
    } catch (error) {
      // Let the stderr of a process that just exited arrive before quoting it.
      await new Promise((r) => setTimeout(r, 50));
      const cause = _startErrorText(error, this.config, this.#options.connectTimeoutMs);
      const message = `failed to start: ${cause}${this.#tail.suffix()}`;
      if (this.#session === session) {
        this.#session = undefined;
        this.#state = "failed";
        this.#error = message;
      }
      await _closeSession(session, true);
      throw new Error(message, { cause: error });
    }
  }

  /** Keeps the tools whose names do not collide; reports a change. */
  #setTools(listed: SdkTool[]): void {
    const { kept, warnings } = _acceptTools(listed);
    this.#warnings = warnings;
    this.#taskTools = new Set(
      kept.filter((t) => t.execution?.taskSupport === "required").map((t) => t.name),
    );
    this.#structuredTools = new Set(kept.filter((t) => t.outputSchema).map((t) => t.name));
    const json = JSON.stringify(kept);
    if (json === this.#toolsJson) return;
    this.#tools = kept;
    this.#toolsJson = json;
    this.#options.onToolsChanged();
  }

  /** Re-lists after `notifications/tools/list_changed`; notifications during a listing coalesce. */
  #refresh(session: _Session): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        await this.#opening?.catch(() => {});
        if (this.#session !== session || this.#state !== "connected") return;
        try {
          const tools = await _listAllTools(session.client, {
            timeout: this.#options.connectTimeoutMs,
          });
          if (this.#session !== session) return;
          this.#listWarning = undefined;
          this.#setTools(tools);
        } catch (error) {
          if (this.#session !== session) return;
          this.#listWarning = `re-listing tools after notifications/tools/list_changed failed: ${
            _message(error)
          }`;
        }
      } while (this.#refreshAgain);
    })().finally(() => this.#refreshing = undefined);
    return this.#refreshing;
  }

  async #callTask(
    client: Client,
    params: { name: string; arguments: Record<string, unknown> },
    options: RequestOptions,
    context: ToolContext,
  ): Promise<CallToolResult> {
    const stream = client.experimental.tasks.callToolStream(params, CallToolResultSchema, options);
    for await (const message of stream) {
      if (message.type === "taskStatus" && message.task.statusMessage) {
        context.progress?.(message.task.statusMessage);
      } else if (message.type === "result") {
        return message.result as CallToolResult;
      } else if (message.type === "error") {
        throw message.error;
      }
    }
    throw new Error("the task ended without a result");
  }

  /** Words for a failed call; a lost connection is dropped so the next call restarts it. */
  #callError(session: _Session, at: string, error: unknown, signal: AbortSignal): Error {
    if (signal.aborted) return new Error(`${at} was cancelled`, { cause: signal.reason });
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      this.#track(this.#probe(session, "it stopped answering (a call timed out, then a ping)"));
      return new Error(
        `${at} did not answer within ${this.#options.callTimeoutMs} ms (callTimeoutMs); ` +
          `the server may be hung — if it no longer answers pings it is restarted on the next call`,
        { cause: error },
      );
    }
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      return new Error(
        `${at} failed: the server closed the connection during the call${this.#tail.suffix()}; ` +
          `the next call restarts it`,
        { cause: error },
      );
    }
    if (error instanceof McpError) {
      return new Error(`${at} failed: ${error.message}`, { cause: error });
    }
    // Not an answer from the server: a broken pipe, a refused or reset HTTP connection, an
    // expired session. Start afresh on the next call.
    const reason = `lost the connection: ${_message(error)}`;
    this.#track(this.#drop(session, reason));
    return new Error(`${at} failed: ${reason}; the next call reconnects`, { cause: error });
  }

  /**
   * After a timed-out call or a broken HTTP stream: a server that no longer answers a ping is
   * dropped, which fails the calls still waiting on it at once (the next call starts afresh).
   */
  async #probe(session: _Session, reason: string): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      await session.client.ping({ timeout: Math.min(this.#options.callTimeoutMs, 5_000) });
    } catch {
      await this.#drop(session, reason);
    } finally {
      this.#probing = false;
    }
  }

  async #drop(session: _Session, reason: string): Promise<void> {
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#state = "disconnected";
    this.#error = `${reason}${this.#tail.suffix()}`;
    await _closeSession(session, true);
  }

  /** The transport closed: deliberately (ignored) or because the server died. */
  #onClosed(session: _Session): void {
    if (this.#session !== session || this.#state === "connecting") return; // #open reports it
    this.#session = undefined;
    this.#state = "disconnected";
    this.#error = `the server closed the connection${this.#tail.suffix()}`;
    // A wrapper (npx) that died may leave the real server behind.
    this.#track(_terminate(session.pids, 1_000));
  }

  #track(promise: Promise<unknown>): void {
    const p = promise.catch(() => {}).finally(() => this.#background.delete(p));
    this.#background.add(p);
  }
}

function _message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `promise`, or a rejection as soon as `signal` aborts (the promise itself runs on). */
function _abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
