/**
 * `CodeMode` end to end through `mod.ts`: real child `deno` processes hosting real
 * `permissions: "none"` Workers, real tool handlers, real TypeScript checks. No timing asserts:
 * runs are ordered with promises the tests resolve themselves.
 */

import assert from "node:assert/strict";
import { CodeMode, type Tool, type ToolContext } from "../mod.ts";
import { okOutput, processAlive as alive } from "./_fixtures/sandbox_watch.ts";

/** A tool with a loose object schema unless one is given. */
function tool(
  name: string,
  execute: Tool["execute"],
  inputSchema: Tool["inputSchema"] = { type: "object" },
): Tool {
  return { name, description: `The ${name} tool.`, inputSchema, execute };
}

const NUMBERS = {
  type: "object",
  properties: { a: { type: "number" }, b: { type: "number" } },
  required: ["a", "b"],
  additionalProperties: false,
};

function addTool(onCall?: (input: { a: number; b: number }) => void): Tool {
  return tool("add", (input: { a: number; b: number }) => {
    onCall?.(input);
    return input.a + input.b;
  }, NUMBERS);
}

const echo = tool("echo", (input: unknown) => input);
const boom = tool("boom", () => {
  throw new Error("disk on fire");
});

Deno.test("run() calls tools sequentially, in parallel with Promise.all, and with top-level await", async () => {
  const seen: { a: number; b: number }[] = [];
  await using cm = new CodeMode({ tools: [addTool((i) => seen.push(i))] });
  const result = await cm.run(`
    const one = await add({ a: 1, b: 2 });
    const two = await add({ a: one, b: 10 });
    const all = await Promise.all([1, 2, 3].map((n) => add({ a: n, b: n })));
    for await (const n of [add({ a: 100, b: 1 })]) print("for await", n);
    print(one, two, all);
  `);
  assert.equal(okOutput(result), "for await 101\n3 13 [ 2, 4, 6 ]\n");
  assert.equal(result.calls, 6);
  assert.deepEqual(seen.slice(0, 2), [{ a: 1, b: 2 }, { a: 3, b: 10 }]);
  assert.deepEqual(seen.slice(2, 5).map((i) => i.a).sort(), [1, 2, 3]);
});

