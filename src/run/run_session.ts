/**
 * One run on the host side: hand a compiled program to a sandbox process, answer its tool calls
 * within the budgets, collect its output, and turn how it ended into a {@linkcode RunResult}.
 *
 * @module
 */

import type { Limits } from "../limits.ts";
import type { _ChildMessage } from "../sandbox/protocol.ts";
import type { _SandboxListener, _SandboxProcess } from "../sandbox/sandbox_process.ts";
import { _WORKER_DIED_CODE } from "../sandbox/child_runtime.ts";
import { _stubsFor } from "../sandbox/stubs.ts";
import { _stageTimeout } from "../program/compile_outcome.ts";
import { _closeNames } from "../program/similar_names.ts";
import type { _ToolRegistry } from "../tools/registry.ts";
import type { Diagnostic, RunError, RunResult, ToolCallTrace } from "../types.ts";
import { _isThenable, _pollutingKey, _thrownText } from "./call_checks.ts";
import { _cleanText, _errorFromWire } from "./run_errors.ts";

/** What the compiler hands the sandbox (see `src/program/compile.ts`). */
export interface _RunnableProgram {
  js: string;
  imports: { start: number; end: number; stub: string | null }[];
  mapPosition(line: number, column: number): { line: number; column: number } | undefined;
}

/** How the type check of a running program came out (its diagnostics replace the session's). */
export type _GateResult =
  | { ok: true; diagnostics: Diagnostic[] }
  | { ok: false; error: RunError; diagnostics: Diagnostic[] };

/** A host-side helper a program calls like a tool (e.g. `searchTools`). */
export type _Helper = (input: Record<string, unknown>) => unknown;

/** Everything one run needs. */
export interface _SessionOptions {
  sandbox: _SandboxProcess;
  program: _RunnableProgram;
  registry: _ToolRegistry;
  limits: Limits;
  helpers: Record<string, _Helper>;
  startedAt: number;
  signal?: AbortSignal;
  diagnostics?: Diagnostic[];
  /**
   * The type check's verdict, when it runs alongside the sandbox's start: until it settles the
   * session holds every message; a failed check ends the run with its error and no output.
   */
  gate?: Promise<_GateResult>;
  onOutput?: (text: string) => void;
  onToolCall?: (trace: ToolCallTrace) => void;
}

/** Bytes of arguments that may wait for a call slot (at least twice `maxArgumentBytes`). */
const QUEUED_BYTES = 32 * 1024 * 1024;

/** Output the host keeps beyond the limit before it calls the program a flood and stops it. */
const FLOOD_CHARS = 4_000_000;

