/**
 * Tool calls as programs see them: every tool an async function (a frozen object per namespace),
 * its input sent to the host and its answer awaited, a failure thrown as a `ToolError`
 * (`worker_errors.ts`) that names the tool and, when uncaught, the line of the call.
 *
 * Serialised with `Function.prototype.toString` into the program Worker's module (see
 * `child_source.ts`), so it must not refer to anything outside its own body.
 *
 * @module
 */

import type { _WorkerChannel } from "./worker_channel.ts";
import type { _Errors } from "./worker_errors.ts";

/** An answer to one call, as the host sends it. */
export interface _Outcome {
  id: number;
  ok: boolean;
  v?: unknown;
  e?: string;
}

/** What `_makeCalls` gives the runtime. */
export interface _Calls {
  /** Calls a tool (or a host helper such as `searchTools`) by its program name. */
  callTool(tool: string, input: unknown): Promise<unknown>;
  /** Settles the call an answer is for; an answer to no call of the runtime's is dispatched. */
  settle(outcome: _Outcome): void;
  /** Calls still waiting for an answer. */
  pending(): number;
  /** The tools as functions: globals, and a frozen object per namespace. */
  makeTools(names: string[]): Record<string, unknown>;
  /** Serves `import(x)` at run time: the tool modules, or a refusal. */
  dynamicImport(specifier: unknown, tools: Record<string, unknown>): Promise<unknown>;
}

/**
 * Returns the call machinery; `isPlain` tells values JSON carries unchanged (`_isPlainJson`),
 * `ended` says whether the run is over, `onIdle` is called when the last pending call settles.
 */
export function _makeCalls(
  channel: _WorkerChannel,
  errors: _Errors,
  isPlain: (value: unknown) => boolean,
  ended: () => boolean,
  onIdle: () => void,
  maxArgument: () => number,
): _Calls {
  const ErrorCtor = Error;
  const stringify = JSON.stringify;
  const pending = new Map<number, (outcome: _Outcome) => void>();
  let nextId = 1;
  const scope = globalThis as unknown as { dispatchEvent?(e: Event): boolean };

  // Where a failed call is reported: the first call of a synchronous stretch records its site at
  // once (a short stack trace, ~3 us here); the other calls of a burst (a `Promise.all` over many
  // items) are placed when they fail, by the async stack of the code awaiting them (the line of
  // the `await`). A burst of 5,000 calls would otherwise spend a third of its time on traces.
  function callSite(): Error {
    const limit = ErrorCtor.stackTraceLimit;
    ErrorCtor.stackTraceLimit = 6;
    const site = new ErrorCtor();
    ErrorCtor.stackTraceLimit = limit;
    return site;
  }

  async function callTool(tool: string, input: unknown): Promise<unknown> {
    // Everything before the first await runs when the program calls: the call starts then.
    const site = channel.bursting() ? null : callSite();
    if (ended()) throw errors.tool(tool, "the run has already ended", site ?? callSite());
    const value = input === undefined ? {} : input;
    const id = nextId++;
    let json: string | undefined;
    let clone = false;
    if (isPlain(value)) json = stringify(value);
    else clone = true;
    const bytes = json?.length;
    if (bytes !== undefined && bytes > maxArgument()) {
      // The host refuses it too; refused here, it does not cost a frame the host must read.
      throw errors.tool(
        tool,
        `arguments are ${bytes} bytes, over the ${maxArgument()}-byte limit; send less per call`,
        site ?? callSite(),
      );
    }
    let message = clone
      ? undefined
      : `{"t":"call","id":${id},"tool":${stringify(tool)},"a":${stringify(json)}}`;
    // Nothing of the arguments is kept while the call waits: a burst of large calls holds only
    // what the program itself holds.
    json = undefined;
    const outcome = await new Promise<_Outcome>((resolve, reject) => {
      pending.set(id, resolve);
      try {
        if (message === undefined) {
          channel.sendClone({ t: "call", id, tool, v: value }, false, maxArgument());
        } else channel.sendJson(message);
        message = undefined;
      } catch (err) {
        pending.delete(id);
        const why = String((err as Error)?.message ?? err);
        reject(
          errors.tool(
            tool,
            err instanceof RangeError ? why : `arguments cannot be sent (${why}); pass data: ` +
              "objects, arrays, strings, numbers, booleans, Uint8Array, Date, Map, Set",
            site ?? callSite(),
          ),
        );
      }
    });
    if (outcome.ok) return outcome.v;
    // Made after the await: its stack continues into the program's awaiting code.
    throw errors.tool(tool, String(outcome.e), site ?? new ErrorCtor());
  }

  function settle(m: _Outcome): void {
    const resolve = pending.get(m.id);
    if (!resolve) {
      // A reply to a call the program forged through postMessage: it may listen for it.
      try {
        scope.dispatchEvent?.(new MessageEvent("message", { data: m }));
      } catch {
        // No listener that works: nothing to do.
      }
      return;
    }
    pending.delete(m.id);
    resolve(m);
    if (pending.size === 0) onIdle();
  }

  function makeTools(names: string[]): Record<string, unknown> {
    const tools: Record<string, unknown> = Object.create(null);
    for (const name of names) {
      const dot = name.indexOf(".");
      const fn = (input?: unknown) => callTool(name, input);
      if (dot < 0) {
        Object.defineProperty(fn, "name", { value: name });
        tools[name] = fn;
      } else {
        const ns = name.slice(0, dot);
        const member = name.slice(dot + 1);
        Object.defineProperty(fn, "name", { value: member });
        const obj = (tools[ns] ??= Object.create(null)) as Record<string, unknown>;
        obj[member] = fn;
      }
    }
    for (const value of Object.values(tools)) {
      if (typeof value === "object" && value !== null) Object.freeze(value);
    }
    return tools;
  }

  function dynamicImport(specifier: unknown, tools: Record<string, unknown>): Promise<unknown> {
    const s = String(specifier);
    if (s === "codemode:tools") {
      return Promise.resolve(Object.freeze({ __proto__: null, ...tools }));
    }
    if (s.startsWith("codemode:tools/")) {
      const name = s.slice("codemode:tools/".length);
      if (name in tools) {
        return Promise.resolve(
          Object.freeze({ __proto__: null, default: tools[name], [name]: tools[name] }),
        );
      }
      return Promise.reject(
        errors.importError(`"${s}" is not a tool; the tools are: ${Object.keys(tools).join(", ")}`),
      );
    }
    return Promise.reject(
      errors.importError(
        `import("${s}") is not allowed: programs cannot load modules. Tools are already in scope as global functions; write plain TypeScript for the rest.`,
      ),
    );
  }

  return {
    callTool,
    settle,
    pending: () => pending.size,
    makeTools,
    dynamicImport,
  };
}
