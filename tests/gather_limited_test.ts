/**
 * `gatherLimited` inside real sandboxes. A gate tool parks every call until the test settles it,
 * so the order of events is chosen by the test and nothing depends on timing.
 */

import assert from "node:assert/strict";
import { CodeMode, type RunResult, type Tool } from "../mod.ts";
import { okOutput } from "./_fixtures/sandbox_watch.ts";

/**
 * The `step({ i })` tool: each call waits until the test resolves or rejects it. Records which
 * calls started and the order of starts and finishes as the host saw them.
 */
class Gate {
  readonly started: number[] = [];
  readonly log: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #calls = new Map<number, PromiseWithResolvers<unknown>>();
  #changed = Promise.withResolvers<void>();
  #output = "";

  readonly tool: Tool = {
    name: "step",
    description: "One step of work; finishes when the test says so.",
    inputSchema: { type: "object", properties: { i: { type: "integer" } }, required: ["i"] },
    execute: async ({ i }: { i: number }) => {
      const call = Promise.withResolvers<unknown>();
      this.#calls.set(i, call);
      this.started.push(i);
      this.log.push(`start ${i}`);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      this.#notify();
      try {
        return await call.promise;
      } finally {
        this.inFlight--;
      }
    },
  };

  /** Pass as `onOutput` to wait for printed text. */
  readonly onOutput = (text: string): void => {
    this.#output += text;
    this.#notify();
  };

