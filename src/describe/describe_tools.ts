/**
 * The description the LLM reads: how to write a program, the helpers, the eight pipeline
 * patterns and the tools (every declaration, or above a threshold a namespace index plus
 * `searchTools`).
 *
 * @module
 */

import { _resolveLimits, type Limits } from "../limits.ts";
import type { Tool } from "../types.ts";
import { _HELPER_LINES, _MCP_CONTENT_DTS } from "./helper_declarations.ts";
import { _PATTERNS } from "./patterns.ts";
import { _declareTools, _toolSignature, _usesMcpContent } from "./tool_declarations.ts";
import { _toolEntries, type _ToolEntry } from "../tools/tool_entries.ts";
import { _stem } from "./tokenize.ts";

/**
 * Options for {@linkcode describeTools}.
 *
 * @example Always use search, and state tighter limits
 * ```ts
 * import { describeTools } from "@codemode/cli";
 * describeTools([], { threshold: 0, limits: { timeoutMs: 10_000 } });
 * ```
 */
export interface DescribeOptions {
  /**
   * The limits runs apply, stated to the model.
   * @default {DEFAULT_LIMITS}
   */
  limits?: Partial<Limits>;
  /**
   * Up to this many tools the description declares every tool; above it, it lists namespaces
   * one line each and tells the model to call `searchTools` (every tool stays callable and
   * type-checked).
   * @default {40}
   */
  threshold?: number;
  /**
   * Include the eight pipeline pattern examples.
   * @default {true}
   */
  patterns?: boolean;
  /**
   * Above the threshold, namespace lines stop before the description passes this many bytes;
   * the rest are counted in one line.
   * @default {8000}
   */
  maxBytes?: number;
}

/**
 * One tool as the description knows it.
 *
 * @example List the calls
 * ```ts
 * import type { DescribedTool } from "@codemode/cli";
 * const calls = (tools: DescribedTool[]) => tools.map((t) => t.signature).join("\n");
 * ```
 */
export interface DescribedTool {
  /** The tool's name as given (`memory.create_entities`, `get-sum`). */
  name: string;
  /** The identifier-safe namespace the program uses, or null for a global function. */
  namespace: string | null;
  /** How the program calls it, on one line: `memory.create_entities(input: {…}): Promise<…>`. */
  signature: string;
}

/**
 * What {@linkcode describeTools} returns (also the CLI's `describe --json`).
 *
 * @example Put the description in a system prompt
 * ```ts
 * import { describeTools, type Description } from "@codemode/cli";
 * const d: Description = describeTools([]);
 * const system = `You answer with code.\n\n${d.description}`;
 * ```
 */
export interface Description {
  /** The text for the model. */
  description: string;
  /** Every tool, shown in the text or not. */
  tools: DescribedTool[];
}

/**
 * Builds the description of a tool set for the model: a few lines on how to write a program
 * (top-level await, tools in scope, print only what the answer needs, errors catchable, limits),
 * one line per helper, the eight pipeline patterns as short examples, then the tools' TypeScript
 * declarations — or, above `threshold` tools, one line per namespace (tool count and what it
 * covers) and how to find tools with `searchTools` inside a program. Regenerate it whenever the
 * tools change. Throws a TypeError when two tools collide after sanitizing (see
 * {@linkcode toolDeclarations}).
 *
 * @example Describe a tool set
 * ```ts
 * import { describeTools } from "@codemode/cli";
 * const { description, tools } = describeTools([{
 *   name: "get_weather",
 *   description: "Current weather for a city.",
 *   inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
 *   execute: ({ city }) => ({ city, celsius: 21 }),
 * }]);
 * console.log(description.includes("declare function get_weather")); // true
 * console.log(tools[0].signature); // "get_weather(input: { city: string }): Promise<any>"
 * ```
 */
export function describeTools(tools: Tool[], options: DescribeOptions = {}): Description {
  const threshold = options.threshold ?? 40;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new RangeError(`threshold must be a non-negative integer, got ${String(threshold)}`);
  }
  const maxBytes = options.maxBytes ?? 8_000;
  const entries = _toolEntries(tools);
  const base = _baseText(_resolveLimits(options.limits), options.patterns ?? true);
  let text: string;
  if (entries.length === 0) {
    text = `${base}\n\n## Tools\nNo tools are available.\n`;
  } else if (entries.length <= threshold) {
    text = `${base}\n\n## Tools\n\`\`\`ts\n${_declareTools(entries, true)}\n\`\`\`\n`;
  } else {
    text = `${base}\n\n${_toolIndex(entries, maxBytes - _bytes(base) - 2)}`;
  }
  return {
    description: text,
    tools: entries.map((e) => ({
      name: e.tool.name,
      namespace: e.namespace,
      signature: _toolSignature(e, "line"),
    })),
  };
}

