/**
 * The global-script d.ts of a tool set: what programs are type-checked against.
 *
 * @module
 */

import type { Tool } from "../types.ts";
import { _helperDeclarations, _MCP_CONTENT_DTS } from "./helper_declarations.ts";
import { _comment, _shorten } from "./jsdoc.ts";
import { type _Learned, _learnedOf } from "./learned_shapes.ts";
import { schemaToTypeScript } from "./schema_to_typescript.ts";
import { _toolEntries, type _ToolEntry } from "../tools/tool_entries.ts";

/**
 * Options for {@linkcode toolDeclarations}.
 *
 * @example Compile against a lib that already has `console`
 * ```ts
 * import { toolDeclarations } from "@codemode/cli";
 * const dts = toolDeclarations([], { console: false, modules: false });
 * ```
 */
export interface ToolDeclarationsOptions {
  /**
   * Declare `console` (`log`, `info`, `warn`, `error`, `debug`); turn off when the compiler's
   * libraries already declare it (e.g. `lib: ["dom"]`).
   * @default {true}
   */
  console?: boolean;
  /**
   * Declare the modules `codemode:tools`, `codemode:tools/<tool>` and
   * `codemode:tools/<namespace>` so programs may import tools.
   * @default {true}
   */
  modules?: boolean;
}

/** Characters of a tool's description kept in its JSDoc. */
const MAX_TOOL_DOC = 500;

/**
 * A global-script `.d.ts` (no top-level import or export) declaring every tool and the helpers
 * `print`, `gatherLimited`, `searchTools` and `console`: a global tool as
 * `declare function read_file(input: {...}): Promise<...>`, a namespaced tool as a method of
 * `declare const memory: {...}`. Return types come from `outputSchema`; an MCP tool without one
 * (`mcpContent`) returns `Promise<string | McpContent[]>` (the MCP conversion rule: its text, or its
 * content blocks); any other tool without one returns `Promise<any>`, because its result's shape
 * only its description tells, and the program should be able to use it without narrowing.
 * Property JSDoc states each field's constraints (`maximum`, `pattern`, `default`, …). Compiles
 * cleanly under `strict` with `lib: ["es2022"]`.
 *
 * Throws a TypeError naming both tools when two tools get the same program name, a tool's name
 * equals a namespace, or a tool takes a helper's or a JavaScript global's name.
 *
 * @example Type-check programs against a tool set
 * ```ts
 * import { toolDeclarations } from "@codemode/cli";
 * const dts = toolDeclarations([{
 *   name: "memory.read_graph",
 *   description: "Read the whole knowledge graph.",
 *   inputSchema: { type: "object", properties: {} },
 *   execute: () => ({ entities: [], relations: [] }),
 * }]);
 * // dts contains "declare const memory: {" and "read_graph(input?: {}): Promise<any>;"
 * ```
 */
export function toolDeclarations(tools: Tool[], options: ToolDeclarationsOptions = {}): string {
  const entries = _toolEntries(tools);
  const parts = [_helperDeclarations(options.console ?? true), _declareTools(entries)];
  if (options.modules ?? true) parts.push(_moduleDeclarations(entries));
  return parts.filter(Boolean).join("\n") + "\n";
}

/**
 * The signature of one tool, called `name`: `"line"` is `path(input: …): Promise<…>` on one line
 * without comments; `"doc"` has the tool's JSDoc above it (with the shape of its results seen so
 * far) and property JSDoc inside, continuation lines prefixed with `indent`.
 */
export function _toolSignature(
  entry: _ToolEntry,
  style: "line" | "doc",
  indent = "",
  name: string = entry.path,
): string {
  const docs = style === "doc";
  const { doc, signature } = _toolParts(entry, docs, indent, docs);
  return doc ? `${doc}\n${indent}${name}${signature}` : `${name}${signature}`;
}

/** The result type a tool is declared with: its `outputSchema`, the MCP rule's, or `any`. */
function _resultType(tool: Tool, docs: boolean, indent: string): string {
  if (tool.outputSchema) {
    return schemaToTypeScript(tool.outputSchema, { descriptions: docs, indent, untyped: "any" });
  }
  return tool.mcpContent ? MCP_RESULT : "any";
}

/** What an MCP tool without an `outputSchema` returns (`src/mcp/result.ts`). */
const MCP_RESULT = "string | McpContent[]";

/** Whether a tool's declaration refers to `McpContent`. */
export function _usesMcpContent(tool: Tool): boolean {
  return tool.mcpContent === true && !tool.outputSchema;
}

