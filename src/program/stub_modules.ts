/**
 * The tool stub modules a program may import instead of using the globals, and their type
 * declarations for the checker.
 *
 * - `codemode:tools` — a named export per top-level tool and per namespace; its default export
 *   is an object holding all of them.
 * - `codemode:tools/<tool>` — the named export `<tool>`, also as the default export.
 * - `codemode:tools/<namespace>` — the named export `<namespace>` (also the default export) and
 *   a named export per tool of the namespace.
 *
 * @module
 */

/**
 * The specifier of the module of all tools, and the prefix of every per-tool stub specifier.
 *
 * @example Build a per-tool specifier
 * ```ts
 * import { STUB_SPECIFIER } from "./stub_modules.ts";
 * const specifier = `${STUB_SPECIFIER}/read_file`; // "codemode:tools/read_file"
 * ```
 */
export const STUB_SPECIFIER = "codemode:tools";

/**
 * One stub module: what it exports, so the sandbox can generate it.
 *
 * @example Generate a stub module's source
 * ```ts
 * import { stubModules } from "./stub_modules.ts";
 * for (const m of stubModules(["read_file", "memory.create_entities"])) {
 *   const lines = Object.entries(m.exports).map(([n, path]) => `export const ${n} = globalThis.${path};`);
 *   console.log(m.specifier, lines.length);
 * }
 * ```
 */
export interface StubModule {
  /** The specifier a program writes: `codemode:tools` or `codemode:tools/<name>`. */
  specifier: string;
  /** `null` for `codemode:tools`, else the name after `codemode:tools/`. */
  stub: string | null;
  /**
   * Named exports, each mapped to the program-side path of its value (`read_file`, `memory`,
   * `memory.create_entities`). The default export is that of the module doc above.
   */
  exports: Record<string, string>;
}

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;

/** Top-level tools and namespaces (with their tools) of a list of program names. */
export interface _StubIndex {
  /** Top-level tool names. */
  tools: string[];
  /** Namespace → its tools' names. */
  namespaces: Map<string, string[]>;
}

/** Sorts program names (`read_file`, `memory.create_entities`) into tools and namespaces. */
export function _stubIndex(toolNames: readonly string[]): _StubIndex {
  const tools = new Set<string>();
  const namespaces = new Map<string, Set<string>>();
  for (const name of toolNames) {
    const dot = name.indexOf(".");
    if (dot < 0) {
      if (IDENTIFIER.test(name)) tools.add(name);
      continue;
    }
    const space = name.slice(0, dot), member = name.slice(dot + 1);
    if (!IDENTIFIER.test(space) || !IDENTIFIER.test(member)) continue;
    let members = namespaces.get(space);
    if (!members) namespaces.set(space, members = new Set());
    if (member !== space) members.add(member);
  }
  for (const space of namespaces.keys()) tools.delete(space);
  return {
    tools: [...tools].sort(),
    namespaces: new Map([...namespaces].sort().map(([k, v]) => [k, [...v].sort()])),
  };
}

/**
 * The stub modules of a tool set: `codemode:tools` first, then one per top-level tool and one
 * per namespace.
 *
 * @param toolNames Program names of the tools (`read_file`, `memory.create_entities`).
 * @returns The modules and their named exports.
 *
 * @example List the importable specifiers
 * ```ts
 * import { stubModules } from "./stub_modules.ts";
 * stubModules(["read_file", "memory.create_entities"]).map((m) => m.specifier);
 * // ["codemode:tools", "codemode:tools/read_file", "codemode:tools/memory"]
 * ```
 */
export function stubModules(toolNames: readonly string[]): StubModule[] {
  const { tools, namespaces } = _stubIndex(toolNames);
  const all: Record<string, string> = {};
  for (const tool of tools) all[tool] = tool;
  for (const space of namespaces.keys()) all[space] = space;
  const modules: StubModule[] = [{ specifier: STUB_SPECIFIER, stub: null, exports: all }];
  for (const tool of tools) {
    modules.push({ specifier: `${STUB_SPECIFIER}/${tool}`, stub: tool, exports: { [tool]: tool } });
  }
  for (const [space, members] of namespaces) {
    const exports: Record<string, string> = { [space]: space };
    for (const member of members) exports[member] = `${space}.${member}`;
    modules.push({ specifier: `${STUB_SPECIFIER}/${space}`, stub: space, exports });
  }
  return modules;
}

/**
 * Ambient module declarations of every stub, re-exporting the types of the global tools. Global
 * type aliases carry `typeof <tool>` into the modules, whose own exports would shadow the name.
 */
export function _stubDeclarations(toolNames: readonly string[]): string {
  const { tools, namespaces } = _stubIndex(toolNames);
  const alias = (name: string) => `__codemode_type_${name}`;
  const lines: string[] = [];
  const names = [...tools, ...namespaces.keys()];
  for (const name of names) lines.push(`type ${alias(name)} = typeof ${name};`);
  lines.push(`declare module "${STUB_SPECIFIER}" {`);
  for (const name of names) lines.push(`  export const ${name}: ${alias(name)};`);
  lines.push(`  const tools: { ${names.map((n) => `${n}: ${alias(n)};`).join(" ")} };`);
  lines.push("  export default tools;", "}");
  for (const tool of tools) {
    lines.push(
      `declare module "${STUB_SPECIFIER}/${tool}" {`,
      `  export const ${tool}: ${alias(tool)};`,
      `  export default ${tool};`,
      "}",
    );
  }
  for (const [space, members] of namespaces) {
    lines.push(
      `declare module "${STUB_SPECIFIER}/${space}" {`,
      `  export const ${space}: ${alias(space)};`,
      `  export default ${space};`,
    );
    for (const member of members) {
      lines.push(`  export const ${member}: ${alias(space)}[${JSON.stringify(member)}];`);
    }
    lines.push("}");
  }
  return lines.join("\n") + "\n";
}
