/**
 * Faults through the public API: programs that burn CPU, memory, output or messages, and tools
 * that misbehave. For every row: the right `error.kind`, a message a model can act on, the output
 * printed before the fault kept, no sandbox process left behind (checked in /proc), and the host
 * answers the next run. After the busy loops, the host itself is checked not to be spinning.
 *
 * Where the platform decides the outcome, a row accepts more than one kind:
 * - a promise-chain storm grows the heap (`memory`), or spins until the deadline (`timeout`);
 * - a raw `postMessage` flood of output ends when the host has seen too much output (`limit`) or
 *   the child runs out of memory first (`memory`); a flood of junk messages ends when the host
 *   has dropped too many (`runtime`, "message channel");
 * - a string that doubles past the heap is `memory`, or V8's own string cap (`runtime`
 *   RangeError "Invalid string length") when that comes first.
 */

import assert from "node:assert/strict";
import { CodeMode, type Limits, type RunOptions, type Tool } from "../mod.ts";
import {
  assertAnswers,
  assertNothingOutlives,
  assertOutcome,
  type Expect,
  hostCpuShare,
  runWatched,
} from "./_fixtures/sandbox_watch.ts";

const POOL_SIZE = 2;
const LIMITS: Partial<Limits> = {
  timeoutMs: 2500,
  memoryMb: 128,
  toolTimeoutMs: 500,
  maxResultBytes: 100_000,
};

interface Row {
  name: string;
  program: string;
  expect: Expect;
  options?: RunOptions;
  /** Busy-loop rows: afterwards the host must not be spinning. */
  cpuIdle?: boolean;
  after?: (state: ToolState) => void;
}

interface ToolState {
  calls: number;
  aborted: number;
}

function faultTools(state: ToolState): Tool[] {
  const object = { type: "object" };
  const tool = (name: string, execute: Tool["execute"]): Tool => ({
    name,
    description: `Test tool ${name}.`,
    inputSchema: object,
    execute: (input, context) => {
      state.calls++;
      return execute(input, context);
    },
  });
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  return [
    tool("echo", (input) => input),
    tool("fail", () => {
      throw new Error("the database is down");
    }),
    tool("fail_unprintable", () => {
      throw Object.create(null);
    }),
    tool(
      "hang",
      (_input, context) =>
        new Promise((_, reject) =>
          context.signal.addEventListener("abort", () => {
            state.aborted++;
            reject(context.signal.reason);
          }, { once: true })
        ),
    ),
    tool("stuck", () => new Promise(() => {})),
    tool("huge", () => "x".repeat(200_000)),
    tool("give_function", () => () => 1),
    tool("give_bigint", () => ({ n: 10n })),
    tool("give_cycle", () => cycle),
    tool("give_nested_function", () => ({ f: () => 1 })),
    tool("give_symbol", () => Symbol("s")),
  ];
}

/** A wasm module exporting `loop`, which never returns: (func (loop (br 0))). */
const WASM_LOOP = [
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x04,
  0x01,
  0x60,
  0x00,
  0x00, // type section: () -> ()
  0x03,
  0x02,
  0x01,
  0x00, // function section: one function of type 0
  0x07,
  0x08,
  0x01,
  0x04,
  0x6c,
  0x6f,
  0x6f,
  0x70,
  0x00,
  0x00, // export "loop"
  0x0a,
  0x09,
  0x01,
  0x07,
  0x00,
  0x03,
  0x40,
  0x0c,
  0x00,
  0x0b,
  0x0b, // code: loop br 0 end end
];

const TIMEOUT = /did not finish within \d+ ms and was stopped; do less per run/;
const MEMORY = /out of memory.*(smaller pieces|keep less)/;

