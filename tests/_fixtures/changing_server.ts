/**
 * A stdio MCP server (official SDK) whose `add_tool` adds a tool and sends
 * `notifications/tools/list_changed`. Run it with `--config <repo>/deno.json`, so that it
 * resolves the SDK through the project's import map and lockfile.
 */

// @ts-types="@modelcontextprotocol/sdk/server"
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const tool = (name: string) => ({
  name,
  description: "fixture " + name,
  inputSchema: { type: "object" as const },
});
const tools = [tool("add_tool")];
const server = new Server({ name: "changing", version: "1.0.0" }, {
  capabilities: { tools: { listChanged: true } },
});
server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  if (request.params.name === "add_tool") {
    tools.push(tool("added_" + tools.length));
    await server.sendToolListChanged();
  }
  return { content: [{ type: "text", text: request.params.name }] };
});
await server.connect(new StdioServerTransport());
