/**
 * One attempt at a server: its SDK client and transport (a stdio child process or Streamable
 * HTTP), how to describe why it did not start, and how to end it with every process it started.
 *
 * @module
 */

// The SDK's "./*" export maps `x.js` to a missing `x.js.d.ts`, so Deno would type `.js` imports as
// `any`; `@ts-types` points each at its real declarations.
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { VERSION } from "../version.ts";
import type { McpServerConfig } from "./config.ts";
import { _descendants, _terminate } from "./process_tree.ts";
import type { _StderrTail } from "./stderr_tail.ts";

/** The client name and version codemode announces to servers. */
const CLIENT_INFO = { name: "codemode", version: VERSION };

/**
 * A client with its transport; for stdio, the process tree seen once the server answered
 * (`npx` → `sh` → `node`).
 */
export interface _Session {
  /** The SDK client. */
  client: Client;
  /** Its transport. */
  transport: StdioClientTransport | StreamableHTTPClientTransport;
  /** Process ids of the stdio server and what it started (empty for HTTP, or until recorded). */
  pids: number[];
}

/**
 * A client and transport for `config`, not yet connected. A stdio server's stderr goes to `tail`
 * instead of the terminal; its environment is `env` over the SDK's safe default one.
 *
 * @throws {Error} when a stdio server's `cwd` is not a directory.
 *
 * @example Start a session
 * ```ts ignore
 * import { _newSession } from "./session.ts";
 * import { _StderrTail } from "./stderr_tail.ts";
 * const s = await _newSession({ command: "npx", args: ["-y", "@modelcontextprotocol/server-memory"] }, new _StderrTail());
 * await s.client.connect(s.transport);
 * ```
 */
export async function _newSession(config: McpServerConfig, tail: _StderrTail): Promise<_Session> {
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  if ("url" in config) {
    const transport = new StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: config.headers ? { headers: config.headers } : undefined,
    });
    return { client, transport, pids: [] };
  }
  if (config.cwd !== undefined) {
    const info = await Deno.stat(config.cwd).catch(() => undefined);
    if (!info?.isDirectory) {
      throw new Error(
        `its "cwd" "${config.cwd}" is not an existing directory; fix "cwd" in the config`,
      );
    }
  }
  const transport = new StdioClientTransport({
    command: config.command,
    args: config.args ?? [],
    env: { ...getDefaultEnvironment(), ...config.env },
    cwd: config.cwd,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Uint8Array | string) => tail.push(chunk));
  return { client, transport, pids: [] };
}

/**
 * Records the process tree of a connected stdio session, so that a wrapper that dies (`npx`)
 * cannot leave the real server behind unnoticed.
 *
 * @example Record after connecting
 * ```ts ignore
 * await s.client.connect(s.transport);
 * await _recordProcesses(s);
 * ```
 */
export async function _recordProcesses(session: _Session): Promise<void> {
  const t = session.transport;
  if (t instanceof StdioClientTransport && t.pid !== null) {
    session.pids = [t.pid, ...(await _descendants(t.pid))];
  }
}

/**
 * Words for why a server did not start.
 *
 * @example Describe a failure
 * ```ts
 * import { _startErrorText } from "./session.ts";
 * _startErrorText(new Error("boom"), { command: "x" }, 1000); // "boom"
 * ```
 */
export function _startErrorText(
  error: unknown,
  config: McpServerConfig,
  connectTimeoutMs: number,
): string {
  const e = error as { code?: unknown; message?: string };
  if (e?.code === "ENOENT" && "command" in config) {
    return `command "${config.command}" was not found (${e.message}); check "command" ` +
      `in the config and that the program is installed and on PATH`;
  }
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
    return `it did not answer within ${connectTimeoutMs} ms (connectTimeoutMs)`;
  }
  if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
    return "it exited before answering";
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Closes a session and ends its processes. Stdio: the SDK closes the server's input, waits, then
 * signals it; whatever of the recorded tree survives gets SIGTERM, then SIGKILL. `hard` (for a
 * dead or hung server) signals the tree first instead of waiting for a graceful exit. HTTP: the
 * session is ended with a DELETE unless `hard`.
 *
 * @example End a session
 * ```ts ignore
 * await _closeSession(session, false);
 * ```
 */
export async function _closeSession(session: _Session, hard: boolean): Promise<void> {
  const { client, transport } = session;
  if (transport instanceof StdioClientTransport) {
    const pids = new Set(session.pids);
    const root = transport.pid;
    if (root !== null) {
      pids.add(root);
      for (const p of await _descendants(root)) pids.add(p);
    }
    if (hard) await _terminate(pids, 1_000);
    await client.close().catch(() => {});
    await _terminate(pids, 1_000);
    return;
  }
  if (!hard) {
    // Politely end the HTTP session; a server that does not answer within 2 s is left to expire it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      transport.terminateSession().catch(() => {}),
      new Promise((r) => timer = setTimeout(r, 2_000)),
    ]);
    clearTimeout(timer);
  }
  await client.close().catch(() => {});
}

/**
 * The process id of a running stdio session, if any.
 *
 * @example Show the pid
 * ```ts ignore
 * console.log(_sessionPid(session));
 * ```
 */
export function _sessionPid(session: _Session | undefined): number | undefined {
  const t = session?.transport;
  return t instanceof StdioClientTransport && t.pid !== null ? t.pid : undefined;
}

/** Whether `session` speaks Streamable HTTP. */
export function _isHttp(session: _Session): boolean {
  return session.transport instanceof StreamableHTTPClientTransport;
}

/**
 * Whether an HTTP server refused the request because it does not know the session: 404 (the
 * spec's answer), or the 400 "No valid session ID" many servers send. Nothing ran.
 */
export function _sessionGone(error: unknown): boolean {
  if (!(error instanceof StreamableHTTPError)) return false;
  return error.code === 404 || (error.code === 400 && /session/i.test(error.message));
}
