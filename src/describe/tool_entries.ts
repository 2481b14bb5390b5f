/**
 * Program-side names of tools, grouped by namespace, with collisions refused.
 *
 * @module
 */

import type { Tool } from "../types.ts";
import { _programName } from "../tools/names.ts";

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

const cache = new WeakMap<readonly Tool[], { length: number; entries: _ToolEntry[] }>();

/**
 * The program-side entries of `tools`, in order. Throws a TypeError naming both tools when two
 * tools end up with the same program name, when a tool's name equals a namespace, or when a tool
 * takes a helper's or a JavaScript global's name. Cached per array (rebuilt if its length changes).
 */
export function _toolEntries(tools: readonly Tool[]): _ToolEntry[] {
  if (!Array.isArray(tools)) {
    throw new TypeError(`Expected an array of tools, got ${typeof tools}: pass Tool[]`);
  }
  const hit = cache.get(tools);
  if (hit && hit.length === tools.length) return hit.entries;
  const entries: _ToolEntry[] = [];
  // global name → what holds it; a namespace may be shared by many tools.
  const globals = new Map<string, { namespace: boolean; label: string }>();
  const paths = new Map<string, string>(); // program path → tool name
  for (const name of _HELPER_NAMES) {
    globals.set(name, { namespace: false, label: `the helper \`${name}\`` });
  }
  for (const [i, tool] of tools.entries()) {
    if (tool === null || typeof tool !== "object" || typeof tool.name !== "string") {
      throw new TypeError(`Tool #${i} has no string \`name\`: give every tool a name`);
    }
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
  cache.set(tools, { length: tools.length, entries });
  return entries;
}
