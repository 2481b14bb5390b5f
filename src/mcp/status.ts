/**
 * The state of a configured MCP server, as `McpServers.status()` reports it.
 *
 * @module
 */

/**
 * Where a server stands:
 * `connecting`; `connected`; `disconnected` (it died or stopped answering — the next call
 * restarts it); `failed` (it could not be started; see `error`); `closed`.
 *
 * @example Pick the broken servers
 * ```ts
 * import type { McpServerStatus } from "./status.ts";
 * const broken = (s: McpServerStatus[]) => s.filter((x) => x.state === "failed");
 * ```
 */
export type McpServerState = "connecting" | "connected" | "disconnected" | "failed" | "closed";

/**
 * The state of one configured server.
 *
 * @example Print a status line per server
 * ```ts
 * import type { McpServerStatus } from "./status.ts";
 * const line = (s: McpServerStatus) => `${s.name}: ${s.state}, ${s.tools} tools${s.error ? ` (${s.error})` : ""}`;
 * ```
 */
export interface McpServerStatus {
  /** The server's name in the configuration. */
  name: string;
  /** How it is reached. */
  transport: "stdio" | "http";
  /** Where it stands. */
  state: McpServerState;
  /** Why it failed or disconnected, with the end of its stderr for stdio servers. */
  error?: string;
  /** Number of its tools offered to programs. */
  tools: number;
  /** Process id of the started command (stdio, while running). */
  pid?: number;
  /** Problems that did not stop it, e.g. two tool names that become the same identifier. */
  warnings: string[];
  /** The name and version the server announced. */
  serverInfo?: { name: string; version: string };
  /** The server's usage instructions, if it sent any. */
  instructions?: string;
}