/**
 * How a tool's result becomes a value (`src/mcp/result.ts` for MCP tools), and what `@returns`
 * lines are (`learned_shapes.ts`).
 */
const _RESULT_RULE =
  '- Results: a declared type is exact. An MCP tool without one returns its text as a `string` (JSON stays text: `JSON.parse` it), or `McpContent[]` if it sent images, audio or resources: check `typeof r === "string"`. `@returns seen:` shows results seen before: a hint, not a promise.';

/** The text without tools: how to write a program, helpers and patterns. */
function _baseText(limits: Limits, patterns: boolean): string {
  const s = (ms: number) => `${ms / 1000} s`;
  const lines = [
    "# Answer by writing ONE TypeScript program",
    "It runs in a sandbox without network or file access: tools are its only way out.",
    '- Tools are async functions already in scope, each taking one input object: `await read_file({ path: "a.md" })`; namespaced tools are methods: `await memory.read_graph()`. Do not import or define them.',
    "- Top-level `await` works. Run independent calls in parallel.",
    "- Only what you print comes back to you: filter, join and aggregate in code and print just what the answer needs, never whole raw results.",
    "- A failed tool call throws an Error naming the tool; catch it to recover. An uncaught error ends the run; you get the output so far and the error.",
    "- The program is type-checked against the declarations below before it runs.",
    _RESULT_RULE,
    `- Limits per run: ${
      s(limits.timeoutMs)
    }, ${limits.maxToolCalls} tool calls (${limits.maxConcurrentCalls} at once), ${
      s(limits.toolTimeoutMs)
    } per call, ${limits.maxOutputChars} output characters, ${limits.memoryMb} MB memory.`,
    "",
    "## Helpers",
    _HELPER_LINES,
  ];
  if (patterns) {
    lines.push("", "## Patterns (tool names are examples)", "```ts");
    _PATTERNS.forEach((p, i) => lines.push(`// ${i + 1}. ${p.title}`, p.code));
    lines.push("```");
  }
  return lines.join("\n");
}

/** Above the threshold: one line per namespace, and how to find tools. */
function _toolIndex(entries: _ToolEntry[], budget: number): string {
  const groups = new Map<string, _ToolEntry[]>();
  for (const e of entries) {
    const key = e.namespace ?? "";
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  const named = [...groups.keys()].filter((k) => k !== "").length;
  const head = [
    `## Tools: ${entries.length}${named ? ` in ${named} namespaces` : ""}, not declared here`,
    "Every tool is callable and type-checked, but find the ones you need first, in a program:",
    '`print(await searchTools("merge pull request", { detail: "full", limit: 3 }))`',
    "then call them in your next program.",
    ...(entries.some((e) => _usesMcpContent(e.tool)) ? ["```ts", _MCP_CONTENT_DTS, "```"] : []),
    "Namespaces (tool count: what they cover):",
  ].join("\n");
  const lines: string[] = [];
  let used = _bytes(head) + 1;
  let rest = 0;
  let restTools = 0;
  const sorted = [...groups].sort((a, b) => b[1].length - a[1].length);
  for (const [namespace, group] of sorted) {
    const line = namespace === ""
      ? `- global functions (${group.length}): ${_list(group.map((e) => e.member), 90)}`
      : `- ${namespace} (${group.length}): ${_subjects(group)}`;
    // Keep room for the closing "…and N more namespaces" line.
    if (rest === 0 && used + _bytes(line) + 1 <= budget - 80) {
      lines.push(line);
      used += _bytes(line) + 1;
    } else {
      rest++;
      restTools += group.length;
    }
  }
  if (rest) lines.push(`- …and ${rest} more namespaces (${restTools} tools): use searchTools`);
  return `${head}\n${lines.join("\n")}\n`;
}

/** What a namespace's tools act on: the words after the verb of their names, most common first. */
function _subjects(group: _ToolEntry[]): string {
  const counts = new Map<string, { text: string; n: number }>();
  for (const e of group) {
    const words = e.member.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/_+/)
      .filter((w) => w && !/^v\d+$/.test(w));
    const subject = (words.length > 1 ? words.slice(1) : words).join(" ");
    const key = subject.split(" ").map(_stem).join(" ");
    const seen = counts.get(key);
    if (seen) seen.n++;
    else counts.set(key, { text: subject, n: 1 });
  }
  const ranked = [...counts.values()].sort((a, b) => b.n - a.n).map((c) => c.text);
  return _list(ranked, 90);
}

/** `items` joined with ", " within `max` characters, `…` when cut. */
function _list(items: string[], max: number): string {
  let out = "";
  for (const item of items) {
    const next = out ? `${out}, ${item}` : item;
    if (next.length > max) return `${out}, …`;
    out = next;
  }
  return out;
}

const encoder = new TextEncoder();

/** UTF-8 size of `text`. */
function _bytes(text: string): number {
  return encoder.encode(text).length;
}