const RESOURCE_ROWS: Row[] = [
  {
    name: "a plain busy loop",
    program: `print("before");\nwhile (true) {}`,
    expect: { kind: "timeout", messageIncludes: TIMEOUT, outputIncludes: "before" },
    cpuIdle: true,
  },
  {
    name: "a busy loop in finally",
    program: `print("before");\ntry {\n  throw new Error("x");\n} finally {\n  for (;;) {}\n}`,
    expect: { kind: "timeout", messageIncludes: TIMEOUT, outputIncludes: "before" },
    cpuIdle: true,
  },
  {
    name: "a microtask storm",
    program: `print("before");\nconst spin = () => queueMicrotask(spin);\nspin();`,
    expect: { kind: "timeout", messageIncludes: TIMEOUT, outputIncludes: "before" },
    cpuIdle: true,
  },
  {
    name: "a promise-chain storm",
    program:
      `print("before");\nconst spin = (): Promise<unknown> => Promise.resolve().then(spin);\nawait spin();`,
    expect: { kind: ["memory", "timeout"], outputIncludes: "before" },
    cpuIdle: true,
  },
  {
    name: "a wasm loop",
    program: `print("before");
const module = new WebAssembly.Module(new Uint8Array(${JSON.stringify(WASM_LOOP)}));
(new WebAssembly.Instance(module).exports.loop as () => void)();`,
    expect: { kind: "timeout", messageIncludes: TIMEOUT, outputIncludes: "before" },
    cpuIdle: true,
  },
  {
    name: "a catastrophic regular expression",
    program: `print("before");\nprint(/^(a+)+$/.test("a".repeat(64) + "!"));`,
    expect: { kind: "timeout", messageIncludes: TIMEOUT, outputIncludes: "before" },
    cpuIdle: true,
  },
  {
    name: "a busy loop while a tool call is in flight",
    program: `print("before");\nhang({});\nwhile (true) {}`,
    expect: { kind: "timeout", messageIncludes: TIMEOUT, outputIncludes: "before" },
    cpuIdle: true,
    after: (s) => assert.equal(s.aborted, 1, "the in-flight tool call was not aborted"),
  },
  {
    name: "an object bomb",
    program:
      `print("before");\nconst all: unknown[] = [];\nfor (;;) all.push({ n: all.length, list: [1, 2, 3] });`,
    expect: { kind: "memory", messageIncludes: MEMORY, outputIncludes: "before" },
    // V8 collects hard before it gives up on a full heap of small objects: 0.5–4 s here.
    options: { limits: { timeoutMs: 15_000 } },
  },
  {
    name: "a Map bomb",
    program: `print("before");\nconst m = new Map();\nfor (let i = 0; ; i++) m.set(i, { i });`,
    expect: { kind: "memory", messageIncludes: MEMORY, outputIncludes: "before" },
    // V8 collects hard before it gives up on a full heap of small objects: 0.5–4 s here.
    options: { limits: { timeoutMs: 15_000 } },
  },
  {
    name: "an ArrayBuffer bomb (untouched)",
    program:
      `print("before");\nconst all: ArrayBuffer[] = [];\nfor (;;) all.push(new ArrayBuffer(16 * 1024 * 1024));`,
    expect: { kind: "memory", messageIncludes: MEMORY, outputIncludes: "before" },
  },
  {
    name: "an ArrayBuffer bomb (written)",
    program: `print("before");
const all: Uint8Array[] = [];
for (;;) all.push(new Uint8Array(16 * 1024 * 1024).fill(1));`,
    expect: { kind: "memory", messageIncludes: MEMORY, outputIncludes: "before" },
  },
  {
    name: "wasm memory growth",
    program: `print("before");
const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
for (;;) memory.grow(160);`,
    expect: { kind: "memory", messageIncludes: MEMORY, outputIncludes: "before" },
  },
  {
    name: "a doubling string",
    program: `print("before");\nlet s = "x";\nfor (;;) s += s;`,
    expect: {
      kind: ["memory", "runtime"],
      messageIncludes: /memory|Invalid string length/,
      outputIncludes: "before",
    },
  },
  {
    name: "an output flood",
    program: `print("before");\nfor (;;) print("x".repeat(1000));`,
    expect: {
      kind: "limit",
      messageIncludes:
        /kept printing after its output reached the 40000-character limit.*print less/,
      outputIncludes: "[output cut: ",
    },
  },
  {
    name: "an output flood of short console.log lines",
    program: `console.log("before");\nfor (let i = 0; ; i++) console.log(i);`,
    expect: { kind: "limit", messageIncludes: /print less/, outputIncludes: "[output cut: " },
  },
  {
    name: "output over the limit from a program that finishes",
    program:
      `print("before");\nfor (let i = 0; i < 100; i++) print("y".repeat(1000));\nprint("end");`,
    expect: {
      kind: "limit",
      messageIncludes: /output cut: \d+ more characters.*print less/,
      outputIncludes: "before",
    },
  },
  {
    name: "a message flood of output messages",
    program: `print("before");\nfor (;;) postMessage({ t: "out", s: "z".repeat(1000) });`,
    expect: { kind: ["limit", "memory"], outputIncludes: "before" },
  },
  {
    name: "a message flood of junk",
    program: `print("before");\nfor (;;) postMessage(0);`,
    expect: { kind: "runtime", messageIncludes: /message channel/, outputIncludes: "before" },
  },
  {
    name: "a message flood of forged calls",
    program:
      `print("before");\nfor (let id = 1e6; ; id++) postMessage({ t: "call", id, tool: "echo", a: "{}" });`,
    expect: { kind: ["limit", "memory"], outputIncludes: "before" },
  },
  {
    name: "a message flood of one repeated call id",
    program: `print("before");\nfor (;;) postMessage({ t: "call", id: 1, tool: "echo", a: "{}" });`,
    expect: { kind: ["limit", "memory"], outputIncludes: "before" },
  },
  {
    name: "10,000 concurrent tool calls",
    program:
      `print("before");\nawait Promise.all(Array.from({ length: 10_000 }, (_, i) => echo({ i })));`,
    expect: {
      kind: "limit",
      messageIncludes: /more than 1000 tool calls; batch the work/,
      outputIncludes: "before",
    },
  },
  {
    name: "a nested-worker bomb",
    program: `print("before");
for (let i = 0; i < 1000; i++) {
  new Worker("data:text/javascript,for(;;){}", { type: "module" });
}`,
    expect: {
      kind: "runtime",
      messageIncludes: "Worker is not available",
      outputIncludes: "before",
    },
  },
  {
    name: "a promise that never settles",
    program: `print("before");\nawait new Promise(() => {});`,
    expect: { kind: "timeout", messageIncludes: TIMEOUT, outputIncludes: "before" },
  },
  {
    name: "an unhandled rejection",
    program: `print("before");
Promise.reject(new Error("boom"));
await new Promise((r) => setTimeout(r, 200));
print("not reached");`,
    expect: {
      kind: "runtime",
      messageIncludes: "Error: boom",
      outputIncludes: "before",
      outputExcludes: "not reached",
    },
  },
  {
    name: "an error thrown in a timer callback",
    program: `print("before");
setTimeout(() => { throw new TypeError("late failure"); }, 10);
await new Promise((r) => setTimeout(r, 200));`,
    expect: {
      kind: "runtime",
      messageIncludes: "TypeError: late failure",
      outputIncludes: "before",
    },
  },
];

