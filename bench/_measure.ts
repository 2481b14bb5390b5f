/**
 * The measurements behind `bench/main.ts`: warm and first runs, a fresh `deno run`, a direct
 * call, tool-call round trips, throughput and fan-out. Each returns samples; main.ts makes
 * the tables.
 *
 * @module
 */

import { CodeMode, type RunResult, type Tool } from "../mod.ts";
import { sleep, type Spread, spread } from "./_report.ts";

/** The repository root. */
export const REPO: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** Workers kept warm in the warm-run CodeMode. */
export const POOL_SIZE = 2;
/** Wait before each warm run, so the Worker started to replace the last one is ready. */
export const REFILL_MS = 200;
/** Programs compiled (not run) before the warm runs are timed. */
export const COMPILER_WARM_UP = 200;
/** Awaited calls in the sequential round-trip program. */
export const SEQUENTIAL_CALLS = 2_000;
/** Calls in the parallel throughput program. */
export const PARALLEL_CALLS = 5_000;

/** The run's output; throws when the run failed or printed something else (a bug). */
export function expectOutput(result: RunResult, expected: string | RegExp, what: string): string {
  const good = typeof expected === "string"
    ? result.output === expected
    : expected.test(result.output);
  if (!result.ok || !good) {
    throw new Error(
      `${what}: wrong result (a bug, not a slow machine): ${
        JSON.stringify({ ok: result.ok, output: result.output.slice(0, 300), error: result.error })
      }`,
    );
  }
  return result.output;
}

/** Waits until the pool has a sandbox process, then `REFILL_MS` for its new Worker to get ready. */
export async function refilled(codeMode: CodeMode): Promise<void> {
  const until = performance.now() + 5_000;
  while (codeMode.sandboxPids.length < 1 && performance.now() < until) await sleep(5);
  await sleep(REFILL_MS);
}

// ---------------------------------------------------------------------------------------------
// 1. Warm run of print(1) vs a fresh `deno run` vs a direct call

/** `print(1)` through a warm pool: run times in ms after a compiler warm-up and 5 runs. */
export async function warmRuns(
  codeMode: CodeMode,
  check: "error" | "off",
  runs: number,
): Promise<Spread> {
  // A long-lived host has compiled many programs: get the compiler's code optimised first.
  for (let i = 0; i < COMPILER_WARM_UP; i++) await codeMode.check(`print(${i});`, { check });
  const samples: number[] = [];
  for (let i = -5; i < runs; i++) {
    await refilled(codeMode);
    const started = performance.now();
    const result = await codeMode.run("print(1)", { check });
    const elapsed = performance.now() - started;
    expectOutput(result, "1\n", `warm print(1), check ${check}`);
    if (i >= 0) samples.push(elapsed);
  }
  return spread(samples);
}

/** `print(1)` when every run must start its sandbox process (`poolSize: 0`). */
export async function noPoolRuns(runs: number): Promise<Spread> {
  await using codeMode = new CodeMode({ check: "off", poolSize: 0 });
  const samples: number[] = [];
  for (let i = -2; i < runs; i++) {
    await sleep(50);
    const started = performance.now();
    const result = await codeMode.run("print(1)");
    const elapsed = performance.now() - started;
    expectOutput(result, "1\n", "print(1) without a pool");
    if (i >= 0) samples.push(elapsed);
  }
  return spread(samples);
}

/**
 * Wall ms of `deno <args>` run in a new temporary directory holding `files`, a new process each
 * time, after `warmUps` untimed runs (to fill the disk cache); each run must print `1\n`.
 */
