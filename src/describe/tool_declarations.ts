/**
 * The global-script d.ts of a tool set: what programs are type-checked against.
 *
 * @module
 */

import type { Tool } from "../types.ts";
import { _helperDeclarations } from "./helper_declarations.ts";
import { _jsDoc } from "./jsdoc.ts";
import { schemaToTypeScript } from "./schema_to_typescript.ts";
import { _toolEntries, type _ToolEntry } from "./tool_entries.ts";

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
 * `declare const memory: {...}`. Return types come from `outputSchema`; a tool without one returns
 * `Promise<any>`, because its result is JSON whose shape only its description tells, and the
 * program should be able to use it without narrowing. Compiles cleanly under `strict` with
 * `lib: ["es2022"]`.
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
 * without comments; `"doc"` has the tool's JSDoc above it and property JSDoc inside, continuation
 * lines prefixed with `indent`.
 */
export function _toolSignature(
  entry: _ToolEntry,
  style: "line" | "doc",
  indent = "",
  name: string = entry.path,
): string {
  const { doc, signature } = _toolParts(entry, style === "doc", indent);
  return doc ? `${doc}\n${indent}${name}${signature}` : `${name}${signature}`;
}

/** A tool's JSDoc (when `docs`) and its signature after the name: `(input: …): Promise<…>`. */
function _toolParts(
  entry: _ToolEntry,
  docs: boolean,
  indent: string,
): { doc: string; signature: string } {
  const { inputSchema, outputSchema, description } = entry.tool;
  const input = schemaToTypeScript(inputSchema ?? {}, { descriptions: docs, indent });
  const output = outputSchema
    ? schemaToTypeScript(outputSchema, { descriptions: docs, indent, untyped: "any" })
    : "any";
  const optional = _inputOptional(inputSchema) ? "?" : "";
  return {
    doc: docs ? _jsDoc(String(description ?? ""), MAX_TOOL_DOC) : "",
    signature: `(input${optional}: ${input}): Promise<${output}>`,
  };
}

/** A tool's input may be left out when its schema is an object type with nothing required. */
function _inputOptional(schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return true;
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined && s.type !== "object") return false;
  if (s.anyOf || s.oneOf || s.allOf || s.$ref) return false;
  return !(Array.isArray(s.required) && s.required.length > 0);
}

/** `declare function …` for global tools and `declare const ns: {…}` per namespace, in order. */
export function _declareTools(entries: _ToolEntry[]): string {
  const blocks: string[] = [];
  const namespaces = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.namespace === null) {
      const { doc, signature } = _toolParts(entry, true, "");
      blocks.push(`${doc ? doc + "\n" : ""}declare function ${entry.member}${signature};`);
      continue;
    }
    let members = namespaces.get(entry.namespace);
    if (!members) {
      members = [];
      namespaces.set(entry.namespace, members);
      blocks.push(entry.namespace); // placeholder, filled in below
    }
    members.push(`  ${_toolSignature(entry, "doc", "  ", entry.member)};`);
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
