/**
 * The program side: what runs in a slot's permission-less Worker around the program. It waits
 * (warm) for one `run` message, defines the program's globals from the parts serialised beside
 * it — output (`worker_output.ts`), tool calls (`worker_calls.ts`), timers (`worker_timers.ts`),
 * `gatherLimited` (`worker_gather.ts`), the lock-down (`worker_lockdown.ts`) — runs the program
 * as a blob module, waits for what it left running, reports how it ended, and ends its Worker.
 *
 * Serialised with `Function.prototype.toString` into the Worker's `data:` module (see
 * `child_source.ts`), so it must not refer to anything outside its own body. Nothing here is
 * trusted by the host: every message is checked again on the other side.
 *
 * @module
 */

import type { _RunMessage, _WIRE } from "./protocol.ts";
import type { _WorkerChannel } from "./worker_channel.ts";
import type { _makeCalls, _Outcome } from "./worker_calls.ts";
import type { _makeErrors } from "./worker_errors.ts";
import type { _makeGatherLimited } from "./worker_gather.ts";
import type { _guardBuffers } from "./worker_buffers.ts";
import type { _linkProgram } from "./worker_link.ts";
import type { _lockDown } from "./worker_lockdown.ts";
import type { _makeOutput } from "./worker_output.ts";
import type { _makeTimers } from "./worker_timers.ts";

/** The serialised parts the runtime is built from. */
export interface _RuntimeParts {
  makeOutput: typeof _makeOutput;
  makeCalls: typeof _makeCalls;
  makeErrors: typeof _makeErrors;
  makeTimers: typeof _makeTimers;
  makeGatherLimited: typeof _makeGatherLimited;
  lockDown: typeof _lockDown;
  guardBuffers: typeof _guardBuffers;
  linkProgram: typeof _linkProgram;
  isPlainJson: (value: unknown, budget: number) => boolean;
}

