/**
 * A Streamable HTTP MCP server written with the official SDK, for tests: `deno run -A --config
 * deno.json tests/_fixtures/http_upstream.ts PORT`. It prints "listening on PORT" to stderr.
 *
 * Tools: `pid` (this process's id), `hold({ ms })` (answers after `ms`, reporting progress as it
 * starts, and counts how many holds run at once). `GET /stats` answers `{ current, peak }`.
 * Like many servers, it answers an unknown session id with 400 "No valid session ID", and offers
 * no standalone GET stream (405), so a client notices a restart only on its next request.
 */

// @ts-types="@modelcontextprotocol/sdk/server"
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const port = Number(Deno.args[0] ?? 0);
const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
let current = 0;
let peak = 0;

const TOOLS = [
  { name: "pid", description: "This server's process id.", inputSchema: { type: "object" } },
  {
    name: "hold",
    description: "Answers after ms milliseconds; counts holds at once.",
    inputSchema: { type: "object", properties: { ms: { type: "number" } }, required: ["ms"] },
  },
];

function newServer(): Server {
  const server = new Server({ name: "http-upstream", version: "1.0.0" }, {
    capabilities: { tools: {} },
  });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    if (request.params.name === "pid") {
      return { content: [{ type: "text", text: String(Deno.pid) }] };
    }
    const ms = Number(request.params.arguments?.ms ?? 0);
    current++;
    peak = Math.max(peak, current);
    try {
      const token = request.params._meta?.progressToken;
      if (token !== undefined) {
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken: token, progress: 0, message: "holding" },
        });
      }
      console.error(`hold started (${current} at once)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } finally {
      current--;
    }
    return { content: [{ type: "text", text: JSON.stringify({ held: ms }) }] };
  });
  return server;
}

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => console.error(`listening on ${port}`),
}, async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/stats") return Response.json({ current, peak });
  if (req.method === "GET") return new Response(null, { status: 405 });
  const id = req.headers.get("mcp-session-id");
  if (id !== null) {
    const transport = sessions.get(id);
    if (transport === undefined) {
      return Response.json({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Bad Request: No valid session ID provided" },
        id: null,
      }, { status: 400 });
    }
    return await transport.handleRequest(req);
  }
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => crypto.randomUUID(),
    onsessioninitialized: (sid) => void sessions.set(sid, transport),
  });
  await newServer().connect(transport);
  return await transport.handleRequest(req);
});