Deno.test("describe() is built once per tool set: equal, independent answers, renewed by setTools()", async () => {
  await using cm = new CodeMode({ tools: [echo], learnShapes: false });
  const first = cm.describe();
  const second = cm.describe();
  assert.deepEqual(second, first);
  second.tools[0].name = "changed";
  second.tools.push({ ...first.tools[0] });
  assert.deepEqual(cm.describe(), first, "what a caller does with its answer stays its own");
  assert.notEqual(
    cm.describe({ threshold: 0 }).description,
    first.description,
    "options still apply",
  );
  cm.setTools([echo, tool("other", () => 1)]);
  assert.match(cm.describe().description, /other\(/);
});

Deno.test("a run whose compile fails gives its untouched Worker back: the next runs stay in one process", async () => {
  await using cm = new CodeMode({ tools: [echo], learnShapes: false });
  assert.ok((await cm.run("print(1)")).ok);
  for (let i = 0; i < 3; i++) {
    assert.equal((await cm.run("print(1")).error?.kind, "syntax");
    assert.equal(okOutput(await cm.run("print(2)")), "2\n");
  }
  assert.equal(cm.sandboxPids.length, 1, "no process was started for a Worker thrown away");
});

Deno.test("run() reaches namespaced tools as ns.tool, globally and through codemode:tools imports", async () => {
  const names: string[] = [];
  const getItem = tool(
    "my-server.get-item",
    ({ id }: { id: number }, context: ToolContext) => {
      names.push(context.name);
      return { id, label: `item ${id}` };
    },
    { type: "object", properties: { id: { type: "integer" } }, required: ["id"] },
  );
  await using cm = new CodeMode({ tools: [getItem, addTool()] });
  const result = await cm.run(`
    import { my_server, add } from "codemode:tools";
    import server from "codemode:tools/my_server";
    import { get_item } from "codemode:tools/my_server";
    import addDefault, { add as addNamed } from "codemode:tools/add";
    const a = await my_server.get_item({ id: 1 });
    const b = await server.get_item({ id: 2 });
    const c = await get_item({ id: 3 });
    const d = await (globalThis as any).my_server.get_item({ id: 4 });
    print(a.label, b.label, c.label, d.label);
    print(await add({ a: 1, b: 1 }), await addDefault({ a: 2, b: 2 }), await addNamed({ a: 3, b: 3 }));
  `);
  assert.equal(okOutput(result), "item 1 item 2 item 3 item 4\n2 4 6\n");
  assert.deepEqual(names, Array(4).fill("my_server.get_item"));
});

Deno.test("print() and console format values like Deno.inspect, never [object Object]", async () => {
  // check "off": the declared console has log/info/warn/error/debug only (see report).
  await using cm = new CodeMode({ tools: [echo], check: "off" });
  const values = `[{ a: { b: { c: [1, 2, 3] } }, s: "quoted" }, new Map([["k", 1]]), new Set([1]),
    null, undefined, [1, "x"], new (class Point { x = 1; y = 2 })(), 10n]`;
  const result = await cm.run(`
    const values = ${values};
    print("plain string", 42, true);
    print(...values);
    print(await echo({ nested: { list: [{ deep: 1 }] } }));
    console.log("log", { l: 1 });
    console.info("info");
    console.debug("debug");
    console.error("error", { e: 1 });
    console.warn("warn", [1]);
    console.table([{ col: "v" }]);
    console.group("group");
    console.log("inside");
    console.group();
    console.log("deeper\\nsecond line");
    console.groupEnd();
    console.groupEnd();
    console.log("outside");
    console.count();
    console.count("x");
    console.count();
  `);
  const output = okOutput(result);
  const inspect = (v: unknown) => Deno.inspect(v, { colors: false, depth: 6, breakLength: 100 });
  const hostValues = [
    { a: { b: { c: [1, 2, 3] } }, s: "quoted" },
    new Map([["k", 1]]),
    new Set([1]),
    null,
    undefined,
    [1, "x"],
    new (class Point {
      x = 1;
      y = 2;
    })(),
    10n,
  ];
  assert.doesNotMatch(output, /\[object Object\]/);
  assert.deepEqual(output.split("\n"), [
    "plain string 42 true",
    ...hostValues.map(inspect).join(" ").split("\n"),
    ...inspect({ nested: { list: [{ deep: 1 }] } }).split("\n"),
    "log { l: 1 }",
    "info",
    "debug",
    "error { e: 1 }",
    "warn [ 1 ]",
    inspect([{ col: "v" }]),
    "group",
    "    inside",
    "        deeper",
    "        second line",
    "outside",
    "default: 1",
    "x: 1",
    "default: 2",
    "",
  ]);
});

Deno.test("run() keeps each run's output apart with 20 runs at once, interleaved with tool calls", async () => {
  const runsPerTool = new Map<number, number>();
  const mark = tool("mark", ({ run }: { run: number }) => {
    runsPerTool.set(run, (runsPerTool.get(run) ?? 0) + 1);
    return { run };
  });
  await using cm = new CodeMode({ tools: [mark] });
  const RUNS = 20;
  const LINES = 30;
  const results = await Promise.all(
    Array.from({ length: RUNS }, (_, run) =>
      cm.run(`
        for (let i = 0; i < ${LINES}; i++) {
          print("run-${run} line", i);
          const back = await mark({ run: ${run} });
          console.log("run-${run} back", back.run);
        }
      `)),
  );
  for (const [run, result] of results.entries()) {
    const expected = Array.from(
      { length: LINES },
      (_, i) => `run-${run} line ${i}\nrun-${run} back ${run}\n`,
    ).join("");
    assert.equal(okOutput(result), expected, `run ${run} got someone else's output`);
    assert.equal(result.calls, LINES);
    assert.equal(runsPerTool.get(run), LINES);
  }
});

Deno.test("run() keeps the output printed before an error and before a timeout", async () => {
  await using cm = new CodeMode({ tools: [boom], limits: { timeoutMs: 1_500 } });
  const failed = await cm.run(`print("first");\nconsole.log("second");\nthrow new Error("late");`);
  assert.equal(failed.ok, false);
  assert.equal(failed.output, "first\nsecond\n");
  assert.equal(failed.error?.kind, "runtime");
  assert.match(failed.error!.message, /late/);

  const timedOut = await cm.run(`print("before the loop");\nwhile (true) {}`);
  assert.equal(timedOut.ok, false);
  assert.equal(timedOut.error?.kind, "timeout");
  assert.equal(timedOut.output, "before the loop\n");
});

interface KindCase {
  name: string;
  source: string;
  kind: string;
  output?: string;
  message: RegExp;
  line?: number;
  column?: number;
  tool?: string;
  limits?: Record<string, number>;
}

// Positions are in the text as sent: the Markdown fence and the type annotations that the
// compiled JavaScript no longer has are counted.
const KIND_CASES: KindCase[] = [
  {
    name: "syntax",
    source: "print(1);\nconst x = ;\n",
    kind: "syntax",
    message: /Expression expected/,
    line: 2,
    column: 11,
  },
  {
    name: "type",
    source: 'print(1);\nconst n: number = "text";\n',
    kind: "type",
    message: /not assignable to type 'number'/,
    line: 2,
    column: 7,
  },
  {
    name: "type (unknown tool)",
    source: "print(1);\nawait rm_rf({});\n",
    kind: "type",
    message: /rm_rf/,
    line: 2,
    column: 7,
  },
  {
    name: "static import",
    source: 'print(1);\nimport fs from "node:fs";\nprint(fs);\n',
    kind: "import",
    message: /node:fs/,
    line: 2,
    column: 16,
  },
  {
    name: "dynamic import",
    source: 'print("kept");\nconst m = "node:" + "fs";\nawait import(m);\n',
    kind: "import",
    output: "kept\n",
    message: /not allowed/,
    line: 3,
    column: 7,
  },
  {
    name: "runtime in a fenced program",
    source:
      '```ts\nprint("kept");\nconst o: { x: number } | null = null as any; const v: number = o!.x;\n```\n',
    kind: "runtime",
    output: "kept\n",
    message: /TypeError: Cannot read properties of null/,
    line: 3,
    column: 67, // the `x` of `o!.x`; the compiled JavaScript has no `!` and no annotations
  },
  {
    name: "tool",
    source: 'print("kept");\n\n  const r: unknown = await boom({});\n',
    kind: "tool",
    output: "kept\n",
    message: /boom: disk on fire/,
    line: 3,
    column: 28,
    tool: "boom",
  },
  {
    name: "timeout",
    source: 'print("kept");\nwhile (true) {}\n',
    kind: "timeout",
    output: "kept\n",
    message: /did not finish within 1500 ms/,
    limits: { timeoutMs: 1_500 },
  },
  {
    name: "memory (heap)",
    source:
      'print("kept");\nconst a: number[][] = [];\nwhile (true) a.push(new Array(100_000).fill(1.5));\n',
    kind: "memory",
    output: "kept\n",
    message: /out of memory/,
    limits: { memoryMb: 64 },
  },
  {
    name: "memory (buffers)",
    source:
      'print("kept");\nconst a: ArrayBuffer[] = [];\nwhile (true) a.push(new ArrayBuffer(100_000_000));\n',
    kind: "memory",
    output: "kept\n",
    message: /out of memory/,
    limits: { memoryMb: 64 },
  },
  {
    name: "limit (maxToolCalls)",
    source: "for (let i = 0; i < 10; i++) print(await echo({ i }));\n",
    kind: "limit",
    output: "{ i: 0 }\n{ i: 1 }\n{ i: 2 }\n",
    message: /more than 3 tool calls/,
    limits: { maxToolCalls: 3 },
  },
  {
    name: "limit (output cut)",
    source: 'for (let i = 0; i < 100; i++) print("line", i);\n',
    kind: "limit",
    message: /output cut: \d+ more characters .* 30-character limit; print less/,
    limits: { maxOutputChars: 30 },
  },
];

Deno.test("run() produces each error.kind from a real cause, positioned in the program as written", async () => {
  const boomCalls: number[] = [];
  const countedBoom = tool("boom", () => {
    boomCalls.push(1);
    throw new Error("disk on fire");
  });
  await using cm = new CodeMode({ tools: [countedBoom, echo] });
  for (const c of KIND_CASES) {
    const result = await cm.run(c.source, { limits: c.limits });
    const label = `${c.name}: ${JSON.stringify(result.error)} / ${JSON.stringify(result.output)}`;
    assert.equal(result.ok, false, label);
    assert.equal(result.error?.kind, c.kind, label);
    assert.match(result.error!.message, c.message, label);
    if (c.output !== undefined) assert.equal(result.output, c.output, label);
    if (c.line !== undefined) {
      assert.equal(result.error!.line, c.line, label);
      assert.equal(result.error!.column, c.column, label);
    }
    assert.equal(result.error!.tool, c.tool, label);
  }
  assert.equal(boomCalls.length, 1, "only the tool case reaches the tool");
});

Deno.test("run() cuts output at maxOutputChars with a note saying how much was cut", async () => {
  await using cm = new CodeMode({ limits: { maxOutputChars: 20 } });
  const result = await cm.run(`print("${"a".repeat(15)}");\nprint("${"b".repeat(15)}");`);
  assert.equal(result.error?.kind, "limit");
  const [kept, note] = [result.output.slice(0, 20), result.output.slice(20)];
  assert.equal(kept, `${"a".repeat(15)}\nbbbb`);
  assert.match(
    note,
    /^\n\[output cut: 12 more characters were printed beyond the 20-character limit/,
  );
});

Deno.test("a tool that throws is a catchable Error naming the tool and the cause", async () => {
  await using cm = new CodeMode({ tools: [boom, addTool()] });
  const result = await cm.run(`
    try {
      await boom({});
    } catch (e) {
      print(e instanceof Error, (e as Error).message);
    }
    print("went on", await add({ a: 1, b: 1 }));
  `);
  assert.equal(okOutput(result), "true boom: disk on fire\nwent on 2\n");
  assert.equal(result.calls, 2);
});

Deno.test("a wrong argument fails before the tool runs, with the schema's complaint in words", async () => {
  const seen: unknown[] = [];
  await using cm = new CodeMode({ tools: [addTool((i) => seen.push(i))] });
  const caught = await cm.run(`
    for (const input of [{ a: "x", b: 1 }, { a: 1 }, { a: 1, b: 2, c: 3 }]) {
      try {
        await add(input as any);
      } catch (e) {
        print((e as Error).message);
      }
    }
  `);
  assert.deepEqual(okOutput(caught).split("\n"), [
    'add: invalid input: "a" must be number',
    "add: invalid input: input must have required property 'b'",
    'add: invalid input: input must NOT have additional properties "c"',
    "",
  ]);
  const uncaught = await cm.run(`print("kept");\nawait add({ a: 1, b: "2" } as any);`);
  assert.equal(uncaught.error?.kind, "tool");
  assert.equal(uncaught.error?.tool, "add");
  assert.equal(uncaught.error?.line, 2);
  assert.match(uncaught.error!.message, /"b" must be number/);
  assert.equal(uncaught.output, "kept\n");
  assert.deepEqual(seen, [], "the handler was never called");
});

Deno.test("a tool's context.signal is aborted when the run ends, times out or is cancelled", async () => {
  const signals: AbortSignal[] = [];
  let started = Promise.withResolvers<void>();
  const hang = tool("hang", (_input: unknown, context: ToolContext) => {
    signals.push(context.signal);
    started.resolve();
    return new Promise((_, reject) => {
      context.signal.addEventListener("abort", () => reject(context.signal.reason), { once: true });
    });
  });
  await using cm = new CodeMode({ tools: [hang] });

  const failed = await cm.run(`hang({});\nthrow new Error("ends the run");`);
  assert.equal(failed.error?.kind, "runtime");
  const timedOut = await cm.run(`await hang({});`, { limits: { timeoutMs: 1_000 } });
  assert.equal(timedOut.error?.kind, "timeout");
  started = Promise.withResolvers<void>();
  const controller = new AbortController();
  const cancelled = cm.run(`print("waiting");\nawait hang({});`, { signal: controller.signal });
  await started.promise;
  controller.abort(new Error("user pressed stop"));
  const result = await cancelled;
  assert.equal(result.error?.kind, "timeout");
  assert.match(result.error!.message, /cancelled: Error: user pressed stop/);
  assert.equal(result.output, "waiting\n");

  assert.equal(signals.length, 3);
  for (const s of signals) assert.equal(s.aborted, true);
});

Deno.test("a tool that outlives toolTimeoutMs fails in the program, which can go on", async () => {
  let aborted: unknown;
  const slow = tool("slow", (_input: unknown, context: ToolContext) =>
    new Promise((_, reject) => {
      context.signal.addEventListener("abort", () => {
        aborted = context.signal.reason;
        reject(context.signal.reason);
      }, { once: true });
    }));
  await using cm = new CodeMode({ tools: [slow], limits: { toolTimeoutMs: 300 } });
  const result = await cm.run(`
    try { await slow({}); } catch (e) { print((e as Error).message); }
    print("went on");
  `);
  assert.match(okOutput(result), /^slow: timed out after 300 ms.*\nwent on\n$/);
  assert.ok(aborted instanceof Error);
});

Deno.test("RunOptions.signal cancels a run, also one cancelled before it starts", async () => {
  await using cm = new CodeMode();
  const result = await cm.run(`print(1)`, { signal: AbortSignal.abort(new Error("too late")) });
  assert.equal(result.ok, false);
  assert.equal(result.error?.kind, "timeout");
  assert.match(result.error!.message, /cancelled/);
});

Deno.test("stats count tool result bytes, output bytes and duration; calls counts tool calls", async () => {
  const data = tool("data", () => ({ rows: ["ä", "b", "c"], total: 3 }));
  await using cm = new CodeMode({ tools: [data] });
  const result = await cm.run(`
    const [x, y] = await Promise.all([data({}), data({})]);
    print("é", x.total + y.total);
  `);
  assert.equal(okOutput(result), "é 6\n");
  const json = JSON.stringify({ rows: ["ä", "b", "c"], total: 3 });
  assert.equal(result.calls, 2);
  assert.equal(result.stats.toolResultBytes, 2 * json.length);
  assert.equal(result.stats.outputBytes, new TextEncoder().encode("é 6\n").length);
  assert.ok(result.stats.durationMs > 0);
  assert.equal(result.trace?.length, 2);
  assert.ok(result.trace!.every((t) => t.tool === "data" && t.ok && t.outputBytes === json.length));
});

Deno.test("per-run limits override the CodeMode's limits for that run only", async () => {
  await using cm = new CodeMode({ tools: [echo], limits: { maxToolCalls: 100 } });
  const source = "for (let i = 0; i < 5; i++) await echo({ i });\nprint('done');";
  const tight = await cm.run(source, { limits: { maxToolCalls: 2 } });
  assert.equal(tight.error?.kind, "limit");
  assert.equal(tight.calls, 3);
  assert.equal(okOutput(await cm.run(source)), "done\n");
  assert.equal(cm.limits.maxToolCalls, 100);
  await assert.rejects(cm.run(source, { limits: { maxToolCalls: 0 } }), RangeError);
});

Deno.test("setTools() takes effect on the next run; a run under way keeps its tools", async () => {
  const gate = Promise.withResolvers<void>();
  const entered = Promise.withResolvers<void>();
  let oldCalls = 0;
  const old = tool("old_tool", async () => {
    oldCalls++;
    entered.resolve();
    await gate.promise;
    return "old";
  });
  const fresh = tool("new_tool", () => "new");
  await using cm = new CodeMode({ tools: [old] });
  const running = cm.run(`print(await old_tool({}), await old_tool({}));`);
  await entered.promise;
  cm.setTools([fresh]);
  gate.resolve();
  assert.equal(okOutput(await running), "old old\n");
  assert.equal(oldCalls, 2);
  assert.deepEqual(cm.tools.map((t) => t.name), ["new_tool"]);
  assert.equal(okOutput(await cm.run(`print(await new_tool({}));`)), "new\n");
  const gone = await cm.run(`print(await old_tool({}));`);
  assert.equal(gone.error?.kind, "type");
  assert.match(gone.error!.message, /old_tool/);
  const goneUnchecked = await cm.run(`print(await old_tool({}));`, { check: "off" });
  assert.equal(goneUnchecked.error?.kind, "runtime");
  assert.match(goneUnchecked.error!.message, /old_tool is not defined/);
  assert.equal(oldCalls, 2);
});

Deno.test("check modes: error blocks a type error, warn runs it with diagnostics, off skips the check", async () => {
  let calls = 0;
  const counted = tool("counted", () => ++calls);
  const source = `print(await counted({}));\nconst n: number = "text";\nprint(n);`;
  await using cm = new CodeMode({ tools: [counted] });
  const blocked = await cm.run(source);
  assert.equal(blocked.error?.kind, "type");
  assert.equal(blocked.output, "");
  assert.equal(calls, 0, "a program with type errors calls no tool");
  // The check runs while the sandbox starts the program: what the program says before the
  // check has failed is held, then dropped.
  const streamed: string[] = [];
  const early = await cm.run(`print("early");\nawait counted({});\n${source}`, {
    onOutput: (text) => streamed.push(text),
  });
  assert.equal(early.error?.kind, "type");
  assert.equal(early.output, "");
  assert.deepEqual(streamed, []);
  assert.equal(calls, 0, "a tool ran before the type check failed");

  const warned = await cm.run(source, { check: "warn" });
  assert.equal(okOutput(warned), "1\ntext\n");
  assert.equal(warned.diagnostics?.[0].kind, "type");
  assert.equal(warned.diagnostics?.[0].line, 2);

  await using off = new CodeMode({ tools: [counted], check: "off" });
  const unchecked = await off.run(source);
  assert.equal(okOutput(unchecked), "2\ntext\n");
  assert.equal(unchecked.diagnostics, undefined);
  const syntax = await off.run("const = 1;");
  assert.equal(syntax.error?.kind, "syntax", "off still checks syntax");
  await assert.rejects(cm.run(source, { check: "strict" as "off" }), TypeError);
});

Deno.test("new CodeMode() refuses bad tools and limits with TypeError / RangeError", () => {
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ["duplicate", () => new CodeMode({ tools: [echo, echo] }), TypeError, /both become `echo`/],
    [
      "sanitised collision",
      () => new CodeMode({ tools: [tool("get-x", () => 1), tool("get_x", () => 1)] }),
      TypeError,
      /"get-x" and "get_x" both become `get_x`/,
    ],
    ["reserved print", () => new CodeMode({ tools: [tool("print", () => 1)] }), TypeError, /print/],
    [
      "reserved namespace",
      () => new CodeMode({ tools: [tool("console.log", () => 1)] }),
      TypeError,
      /console/,
    ],
    [
      "tool and namespace",
      () => new CodeMode({ tools: [tool("mem", () => 1), tool("mem.get", () => 1)] }),
      TypeError,
      /collides with/,
    ],
    [
      "setTools() refuses the same way",
      () => new CodeMode().setTools([tool("Promise", () => 1)]),
      TypeError,
      /Promise/,
    ],
    // Names JavaScript or the sandbox already gives programs: refused when the set is built,
    // not later in describe() or run().
    ["an ES global", () => new CodeMode({ tools: [tool("Map", () => 1)] }), TypeError, /Map/],
    [
      "an ES global as a namespace",
      () => new CodeMode({ tools: [tool("JSON.parse", () => 1)] }),
      TypeError,
      /JSON/,
    ],
    [
      "the global object",
      () => new CodeMode({ tools: [tool("self", () => 1)] }),
      TypeError,
      /self/,
    ],
    [
      "a runtime internal",
      () => new CodeMode({ tools: [tool("__codemode__", () => 1)] }),
      TypeError,
      /__codemode__/,
    ],
    [
      "two dots",
      () => new CodeMode({ tools: [tool("a.b.c", () => 1)] }),
      TypeError,
      /one dot/,
    ],
    [
      "no execute",
      () => new CodeMode({ tools: [{ ...echo, execute: undefined } as unknown as Tool] }),
      TypeError,
      /execute/,
    ],
    ["zero timeout", () => new CodeMode({ limits: { timeoutMs: 0 } }), RangeError, /timeoutMs/],
    [
      "fractional limit",
      () => new CodeMode({ limits: { maxToolCalls: 1.5 } }),
      RangeError,
      /maxToolCalls/,
    ],
    [
      "unknown limit",
      () => new CodeMode({ limits: { timeout: 5 } as never }),
      TypeError,
      /Unknown limit "timeout"/,
    ],
    ["negative poolSize", () => new CodeMode({ poolSize: -1 }), RangeError, /poolSize/],
    ["bad check", () => new CodeMode({ check: "loose" as "off" }), TypeError, /check/],
  ];
  for (const [name, make, type, message] of cases) {
    assert.throws(make, (err: unknown) => {
      assert.ok(err instanceof type, `${name}: got ${err}`);
      assert.match((err as Error).message, message, name);
      return true;
    });
  }
});

Deno.test("close() leaves no sandbox process, and run() after close() throws TypeError", async () => {
  const cm = new CodeMode({ tools: [echo] });
  cm.warmUp();
  assert.equal(okOutput(await cm.run(`print(await echo({ a: 1 }));`)), "{ a: 1 }\n");
  const pids = cm.sandboxPids;
  assert.ok(pids.length > 0, "the pool keeps processes started");
  for (const pid of pids) assert.ok(alive(pid), `sandbox ${pid} runs before close()`);
  await cm.close();
  for (const pid of pids) assert.equal(alive(pid), false, `sandbox ${pid} outlived close()`);
  assert.deepEqual(cm.sandboxPids, []);
  assert.throws(() => cm.run("print(1)"), TypeError);
});

Deno.test("close() ends a run under way and leaves no process", async () => {
  const entered = Promise.withResolvers<void>();
  const hang = tool("hang", (_input: unknown, context: ToolContext) => {
    entered.resolve();
    return new Promise((_, reject) =>
      context.signal.addEventListener("abort", () => reject(context.signal.reason))
    );
  });
  const cm = new CodeMode({ tools: [hang] });
  const running = cm.run(`print("started");\nawait hang({});`);
  await entered.promise;
  const pids = cm.sandboxPids;
  await cm.close();
  const result = await running;
  assert.equal(result.ok, false);
  assert.equal(result.output, "started\n");
  for (const pid of pids) assert.equal(alive(pid), false, `sandbox ${pid} outlived close()`);
});

Deno.test("a fire-and-forget tool call's .then(print) still prints before the run ends", async () => {
  await using cm = new CodeMode({ tools: [addTool()] });
  const result = await cm.run(`
    add({ a: 1, b: 2 }).then(print);
    add({ a: 2, b: 2 }).then((n) => add({ a: n, b: 10 })).then((n) => print("chained", n));
    print("last line");
  `);
  assert.equal(okOutput(result), "last line\n3\nchained 14\n");
  assert.equal(result.calls, 3);
});

Deno.test("a failed tool call is placed at its call, or in a burst at the line that awaits it", async () => {
  const fail = tool("fail", (input: { i?: number }) => {
    if ((input.i ?? 1) > 0) throw new Error("nope");
    return "fine";
  });
  await using cm = new CodeMode({ tools: [fail], check: "off" });
  const lone = await cm.run(`print(1);\nawait fail({});`);
  assert.deepEqual([lone.error?.kind, lone.error?.line], ["tool", 2]);
  // The first call of a synchronous stretch records its site; later ones of the burst are placed
  // by the code awaiting them.
  const burst = await cm.run(
    `const calls = [0, 1, 2].map((i) =>\n  fail({ i }));\nprint("waiting");\nawait Promise.all(calls);`,
  );
  assert.equal(burst.output, "waiting\n");
  assert.deepEqual([burst.error?.kind, burst.error?.line], ["tool", 4]);
  assert.match(burst.error!.message, /fail: nope/);
});

Deno.test("run() lets every promise chain the program left behind finish before it ends", async () => {
  // The run ends one macrotask after the last call settles; each row is a chain that a cheaper
  // "tick" (a MessageChannel message) cut short about one run in three.
  await using cm = new CodeMode({ tools: [echo], check: "off" });
  const rows: [string, string][] = [
    ["echo({ a: 1 }).then((r) => print(r.a));", "1\n"],
    ["echo({ a: 1 }).then((r) => echo({ a: r.a + 1 })).then((r) => print(r.a));", "2\n"],
    [
      "(async () => { const r = await echo({ a: 3 }); await null; await null; print(r.a); })();",
      "3\n",
    ],
    [
      "let p = Promise.resolve(4); for (let i = 0; i < 50; i++) p = p.then((x) => Promise.resolve(x)); p.then(print);",
      "4\n",
    ],
    [
      "echo({}).then(async () => { for (let i = 0; i < 30; i++) await Promise.resolve(); print(5); });",
      "5\n",
    ],
    [
      "const q = async (n) => n === 0 ? 6 : await q(n - 1); echo({}).then(() => q(40)).then(print);",
      "6\n",
    ],
    ["setImmediate(() => setImmediate(() => print(7)));", "7\n"],
    [
      "echo({}).then(() => new Promise((r) => setImmediate(() => setImmediate(r)))).then(() => print(8));",
      "8\n",
    ],
  ];
  for (let round = 0; round < 3; round++) {
    for (const [program, expected] of rows) {
      assert.equal(okOutput(await cm.run(program)), expected, program);
    }
  }
});

Deno.test("run() waits for timeouts the program set, as a script would; cleared ones and intervals do not hold it", async () => {
  await using cm = new CodeMode({ tools: [addTool()] });
  const cases: [string, string][] = [
    [`setTimeout(() => print("later"), 20); print("now");`, "now\nlater\n"],
    [
      `const t = setTimeout(() => print("never"), 20); clearTimeout(t); print("cleared");`,
      "cleared\n",
    ],
    [`setTimeout(async () => print(await add({ a: 1, b: 2 })), 5);`, "3\n"],
    [
      `setInterval(() => {}, 10_000); print("interval does not hold the run");`,
      "interval does not hold the run\n",
    ],
  ];
  for (const [program, expected] of cases) {
    assert.equal(okOutput(await cm.run(program)), expected, program);
  }
  const thrown = await cm.run(
    `print("before"); setTimeout(() => { throw new Error("in a timer"); }, 5);`,
  );
  assert.equal(thrown.ok, false);
  assert.equal(thrown.output, "before\n");
  assert.equal(thrown.error?.kind, "runtime");
  assert.match(thrown.error!.message, /in a timer/);
});