const TOOL_ROWS: Row[] = [
  {
    name: "a tool that throws, uncaught",
    program: `print("before");\nawait fail({});`,
    expect: {
      kind: "tool",
      messageIncludes: /fail: the database is down.*try\/catch/,
      outputIncludes: "before",
    },
  },
  {
    name: "a tool that throws, caught",
    program:
      `try { await fail({}); } catch (e) { print("caught:", (e as Error).message); }\nprint("after");`,
    expect: { kind: "ok", outputIncludes: "caught: fail: the database is down\nafter" },
  },
  {
    name: "a tool that throws something that cannot be turned into text",
    program: `print("before");\nawait fail_unprintable({});`,
    expect: {
      kind: "tool",
      messageIncludes: "fail_unprintable: failed with an error that cannot be shown as text",
      outputIncludes: "before",
    },
  },
  {
    name: "a tool that hangs past its timeout (honours its signal)",
    program: `print("before");
try { await hang({}); } catch (e) { print("caught:", (e as Error).message); }
print("after");`,
    expect: {
      kind: "ok",
      outputIncludes:
        "caught: hang: timed out after 500 ms; ask for less, or catch this error and go on\nafter",
    },
    after: (s) => assert.equal(s.aborted, 1, "the tool's signal was not aborted at its timeout"),
  },
  {
    name: "a tool that hangs past its timeout (ignores its signal)",
    program: `print("before");
const [a, b] = await Promise.allSettled([stuck({}), echo({ ok: 1 })]);
print(a.status, b.status);
await stuck({});`,
    expect: {
      kind: "tool",
      messageIncludes: /stuck: timed out after 500 ms/,
      outputIncludes: "rejected fulfilled",
    },
  },
  {
    name: "a tool that returns a result over maxResultBytes",
    program: `print("before");\nawait huge({});`,
    expect: {
      kind: "tool",
      messageIncludes: /huge: returned \d+ bytes, over the 100000-byte result limit; ask for less/,
      outputIncludes: "before",
    },
  },
  {
    name: "a tool that returns a function",
    program: `print("before");\nawait give_function({});`,
    expect: {
      kind: "tool",
      messageIncludes: "give_function: returned a function, which cannot be sent",
      outputIncludes: "before",
    },
  },
  {
    // Values cross as structured clones: a BigInt and a cycle arrive as themselves.
    name: "a tool that returns a BigInt (it arrives as one)",
    program: `const { n } = await give_bigint({});\nprint(typeof n, n + 1n);`,
    expect: { kind: "ok", outputIncludes: "bigint 11" },
  },
  {
    name: "a tool that returns a cycle (it arrives as one)",
    program: `const c = await give_cycle({});\nprint(c.self === c);`,
    expect: { kind: "ok", outputIncludes: "true" },
  },
  {
    name: "a tool that returns an object holding a function",
    program: `print("before");\nawait give_nested_function({});`,
    expect: {
      kind: "tool",
      messageIncludes:
        /give_nested_function: returned a value that cannot be sent.*could not be cloned/,
      outputIncludes: "before",
    },
  },
  {
    name: "a tool that returns a Symbol",
    program: `print("before");\nawait give_symbol({});`,
    expect: {
      kind: "tool",
      messageIncludes: "give_symbol: returned a symbol, which cannot be sent",
      outputIncludes: "before",
    },
  },
];

