/**
 * A stdio MCP server (official SDK) for what the npm servers do not do on demand: two pages of
 * tools, colliding names, `add-tool` (list_changed), `hang` (never answers) and `freeze` (a busy
 * loop). Run it with `--config <repo>/deno.json`, so that it resolves the SDK through the
 * project's import map and lockfile.
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
const added: ReturnType<typeof tool>[] = [];
const pages = () => [
  [tool("get-sum"), tool("get_sum"), tool("echo")],
  [tool("add-tool"), tool("hang"), tool("freeze"), ...added],
];
const server = new Server({ name: "fixture", version: "1.0.0" }, {
  capabilities: { tools: { listChanged: true } },
});
server.setRequestHandler(ListToolsRequestSchema, (request) => {
  const all = pages();
  const i = Number(request.params?.cursor ?? 0);
  return { tools: all[i], ...(i + 1 < all.length ? { nextCursor: String(i + 1) } : {}) };
});
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const name = request.params.name;
  if (name === "add-tool") {
    added.push(tool("added-" + (added.length + 1)));
    await server.sendToolListChanged();
  }
  if (name === "hang") return new Promise<never>(() => {});
  if (name === "freeze") {
    setTimeout(() => {
      for (;;);
    }, 0);
    return new Promise<never>(() => {});
  }
  return { content: [{ type: "text", text: name + " " + Deno.pid }] };
});
await server.connect(new StdioServerTransport());
