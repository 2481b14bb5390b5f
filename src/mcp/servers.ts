/**
 * Tools from many MCP servers at once: `connectMcpServers(config)` starts every configured server
 * and offers their tools as codemode {@linkcode Tool}s named `<server>.<tool>`.
 *
 * @module
 */

import type { Tool, ToolContext } from "../types.ts";
import type { McpConfig } from "./config.ts";
import { _McpConnection } from "./connection.ts";
import type { McpServerStatus } from "./status.ts";

export type { McpServerState, McpServerStatus } from "./status.ts";

/**
 * A tool of an MCP server, as offered to programs.
 *
 * `name` is `<server>.<tool>` with the original names (a dot inside the server name becomes `_`);
 * the core makes each side identifier-safe (`everything.get-sum` is called as
 * `everything.get_sum(input)`).
 *
 * @example List where tools come from
 * ```ts
 * import type { McpTool } from "./servers.ts";
 * const origin = (t: McpTool) => `${t.tool} from ${t.server}`;
 * ```
 */
export interface McpTool extends Tool {
  /** The server's name in the configuration. */
  server: string;
  /** The tool's original name on its server. */
  tool: string;
  /** The tool's human-readable title, if the server gave one. */
  title?: string;
  /** The server's hints (`readOnlyHint`, `destructiveHint`, …), if any. */
  annotations?: Record<string, unknown>;
}

/** Options for {@linkcode connectMcpServers}. */
export interface ConnectOptions {
  /**
   * Milliseconds one `tools/call` may take without the server reporting progress before it fails
   * with an error naming the server (a server that then also misses a ping is restarted).
   * @default 60_000
   */
  callTimeoutMs?: number;
  /**
   * Milliseconds a server may take to answer `initialize` (and each `tools/list` page) when it
   * starts. `npx -y` downloading a package the first time counts against it.
   * @default 60_000
   */
  connectTimeoutMs?: number;
  /**
   * Called with the new tool list whenever it changes after `connectMcpServers` resolved: a
   * server sent `notifications/tools/list_changed`, or came back with other tools.
   * Same as registering with {@linkcode McpServers.onToolsChanged}.
   * @default undefined
   */
  onToolsChanged?: (tools: McpTool[]) => void;
  /**
   * Cancels starting the servers; `connectMcpServers` then ends what it started and rejects with
   * the signal's reason.
   * @default undefined
   */
  signal?: AbortSignal;
}

/**
 * The connected servers and their tools. Dispose of it (or `close()` it) to end every server
 * process.
 *
 * @example Watch the tool list
 * ```ts ignore
 * import { connectMcpServers } from "./servers.ts";
 * await using servers = await connectMcpServers({ mcpServers: {} });
 * const stop = servers.onToolsChanged((tools) => console.log(tools.length, "tools"));
 * stop();
 * ```
 */
