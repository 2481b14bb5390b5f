/**
 * Turning an MCP `tools/call` result into the value a program receives. The rule is stated to
 * the model in the description and typed in the declarations (`src/describe/`): a tool with an
 * `outputSchema` gives its structured content; one without gives `string | McpContent[]`.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/**
 * Converts a `tools/call` result into the program's value:
 * 1. `isError: true` → throws an `Error` with the server's message, prefixed by the server name;
 * 2. a tool that declares an `outputSchema` (`structured`): its `structuredContent`;
 * 3. content that is only text: the parts joined by newlines, as a string — JSON text is not
 *    parsed, so the type is always `string` (a result with no content at all gives `""`, or the
 *    JSON text of structured content a tool sent without declaring it);
 * 4. otherwise (images, audio, resources, links) the content blocks as they came.
 *
 * @param result The result as the SDK returned it.
 * @param server The server's name (for the error message).
 * @param tool The tool's original name (for the error message).
 * @param structured Whether the tool declares an `outputSchema`.
 * @returns The value for the program.
 * @throws {Error} when the result has `isError: true`.
 *
 * @example Convert a text result
 * ```ts
 * import { _toolResultValue } from "./result.ts";
 * _toolResultValue({ content: [{ type: "text", text: '{"a":1}' }] }, "s", "t"); // '{"a":1}'
 * ```
 */
export function _toolResultValue(
  result: Pick<CallToolResult, "content" | "structuredContent" | "isError"> & {
    toolResult?: unknown;
  },
  server: string,
  tool: string,
  structured = false,
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
  if (structured && result.structuredContent !== undefined) return result.structuredContent;
  // Results of protocol version 2024-10-07 carry the value in `toolResult`.
  if (result.content === undefined && "toolResult" in result) {
    return typeof result.toolResult === "string"
      ? result.toolResult
      : _json(result.toolResult ?? null);
  }
  if (content.length === 0 && result.structuredContent !== undefined) {
    return _json(result.structuredContent);
  }
  if (content.every((c) => c.type === "text")) {
    return content.map((c) => (c as { text: string }).text).join("\n");
  }
  return content;
}

/** JSON text of a value that came as JSON (never throws). */
function _json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}
