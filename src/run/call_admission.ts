/**
 * Admitting a tool call from the sandbox: what the host checks before a tool runs — a fresh call
 * id, the call budget, a known tool, the argument size, arguments that parse, no key that could
 * pollute a prototype, and the input against the tool's schema. A refusal is an answer the
 * program gets (it can catch it), or the end of the run (the budget).
 *
 * @module
 */

import type { Limits } from "../limits.ts";
import { _closeNames } from "../program/similar_names.ts";
import { _nestingProblem } from "../tools/json_depth.ts";
import { type _ToolSet, INPUT_MAX_DEPTH } from "../tools/tool_set.ts";
import type { RunError, Tool } from "../types.ts";
import { _pollutingKey } from "./call_checks.ts";
import type { _ChildMessage } from "../sandbox/protocol.ts";

/** A host-side helper a program calls like a tool (e.g. `searchTools`). */
export type _Helper = (input: Record<string, unknown>) => unknown;

/** A call the host will run. */
export interface _AdmittedCall {
  id: number;
  name: string;
  input: unknown;
  bytes: number;
  run: (input: unknown, context: { name: string; readonly signal: AbortSignal }) => unknown;
}

/** What to do with a call message. */
export type _Admission =
  | { t: "run"; call: _AdmittedCall }
  | { t: "refuse"; id: number; message: string }
  | { t: "ignore" }
  | { t: "end"; error: RunError };

/** A call as the Worker sent it: JSON arguments (`a`) or a structured clone (`v`). */
export type _CallMessage = Extract<_ChildMessage, { t: "call" }>;

/** How many unknown tool names in one run get "did you mean" suggestions. */
const MAX_SUGGESTED_NAMES = 8;

/** The checks for one run's calls. */
export class _CallAdmission {
  #limits: Limits;
  #registry: _ToolSet;
  #helpers: Record<string, _Helper>;
  #seen = new Set<number>();
  /** Unknown tool names given "did you mean" suggestions so far. */
  #suggested = 0;
  /** Call messages seen, repeated ids included. */
  count = 0;

  constructor(limits: Limits, registry: _ToolSet, helpers: Record<string, _Helper>) {
    this.#limits = limits;
    this.#registry = registry;
    this.#helpers = helpers;
  }

  /** Checks one call message; `recordBytes` is its size on the wire. */
  admit(m: _CallMessage, recordBytes: number): _Admission {
    const limits = this.#limits;
    const id = m.id;
    // Every call counts against the budget, a repeated id too, so a flood of them ends.
    this.count++;
    const repeated = this.#seen.has(id);
    this.#seen.add(id);
    if (this.count > limits.maxToolCalls) {
      return {
        t: "end",
        error: {
          kind: "limit",
          message:
            `the program made more than ${limits.maxToolCalls} tool calls; batch the work or ask for more per call`,
        },
      };
    }
    // A repeated id: the real runtime never sends one, so nobody waits for its answer.
    if (repeated) return { t: "ignore" };
    const name = m.tool;
    // Own keys only: a forged name such as "constructor" must not reach Object.prototype.
    const helper = Object.hasOwn(this.#helpers, name) ? this.#helpers[name] : undefined;
    const tool: Tool | undefined = this.#registry.byProgramName.get(name);
    if (tool === undefined && helper === undefined) {
      // Suggestions cost a comparison with every name: a run gets them for its first few
      // unknown names, not for a flood of them.
      const suggest = name.length <= 100 && this.#suggested++ < MAX_SUGGESTED_NAMES;
      const close = suggest ? _closeNames(name, this.#registry.programNames, 5) : [];
      return {
        t: "refuse",
        id,
        message: `there is no tool "${name.slice(0, 100)}${name.length > 100 ? "…" : ""}"${
          close.length ? `; did you mean ${close.join(", ")}?` : ""
        }`,
      };
    }
    const bytes = "a" in m ? m.a.length : recordBytes;
    if (bytes > limits.maxArgumentBytes) {
      return {
        t: "refuse",
        id,
        message:
          `arguments are ${bytes} bytes, over the ${limits.maxArgumentBytes}-byte limit; send less per call`,
      };
    }
    let input: unknown;
    if ("a" in m) {
      try {
        input = JSON.parse(m.a);
      } catch {
        return { t: "refuse", id, message: "arguments were not valid JSON" };
      }
    } else {
      input = m.v;
      // A clone may refer to itself or share one object many times: what walks it later (the
      // schema validator, the tool) would recurse forever or unfold every share. It may unfold to
      // no more than the JSON its byte limit allows (an object or array takes at least 2 bytes).
      const unfolded = Math.floor(limits.maxArgumentBytes / 2);
      const problem = _nestingProblem(input, INPUT_MAX_DEPTH, unfolded);
      if (problem !== null) {
        const message = problem === "cycle"
          ? "arguments refer to themselves (a circular structure); pass plain data"
          : problem === "deep"
          ? `invalid input: nested deeper than ${INPUT_MAX_DEPTH} levels; send flatter data`
          : `arguments share objects that unfold to more than ${unfolded} objects and arrays (what ${limits.maxArgumentBytes} bytes of JSON could hold); pass plain data`;
        return { t: "refuse", id, message };
      }
    }
    const polluting = _pollutingKey(input);
    if (polluting !== undefined) {
      return {
        t: "refuse",
        id,
        message: `arguments may not contain the key "${polluting}"; rename that field`,
      };
    }
    if (helper === undefined) {
      const complaint = this.#registry.validate(name, input);
      if (complaint !== null) return { t: "refuse", id, message: `invalid input: ${complaint}` };
    }
    const run = helper !== undefined
      ? (value: unknown) => helper(value as Record<string, unknown>)
      : (value: unknown, context: { name: string; readonly signal: AbortSignal }) =>
        tool!.execute(value, context);
    return { t: "run", call: { id, name, input, bytes, run } };
  }
}