export interface McpServers extends AsyncDisposable {
  /** The tools of every connected server, in configuration order; a new array after each change. */
  readonly tools: McpTool[];
  /**
   * Calls `listener` with the new tool list whenever it changes. Exceptions it throws are ignored.
   * @returns A function that unregisters it.
   */
  onToolsChanged(listener: (tools: McpTool[]) => void): () => void;
  /** Each configured server's state, error and tool count, in configuration order. */
  status(): McpServerStatus[];
  /**
   * Starts again every server that failed to start or died (a dead server also restarts by itself
   * on its next call; one that never started has no tools to call, so it needs this).
   */
  reconnect(options?: { signal?: AbortSignal }): Promise<void>;
  /** Ends every server and its processes. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts every server of an `mcpServers` configuration through the official MCP SDK (stdio child
 * processes and Streamable HTTP) and offers their tools.
 *
 * Servers start in parallel. One that cannot be started is reported by `status()` (with the end of
 * its stderr) while the others work; `connectMcpServers` rejects only when every configured
 * server failed (after ending them), since a run could then call nothing. A server that dies or
 * hangs fails its calls with an error naming it, and its next call starts it again.
 *
 * @param config The parsed configuration (see `parseMcpConfig` / `loadMcpConfig`).
 * @param options See {@linkcode ConnectOptions}.
 * @returns The connected servers.
 * @throws {Error} when every configured server failed to start, listing each cause.
 * @throws {RangeError} when a timeout option is not a positive number.
 *
 * @example Use an MCP server's tools
 * ```ts ignore
 * import { connectMcpServers } from "./servers.ts";
 * await using servers = await connectMcpServers({
 *   mcpServers: {
 *     everything: { command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"] },
 *   },
 * });
 * const sum = servers.tools.find((t) => t.name === "everything.get-sum")!;
 * const ac = new AbortController();
 * console.log(await sum.execute({ a: 1, b: 2 }, { signal: ac.signal, name: "everything.get_sum" }));
 * ```
 */
export async function connectMcpServers(
  config: McpConfig,
  options: ConnectOptions = {},
): Promise<McpServers> {
  const servers = new _McpServers(config, options);
  await servers._start(options.signal);
  return servers;
}

class _McpServers implements McpServers {
  #connections: _McpConnection[];
  #listeners = new Set<(tools: McpTool[]) => void>();
  #tools: McpTool[] = [];
  #ready = false;
  #closing?: Promise<void>;

  constructor(config: McpConfig, options: ConnectOptions) {
    const callTimeoutMs = _positive("callTimeoutMs", options.callTimeoutMs ?? 60_000);
    const connectTimeoutMs = _positive("connectTimeoutMs", options.connectTimeoutMs ?? 60_000);
    if (options.onToolsChanged) this.#listeners.add(options.onToolsChanged);
    this.#connections = Object.entries(config.mcpServers).map(([name, server]) =>
      new _McpConnection(name, server, {
        callTimeoutMs,
        connectTimeoutMs,
        onToolsChanged: () => this.#changed(),
      })
    );
  }

  get tools(): McpTool[] {
    return this.#tools;
  }

  async _start(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.#connections.map((c) => c.start(signal)));
    if (signal?.aborted) {
      await this.close();
      throw signal.reason;
    }
    const failed = this.#connections.filter((c) => c.state === "failed");
    if (failed.length > 0 && failed.length === this.#connections.length) {
      const causes = failed.map((c) => `- ${c.name}: ${c.status().error}`).join("\n");
      await this.close();
      throw new Error(
        `No MCP server could be started; fix the configuration or the servers:\n${causes}`,
      );
    }
    this.#tools = this.#build();
    this.#ready = true;
  }

  onToolsChanged(listener: (tools: McpTool[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): McpServerStatus[] {
    return this.#connections.map((c) => c.status());
  }

  async reconnect(options: { signal?: AbortSignal } = {}): Promise<void> {
    await Promise.all(
      this.#connections
        .filter((c) => c.state === "failed" || c.state === "disconnected")
        .map((c) => c.start(options.signal)),
    );
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready = false;
      this.#listeners.clear();
      await Promise.all(this.#connections.map((c) => c.close()));
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #changed(): void {
    if (!this.#ready) return;
    this.#tools = this.#build();
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#tools);
      } catch {
        // A failing listener must not keep the others, or the connection, from going on.
      }
    }
  }

  #build(): McpTool[] {
    const out: McpTool[] = [];
    for (const conn of this.#connections) {
      const prefix = conn.name.replaceAll(".", "_");
      for (const t of conn.tools) {
        const tool: McpTool = {
          name: `${prefix}.${t.name}`,
          description: t.description ?? t.title ?? "",
          inputSchema: t.inputSchema,
          server: conn.name,
          tool: t.name,
          execute: (input: unknown, context: ToolContext) => conn.call(t.name, input, context),
          mcpContent: true,
        };
        if (t.outputSchema) tool.outputSchema = t.outputSchema;
        if (t.title) tool.title = t.title;
        if (t.annotations) tool.annotations = t.annotations;
        out.push(tool);
      }
    }
    return out;
  }
}

function _positive(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}.`);
  }
  return value;
}