/**
 * A tool's JSDoc (when `docs`) and its signature after the name: `(input: …): Promise<…>`. With
 * `learned`, the JSDoc ends with `@returns seen: <type> — e.g. <example>` once results were seen;
 * the declared type stays as it was, so a learned shape can never refuse a program.
 */
function _toolParts(
  entry: _ToolEntry,
  docs: boolean,
  indent: string,
  learned: boolean,
): { doc: string; signature: string } {
  const { inputSchema, description } = entry.tool;
  const input = schemaToTypeScript(inputSchema ?? {}, { descriptions: docs, indent });
  const output = _resultType(entry.tool, docs, indent);
  const optional = _inputOptional(inputSchema) ? "?" : "";
  return {
    doc: docs
      ? _toolDoc(String(description ?? ""), learned ? _learnedOf(entry.tool) : undefined, indent)
      : "",
    signature: `(input${optional}: ${input}): Promise<${output}>`,
  };
}

/** A tool's JSDoc: its description in whole sentences, then what its results looked like. */
function _toolDoc(description: string, learned: _Learned | undefined, indent: string): string {
  const text = _shorten(description, MAX_TOOL_DOC);
  if (!learned) return _comment(text);
  // The example comes from a real result (or the cache): it may not end the comment or the
  // description's code fence.
  const returns = `@returns seen: ${learned.type} — e.g. ${learned.example}`
    .replace(/\s+/g, " ").replaceAll("*/", "*\\/").replace(/`{3,}/g, (m) => "'".repeat(m.length));
  return text ? `${_comment(text).slice(0, -3)}\n${indent} * ${returns} */` : `/** ${returns} */`;
}

/** A tool's input may be left out when its schema is an object type with nothing required. */
function _inputOptional(schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return true;
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined && s.type !== "object") return false;
  if (s.anyOf || s.oneOf || s.allOf || s.$ref) return false;
  return !(Array.isArray(s.required) && s.required.length > 0);
}

/**
 * `declare function …` for global tools and `declare const ns: {…}` per namespace, in order,
 * after the `McpContent` type when a tool returns it. With `learned`, tools' JSDoc shows the
 * shapes of results seen so far (for the description; the type-checker's d.ts leaves them out).
 */
export function _declareTools(entries: _ToolEntry[], learned = false): string {
  const blocks: string[] = [];
  if (entries.some((e) => _usesMcpContent(e.tool))) blocks.push(_MCP_CONTENT_DTS);
  const namespaces = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.namespace === null) {
      const { doc, signature } = _toolParts(entry, true, "", learned);
      blocks.push(`${doc ? doc + "\n" : ""}declare function ${entry.member}${signature};`);
      continue;
    }
    let members = namespaces.get(entry.namespace);
    if (!members) {
      members = [];
      namespaces.set(entry.namespace, members);
      blocks.push(entry.namespace); // placeholder, filled in below
    }
    const { doc, signature } = _toolParts(entry, true, "  ", learned);
    members.push(`  ${doc ? `${doc}\n  ` : ""}${entry.member}${signature};`);
  }
  return blocks.map((block) => {
    const members = namespaces.get(block);
    return members ? `declare const ${block}: {\n${members.join("\n")}\n};` : block;
  }).join("\n");
}

/** Ambient modules so `import { read_file } from "codemode:tools"` and friends type-check. */
function _moduleDeclarations(entries: _ToolEntry[]): string {
  if (entries.length === 0) return 'declare module "codemode:tools" {}';
  const globals = [...new Set(entries.map((e) => e.namespace ?? e.member))];
  const lines = [
    "/** Every tool and namespace, for the codemode:tools modules. */",
    `interface CodemodeTools {\n${globals.map((g) => `  ${g}: typeof ${g};`).join("\n")}\n}`,
    `declare module "codemode:tools" {\n${
      globals.map((g) => `  export const ${g}: CodemodeTools["${g}"];`).join("\n")
    }\n}`,
  ];
  for (const g of globals) {
    const members = entries.filter((e) => e.namespace === g && e.member !== g).map((e) =>
      `  export const ${e.member}: CodemodeTools["${g}"]["${e.member}"];`
    );
    lines.push(
      `declare module "codemode:tools/${g}" {\n  const ${g}: CodemodeTools["${g}"];\n` +
        `  export { ${g} as default, ${g} };\n${members.map((m) => m + "\n").join("")}}`,
    );
  }
  return lines.join("\n");
}
