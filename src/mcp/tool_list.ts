/**
 * A server's tool list: every page of `tools/list`, and the rule for names that collide once
 * made identifier-safe.
 *
 * @module
 */

import type { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/shared/protocol"
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { Tool as SdkTool } from "@modelcontextprotocol/sdk/types.js";
import { toIdentifier } from "../tools/names.ts";
import { _loadedSchemaCompiler, _loadSchemaCompiler } from "../tools/schema_compiler.ts";

/** Pages of `tools/list` followed before giving up on a server whose cursors never end. */
const MAX_PAGES = 1000;

/**
 * Lists every tool of a server, following `nextCursor` page after page.
 *
 * @throws {Error} when the server repeats a cursor or never stops paging.
 *
 * @example List all tools
 * ```ts ignore
 * const tools = await _listAllTools(client, { timeout: 60_000 });
 * ```
 */
export async function _listAllTools(client: Client, options: RequestOptions): Promise<SdkTool[]> {
  // Loaded while the pages arrive: _acceptTools checks each tool's schema with it.
  const compiler = _loadSchemaCompiler().catch(() => {});
  const tools: SdkTool[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await client.listTools(cursor === undefined ? {} : { cursor }, options);
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) {
      // The SDK caches output-schema validators and task support per listTools() call, i.e.
      // only for the last page; give it the whole list. Private in 1.32 (hence the cast).
      const sdk = client as unknown as { cacheToolMetadata?: (t: SdkTool[]) => void };
      if (page > 0) sdk.cacheToolMetadata?.(tools);
      await compiler;
      return tools;
    }
    if (seen.has(cursor)) throw new Error(`tools/list returned the cursor "${cursor}" twice`);
    seen.add(cursor);
  }
  throw new Error(`tools/list did not end after ${MAX_PAGES} pages`);
}

/**
 * Leaves out the tools whose `inputSchema` cannot be compiled (once the schema compiler is loaded,
 * as `_listAllTools` sees to), so one bad schema costs only its tool, and keeps the first of tools
 * whose names become the same identifier (`get-sum`, `get_sum`), since a program could call only
 * one of them; what was left out is named in `warnings`.
 *
 * @example Drop a colliding tool
 * ```ts
 * import { _acceptTools } from "./tool_list.ts";
 * const schema = { type: "object" as const };
 * const { kept, warnings } = _acceptTools([
 *   { name: "get-sum", inputSchema: schema },
 *   { name: "get_sum", inputSchema: schema },
 * ]);
 * console.log(kept.length, warnings.length); // 1 1
 * ```
 */
export function _acceptTools(listed: SdkTool[]): { kept: SdkTool[]; warnings: string[] } {
  const kept: SdkTool[] = [];
  const warnings: string[] = [];
  const byId = new Map<string, string>();
  const compiler = _loadedSchemaCompiler();
  for (const tool of listed) {
    if (compiler !== undefined) {
      try {
        compiler.compile(tool.inputSchema);
      } catch (error) {
        warnings.push(
          `tool "${tool.name}" was left out: its inputSchema cannot be compiled, so its input ` +
            `cannot be checked: ${(error as Error).message}`,
        );
        continue;
      }
    }
    const id = toIdentifier(tool.name);
    const first = byId.get(id);
    if (first !== undefined) {
      warnings.push(
        `tools "${first}" and "${tool.name}" both become "${id}" in programs; ` +
          `"${tool.name}" was left out`,
      );
      continue;
    }
    byId.set(id, tool.name);
    kept.push(tool);
  }
  return { kept, warnings };
}
