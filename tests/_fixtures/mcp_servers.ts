/**
 * Starts the real reference MCP servers (`npx -y @modelcontextprotocol/server-…`) through the MCP
 * SDK client and returns their tools as codemode tools, namespaced by server.
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { JsonSchema, Tool } from "../../src/types.ts";

/** The three servers and their npx arguments (`{dir}` becomes a temporary directory). */
export const SERVERS: Record<string, string[]> = {
  everything: ["-y", "@modelcontextprotocol/server-everything"],
  filesystem: ["-y", "@modelcontextprotocol/server-filesystem", "{dir}"],
  memory: ["-y", "@modelcontextprotocol/server-memory"],
};

/** An MCP tool as `tools/list` returns it. */
export interface McpTool {
  name: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
}

/**
 * Why npx cannot fetch the servers here (no npx, or the npm registry does not answer), or null
 * when it can.
 */
export async function npxUnavailable(): Promise<string | null> {
  for (
    const [command, args] of [
      ["npx", ["--version"]],
      ["npm", ["view", "@modelcontextprotocol/server-everything", "version"]],
    ] as const
  ) {
    try {
      const out = await new Deno.Command(command, {
        args: [...args],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(60_000),
      }).output();
      if (out.code !== 0) return `\`${command} ${args.join(" ")}\` failed (exit ${out.code})`;
    } catch (error) {
      return `\`${command} ${args.join(" ")}\` could not run: ${error}`;
    }
  }
  return null;
}

/** Lists the tools of each server (started one after the other, closed before returning). */
export async function listServerTools(): Promise<Record<string, McpTool[]>> {
  const dir = await Deno.makeTempDir({ prefix: "codemode_describe_" });
  const out: Record<string, McpTool[]> = {};
  try {
    for (const [server, args] of Object.entries(SERVERS)) {
      const transport = new StdioClientTransport({
        command: "npx",
        args: args.map((a) => a.replace("{dir}", dir)),
        stderr: "ignore",
      });
      const client = new Client({ name: "codemode-describe-test", version: "0.0.0" });
      try {
        await client.connect(transport);
        out[server] = (await client.listTools()).tools as McpTool[];
      } finally {
        await client.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return out;
}

/** The servers' tools as codemode tools named `server.tool` (results follow the MCP rule). */
export function asTools(lists: Record<string, McpTool[]>): Tool[] {
  return Object.entries(lists).flatMap(([server, tools]) =>
    tools.map((t) => ({
      name: `${server}.${t.name}`,
      description: t.description ?? "",
      inputSchema: t.inputSchema,
      ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
      mcpContent: true,
      execute: () => {
        throw new Error("not connected");
      },
    }))
  );
}
