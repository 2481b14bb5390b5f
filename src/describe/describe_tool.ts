/**
 * `describeTool(name)` inside a program: one tool's whole description and declaration, with the
 * shape of its results seen so far, without listing every tool.
 *
 * @module
 */

import { _closeNames } from "../program/similar_names.ts";
import type { Tool } from "../types.ts";
import { _match, type ToolMatch } from "./search_tools.ts";
import { _toolEntries } from "../tools/tool_entries.ts";

/**
 * The tool called `name` (as the program calls it, `memory.create_entities`, or as named,
 * `memory.create-entities`) at search detail `"full"`. Throws an Error naming close names when
 * there is no such tool.
 *
 * @example Describe one tool
 * ```ts
 * import { _describeTool } from "./describe_tool.ts";
 * const tools = [{ name: "add", description: "Add.", inputSchema: {}, execute: () => 1 }];
 * _describeTool(tools, "add").signature; // "/** Add. *\/\nadd(input?: unknown): Promise<any>"
 * ```
 */
export function _describeTool(tools: readonly Tool[], name: unknown): ToolMatch {
  if (typeof name !== "string") {
    throw new TypeError(`describeTool() takes a tool's name as a string, got ${typeof name}`);
  }
  const entries = _toolEntries(tools);
  const entry = entries.find((e) => e.path === name) ?? entries.find((e) => e.tool.name === name);
  if (entry) return _match(entry, "full");
  const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
  const close = name.length <= 100 ? _closeNames(name, entries.map((e) => e.path), 5) : [];
  throw new Error(
    `there is no tool "${shown}"; ${
      close.length ? `did you mean ${close.join(", ")}?` : "find tools with searchTools(query)"
    }`,
  );
}
