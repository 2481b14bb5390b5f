/**
 * The parts of a run on the host, one by one: call admission, scheduling with per-call timeouts,
 * results on the channel, the output buffer, what waits for the check, how a Worker's end
 * becomes an error, and the result. No sandbox here: each part alone.
 */

import assert from "node:assert/strict";
import v8 from "node:v8";
import { _resolveLimits } from "../src/limits.ts";
import { _CallAdmission, type _CallMessage } from "../src/run/call_admission.ts";
import { _CallScheduler } from "../src/run/call_scheduler.ts";
import { _exitError } from "../src/run/exit_classifier.ts";
import { _MessageHold } from "../src/run/message_hold.ts";
import { _OutputBuffer } from "../src/run/output_buffer.ts";
import { _encodeResult } from "../src/run/result_encoder.ts";
import { _failedResult, _runResult } from "../src/run/run_result.ts";
import type { _SlotEnd } from "../src/sandbox/sandbox_slot.ts";
import { _ToolSet } from "../src/tools/tool_set.ts";
import type { Tool, ToolCallTrace } from "../src/types.ts";

const echo: Tool = {
  name: "echo",
  description: "Returns its input.",
  inputSchema: { type: "object", properties: { n: { type: "integer" } } },
  execute: (input) => input,
};

Deno.test("_OutputBuffer keeps output up to its limit, counts the rest, and calls a flood", () => {
  const streamed: string[] = [];
  const buffer = new _OutputBuffer(10, (text) => streamed.push(text));
  assert.equal(buffer.push("hello\n"), true);
  assert.equal(buffer.push("world\n"), true);
  assert.deepEqual(streamed, ["hello\n", "worl"]);
  const { text, note } = buffer.finish(5);
  assert.match(text, /^hello\nworl\n\[output cut: 7 more characters .*10-character limit/);
  assert.match(note!, /print less/);
  assert.deepEqual(new _OutputBuffer(10).finish(0), { text: "" });
  const flood = new _OutputBuffer(1);
  assert.equal(flood.push("x"), true);
  assert.equal(flood.push("x".repeat(5_000_000)), false, "far past the limit is a flood");
});

Deno.test("_CallAdmission checks each call before a tool runs", async () => {
  const tools = new _ToolSet([echo]);
  await tools.ready();
  const limits = _resolveLimits({ maxToolCalls: 9, maxArgumentBytes: 50 });
  const admission = new _CallAdmission(limits, tools, { searchTools: () => [] });
  const call = (id: number, tool: string, a: string): _CallMessage => ({ t: "call", id, tool, a });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const rows: [string, _CallMessage, RegExp | "run" | "ignore"][] = [
    ["a good call", call(1, "echo", '{"n":1}'), "run"],
    ["a repeated id", call(1, "echo", '{"n":1}'), "ignore"],
    [
      "an unknown tool, with close names",
      call(2, "ecco", "{}"),
      /no tool "ecco"; did you mean echo/,
    ],
    ["arguments over the limit", call(3, "echo", `{"s":"${"x".repeat(60)}"}`), /over the 50-byte/],
    ["arguments that are not JSON", call(4, "echo", "{"), /not valid JSON/],
    ["a polluting key", call(5, "echo", '{"__proto__":{"x":1}}'), /"__proto__"/],
    ["input the schema refuses", call(6, "echo", '{"n":"one"}'), /invalid input: .*integer/],
    ["a cycle in a clone", { t: "call", id: 7, tool: "echo", v: cyclic }, /circular/],
    ["a helper", call(8, "searchTools", '{"query":"x"}'), "run"],
  ];
  for (const [name, message, expected] of rows) {
    const admitted = admission.admit(message, 10);
    if (expected === "run") assert.equal(admitted.t, "run", name);
    else if (expected === "ignore") assert.equal(admitted.t, "ignore", name);
    else {
      assert.equal(admitted.t, "refuse", name);
      assert.match((admitted as { message: string }).message, expected, name);
    }
  }
  // The tenth call message (repeated ids count too) is past the budget of nine: the run ends.
  const over = admission.admit(call(9, "echo", "{}"), 10);
  assert.equal(over.t, "end");
  assert.match((over as { error: { message: string } }).error.message, /more than 9 tool calls/);
});

Deno.test("_CallAdmission measures a clone's shared objects once and refuses one that unfolds past its byte limit", async () => {
  const tools = new _ToolSet([echo]);
  await tools.ready();
  const admission = new _CallAdmission(
    _resolveLimits({ maxArgumentBytes: 1_000 }),
    tools,
    {},
  );
  // Shared at every level: 2^60 paths through 61 objects. A walk that followed each path
  // would not end; a measure of each distinct object once answers at once.
  let doubling: Record<string, unknown> = {};
  for (let i = 0; i < 60; i++) doubling = { x: doubling, y: doubling };
  const tag = { kind: "t" };
  let chain: unknown = {};
  for (let i = 0; i < 150; i++) chain = [chain];
  const clone = (id: number, v: unknown): _CallMessage => ({ t: "call", id, tool: "echo", v });
  const rows: [string, unknown, RegExp | "run"][] = [
    ["an object shared at every level", doubling, /unfold to more than 500 objects/],
    ["one object shared a few times", { a: tag, b: [tag, tag], n: 1 }, "run"],
    ["a chain 150 deep", { c: chain }, /nested deeper than 100 levels/],
  ];
  for (const [i, [name, value, expected]] of rows.entries()) {
    const admitted = admission.admit(clone(i + 1, value), 10);
    if (expected === "run") assert.equal(admitted.t, "run", name);
    else {
      assert.equal(admitted.t, "refuse", name);
      assert.match((admitted as { message: string }).message, expected, name);
    }
  }
});

Deno.test("_CallAdmission suggests close names for a run's first few unknown tools, not a flood of them", async () => {
  const tools = new _ToolSet([echo]);
  await tools.ready();
  const admission = new _CallAdmission(_resolveLimits({}), tools, {});
  const messages = Array.from({ length: 12 }, (_, i) => {
    const admitted = admission.admit({ t: "call", id: i + 1, tool: "ecco", a: "{}" }, 2);
    assert.equal(admitted.t, "refuse");
    return (admitted as { message: string }).message;
  });
  assert.equal(messages.filter((m) => /did you mean echo/.test(m)).length, 8);
  assert.match(messages[11], /^there is no tool "ecco"$/);
});

Deno.test("_CallScheduler runs at most maxConcurrentCalls at once and times out slow calls", async () => {
  const answers: [number, unknown][] = [];
  const failures: [number, string][] = [];
  let running = 0;
  let peak = 0;
  const allDone = Promise.withResolvers<void>();
  const scheduler = new _CallScheduler({
    maxConcurrentCalls: 2,
    toolTimeoutMs: 200,
    maxArgumentBytes: 100,
    startedAt: performance.now(),
    answer: (id, value) => {
      answers.push([id, value]);
      if (answers.length + failures.length === 5) allDone.resolve();
    },
    fail: (id, message) => {
      failures.push([id, message]);
      if (answers.length + failures.length === 5) allDone.resolve();
    },
  });
  const slow = (id: number, ms: number) => ({
    id,
    name: "slow",
    input: {},
    bytes: 2,
    run: async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return id;
    },
  });
  // A tool that never answers and honours its signal: timed out, and told so.
  let aborted = false;
  scheduler.submit({
    id: 0,
    name: "hang",
    input: {},
    bytes: 2,
    run: (_input, context) =>
      new Promise((_, reject) =>
        context.signal.addEventListener("abort", () => {
          aborted = true;
          reject(context.signal.reason);
        })
      ),
  });
  for (let i = 1; i <= 4; i++) scheduler.submit(slow(i, 20));
  await allDone.promise;
  assert.equal(peak, 1, "the hanging call holds one of the two slots");
  assert.deepEqual(answers.map(([id]) => id), [1, 2, 3, 4]);
  assert.equal(failures[0][0], 0);
  assert.match(failures[0][1], /timed out after 200 ms/);
  assert.equal(aborted, true);
  assert.equal(scheduler.trace.length, 5);
  // A synchronous tool is answered before submit() returns.
  const sync: number[] = [];
  const quick = new _CallScheduler({
    maxConcurrentCalls: 1,
    toolTimeoutMs: 1000,
    maxArgumentBytes: 100,
    startedAt: 0,
    answer: (id) => sync.push(id),
    fail: () => {},
  });
  quick.submit({ id: 9, name: "now", input: {}, bytes: 2, run: () => "now" });
  assert.deepEqual(sync, [9]);
  // Past the queued-bytes cap a call is refused with what to do.
  const refused = quick.submit({
    id: 10,
    name: "big",
    input: {},
    bytes: 40 * 1024 * 1024,
    run: () => 1,
  });
  assert.match(refused!, /too many calls are waiting with large arguments.*gatherLimited/);
  scheduler.close("done");
  quick.close("done");
});