/** Runs inside the Worker; `exit` ends the Worker once the run is over. */
export function _workerRuntime(
  wire: typeof _WIRE,
  channel: _WorkerChannel,
  parts: _RuntimeParts,
  exit: () => void,
): void {
  const scope = globalThis as unknown as Record<string, unknown> & {
    addEventListener(type: string, f: (e: Event) => void): void;
  };
  // Deno defines many globals lazily: the first read costs milliseconds. Read them now, while
  // the Worker waits for a program, not during a run.
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
  const PROGRAM = "<program>";
  let programUrl = "";
  let ended = false;
  let maxArgument = 100_000;
  let idle: (() => void) | null = null;
  const onIdle = () => {
    if (calls.pending() === 0 && timers.pending() === 0 && idle) idle();
  };

  const errors = parts.makeErrors();
  const output = parts.makeOutput(
    wire,
    inspect as (value: unknown, options: Record<string, unknown>) => string,
    (text) => channel.send({ t: "out", s: text }, true),
    (maxOutput) =>
      end(
        false,
        errors.limitError(
          `the program kept printing after its output reached the ${maxOutput}-character limit and was stopped; print less — counts, summaries or the first few items`,
        ),
      ),
    () => ended,
  );
  const calls = parts.makeCalls(
    channel,
    errors,
    (value) => parts.isPlainJson(value, 100_000),
    () => ended,
    onIdle,
    () => maxArgument,
  );
  const timers = parts.makeTimers(onIdle);

  function clean(stack: string | undefined): string | undefined {
    return programUrl && stack ? stack.split(programUrl).join(PROGRAM) : stack;
  }
  function capped(e: Record<string, unknown>): Record<string, unknown> {
    for (const key of ["name", "message", "stack", "tool"]) {
      const v = e[key];
      if (typeof v === "string" && v.length > wire.errorChars) e[key] = v.slice(0, wire.errorChars);
    }
    return e;
  }
  function end(ok: boolean, err?: unknown): void {
    if (ended) return;
    ended = true;
    channel.send(
      {
        t: "end",
        ok,
        cut: output.cut(),
        error: ok ? undefined : capped(errors.wireError(err, clean, output.format)),
      },
      true,
    );
    // The end has been written; the Worker has nothing left to do.
    exit();
  }

  scope.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    end(false, (e as PromiseRejectionEvent).reason);
  });
  scope.addEventListener("error", (e) => {
    e.preventDefault();
    end(false, (e as ErrorEvent).error ?? new Error((e as ErrorEvent).message));
  });

  function define(m: _RunMessage): Record<string, unknown> {
    const tools = calls.makeTools(m.tools);
    scope.__codemode__ = Object.freeze({ tools });
    for (const [name, value] of Object.entries(tools)) scope[name] = value;
    scope.print = output.print;
    scope.console = output.console;
    scope.gatherLimited = parts.makeGatherLimited((v) => inspect(v));
    scope.searchTools = (query: unknown, options?: unknown) =>
      calls.callTool("searchTools", { query, ...(typeof options === "object" ? options : {}) });
    scope.describeTool = (name: unknown) => calls.callTool("describeTool", { name });
    scope.__codemode_import__ = (s: unknown) => calls.dynamicImport(s, tools);
    // Web code says `self`; a Node-compatible Worker has only `globalThis`.
    scope.self = scope;
    // The raw channel, as the program's own `postMessage`: whatever it sends, the host checks
    // like any other message (it cannot do more than the runtime does for it).
    scope.postMessage = (message: unknown) => channel.send(message);
    parts.guardBuffers(scope, m.memoryMb * 1024 * 1024);
    parts.lockDown(scope, (what: string) => () => {
      end(
        false,
        new Error(
          `the program called ${what}; a program ends by reaching its last line (throw an Error to fail)`,
        ),
      );
      throw new Error(`${what} ended the run`);
    });
    timers.install(scope);
    return tools;
  }

  async function run(m: _RunMessage): Promise<void> {
    output.limit(m.maxOutputChars);
    maxArgument = m.maxArgumentBytes;
    define(m);
    const linked = parts.linkProgram(m);
    if ("missing" in linked) {
      end(false, errors.importError(`no stub module for "codemode:tools/${linked.missing}"`));
      return;
    }
    programUrl = linked.url;
    try {
      await import(programUrl);
      // Let calls the program started but never awaited finish, then let their callbacks print;
      // a callback may start another call (`call().then((x) => call2(x)).then(print)`), so
      // repeat until a macrotask passes with nothing pending. Timeouts the program set but did
      // not await run too, as they would in any script.
      await timers.macrotask();
      while (calls.pending() > 0 || timers.pending() > 0) {
        await new Promise<void>((r) => (idle = r));
        await timers.macrotask();
      }
      end(true);
    } catch (err) {
      end(false, err);
    }
  }

  // Warm the paths a run takes, while the Worker waits for its program.
  async function warm(): Promise<void> {
    output.format([{ warm: [1] }]);
    const url = URL.createObjectURL(new Blob(["export {};"], { type: "text/javascript" }));
    await import(url);
    await timers.macrotask();
  }

  // V8 can stop a program at its heap limit inside a microtask without reporting it: the
  // program's own code never runs again, yet the Worker answers. At a ping, a full heap with
  // nothing left to wait for (no call, no timer) is that case: the run ends out of memory.
  const heapLimit = (m: number) => (m + wire.runtimeHeapMb) * 1024 * 1024;
  let memoryMb = 0;
  const memoryUsage = Deno.memoryUsage;
  const checkHeap = () => {
    if (!started || ended || calls.pending() > 0 || timers.pending() > 0) return;
    if (memoryUsage().heapUsed < 0.9 * heapLimit(memoryMb)) return;
    end(false, errors.memoryError(memoryMb));
  };

  let started = false;
  channel.listen((data) => {
    const m = data as { t?: unknown } | null;
    if (m?.t === "res") calls.settle(m as unknown as _Outcome);
    else if (m?.t === "resv") {
      for (const r of (m as unknown as { r: _Outcome[] }).r) calls.settle(r);
    } else if (m?.t === "run" && !started) {
      started = true;
      memoryMb = (m as unknown as _RunMessage).memoryMb;
      run(m as unknown as _RunMessage);
    }
  }, checkHeap);
  warm().finally(() => channel.send({ t: "ready" }, true));
}