async function runRows(t: Deno.TestContext, rows: Row[]): Promise<void> {
  const state: ToolState = { calls: 0, aborted: 0 };
  const codeMode = new CodeMode({
    tools: faultTools(state),
    limits: LIMITS,
    check: "off",
    poolSize: POOL_SIZE,
  });
  try {
    codeMode.warmUp();
    for (const row of rows) {
      await t.step(row.name, async () => {
        state.calls = 0;
        state.aborted = 0;
        const { result, pids } = await runWatched(codeMode, row.program, row.options);
        assertOutcome(row.name, result, row.expect);
        row.after?.(state);
        await assertNothingOutlives([codeMode], POOL_SIZE, pids);
        if (row.cpuIdle) {
          const share = await hostCpuShare(300);
          assert.ok(
            share < 0.9,
            `${row.name}: the host is spinning (${share.toFixed(2)} of a core)`,
          );
        }
        await assertAnswers(codeMode);
      });
    }
  } finally {
    await codeMode.close();
  }
}

Deno.test("faults: busy loops, memory bombs and floods end that run only", async (t) => {
  await runRows(t, RESOURCE_ROWS);
});

Deno.test("faults: misbehaving tools fail the call, not the host", async (t) => {
  await runRows(t, TOOL_ROWS);
});