Deno.test("_encodeResult takes JSON where it can, a structured clone where it must, and refuses what cannot travel", () => {
  const json = _encodeResult(1, { a: [1, "b"] }, 1000);
  assert.deepEqual(json, { json: '{"t":"res","id":1,"ok":true,"v":{"a":[1,"b"]}}', bytes: 13 });
  assert.deepEqual(_encodeResult(2, undefined, 1000), {
    json: '{"t":"res","id":2,"ok":true,"v":null}',
    bytes: 4,
  });
  const clone = _encodeResult(3, new Map([[1, new Uint8Array([7])]]), 1000);
  assert.ok("clone" in clone);
  const back = v8.deserialize(clone.clone) as { v: Map<number, Uint8Array> };
  assert.deepEqual([...back.v.get(1)!], [7]);
  const rows: [string, unknown, number, RegExp][] = [
    ["a function", () => 1, 1000, /returned a function, which cannot be sent/],
    ["a symbol", Symbol("s"), 1000, /returned a symbol/],
    ["an object holding a function", { f: () => 1 }, 1000, /could not be cloned/],
    ["too large", "x".repeat(2000), 1000, /over the 1000-byte result limit/],
  ];
  for (const [name, value, max, expected] of rows) {
    const r = _encodeResult(4, value, max);
    assert.ok("refused" in r, name);
    assert.match(r.refused, expected, name);
  }
});

