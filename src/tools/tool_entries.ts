/**
 * The one place that decides what a tool is called in programs: each definition checked, its
 * program name (`names.ts`), its namespace, and every collision refused — two tools with one name,
 * a tool named like a namespace, and a tool that would take a name the sandbox or JavaScript
 * already gives programs (the helpers, the runtime's internals, the ES globals). The tool set
 * (`tool_set.ts`), the description and the search all take their names from here.
 *
 * @module
 */

import type { Tool } from "../types.ts";
import { _programName } from "./names.ts";

/** One tool as the program sees it. */
export interface _ToolEntry {
  /** The tool itself. */
  tool: Tool;
  /** How the program calls it: `read_file` or `memory.create_entities`. */
  path: string;
  /** The identifier-safe namespace, or null for a global tool. */
  namespace: string | null;
  /** The function name (the method name inside a namespace). */
  member: string;
}

/** Globals the program-side helpers occupy. */
export const _HELPER_NAMES: readonly string[] = [
  "print",
  "gatherLimited",
  "searchTools",
  "describeTool",
  "console",
];

/** Globals the sandbox runtime defines for itself (and the global object's own names). */
const INTERNAL_NAMES: readonly string[] = [
  "__codemode__",
  "__codemode_import__",
  "globalThis",
  "self",
];

/** ES2022 globals (lib.es2022): a tool of the same name would not compile and would shadow them. */
const ES_GLOBALS = new Set(
  ("AggregateError Array ArrayBuffer Atomics BigInt BigInt64Array BigUint64Array Boolean DataView " +
    "Date Error EvalError FinalizationRegistry Float32Array Float64Array Function Int16Array " +
    "Int32Array Int8Array Intl JSON Map Math Number Object Promise Proxy RangeError ReferenceError " +
    "Reflect RegExp Set SharedArrayBuffer String Symbol SyntaxError TypeError URIError Uint16Array " +
    "Uint32Array Uint8Array Uint8ClampedArray WeakMap WeakRef WeakSet decodeURI decodeURIComponent " +
    "encodeURI encodeURIComponent escape isFinite isNaN parseFloat parseInt unescape")
    .split(" "),
);

const cache = new WeakMap<readonly Tool[], { tools: Tool[]; entries: _ToolEntry[] }>();

/**
 * The program-side entries of `tools`, in order. Throws a TypeError naming the tool (and the
 * other one) when a definition is malformed, when two tools end up with the same program name,
 * when a tool's name equals a namespace, or when a tool takes a helper's, the runtime's or a
 * JavaScript global's name. Cached per array, and checked element by element, so an array
 * changed in place is never answered from the cache.
 */
export function _toolEntries(tools: readonly Tool[]): _ToolEntry[] {
  if (!Array.isArray(tools)) {
    throw new TypeError(`Expected an array of tools, got ${typeof tools}: pass Tool[]`);
  }
  const hit = cache.get(tools);
  if (hit && hit.tools.length === tools.length && hit.tools.every((t, i) => t === tools[i])) {
    return hit.entries;
  }
  const entries: _ToolEntry[] = [];
  // global name → what holds it; a namespace may be shared by many tools.
  const globals = new Map<string, { namespace: boolean; label: string }>();
  const paths = new Map<string, string>(); // program path → tool name
  for (const name of _HELPER_NAMES) {
    globals.set(name, { namespace: false, label: `the helper \`${name}\`` });
  }
  for (const name of INTERNAL_NAMES) {
    globals.set(name, { namespace: false, label: `\`${name}\`, which the sandbox defines` });
  }
  for (const [i, tool] of tools.entries()) {
    _checkDefinition(tool, i);
    const path = _programName(tool.name);
    const dot = path.indexOf(".");
    const namespace = dot < 0 ? null : path.slice(0, dot);
    const member = dot < 0 ? path : path.slice(dot + 1);
    const global = namespace ?? member;
    if (ES_GLOBALS.has(global)) {
      throw new TypeError(
        `Tool "${tool.name}" would shadow the JavaScript global \`${global}\`: rename the tool`,
      );
    }
    const sameName = paths.get(path);
    if (sameName !== undefined) {
      throw new TypeError(
        `Tools "${sameName}" and "${tool.name}" both become \`${path}\` in programs: rename one of them`,
      );
    }
    const holder = globals.get(global);
    if (holder && !(holder.namespace && namespace !== null)) {
      const what = namespace === null ? "" : ` (namespace \`${global}\`)`;
      throw new TypeError(
        `Tool "${tool.name}"${what} collides with ${holder.label} in programs: rename one of them`,
      );
    }
    if (!holder) {
      globals.set(global, {
        namespace: namespace !== null,
        label: namespace === null
          ? `tool "${tool.name}"`
          : `the namespace \`${global}\` of tool "${tool.name}"`,
      });
    }
    paths.set(path, tool.name);
    entries.push({ tool, path, namespace, member });
  }
  cache.set(tools, { tools: [...tools], entries });
  return entries;
}

/** Throws a TypeError naming the tool when its definition is not a usable tool. */
export function _checkDefinition(tool: Tool, index: number): void {
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
