/**
 * The host's view of a tool set, built once per `setTools`: the definitions checked and named
 * (`tool_entries.ts`, the one naming rule), the program names and namespaces, and a validator
 * per tool. Everything downstream — the description, the type check, the sandbox's globals and
 * stub modules, call admission — takes names from it. Misuse throws when it is built.
 *
 * @module
 */

import type { JsonSchema, Tool } from "../types.ts";
import { _nestedDeeperThan } from "./json_depth.ts";
import { _toolEntries, type _ToolEntry } from "./tool_entries.ts";
import {
  _loadedSchemaCompiler,
  _loadSchemaCompiler,
  type _SchemaCompiler,
  type _Validator,
} from "./schema_compiler.ts";

/** Arguments nested deeper than this are refused before any schema sees them. */
export const INPUT_MAX_DEPTH = 100;

/** Schemas the project wrote itself (the built-in tools'): compiled on first use. */
const OWN_SCHEMAS = new WeakSet<object>();

/**
 * Marks a schema as the project's own: the registry compiles it on first use instead of when the
 * tool set is built (a unit test proves every such schema compiles). Returns it.
 */
export function _ownSchema<T extends JsonSchema>(schema: T): T {
  OWN_SCHEMAS.add(schema);
  return schema;
}

/**
 * A checked tool set: its tools' program names and a validator per tool.
 *
 * Schemas are checked fail-closed (`schema_compiler.ts`): every common draft, `format`, linear
 * patterns. **When a schema is compiled:** a tool's schema is compiled when the tool set is built
 * — in the constructor, which throws a `TypeError` naming the tool and the problem — whenever the
 * schema compiler is loaded; `mod.ts` loads it for library users, and the MCP client loads it
 * before it lists a server's tools. The built-in tools' schemas ({@linkcode _ownSchema}) are
 * compiled on first use. A registry built before the compiler was loaded compiles on first use
 * too, and a schema that fails then refuses every call to its tool (never lets input through).
 *
 * **Hot path:** {@linkcode _ToolSet.validate} is synchronous. It needs the compiler loaded:
 * a session awaits {@linkcode _ToolSet.ready} before it handles the first tool call of a run
 * (cheap and synchronous to test with {@linkcode _ToolSet.isReady}; a run that calls no tool
 * never loads ajv).
 *
 * @example Validate a call
 * ```ts
 * import { _ToolSet } from "./tool_set.ts";
 * const registry = new _ToolSet([{
 *   name: "add",
 *   description: "Add two numbers.",
 *   inputSchema: { type: "object", properties: { a: { type: "number" } }, required: ["a"] },
 *   execute: ({ a }) => a + 1,
 * }]);
 * await registry.ready();
 * registry.validate("add", { a: "x" }); // '"a" must be number'
 * ```
 */
export class _ToolSet {
  /** The definitions, in the order given (a frozen copy). */
  readonly tools: readonly Tool[];
  /** Each tool's program name, namespace and member, in the order given. */
  readonly entries: readonly _ToolEntry[];
  /** Program name (`read_file`, `memory.create_entities`) → tool. */
  readonly byProgramName: ReadonlyMap<string, Tool>;
  /** Program name → validator, or why its schema could not be compiled. */
  #validators = new Map<string, _Validator | { refused: string }>();
  #ready?: Promise<void>;
  #loadError?: string;

  /**
   * @param tools The tool definitions.
   * @throws {TypeError} When a definition is malformed, two tools take the same name, or (with
   * the schema compiler loaded) a tool's `inputSchema` cannot be compiled.
   */
  constructor(tools: Iterable<Tool>) {
    const list = Object.freeze([...tools]);
    this.entries = _toolEntries(list);
    const byName = new Map<string, Tool>();
    for (const entry of this.entries) byName.set(entry.path, entry.tool);
    const compiler = _loadedSchemaCompiler();
    if (compiler !== undefined) {
      for (const [programName, tool] of byName) {
        if (OWN_SCHEMAS.has(tool.inputSchema)) continue;
        this.#validators.set(programName, _compileFor(compiler, tool));
      }
    }
    this.tools = list;
    this.byProgramName = byName;
  }

  /** The program names of all tools, in definition order. */
  get programNames(): string[] {
    return this.entries.map((e) => e.path);
  }

  /** Whether {@linkcode _ToolSet.validate} can run now (the schema compiler is loaded). */
  get isReady(): boolean {
    return _loadedSchemaCompiler() !== undefined || this.#loadError !== undefined;
  }

  /** Loads the schema compiler (once per process). Never rejects. */
  ready(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return this.#ready ??= _loadSchemaCompiler().then(
      () => {},
      (error) => {
        this.#loadError = `the schema checker could not be loaded (${
          (error as Error)?.message
        }); the tool was not called`;
      },
    );
  }

  /**
   * Checks `input` against the tool's `inputSchema`; returns the complaint in words, or `null`.
   * Never throws: input nested deeper than {@linkcode INPUT_MAX_DEPTH} levels, a schema that
   * cannot be compiled and a compiler not yet loaded are complaints too.
   */
  validate(programName: string, input: unknown): string | null {
    if (_nestedDeeperThan(input, INPUT_MAX_DEPTH)) {
      return `nested deeper than ${INPUT_MAX_DEPTH} levels; send flatter data`;
    }
    let v = this.#validators.get(programName);
    if (v === undefined) {
      const tool = this.byProgramName.get(programName);
      const compiler = _loadedSchemaCompiler();
      if (tool === undefined) return `there is no tool "${programName.slice(0, 100)}"`;
      if (compiler === undefined) {
        return this.#loadError ??
          "the schema checker is not loaded yet (the host must await ready() before the first call)";
      }
      try {
        v = _compileFor(compiler, tool);
      } catch (error) {
        v = { refused: `${(error as Error).message}; the tool was not called` };
      }
      this.#validators.set(programName, v);
    }
    return typeof v === "function" ? v(input) : v.refused;
  }
}

/** Compiles a tool's schema, or throws a TypeError naming the tool, the problem and what to do. */
function _compileFor(compiler: _SchemaCompiler, tool: Tool): _Validator {
  try {
    return compiler.compile(tool.inputSchema);
  } catch (error) {
    throw new TypeError(
      `Tool "${tool.name}": its inputSchema cannot be compiled, so its input cannot be checked: ${
        (error as Error).message
      }`,
    );
  }
}
