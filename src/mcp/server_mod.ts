/**
 * codemode as an MCP server: one tool, `run_program`, described by a `CodeMode`'s tools, on any
 * MCP transport (the CLI's `codemode serve` is this over stdio or Streamable HTTP).
 *
 * @example Serve a CodeMode over stdio
 * ```ts ignore
 * import { CodeMode } from "@codemode/cli";
 * import { createCodeModeServer } from "@codemode/cli/mcp-server";
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * await using codeMode = new CodeMode({ tools: [] });
 * const server = createCodeModeServer(codeMode);
 * await server.connect(new StdioServerTransport());
 * ```
 *
 * @module
 */

export {
  type CodeModeMcpServer,
  type CodeModeServerOptions,
  createCodeModeServer,
  type JsonRpcMessage,
  type McpServerTransport,
  RUN_PROGRAM_TOOL,
} from "./server.ts";
export { RunLimit, type RunLimitOptions, type RunSlot } from "./run_limit.ts";