export async function timedDenoCommands(
  what: string,
  args: string[],
  files: Record<string, string>,
  counts: { runs: number; warmUps: number },
): Promise<Spread> {
  const dir = await Deno.makeTempDir({ prefix: "codemode_bench_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const samples: number[] = [];
    for (let i = -counts.warmUps; i < counts.runs; i++) {
      const started = performance.now();
      const out = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: dir,
        env: { DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const elapsed = performance.now() - started;
      const text = new TextDecoder().decode(out.stdout);
      if (!out.success || text !== "1\n") {
        throw new Error(`${what} of print(1) failed: ${new TextDecoder().decode(out.stderr)}`);
      }
      if (i >= 0) samples.push(elapsed);
    }
    return spread(samples);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Wall time of `deno run --no-prompt` of a plain-JS `print(1)`, a new process each time. */
export function freshDenoRuns(runs: number): Promise<Spread> {
  return timedDenoCommands("deno run", ["run", "--no-prompt", "program.js"], {
    "program.js": "const print = (...values) => console.log(...values);\nprint(1);\n",
  }, { runs, warmUps: 5 });
}

/** The floor: an in-process async function that prints, per call (ms). */
export async function directCalls(): Promise<Spread> {
  const output: string[] = [];
  const print = (...values: unknown[]) =>
    output.push(values.map((v) => typeof v === "string" ? v : Deno.inspect(v)).join(" ") + "\n");
  const program = async () => {
    await Promise.resolve();
    print(1);
  };
  const batch = 2_000;
  const samples: number[] = [];
  for (let b = -5; b < 60; b++) {
    output.length = 0;
    const started = performance.now();
    for (let i = 0; i < batch; i++) await program();
    if (b >= 0) samples.push((performance.now() - started) / batch);
  }
  return spread(samples);
}

// ---------------------------------------------------------------------------------------------
// 2. First run in a fresh process

/** What `bench/_first_run.ts` reports, plus the wall time seen from here (ms). */
export interface FirstRun {
  loaded: number;
  firstRun: number;
  sinceStart: number;
  wall: number;
}

/** Runs `bench/_first_run.ts` in `runs` fresh processes. */
export async function firstRuns(check: "off" | "error", runs: number): Promise<FirstRun[]> {
  const out: FirstRun[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${REPO}/bench/_first_run.ts`, check],
      cwd: REPO,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const wall = performance.now() - started;
    const text = new TextDecoder().decode(child.stdout).trim().split("\n").at(-1) ?? "";
    let parsed: FirstRun & { ok: boolean; error?: string };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`first-run child failed: ${new TextDecoder().decode(child.stderr)}`);
    }
    if (!parsed.ok) throw new Error(`first run of print(1) failed: ${parsed.error}`);
    out.push({ ...parsed, wall });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3./4. Tool calls

/** A tool that does nothing. */
export const noop: Tool = {
  name: "noop",
  description: "Does nothing and returns true.",
  inputSchema: { type: "object", properties: { i: { type: "integer" } } },
  execute: () => true,
};

/** A tool that takes 100 ms. */
export const slow: Tool = {
  name: "slow",
  description: "Waits 100 ms and returns its input number.",
  inputSchema: { type: "object", properties: { i: { type: "integer" } }, required: ["i"] },
  execute: async ({ i }) => {
    await sleep(100);
    return i;
  },
};

/** Prints the ms per awaited no-op call, timed inside the program. */
export const SEQUENTIAL_PROGRAM = `
for (let i = 0; i < 50; i++) await noop({ i });
const started = performance.now();
for (let i = 0; i < ${SEQUENTIAL_CALLS}; i++) await noop({ i });
print((performance.now() - started) / ${SEQUENTIAL_CALLS});
`;

/** Prints the ms for `Promise.all` of PARALLEL_CALLS no-op calls, and the count. */
export const PARALLEL_PROGRAM = `
await Promise.all(Array.from({ length: 200 }, (_, i) => noop({ i })));
const started = performance.now();
const all = await Promise.all(Array.from({ length: ${PARALLEL_CALLS} }, (_, i) => noop({ i })));
print(performance.now() - started, all.length);
`;

/** Prints the ms for 20 `slow` calls through `gatherLimited(…, 5)`, and the count. */
export const FAN_OUT_PROGRAM = `
const started = performance.now();
const all = await gatherLimited(Array.from({ length: 20 }, (_, i) => () => slow({ i })), 5);
print(performance.now() - started, all.length);
`;

/** Runs `source` `runs` times (check off): the figure it printed, wall ms, tool ms. */
export async function programFigures(
  codeMode: CodeMode,
  source: string,
  runs: number,
  expected: RegExp,
  what: string,
): Promise<{ inProgram: number[]; wall: number[]; toolMs: number[] }> {
  const inProgram: number[] = [];
  const wall: number[] = [];
  const toolMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    await refilled(codeMode);
    const started = performance.now();
    const result = await codeMode.run(source, { check: "off" });
    wall.push(performance.now() - started);
    inProgram.push(Number(expectOutput(result, expected, what).split(" ")[0]));
    for (const call of result.trace ?? []) toolMs.push(call.durationMs);
  }
  return { inProgram, wall, toolMs };
}

/** The floor for tool calls: `await tool.execute()` in-process, sequential and parallel. */
export async function directToolCalls(): Promise<{ sequential: Spread; parallel: Spread }> {
  const context = { signal: new AbortController().signal, name: "noop" };
  const sequential: number[] = [];
  const parallel: number[] = [];
  for (let b = -3; b < 30; b++) {
    let started = performance.now();
    for (let i = 0; i < SEQUENTIAL_CALLS; i++) await noop.execute({ i }, context);
    if (b >= 0) sequential.push((performance.now() - started) / SEQUENTIAL_CALLS);
    started = performance.now();
    await Promise.all(
      Array.from(
        { length: PARALLEL_CALLS },
        (_, i) => Promise.resolve(noop.execute({ i }, context)),
      ),
    );
    if (b >= 0) parallel.push(performance.now() - started);
  }
  return { sequential: spread(sequential), parallel: spread(parallel) };
}
