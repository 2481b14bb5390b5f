/**
 * The host's view of a tool set: definitions checked once, program names, and input validation.
 *
 * @module
 */

import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { JsonSchema, Tool } from "../types.ts";
import { _programName } from "./names.ts";

/** Names the sandbox runtime defines itself; a tool may not take them. */
export const _RESERVED_NAMES: ReadonlySet<string> = new Set([
  "print",
  "console",
  "gatherLimited",
  "searchTools",
  "describeTool",
  "__codemode__",
  "__codemode_import__",
  "globalThis",
]);

const ajvOptions = { strict: false, allErrors: true, validateFormats: false } as const;
let ajv07: Ajv | undefined;
let ajv2020: Ajv2020 | undefined;

function compile(schema: JsonSchema): ValidateFunction {
  const draft = String(schema.$schema ?? "");
  if (draft.includes("2020-12") || draft.includes("2019-09")) {
    return (ajv2020 ??= new Ajv2020(ajvOptions)).compile(schema);
  }
  const { $schema: _, ...rest } = schema;
  return (ajv07 ??= new Ajv(ajvOptions)).compile(rest);
}

/** The program-side name of each tool and a validator per tool, compiled on first use. */
export class _ToolRegistry {
  /** The definitions, in the order given. */
  readonly tools: readonly Tool[];
  /** Program name (`read_file`, `memory.create_entities`) → tool. */
  readonly byProgramName: ReadonlyMap<string, Tool>;
  #validators = new Map<string, ValidateFunction | string>();

  constructor(tools: Iterable<Tool>) {
    const list = [...tools];
    const byName = new Map<string, Tool>();
    const topLevel = new Map<string, string>();
    for (const [i, tool] of list.entries()) {
      _checkDefinition(tool, i);
      const programName = _programName(tool.name);
      const clash = byName.get(programName);
      if (clash) {
        throw new TypeError(
          `Tools "${clash.name}" and "${tool.name}" both become "${programName}" in programs: rename one`,
        );
      }
      const dot = programName.indexOf(".");
      const top = dot < 0 ? programName : programName.slice(0, dot);
      const kind = dot < 0 ? "tool" : "namespace";
      if (_RESERVED_NAMES.has(top)) {
        throw new TypeError(
          `Tool "${tool.name}" would take the name "${top}", which programs use for a built-in helper: rename it`,
        );
      }
      const seen = topLevel.get(top);
      if (seen !== undefined && (seen !== "namespace" || kind !== "namespace")) {
        throw new TypeError(
          `"${top}" is both a tool and a namespace (from "${tool.name}"): rename the tool or the server`,
        );
      }
      topLevel.set(top, kind);
      byName.set(programName, tool);
    }
    this.tools = list;
    this.byProgramName = byName;
  }

  /** The program names of all tools, in definition order. */
  get programNames(): string[] {
    return [...this.byProgramName.keys()];
  }

  /**
   * Checks `input` against the tool's `inputSchema`; returns the complaint in words, or `null`.
   * A schema the validator cannot compile lets every input through (the tool still checks).
   */
  validate(programName: string, input: unknown): string | null {
    let v = this.#validators.get(programName);
    if (v === undefined) {
      const tool = this.byProgramName.get(programName)!;
      try {
        v = compile(tool.inputSchema);
      } catch (err) {
        v = `schema not checked: ${(err as Error).message}`;
      }
      this.#validators.set(programName, v);
    }
    if (typeof v === "string" || v(input)) return null;
    return (v.errors ?? []).slice(0, 5).map((e) => {
      const where = e.instancePath ? `"${e.instancePath.slice(1).replaceAll("/", ".")}"` : "input";
      const extra = e.keyword === "enum"
        ? `: ${
          (e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x))
            .join(", ")
        }`
        : e.keyword === "additionalProperties"
        ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : "";
      return `${where} ${e.message}${extra}`;
    }).join("; ");
  }
}

function _checkDefinition(tool: Tool, index: number): void {
  const label = typeof tool?.name === "string" ? `Tool "${tool.name}"` : `Tool #${index}`;
  if (typeof tool !== "object" || tool === null) {
    throw new TypeError(`Tool #${index} is ${tool === null ? "null" : typeof tool}: pass objects`);
  }
  if (typeof tool.name !== "string" || tool.name.trim() === "") {
    throw new TypeError(`${label} needs a non-empty string "name"`);
  }
  if (tool.name.split(".").length > 2) {
    throw new TypeError(`${label}: a name may hold one dot ("namespace.tool"), not more`);
  }
  if (typeof tool.description !== "string") {
    throw new TypeError(`${label} needs a string "description"`);
  }
  if (typeof tool.inputSchema !== "object" || tool.inputSchema === null) {
    throw new TypeError(`${label} needs an "inputSchema" object (a JSON Schema)`);
  }
  if (
    tool.outputSchema !== undefined &&
    (typeof tool.outputSchema !== "object" || tool.outputSchema === null)
  ) {
    throw new TypeError(`${label}: "outputSchema" must be a JSON Schema object when given`);
  }
  if (typeof tool.execute !== "function") {
    throw new TypeError(`${label} needs an "execute(input, context)" function`);
  }
}