  #notify(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  async #until(done: () => boolean, run: Promise<RunResult>, what: string): Promise<void> {
    const ended = run.then((r) => {
      throw new Error(`the run ended while waiting for ${what}: ${JSON.stringify(r)}`);
    });
    while (!done()) await Promise.race([this.#changed.promise, ended]);
  }

  /** Resolves once `n` calls have started; fails if the run ends first. */
  waitStarted(n: number, run: Promise<RunResult>): Promise<void> {
    return this.#until(() => this.started.length >= n, run, `${n} started calls`);
  }

  /** Resolves once `text` has been printed; fails if the run ends first. */
  waitOutput(text: string, run: Promise<RunResult>): Promise<void> {
    return this.#until(() => this.#output.includes(text), run, JSON.stringify(text));
  }

  resolve(i: number, value: unknown = `v${i}`): void {
    this.log.push(`done ${i}`);
    this.#calls.get(i)!.resolve(value);
  }

  reject(i: number, message: string): void {
    this.log.push(`fail ${i}`);
    this.#calls.get(i)!.reject(new Error(message));
  }
}

/** Wraps each task so the program itself counts how many run at once. */
const COUNTING = `
let inFlight = 0;
let maxInFlight = 0;
let startedTasks = 0;
const counted = <T>(work: () => Promise<T>) => async (): Promise<T> => {
  startedTasks++;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  try {
    return await work();
  } finally {
    inFlight--;
  }
};
`;

Deno.test("gatherLimited() keeps results in task order whatever order they finish in", async () => {
  const gate = new Gate();
  await using cm = new CodeMode({ tools: [gate.tool] });
  const run = cm.run(`
    const results = await gatherLimited([0, 1, 2, 3].map((i) => () => step({ i })), 4);
    print(JSON.stringify(results));
  `);
  await gate.waitStarted(4, run);
  for (const i of [3, 1, 2, 0]) gate.resolve(i);
  assert.equal(okOutput(await run), '["v0","v1","v2","v3"]\n');
});

Deno.test("gatherLimited() never runs more than limit and starts the next task as one finishes", async () => {
  const gate = new Gate();
  await using cm = new CodeMode({ tools: [gate.tool] });
  const run = cm.run(`${COUNTING}
    const tasks = Array.from({ length: 8 }, (_, i) => counted(() => step({ i })));
    const results = await gatherLimited(tasks, 3);
    print(results.join(","), "max in flight", maxInFlight);
  `);
  await gate.waitStarted(3, run);
  assert.deepEqual(gate.started, [0, 1, 2]);
  // Each finish frees exactly one slot, which the next task in order takes.
  const finishOrder = [1, 0, 3, 2, 5];
  for (const [k, i] of finishOrder.entries()) {
    gate.resolve(i);
    await gate.waitStarted(4 + k, run);
    assert.equal(gate.started.at(-1), 3 + k);
  }
  for (const i of [4, 6, 7]) gate.resolve(i);
  assert.equal(okOutput(await run), "v0,v1,v2,v3,v4,v5,v6,v7 max in flight 3\n");
  assert.equal(gate.maxInFlight, 3);
  assert.deepEqual(gate.log, [
    "start 0",
    "start 1",
    "start 2",
    "done 1",
    "start 3",
    "done 0",
    "start 4",
    "done 3",
    "start 5",
    "done 2",
    "start 6",
    "done 5",
    "start 7",
    "done 4",
    "done 6",
    "done 7",
  ]);
});

Deno.test("gatherLimited() rejects with the first failure and starts nothing after it", async () => {
  const gate = new Gate();
  await using cm = new CodeMode({ tools: [gate.tool] });
  const run = cm.run(
    `${COUNTING}
    const tasks = Array.from({ length: 10 }, (_, i) => counted(() => step({ i })));
    try {
      await gatherLimited(tasks, 2);
      print("no failure?");
    } catch (e) {
      print("caught:", (e as Error).message, "started", startedTasks);
    }
  `,
    { onOutput: gate.onOutput },
  );
  await gate.waitStarted(2, run);
  gate.reject(0, "task zero failed");
  await gate.waitOutput("caught:", run);
  // The other task in flight finishes after the failure; its lane must not pull another task.
  gate.resolve(1);
  assert.equal(okOutput(await run), "caught: step: task zero failed started 2\n");
  assert.deepEqual(gate.started, [0, 1]);
});

Deno.test("gatherLimited() with { settle: true } runs every task and resolves to records", async () => {
  const gate = new Gate();
  await using cm = new CodeMode({ tools: [gate.tool] });
  const run = cm.run(`
    const records = await gatherLimited([0, 1, 2, 3].map((i) => () => step({ i })), 2, { settle: true });
    for (const r of records) {
      print(r.status, r.status === "fulfilled" ? r.value : (r.reason as Error).message);
    }
  `);
  await gate.waitStarted(2, run);
  gate.reject(1, "one broke");
  await gate.waitStarted(3, run);
  gate.resolve(0);
  await gate.waitStarted(4, run);
  gate.reject(3, "three broke");
  gate.resolve(2);
  assert.equal(
    okOutput(await run),
    "fulfilled v0\nrejected step: one broke\nfulfilled v2\nrejected step: three broke\n",
  );
  assert.deepEqual(gate.started, [0, 1, 2, 3]);
});

Deno.test("gatherLimited() takes an async iterable and pulls it lazily", async () => {
  const gate = new Gate();
  await using cm = new CodeMode({ tools: [gate.tool] });
  const run = cm.run(
    `
    let pulled = 0;
    async function* tasks() {
      for (let i = 0; i < 5; i++) {
        await Promise.resolve();
        pulled++;
        yield () => step({ i });
      }
    }
    const results = gatherLimited(tasks(), 2);
    await step({ i: 100 });
    print("pulled while two ran:", pulled);
    print(JSON.stringify(await results));
  `,
    { onOutput: gate.onOutput },
  );
  await gate.waitStarted(3, run);
  assert.deepEqual([...gate.started].sort((a, b) => a - b), [0, 1, 100]);
  gate.resolve(100);
  await gate.waitOutput("pulled while two ran: 2", run);
  // Each finish lets one lane pull the next task from the generator.
  gate.resolve(1);
  await gate.waitStarted(4, run);
  gate.resolve(0);
  await gate.waitStarted(5, run);
  gate.resolve(2);
  await gate.waitStarted(6, run);
  assert.deepEqual(gate.started.filter((i) => i !== 100), [0, 1, 2, 3, 4]);
  gate.resolve(3);
  gate.resolve(4);
  assert.equal(
    okOutput(await run),
    'pulled while two ran: 2\n["v0","v1","v2","v3","v4"]\n',
  );
});

Deno.test("gatherLimited() never materialises a generator of 1,000,000 tasks", async () => {
  const started: number[] = [];
  const work: Tool = {
    name: "work",
    description: "Returns its number.",
    inputSchema: { type: "object", properties: { i: { type: "integer" } }, required: ["i"] },
    execute: ({ i }: { i: number }) => {
      started.push(i);
      return i;
    },
  };
  await using cm = new CodeMode({ tools: [work] });
  const result = await cm.run(`
    let pulled = 0;
    function* tasks() {
      for (let i = 0; i < 1_000_000; i++) {
        pulled++;
        yield async () => {
          const n = await work({ i });
          if (n === 12) throw new Error("task 12 failed");
          return n;
        };
      }
    }
    try {
      await gatherLimited(tasks(), 5);
    } catch (e) {
      print((e as Error).message, "after pulling", pulled);
    }
  `);
  const match = /^task 12 failed after pulling (\d+)\n$/.exec(okOutput(result));
  assert.ok(match, result.output);
  const pulled = Number(match[1]);
  // 13 tasks up to the failure, at most 4 more in flight beside it, one more pulled but not run.
  assert.ok(pulled >= 13 && pulled <= 18, `pulled ${pulled} tasks`);
  assert.ok(started.length <= 17, `started ${started.length} calls`);
  assert.equal(result.calls, started.length);
});

Deno.test("gatherLimited() refuses a limit that is not a positive integer with RangeError", async () => {
  await using cm = new CodeMode();
  const result = await cm.run(`
    for (const limit of [0, 1.5, "3", -2, NaN, Infinity]) {
      try {
        await gatherLimited([() => Promise.resolve(1)], limit as any);
        print("accepted", limit);
      } catch (e) {
        print(JSON.stringify(limit), (e as Error).name, e instanceof RangeError, (e as Error).message);
      }
    }
    print(JSON.stringify(await gatherLimited([() => Promise.resolve("default limit")])));
  `);
  const lines = okOutput(result).trimEnd().split("\n");
  assert.equal(lines.length, 7);
  for (const [k, shown] of ["0", "1.5", '"3"', "-2", "null", "null"].entries()) {
    assert.ok(
      lines[k].startsWith(
        `${shown} RangeError true gatherLimited: limit must be a positive integer`,
      ),
      lines[k],
    );
  }
  assert.equal(lines[6], '["default limit"]');
});

Deno.test("gatherLimited() given Promises instead of functions throws a TypeError that says what to pass", async () => {
  const echo: Tool = {
    name: "echo",
    description: "Returns its input.",
    inputSchema: { type: "object" },
    execute: (input: unknown) => input,
  };
  await using cm = new CodeMode({ tools: [echo] });
  const result = await cm.run(`
    try {
      await gatherLimited([echo({ a: 1 }), echo({ a: 2 })] as any, 1);
    } catch (e) {
      print((e as Error).name, e instanceof TypeError);
      print((e as Error).message);
    }
    try {
      await gatherLimited(42 as any);
    } catch (e) {
      print((e as Error).name, (e as Error).message);
    }
  `);
  const [first, message, notIterable] = okOutput(result).trimEnd().split("\n");
  assert.equal(first, "TypeError true");
  assert.match(
    message,
    /task 0 is a Promise, which has already started, so the limit cannot apply/,
  );
  assert.match(
    message,
    /pass functions that start the work, e\.g\. items\.map\(\(x\) => \(\) => tool\(x\)\)/,
  );
  assert.match(
    notIterable,
    /^TypeError gatherLimited: tasks must be an iterable or async iterable/,
  );
});
