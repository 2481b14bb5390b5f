/**
 * The program side: code that runs in the permission-less Worker before and around the program.
 *
 * Serialised with `Function.prototype.toString` into the Worker's `data:` module, so it must not
 * refer to anything outside its own body. It defines the globals a program sees (every tool as an
 * async function, `print`, `console`, `gatherLimited`, `searchTools`, `describeTool`), turns the
 * host's stub modules into importable URLs, runs the program and reports how it ended. Nothing here is
 * trusted by the host: every message is checked again on the other side.
 *
 * @module
 */

import type { _WorkerChannel } from "./worker_channel.ts";
import type { _makeGatherLimited } from "./worker_gather.ts";
import type { _lockDown } from "./worker_lockdown.ts";

/**
 * Runs inside the Worker; `channel` is the host channel `_workerChannel` opened first, and the
 * other two are `_makeGatherLimited` and `_lockDown`, serialised beside it.
 */
export function _workerRuntime(
  channel: _WorkerChannel,
  makeGatherLimited: typeof _makeGatherLimited,
  lockDown: typeof _lockDown,
): void {
  const scope = globalThis as unknown as Record<string, unknown> & {
    postMessage(m: unknown): void;
    addEventListener(type: string, f: (e: Event) => void): void;
    dispatchEvent(e: Event): boolean;
  };
  // The Worker's own port to the child's main isolate, which only ever hears "exit".
  const postToMain = scope.postMessage.bind(scope);
  const send = channel.send;
  // Deno defines many globals lazily: the first read of `setTimeout` costs milliseconds. Read them
  // now, while the process waits in the pool, not during a run.
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const realSetImmediate = scope.setImmediate as ((f: () => void) => unknown) | undefined;
  const realClearImmediate = scope.clearImmediate as ((id: unknown) => void) | undefined;
  for (
    const name of [
      "setInterval",
      "clearInterval",
      "queueMicrotask",
      "structuredClone",
      "URL",
      "URLSearchParams",
      "TextEncoder",
      "TextDecoder",
      "atob",
      "btoa",
      "crypto",
      "performance",
      "AbortController",
      "Blob",
    ]
  ) void scope[name];
  const inspect = Deno.inspect;
  const ErrorCtor = Error;
  const stringify = JSON.stringify;
  const pending = new Map<number, (outcome: { ok: boolean; v?: unknown; e?: string }) => void>();
  let nextId = 1;
  let maxOutput = 40_000;
  let maxArgument = 100_000;
  let outChars = 0;
  let cut = 0;
  let ended = false;
  let idle: (() => void) | null = null;
  const timeouts = new Set<unknown>();
  const PROGRAM = "<program>";
  let programUrl = "";

  // Never assign `stack`: Deno then replaces the error with a plain one when it leaves import().
  class ToolError extends Error {
    tool: string;
    site: Error;
    constructor(tool: string, message: string, site: Error) {
      super(message.startsWith(`${tool}:`) ? message : `${tool}: ${message}`);
      this.name = "ToolError";
      this.tool = tool;
      this.site = site;
    }
  }
  class ImportError extends Error {
    constructor(message: string) {
      super(message);
      this.name = "ImportError";
    }
  }
  class LimitError extends Error {
    constructor(message: string) {
      super(message);
      this.name = "LimitError";
    }
  }
  // Characters printed past the output limit after which the program counts as a flood and ends.
  const FLOOD_CHARS = 4_000_000;

  // ---- output ----
  function format(values: unknown[]): string {
    return values.map((v) =>
      typeof v === "string" ? v : inspect(v, {
        colors: false,
        depth: 6,
        iterableLimit: 200,
        strAbbreviateSize: 100_000,
        breakLength: 100,
      })
    ).join(" ");
  }
  let indent = "";
  function write(text: string): void {
    if (ended) return;
    const line = (indent ? text.replace(/^/gm, indent) : text) + "\n";
    const room = maxOutput - outChars;
    if (room <= 0) {
      cut += line.length;
      if (cut > FLOOD_CHARS) {
        end(
          false,
          new LimitError(
            `the program kept printing after its output reached the ${maxOutput}-character limit and was stopped; print less — counts, summaries or the first few items`,
          ),
        );
      }
      return;
    }
    const kept = line.length <= room ? line : line.slice(0, room);
    cut += line.length - kept.length;
    outChars += kept.length;
    send({ t: "out", s: kept }, true);
  }
  function print(...values: unknown[]): void {
    write(format(values));
  }
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  const fakeConsole = {
    log: print,
    info: print,
    debug: print,
    warn: print,
    error: print,
    trace: print,
    dir: (v: unknown) => print(v),
    dirxml: print,
    table: (v: unknown) => print(v),
    assert: (ok: unknown, ...rest: unknown[]) => {
      if (!ok) print("Assertion failed:", ...rest);
    },
    count: (label = "default") => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      print(`${label}: ${n}`);
    },
    countReset: (label = "default") => void counts.delete(label),
    time: (label = "default") => void timers.set(label, performance.now()),
    timeLog: (label = "default", ...rest: unknown[]) =>
      print(`${label}: ${(performance.now() - (timers.get(label) ?? 0)).toFixed(3)}ms`, ...rest),
    timeEnd: (label = "default") => {
      print(`${label}: ${(performance.now() - (timers.get(label) ?? 0)).toFixed(3)}ms`);
      timers.delete(label);
    },
    group: (...label: unknown[]) => {
      if (label.length) print(...label);
      indent += "    ";
    },
    groupCollapsed: (...label: unknown[]) => {
      if (label.length) print(...label);
      indent += "    ";
    },
    groupEnd: () => void (indent = indent.slice(4)),
    clear: () => {},
  };

  // ---- tool calls ----
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
    if (ended) throw new ToolError(tool, "the run has already ended", site ?? callSite());
    let a: string;
    try {
      a = stringify(input === undefined ? {} : input) ?? "null";
    } catch (err) {
      throw new ToolError(
        tool,
        `arguments must be JSON data (${
          (err as Error).message
        }); pass plain objects, arrays, strings, numbers and booleans`,
        site ?? callSite(),
      );
    }
    if (a.length > maxArgument) {
      // The host refuses it too; refused here, it does not cost a frame the host must read.
      throw new ToolError(
        tool,
        `arguments are ${a.length} bytes, over the ${maxArgument}-byte limit; send less per call`,
        site ?? callSite(),
      );
    }
    const id = nextId++;
    const outcome = await new Promise<{ ok: boolean; v?: unknown; e?: string }>((resolve) => {
      pending.set(id, resolve);
      send({ t: "call", id, tool, a });
    });
    if (outcome.ok) return outcome.v;
    // Made after the await: its stack continues into the program's awaiting code.
    throw new ToolError(tool, String(outcome.e), site ?? new ErrorCtor());
  }
  function settleCall(m: { id: number; ok: boolean; v?: unknown; e?: string }): void {
    const resolve = pending.get(m.id);
    if (!resolve) {
      // A reply to a call the program forged through postMessage: it may listen for it.
      scope.dispatchEvent(new MessageEvent("message", { data: m }));
      return;
    }
    pending.delete(m.id);
    resolve(m);
    if (pending.size === 0 && idle) idle();
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
        new ImportError(`"${s}" is not a tool; the tools are: ${Object.keys(tools).join(", ")}`),
      );
    }
    return Promise.reject(
      new ImportError(
        `import("${s}") is not allowed: programs cannot load modules. Tools are already in scope as global functions; write plain TypeScript for the rest.`,
      ),
    );
  }

  // ---- ending ----
  function wireError(err: unknown): Record<string, unknown> {
    if (err instanceof ToolError) {
      return {
        name: err.name,
        message: err.message,
        stack: clean(err.site.stack),
        tool: err.tool,
        kind: "tool",
      };
    }
    if (err instanceof ImportError) {
      return { name: err.name, message: err.message, stack: clean(err.stack), kind: "import" };
    }
    if (err instanceof LimitError) {
      return { name: err.name, message: err.message, kind: "limit" };
    }
    if (err instanceof Error) {
      let stack: string | undefined;
      let message: string;
      let name = "Error";
      try {
        stack = clean(err.stack);
        message = String(err.message);
        name = String(err.name);
      } catch {
        message = "an error whose details could not be read";
      }
      return { name, message, stack };
    }
    try {
      return { name: "Error", message: `Uncaught ${format([err])}` };
    } catch {
      return { name: "Error", message: "Uncaught a value that cannot be shown" };
    }
  }
  // The host keeps at most this much of an error's text; sending more would only cost time.
  const ERROR_CHARS = 16_384;
  function capped(e: Record<string, unknown>): Record<string, unknown> {
    for (const key of ["name", "message", "stack", "tool"]) {
      const v = e[key];
      if (typeof v === "string" && v.length > ERROR_CHARS) e[key] = v.slice(0, ERROR_CHARS);
    }
    return e;
  }
  function clean(stack: string | undefined): string | undefined {
    return programUrl && stack ? stack.split(programUrl).join(PROGRAM) : stack;
  }
  function end(ok: boolean, err?: unknown): void {
    if (ended) return;
    ended = true;
    send({ t: "end", ok, cut, error: ok ? undefined : capped(wireError(err)) }, true);
    // The end has been written; the process has nothing left to do. Ending it here spares the
    // host a kill on the path of the run's result.
    postToMain("exit");
  }

  scope.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    end(false, (e as PromiseRejectionEvent).reason);
  });
  scope.addEventListener("error", (e) => {
    e.preventDefault();
    end(false, (e as ErrorEvent).error ?? new Error((e as ErrorEvent).message));
  });

  async function run(m: {
    js: string;
    imports: { start: number; end: number; stub: string | null }[];
    stubs: { stub: string | null; source: string }[];
    tools: string[];
    maxOutputChars: number;
    maxArgumentBytes: number;
  }): Promise<void> {
    maxOutput = m.maxOutputChars;
    maxArgument = m.maxArgumentBytes;
    const tools = makeTools(m.tools);
    const blob = (source: string) =>
      URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const stubUrls = new Map<string | null, string>();
    scope.__codemode__ = Object.freeze({ tools });
    for (const s of m.stubs) stubUrls.set(s.stub, blob(s.source));
    let js = m.js;
    for (const imp of [...m.imports].sort((a, b) => b.start - a.start)) {
      const url = stubUrls.get(imp.stub);
      if (url === undefined) {
        end(false, new ImportError(`no stub module for "codemode:tools/${imp.stub}"`));
        return;
      }
      js = js.slice(0, imp.start) + stringify(url) + js.slice(imp.end);
    }
    for (const [name, value] of Object.entries(tools)) scope[name] = value;
    scope.print = print;
    scope.console = fakeConsole;
    scope.gatherLimited = makeGatherLimited((v) => inspect(v));
    scope.searchTools = (query: unknown, options?: unknown) =>
      callTool("searchTools", { query, ...(typeof options === "object" ? options : {}) });
    scope.describeTool = (name: unknown) => callTool("describeTool", { name });
    scope.__codemode_import__ = (s: unknown) => dynamicImport(s, tools);
    // The raw channel, as the program's own `postMessage`: whatever it sends, the host checks
    // like any other message (it cannot do more than the runtime does for it).
    scope.postMessage = (message: unknown) => send(message);
    lockDown(scope, (what: string) => () => {
      end(
        false,
        new Error(
          `the program called ${what}; a program ends by reaching its last line (throw an Error to fail)`,
        ),
      );
      throw new Error(`${what} ended the run`);
    });
    // Track pending timeouts so the run waits for them (intervals would never end; not tracked).
    const settled = (id: unknown) => {
      timeouts.delete(id);
      if (pending.size === 0 && timeouts.size === 0 && idle) idle();
    };
    scope.setTimeout = (fn: unknown, ms?: number, ...args: unknown[]) => {
      const id: unknown = realSetTimeout(() => {
        try {
          if (typeof fn === "function") fn(...args);
        } finally {
          settled(id);
        }
      }, ms);
      timeouts.add(id);
      return id;
    };
    scope.clearTimeout = (id: unknown) => {
      realClearTimeout(id as number);
      settled(id);
    };
    if (typeof realSetImmediate === "function" && typeof realClearImmediate === "function") {
      // Immediates are waited for like timeouts; their handles are objects, so they cannot be
      // mistaken for a timeout's number.
      scope.setImmediate = (fn: unknown, ...args: unknown[]) => {
        const handle: unknown = realSetImmediate(() => {
          try {
            if (typeof fn === "function") fn(...args);
          } finally {
            settled(handle);
          }
        });
        timeouts.add(handle);
        return handle;
      };
      scope.clearImmediate = (handle: unknown) => {
        realClearImmediate(handle);
        settled(handle);
      };
    }
    programUrl = blob(js);
    try {
      await import(programUrl);
      // Let calls the program started but never awaited finish, then let their callbacks print;
      // a callback may start another call (`call().then((x) => call2(x)).then(print)`), so
      // repeat until a macrotask passes with nothing pending.
      // Timeouts the program set but did not await run too, as they would in any script.
      await macrotask();
      while (pending.size > 0 || timeouts.size > 0) {
        await new Promise<void>((r) => (idle = r));
        await macrotask();
      }
      end(true);
    } catch (err) {
      end(false, err);
    }
  }

  // A real macrotask: it runs only once the microtask queue has drained. (A MessageChannel
  // message is not enough in Deno: it is dispatched from a promise continuation and can run
  // between the microtasks of an earlier settle, before a promise adoption chain finishes.)
  // `setImmediate` takes ~0.06 ms; `setTimeout(0)` ~2 ms, so it is only the fallback.
  function macrotask(): Promise<void> {
    return new Promise((r) =>
      typeof realSetImmediate === "function" ? realSetImmediate(r) : realSetTimeout(r, 0)
    );
  }

  // Warm the paths a run takes, while the process waits in the pool.
  async function warm(): Promise<void> {
    format([{ warm: [1] }]);
    const url = URL.createObjectURL(new Blob(["export {};"], { type: "text/javascript" }));
    await import(url);
    await macrotask();
  }

  channel.listen((data) => {
    const m = data as { t?: unknown } | null;
    if (m?.t === "res") settleCall(m as Parameters<typeof settleCall>[0]);
    else if (m?.t === "resv") {
      for (const r of (m as unknown as { r: Parameters<typeof settleCall>[0][] }).r) settleCall(r);
    } else if (m?.t === "run") run(m as Parameters<typeof run>[0]);
  }, () => postToMain("exit"));
  warm().finally(() => send({ t: "ready" }, true));
}