/** Runs one program in `sandbox` and resolves when the run is over and the process is gone. */
export function _runSession(o: _SessionOptions): Promise<RunResult> {
  const { sandbox, program, registry, limits } = o;
  const programNames = registry.programNames;
  const { promise, resolve } = Promise.withResolvers<RunResult>();
  const output: string[] = [];
  let outChars = 0;
  let hostCut = 0;
  let calls = 0;
  let toolResultBytes = 0;
  const trace: ToolCallTrace[] = [];
  const seenIds = new Set<number>();
  const queue: { start: () => Promise<void> | undefined; bytes: number }[] = [];
  // Arguments of calls waiting for a slot, held parsed: capped so a program cannot park
  // maxToolCalls × maxArgumentBytes on the host.
  let queuedBytes = 0;
  const maxQueuedBytes = Math.max(QUEUED_BYTES, 2 * limits.maxArgumentBytes);
  let running = 0;
  let finished = false;
  let finalError: RunError | undefined;
  let workerCut = 0;
  const runAbort = new AbortController();

  let resolved = false;
  // `ended`: the program said it is done, so every frame it sent has arrived and the result can
  // be given now. Otherwise the process is killed first and its last frames are read to the end.
  const finish = (error?: RunError, cut = 0, ended = false) => {
    if (finished) return;
    finished = true;
    finalError = error;
    workerCut = cut;
    clearTimeout(deadline);
    o.signal?.removeEventListener("abort", onAbort);
    runAbort.abort(new Error("the run has ended"));
    // A program that ended by itself has nothing left to stop: its process goes after the result.
    if (ended) {
      sandbox.retire();
      settle();
    } else sandbox.kill();
    // What the gate held no longer matters, but an exit it held must still end the run.
    for (const replay of held.splice(0)) replay();
  };

  // The run's time counts from its start: compiling came first.
  const deadline = setTimeout(() => {
    finish(
      gateOpen
        ? {
          kind: "timeout",
          message:
            `the program did not finish within ${limits.timeoutMs} ms and was stopped; do less per run or call tools in parallel`,
        }
        : _stageTimeout("check", limits.timeoutMs),
    );
  }, Math.max(0, limits.timeoutMs - (performance.now() - o.startedAt)));
  const onAbort = () =>
    finish({
      kind: "timeout",
      message: `the run was cancelled: ${String(o.signal?.reason ?? "aborted")}`,
    });
  if (o.signal?.aborted) queueMicrotask(onAbort);
  else o.signal?.addEventListener("abort", onAbort, { once: true });

  const reply = (json: string) => {
    if (!finished) sandbox.sendResult(json);
  };
  const replyError = (id: number, message: string) =>
    reply(JSON.stringify({ t: "res", id, ok: false, e: _cleanText(message) }));

  const pump = () => {
    while (running < limits.maxConcurrentCalls && queue.length > 0 && !finished) {
      running++;
      const next = queue.shift()!;
      queuedBytes -= next.bytes;
      const inFlight = next.start();
      if (inFlight === undefined) running--;
      else {
        inFlight.then(() => {
          running--;
          pump();
        });
      }
    }
  };

  // Tool timeouts: one sweep timer for all calls in flight rather than a timer per call.
  const inflight = new Map<number, { deadline: number; fail(err: Error): void }>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const sweepEvery = Math.max(10, Math.min(250, Math.floor(limits.toolTimeoutMs / 4)));
  const sweep = () => {
    const now = performance.now();
    for (const call of inflight.values()) {
      if (now >= call.deadline) {
        call.fail(
          new Error(
            `timed out after ${limits.toolTimeoutMs} ms; ask for less, or catch this error and go on`,
          ),
        );
      }
    }
    if (inflight.size === 0) sweeper = void clearInterval(sweeper);
  };
  // Abort controllers are made only for tools that read `context.signal`.
  const controllers = new Set<AbortController>();
  runAbort.signal.addEventListener("abort", () => {
    clearInterval(sweeper);
    for (const c of controllers) c.abort(runAbort.signal.reason);
  }, { once: true });

  // A tool that answers synchronously is answered at once; only a promise pays for the timeout
  // bookkeeping. Returns a promise only while the call is still in flight.
  const execute = (
    id: number,
    name: string,
    input: unknown,
    inputBytes: number,
  ): Promise<void> | undefined => {
    const started = performance.now();
    const entry: ToolCallTrace = {
      tool: name,
      startMs: Math.round((started - o.startedAt) * 1000) / 1000,
      durationMs: 0,
      inputBytes,
      outputBytes: 0,
      ok: false,
    };
    trace.push(entry);
    // Own keys only: a forged name such as "constructor" must not reach Object.prototype.
    const helper = Object.hasOwn(o.helpers, name) ? o.helpers[name] : undefined;
    const tool = registry.byProgramName.get(name);
    let controller: AbortController | undefined;
    const context = {
      name,
      get signal(): AbortSignal {
        if (controller === undefined) {
          controller = new AbortController();
          if (runAbort.signal.aborted) controller.abort(runAbort.signal.reason);
          else controllers.add(controller);
        }
        return controller.signal;
      },
    };
    const done = (value: unknown, failure?: unknown) => {
      inflight.delete(id);
      if (controller) controllers.delete(controller);
      if (failure === undefined) deliver(id, value, entry);
      else replyError(id, _thrownText(failure));
      entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      o.onToolCall?.(entry);
    };
    let value: unknown;
    try {
      value = helper ? helper(input as Record<string, unknown>) : tool!.execute(input, context);
    } catch (err) {
      done(undefined, err ?? "failed without a message");
      return undefined;
    }
    if (!_isThenable(value)) {
      done(value);
      return undefined;
    }
    return new Promise<void>((settled) => {
      let over = false;
      const finishOnce = (v: unknown, failure?: unknown) => {
        if (over) return;
        over = true;
        done(v, failure);
        settled();
      };
      inflight.set(id, {
        deadline: started + limits.toolTimeoutMs,
        fail: (err) => {
          controller?.abort(err);
          finishOnce(undefined, err);
        },
      });
      sweeper ??= setInterval(sweep, sweepEvery);
      Promise.resolve(value).then(
        (v) => finishOnce(v),
        (err) => finishOnce(undefined, err ?? "failed without a message"),
      );
    });
  };

  // Serialises a result and sends it, or an error when it cannot travel.
  const deliver = (id: number, value: unknown, entry: ToolCallTrace) => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value === undefined ? null : value);
    } catch (err) {
      replyError(id, `returned a value that cannot be sent to the program (${_thrownText(err)})`);
      return;
    }
    if (json === undefined) {
      replyError(id, `returned a ${typeof value}, which cannot be sent to the program`);
      return;
    }
    if (json.length > limits.maxResultBytes) {
      replyError(
        id,
        `returned ${json.length} bytes, over the ${limits.maxResultBytes}-byte result limit; ask for less (a smaller range, a filter, a page)`,
      );
      return;
    }
    entry.ok = true;
    entry.outputBytes = json.length;
    toolResultBytes += json.length;
    reply(`{"t":"res","id":${id},"ok":true,"v":${json}}`);
  };

  const onCall = (m: Extract<_ChildMessage, { t: "call" }>) => {
    const id = m.id;
    // Every call counts against the budget, a repeated id too, so a flood of them ends.
    calls++;
    const repeated = seenIds.has(id);
    seenIds.add(id);
    if (calls > limits.maxToolCalls) {
      finish({
        kind: "limit",
        message:
          `the program made more than ${limits.maxToolCalls} tool calls; batch the work or ask for more per call`,
      });
      return;
    }
    // A repeated id: the real runtime never sends one, so nobody waits for its answer.
    if (repeated) return;
    const name = m.tool;
    const isHelper = Object.hasOwn(o.helpers, name);
    if (!registry.byProgramName.has(name) && !isHelper) {
      const close = name.length <= 100 ? _closeNames(name, programNames, 5) : [];
      replyError(
        id,
        `there is no tool "${name.slice(0, 100)}${name.length > 100 ? "…" : ""}"${
          close.length ? `; did you mean ${close.join(", ")}?` : ""
        }`,
      );
      return;
    }
    const bytes = m.a.length;
    if (bytes > limits.maxArgumentBytes) {
      replyError(
        id,
        `arguments are ${bytes} bytes, over the ${limits.maxArgumentBytes}-byte limit; send less per call`,
      );
      return;
    }
    let input: unknown;
    try {
      input = JSON.parse(m.a);
    } catch {
      replyError(id, "arguments were not valid JSON");
      return;
    }
    const polluting = _pollutingKey(input);
    if (polluting !== undefined) {
      replyError(id, `arguments may not contain the key "${polluting}"; rename that field`);
      return;
    }
    if (!isHelper) {
      const complaint = registry.validate(name, input);
      if (complaint !== null) {
        replyError(id, `invalid input: ${complaint}`);
        return;
      }
    }
    if (queuedBytes + bytes > maxQueuedBytes) {
      replyError(
        id,
        `too many calls are waiting with large arguments (over ${
          Math.round(maxQueuedBytes / 1024 / 1024)
        } MB queued); start fewer at once, e.g. gatherLimited(tasks, 4)`,
      );
      return;
    }
    queuedBytes += bytes;
    queue.push({ start: () => execute(id, name, input, bytes), bytes });
    pump();
  };

  const onOut = (text: string) => {
    const room = limits.maxOutputChars - outChars;
    if (room <= 0) {
      hostCut += text.length;
      if (hostCut > FLOOD_CHARS) {
        finish({ kind: "limit", message: "the program flooded its output; print less" });
      }
      return;
    }
    const kept = text.length <= room ? text : text.slice(0, room);
    hostCut += text.length - kept.length;
    outChars += kept.length;
    output.push(kept);
    o.onOutput?.(kept);
  };

  // While the type check runs (it overlaps the sandbox's start), what the sandbox says waits:
  // no tool runs and no output is seen before the program has passed the check.
  let gateOpen = o.gate === undefined;
  let diagnostics = o.diagnostics;
  const held: (() => void)[] = [];
  o.gate?.then((g) => {
    diagnostics = g.diagnostics;
    if (finished) return;
    if (!g.ok) {
      finish(g.error, 0, true);
      return;
    }
    gateOpen = true;
    for (const replay of held.splice(0)) replay();
  });

  const listener: _SandboxListener = {
    message(m) {
      if (finished) return;
      switch (m.t) {
        case "out":
          onOut(m.s);
          return;
        case "call":
          onCall(m);
          return;
        case "end":
          finish(
            m.ok
              ? undefined
              : m.error
              ? _errorFromWire(m.error, program.mapPosition, programNames)
              : { kind: "runtime", message: "the program failed without an error" },
            m.cut,
            true,
          );
          return;
      }
    },
    exit(status, stderr) {
      if (!finished) {
        if (!gateOpen) {
          held.push(() => listener.exit(status, stderr));
          return;
        }
        // Under the OS data limit V8 may also die of a failed allocation with SIGSEGV.
        const oom = /out of memory|OOM|allocation fail|Last few GCs/i.test(stderr) ||
          status.signal === "SIGABRT" || status.signal === "SIGTRAP" ||
          status.signal === "SIGSEGV" || status.code === 133 || status.code === 134;
        const died = status.code === _WORKER_DIED_CODE
          ? /codemode-sandbox: (.*)/.exec(stderr)?.[1]
          : undefined;
        const violation = sandbox.violation;
        finish(
          violation !== undefined
            ? {
              kind: "runtime",
              message:
                `the program wrote to the sandbox's message channel directly and was stopped (${violation}); call tools as functions and print with print()`,
            }
            : died !== undefined
            ? {
              kind: "runtime",
              message: `the program's sandbox stopped: ${_cleanText(died, 500)}`,
            }
            : oom
            ? {
              kind: "memory",
              message:
                `the program ran out of memory (limit ${limits.memoryMb} MB) and was stopped; process data in smaller pieces and keep less in memory`,
            }
            : {
              kind: "runtime",
              message: `the sandbox process ended unexpectedly (exit code ${status.code}${
                status.signal ? `, ${status.signal}` : ""
              }) — the program may have called Deno.exit() or Deno.kill(), or closed its channel. ${
                _cleanText(stderr.trim().split("\n").slice(-3).join(" "), 300)
              }`.trim(),
            },
        );
      }
      settle();
    },
  };
  // Every message the runtime sends fits in this; a bigger frame is refused unread.
  sandbox.maxFrameBytes = 6 * Math.max(limits.maxArgumentBytes, limits.maxOutputChars, 32_768) +
    65_536;
  sandbox.start({
    message(m, bytes) {
      if (!gateOpen && !finished) held.push(() => listener.message(m, bytes));
      else listener.message(m, bytes);
    },
    exit(status, stderr) {
      listener.exit(status, stderr);
    },
  }, {
    t: "run",
    js: program.js,
    imports: program.imports,
    stubs: _stubsFor(program.imports, programNames),
    tools: [...programNames],
    maxOutputChars: limits.maxOutputChars,
    maxArgumentBytes: limits.maxArgumentBytes,
  });
  return promise;

  function settle(): void {
    if (resolved) return;
    resolved = true;
    let text = output.join("");
    const cut = Math.max(workerCut, 0) + hostCut;
    let error = finalError;
    if (cut > 0) {
      const note =
        `[output cut: ${cut} more characters were printed beyond the ${limits.maxOutputChars}-character limit; print less — counts, summaries or the first few items]`;
      text += (text.endsWith("\n") || text === "" ? "" : "\n") + note + "\n";
      error ??= { kind: "limit", message: note.slice(1, -1) };
    }
    const result: RunResult = {
      ok: error === undefined,
      output: text,
      calls: Math.min(calls, limits.maxToolCalls + 1),
      stats: {
        durationMs: Math.round((performance.now() - o.startedAt) * 1000) / 1000,
        toolResultBytes,
        outputBytes: new TextEncoder().encode(text).length,
      },
      trace,
    };
    if (error) result.error = error;
    if (diagnostics?.length) result.diagnostics = diagnostics;
    resolve(result);
  }
}
