/**
 * The MCP client side of codemode: the tools of MCP servers you already use (the `mcpServers`
 * file every client reads) as codemode tools, namespaced by server, kept connected and current.
 *
 * @example The tools of the servers in mcp.json
 * ```ts ignore
 * import { CodeMode } from "@codemode/cli";
 * import { connectMcpServers, loadMcpConfig } from "@codemode/cli/mcp";
 * await using servers = await connectMcpServers(await loadMcpConfig("mcp.json"));
 * await using codeMode = new CodeMode({ tools: servers.tools });
 * servers.onToolsChanged((tools) => codeMode.setTools(tools));
 * ```
 *
 * @module
 */

export {
  connectMcpServers,
  type ConnectOptions,
  type McpServers,
  type McpServerState,
  type McpServerStatus,
  type McpTool,
} from "./servers.ts";
export {
  loadMcpConfig,
  type LoadMcpConfigOptions,
  type McpConfig,
  type McpHttpServerConfig,
  type McpServerConfig,
  type McpStdioServerConfig,
  parseMcpConfig,
} from "./config.ts";