Deno.test("_MessageHold replays in order once nothing holds, and everything once the run is over", () => {
  const seen: string[] = [];
  const hold = new _MessageHold(["check"]);
  hold.deliver(() => seen.push("a"));
  hold.deliver(() => seen.push("b"));
  assert.equal(seen.length, 0);
  hold.release("check");
  assert.deepEqual(seen, ["a", "b"]);
  hold.deliver(() => seen.push("c"));
  assert.deepEqual(seen, ["a", "b", "c"], "nothing holds: at once");
  hold.hold("schemas", () => seen.push("first"));
  hold.deliver(() => seen.push("d"));
  hold.end();
  assert.deepEqual(seen, ["a", "b", "c", "first", "d"]);
});

Deno.test("_MessageHold counts what it holds and says once when it passes its cap", () => {
  let overflows = 0;
  const hold = new _MessageHold(["check"], 100, () => overflows++);
  hold.deliver(() => {}, 60);
  assert.equal(overflows, 0);
  hold.deliver(() => {}, 60);
  hold.deliver(() => {}, 60);
  assert.equal(overflows, 1, "once");
  hold.release("check");
  const late = new _MessageHold(["check"], 100, () => overflows++);
  late.deliver(() => {}, 60);
  late.release("check");
  late.deliver(() => {}, 60);
  assert.equal(overflows, 1, "what was replayed no longer counts, nor what is not held");
});

Deno.test("_exitError turns each way a Worker ends into a RunError a model can act on", () => {
  const status = (code: number, signal: Deno.Signal | null = null) =>
    ({ success: false, code, signal }) as Deno.CommandStatus;
  const rows: [string, _SlotEnd, string, RegExp][] = [
    ["its heap limit", { why: "memory", message: "" }, "memory", /limit 64 MB/],
    [
      "a channel violation",
      { why: "violation", message: "a message that is not JSON" },
      "runtime",
      /message channel directly.*not JSON/,
    ],
    ["a backlog", { why: "backlog", message: "over 64 MB wait" }, "limit", /gatherLimited/],
    [
      "its process out of memory",
      { why: "process", message: "", status: status(134, "SIGABRT"), stderr: "" },
      "memory",
      /process hosting this run ran out of memory/,
    ],
    [
      "its process gone, with the sandbox's own source on stderr",
      {
        why: "process",
        message: "",
        status: status(1),
        stderr: `error: data:text/javascript;base64,${"QUJD".repeat(2000)}\n\x1b]0;x\x07`,
      },
      "runtime",
      /^the sandbox process ended unexpectedly \(exit code 1\); run the program again$/,
    ],
    ["a failure", { why: "died", message: "boom\x1b[31m" }, "runtime", /stopped: boom$/],
    ["an end with no end message", { why: "done", message: "" }, "runtime", /ended before/],
  ];
  for (const [name, end, kind, message] of rows) {
    const error = _exitError(end, { memoryMb: 64 });
    assert.equal(error.kind, kind, name);
    assert.match(error.message, message, name);
  }
});

Deno.test("_runResult and _failedResult assemble a result with its figures", () => {
  const trace: ToolCallTrace[] = [];
  const ok = _runResult({
    output: "héllo\n",
    calls: 2,
    toolResultBytes: 40,
    startedAt: performance.now(),
    trace,
  });
  assert.equal(ok.ok, true);
  assert.equal(ok.stats.outputBytes, 7, "UTF-8 bytes");
  assert.equal(ok.trace, trace);
  assert.equal("error" in ok, false);
  const failed = _failedResult({ kind: "syntax", message: "x" }, performance.now(), [
    { kind: "syntax", message: "x", line: 1, column: 1 },
  ]);
  assert.equal(failed.ok, false);
  assert.equal(failed.calls, 0);
  assert.equal(failed.diagnostics?.length, 1);
});
