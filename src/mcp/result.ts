/**
 * Turning an MCP `tools/call` result into the value a program receives.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/**
 * Converts a `tools/call` result into a JSON-compatible value:
 * 1. `isError: true` → throws an `Error` with the server's message, prefixed by the server name;
 * 2. `structuredContent`, when present;
 * 3. content that is only text: the parts joined by newlines, parsed as JSON when it is JSON;
 * 4. otherwise (images, audio, resources, links) the content blocks as they came, as objects;
 *    no content at all gives `null`.
 *
 * @param result The result as the SDK returned it.
 * @param server The server's name (for the error message).
 * @param tool The tool's original name (for the error message).
 * @returns The value for the program.
 * @throws {Error} when the result has `isError: true`.
 *
 * @example Convert a text result
 * ```ts
 * import { _toolResultValue } from "./result.ts";
 * _toolResultValue({ content: [{ type: "text", text: '{"a":1}' }] }, "s", "t"); // { a: 1 }
 * ```
 */
export function _toolResultValue(
  result: Pick<CallToolResult, "content" | "structuredContent" | "isError"> & {
    toolResult?: unknown;
  },
  server: string,
  tool: string,
): unknown {
  const content = Array.isArray(result.content) ? result.content : [];
  if (result.isError === true) {
    const text = content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n").trim();
    throw new Error(
      `MCP server "${server}": tool "${tool}" failed: ${
        text || "the server reported an error without a message"
      }`,
    );
  }
  if (result.structuredContent !== undefined) return result.structuredContent;
  // Results of protocol version 2024-10-07 carry the value in `toolResult`.
  if (result.content === undefined && "toolResult" in result) return result.toolResult ?? null;
  if (content.length === 0) return null;
  if (content.every((c) => c.type === "text")) {
    const text = content.map((c) => (c as { text: string }).text).join("\n");
    const parsed = _parseJson(text);
    return parsed === undefined ? text : parsed.value;
  }
  return content;
}

/** `{ value }` when `text` is JSON, `undefined` when it is not. Cheap first-character test first. */
function _parseJson(text: string): { value: unknown } | undefined {
  const t = text.trim();
  if (t.length === 0 || !/^[[{"\d\-tfn]/.test(t)) return undefined;
  try {
    return { value: JSON.parse(t) };
  } catch {
    return undefined;
  }
}
