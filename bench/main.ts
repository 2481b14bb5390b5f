/**
 * `deno task bench`: every codemode figure in one run, side by side with the alternatives and
 * as ratios, printed as tables and written to BENCHMARKS.md with the machine and the date.
 *
 *   deno task bench               (= deno run -A bench/main.ts)
 *   deno run -A bench/main.ts --no-write    print only, leave BENCHMARKS.md alone
 *
 * Prints figures and whether each goal was met; never fails because the machine is slow (it
 * fails only when a program gives a wrong answer, which is a bug, not a slow machine).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CodeMode } from "../mod.ts";
import { ProgramCompiler } from "../src/program/compile.ts";
import { coldChecks, compilerColdStarts, compileTimes, fiftyLineProgram } from "./check_bench.ts";
import { descriptionSizes } from "./describe_bench.ts";
import { contextFigures } from "./_context.ts";
import { machine, processRss } from "./_machine.ts";
import {
  COMPILER_WARM_UP,
  directCalls,
  directToolCalls,
  FAN_OUT_PROGRAM,
  type FirstRun,
  firstRuns,
  freshDenoRuns,
  noop,
  noPoolRuns,
  PARALLEL_CALLS,
  PARALLEL_PROGRAM,
  POOL_SIZE,
  programFigures,
  REFILL_MS,
  refilled,
  REPO,
  SEQUENTIAL_CALLS,
  SEQUENTIAL_PROGRAM,
  slow,
  warmRuns,
} from "./_measure.ts";
import {
  bytes,
  int,
  mb,
  met,
  ms,
  percentile,
  renderTable,
  type Spread,
  spread,
  type Table,
  times,
} from "./_report.ts";

const WARM_RUNS = 60;

const args = parseArgs({ args: Deno.args, options: { "no-write": { type: "boolean" } } });
const tables: Table[] = [];
const goals: { goal: string; measured: string; ok: boolean }[] = [];

function progress(text: string): void {
  console.error(`… ${text}`);
}

function show(table: Table): void {
  tables.push(table);
  console.log(renderTable(table));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const host = await machine();
  const load1 = Number(host.load.split(" ")[0]);
  const busy = load1 > host.cores * 0.75
    ? `**The machine was busy** (1-minute load ${load1} on ${host.cores} cores when the bench ` +
      "started): other processes competed for the CPU, so the timings are inflated — rerun on an " +
      "idle machine for representative figures."
    : "";
  if (busy) console.error(`… warning: ${busy.replaceAll("**", "")}`);
  const { rss: hostRssAtStart, heapUsed: hostHeapAtStart } = Deno.memoryUsage();
  console.log(
    `codemode benchmarks — ${host.cores} × ${host.cpu}, ${host.memoryGb.toFixed(1)} GB, ` +
      `deno ${host.deno}, load ${host.load}, ${host.date}\n`,
  );

  // 1. Warm trivial run.
  progress("warm runs of print(1) (pool refilled between runs)");
  const warm = new CodeMode({ tools: [noop], poolSize: POOL_SIZE });
  warm.warmUp();
  const warmOn = await warmRuns(warm, "error", WARM_RUNS);
  const warmOff = await warmRuns(warm, "off", WARM_RUNS);
  progress("no pool, fresh deno run, direct call");
  const noPool = await noPoolRuns(20);
  const fresh = await freshDenoRuns(40);
  const direct = await directCalls();
  const onGoal = warmOn.p50 <= 8 && fresh.p50 / warmOn.p50 >= 2;
  const offGoal = warmOff.p50 <= 2 && fresh.p50 / warmOff.p50 >= 8;
  show({
    title: "1. Warm run of `print(1)`",
    columns: ["what", "p50", "p90", "runs", "fresh deno run ÷ this", "this ÷ direct call", "goal"],
    rows: [
      ["codemode, warm pool, type-check on", warmOn, "p50 ≤ 8 ms and ≥ 2× faster", onGoal],
      ["codemode, warm pool, check off", warmOff, "p50 ≤ 2 ms and ≥ 8× faster", offGoal],
      ["codemode, no pool (poolSize 0), check off", noPool, "", undefined],
      ["fresh `deno run --no-prompt program.js`", fresh, "", undefined],
      ["direct in-process async call (floor)", direct, "", undefined],
    ].map(([label, s, goal, ok]) => {
      const d = s as Spread;
      return [
        label as string,
        ms(d.p50),
        ms(d.p90),
        String(d.n),
        times(fresh.p50 / d.p50),
        times(d.p50 / direct.p50),
        goal ? `${goal}: ${met(ok as boolean)}` : "",
      ];
    }),
    notes: [
      `"warm": the CodeMode keeps ${POOL_SIZE} sandbox processes started; each run uses one ` +
      `and the pool starts a replacement, so before every timed run the bench waits until ` +
      `${POOL_SIZE} processes are alive again plus ${REFILL_MS} ms for them to be ready. ` +
      `Timed: \`await codeMode.run("print(1)")\`, compile + sandbox + result. Before timing, ` +
      `${COMPILER_WARM_UP} programs are compiled with \`check()\` and 5 runs made (a ` +
      `long-lived host).`,
      "no pool: the same run when a sandbox process must be started for it (compiler warm).",
      "fresh deno run: a plain JS file with a `print` shim, a new permission-less process each " +
      "time (what most peers do), wall time of spawn to exit.",
      "direct call: `await program()` where the program calls an in-process `print` (floor).",
    ],
  });
  goals.push(
    {
      goal: "warm run, check on: p50 ≤ 8 ms, ≥ 2× faster than fresh deno run",
      measured: `${ms(warmOn.p50)}, ${times(fresh.p50 / warmOn.p50)}`,
      ok: onGoal,
    },
    {
      goal: "warm run, check off: p50 ≤ 2 ms, ≥ 8× faster than fresh deno run",
      measured: `${ms(warmOff.p50)}, ${times(fresh.p50 / warmOff.p50)}`,
      ok: offGoal,
    },
  );

  // 7. Host memory (measured now, with the warm CodeMode idle and its pool full).
  await refilled(warm, POOL_SIZE);
  const { rss: hostRss, heapUsed: hostHeap } = Deno.memoryUsage();
  const childRss = warm.sandboxPids.map(processRss).filter(Number.isFinite);
  await warm.close();

  // 2. First run in a fresh process.
  progress("first run in fresh processes");
  const firstOff = await firstRuns("off", 5);
  const firstOn = await firstRuns("error", 3);
  const firstRow = (label: string, r: FirstRun[], goal: string, ok?: boolean) => [
    label,
    ms(percentile(r.map((x) => x.firstRun), 0.5)),
    ms(percentile(r.map((x) => x.loaded), 0.5)),
    ms(percentile(r.map((x) => x.sinceStart), 0.5)),
    ms(percentile(r.map((x) => x.wall), 0.5)),
    String(r.length),
    goal ? `${goal}: ${met(ok!)}` : "",
  ];
  const firstOffP50 = percentile(firstOff.map((x) => x.firstRun), 0.5);
  show({
    title: "2. First run in a fresh process (pool cold, compiler cold)",
    columns: [
      "what",
      "new CodeMode → result",
      "modules loaded at",
      "process start → result",
      "process wall",
      "runs",
      "goal",
    ],
    rows: [
      firstRow("check off", firstOff, "≤ 300 ms", firstOffP50 <= 300),
      firstRow("type-check on", firstOn, ""),
    ],
    notes: [
      "A new `deno run -A bench/_first_run.ts` per run: imports mod.ts, then times " +
      '`new CodeMode()` + `run("print(1)")` (sandbox process start + compile). Medians.',
    ],
  });
  goals.push({
    goal: "first run in a fresh process, check off ≤ 300 ms",
    measured: ms(firstOffP50),
    ok: firstOffP50 <= 300,
  });

  // 3./4. Tool calls and fan-out.
  progress("tool-call round trips, throughput, fan-out");
  const calls = new CodeMode({
    tools: [noop, slow],
    poolSize: 1,
    limits: { maxToolCalls: 20_000, maxConcurrentCalls: 10_000 },
  });
  calls.warmUp();
  const seq = await programFigures(calls, SEQUENTIAL_PROGRAM, 7, /^[\d.]+\n$/, "sequential");
  const par = await programFigures(calls, PARALLEL_PROGRAM, 7, /^[\d.]+ 5000\n$/, "parallel");
  await calls.close();
  const fan = new CodeMode({ tools: [noop, slow], poolSize: 1 });
  fan.warmUp();
  const fanOut = await programFigures(fan, FAN_OUT_PROGRAM, 5, /^[\d.]+ 20\n$/, "fan-out");
  await fan.close();
  const directTools = await directToolCalls();
  const seqS = spread(seq.inProgram);
  const parS = spread(par.inProgram);
  const rate = (elapsed: number) => PARALLEL_CALLS / (elapsed / 1000);
  const seqGoal = seqS.p50 * 1000 <= 100;
  const parGoal = rate(parS.p50) >= 50_000;
  show({
    title: "3. Tool-call overhead (no-op tool)",
    columns: ["what", "p50", "p90", "runs", "vs direct call", "goal"],
    rows: [
      [
        `codemode, sequential round trip (${int(SEQUENTIAL_CALLS)} awaited calls)`,
        `${ms(seqS.p50)}/call`,
        `${ms(seqS.p90)}/call`,
        String(seqS.n),
        `${times(seqS.p50 / directTools.sequential.p50)} slower`,
        `≤ 100 µs: ${met(seqGoal)}`,
      ],
      [
        "direct in-process `await tool.execute()`",
        `${ms(directTools.sequential.p50)}/call`,
        `${ms(directTools.sequential.p90)}/call`,
        String(directTools.sequential.n),
        "1×",
        "",
      ],
      [
        `codemode, parallel (\`Promise.all\` of ${int(PARALLEL_CALLS)})`,
        `${int(rate(parS.p50))} calls/s`,
        `${int(rate(parS.p90))} calls/s`,
        String(parS.n),
        `${times(rate(directTools.parallel.p50) / rate(parS.p50))} slower`,
        `≥ 50k/s: ${met(parGoal)}`,
      ],
      [
        `direct in-process \`Promise.all\` of ${int(PARALLEL_CALLS)}`,
        `${int(rate(directTools.parallel.p50))} calls/s`,
        `${int(rate(directTools.parallel.p90))} calls/s`,
        String(directTools.parallel.n),
        "1×",
        "",
      ],
    ],
    notes: [
      "Timed inside the program (performance.now() around the loop), check off, after 50 " +
      "(sequential) / 200 (parallel) warm-up calls in the same run. Each call crosses " +
      "Worker → host (schema validation, dispatch) → Worker, over the child's stdin/stdout.",
      `Parallel run: limits.maxConcurrentCalls 10,000, maxToolCalls 20,000. p90 column for ` +
      `throughput = the rate of the p90 (slower) run.`,
      `Whole-run wall time (compile, sandbox, calls, result): sequential p50 ${
        ms(percentile(seq.wall, 0.5))
      }, parallel p50 ${ms(percentile(par.wall, 0.5))}.`,
    ],
  });
  goals.push(
    { goal: "sequential tool call ≤ 100 µs", measured: ms(seqS.p50), ok: seqGoal },
    {
      goal: "parallel tool calls ≥ 50,000/s",
      measured: `${int(rate(parS.p50))}/s`,
      ok: parGoal,
    },
  );

  const fanS = spread(fanOut.inProgram);
  const fanWall = spread(fanOut.wall);
  const efficiency = 400 / fanS.p50;
  const toolP50 = percentile(fanOut.toolMs, 0.5);
  show({
    title: "4. Fan-out: 20 calls of a 100 ms tool through `gatherLimited(…, 5)`",
    columns: ["what", "p50", "p90", "runs", "ideal", "efficiency (ideal ÷ p50)", "goal"],
    rows: [
      [
        "in the program (gatherLimited start → all done)",
        ms(fanS.p50),
        ms(fanS.p90),
        String(fanS.n),
        "400 ms",
        efficiency.toFixed(3),
        `≥ 0.95: ${met(efficiency >= 0.95)}`,
      ],
      [
        "whole run (compile + sandbox + calls + result)",
        ms(fanWall.p50),
        ms(fanWall.p90),
        String(fanWall.n),
        "400 ms",
        (400 / fanWall.p50).toFixed(3),
        "",
      ],
    ],
    notes: [
      "The tool sleeps 100 ms with setTimeout in its handler; default limits, check off.",
      `The handler itself took ${ms(toolP50)} p50 on the host (timer lateness included), so ` +
      `4 waves cannot beat ${ms(4 * toolP50)}: efficiency against that is ${
        (4 * toolP50 / fanS.p50).toFixed(3)
      }, codemode's own overhead ${ms((fanS.p50 - 4 * toolP50) / 4)} per wave.`,
    ],
  });
  goals.push({
    goal: "fan-out efficiency ≥ 0.95",
    measured: efficiency.toFixed(3),
    ok: efficiency >= 0.95,
  });

  // 5. Context.
  progress("context kept out (seed demo, 20-file scan, two-stage re-query)");
  const context = await contextFigures();
  show(context.table);
  for (const { name, keptOut } of context.figures) {
    goals.push({
      goal: `context kept out, ${name} ≥ 95%`,
      measured: `${(keptOut * 100).toFixed(1)}%`,
      ok: keptOut >= 0.95,
    });
  }

  // 6. Type-check and description.
  progress("type-check cold and warm, description sizes");
  const colds = await coldChecks(3);
  const starts = await compilerColdStarts(3);
  const compiler = new ProgramCompiler();
  const checkRows: [string, number[]][] = [
    [
      "warm, check on, 50-line program",
      await compileTimes(compiler, fiftyLineProgram, "error", 30),
    ],
    [
      "warm, check off, 50-line program",
      await compileTimes(compiler, fiftyLineProgram, "off", 100),
    ],
    [
      "warm, check on, `print(i)`",
      await compileTimes(compiler, (i) => `print(${i});`, "error", 40),
    ],
    [
      "warm, check off, `print(i)`",
      await compileTimes(compiler, (i) => `print(${i});`, "off", 300),
    ],
  ];
  await compiler.close();
  show({
    title: "6a. Type-check (ProgramCompiler, 100 tool declarations)",
    columns: ["what", "p50", "p90", "runs"],
    rows: [
      [
        "cold: first compile + check in a fresh process",
        ms(percentile(colds.map((c) => c.firstCheck), 0.5)),
        ms(percentile(colds.map((c) => c.firstCheck), 0.9)),
        String(colds.length),
      ],
      [
        "cold: process start → first check done",
        ms(percentile(colds.map((c) => c.sinceStart), 0.5)),
        ms(percentile(colds.map((c) => c.sinceStart), 0.9)),
        String(colds.length),
      ],
      ...([
        ["cold: compiler process spawn → ready (TypeScript loaded)", "ready"],
        ["cold: compiler process spawn → first transpile answered", "firstTranspile"],
        ["cold: compiler process spawn → first check answered", "firstCheck"],
      ] as const).map(([label, key]) => [
        label,
        ms(percentile(starts.map((c) => c[key]), 0.5)),
        ms(percentile(starts.map((c) => c[key]), 0.9)),
        String(starts.length),
      ]),
      ...checkRows.map(([label, samples]) => {
        const s = spread(samples);
        return [label, ms(s.p50), ms(s.p90), String(s.n)];
      }),
    ],
    notes: [
      "From bench/check_bench.ts (`compileTimes`, `coldChecks`, `compilerColdStarts`). The front " +
      "end runs in compiler processes: every warm figure includes the round trip to one.",
    ],
  });
  const sizes = descriptionSizes([10, 100, 1_000]);
  const full = descriptionSizes([10, 100, 1_000], { threshold: 1_000_000 });
  show({
    title: "6b. Description size (synthetic SaaS-style tools)",
    columns: ["tools", "default (threshold 40)", "~tokens", "every declaration listed", "~tokens"],
    rows: sizes.map((s, i) => [
      int(s.tools),
      bytes(s.bytes),
      int(s.tokens),
      bytes(full[i].bytes),
      int(full[i].tokens),
    ]),
    notes: [
      "Above 40 tools the description lists namespaces and points to `searchTools`; " +
      "tokens ≈ bytes ÷ 4. From bench/describe_bench.ts (`descriptionSizes`).",
    ],
  });

  // 7. Memory.
  const childS = spread(childRss);
  show({
    title: "7. Memory",
    columns: ["what", "RSS", "JS heap used"],
    rows: [
      [
        "host (this bench process) at start: modules imported, no CodeMode yet",
        mb(hostRssAtStart),
        mb(hostHeapAtStart),
      ],
      ["host with a warm CodeMode (compiler warm, pool full)", mb(hostRss), mb(hostHeap)],
      [
        `one idle sandbox child (VmRSS; ${childRss.length} measured, p50)`,
        Number.isNaN(childS.p50) ? "unavailable" : mb(childS.p50),
        "",
      ],
    ],
    notes: [
      "Host: `Deno.memoryUsage().rss`, which includes the benchmark's own code and samples. " +
      "Child: /proc/<pid>/status VmRSS of each `codeMode.sandboxPids` entry while idle in the " +
      "pool (a deno process with its main isolate and the program's Worker started). " +
      `The warm host has type-checked ~${COMPILER_WARM_UP + WARM_RUNS} programs; V8 keeps ` +
      "the pages it grew to, so RSS stays well above the heap in use.",
    ],
  });

  // Summary.
  const total = (performance.now() - started) / 1000;
  const summary: Table = {
    title: "Goals",
    columns: ["goal", "measured (p50)", "met"],
    rows: goals.map((g) => [g.goal, g.measured, met(g.ok)]),
    notes: [
      `Bench wall time: ${total.toFixed(0)} s; load average at start ${host.load}, at end ${
        (await machine()).load
      }.`,
    ],
  };
  console.log(renderTable(summary));

  if (!args.values["no-write"]) {
    // A profile taken by hand (performance.now() stamps in a scratch copy of src/), kept with the
    // figures because it explains the goals that are not met.
    const WHERE_THE_TIME_GOES = `
### Where the time of a warm run goes (profiled 2026-11-24, not re-measured by this script)

Profiled with \`performance.now()\` stamps on both sides (a scratch copy of src/), 30 warm runs of
\`print(1)\` with 200 ms idle between them, p50: host compile (\`transpileModule\` + policy) 1.5–1.9 ms
(0.6 ms when the host is busy: the idle gap costs cache and clock warm-up); the pipe write reaching the
Worker's own stdin reader 0.4 ms; Worker set-up (globals, blob URL) 0.1–0.4 ms; \`import()\` of the
program's blob module 1.7–2.1 ms (0.4 ms back to back, 1.1 ms after 20 ms idle, measured alone in a
Worker: Deno's module loader, not codemode); output and the end back to the host 0.1–0.3 ms each; one
\`setImmediate\` turn before the end (0.06 ms) so every promise callback the program left has run; the
host's end handling 0.2–0.4 ms (the process then exits by itself: a SIGKILL on this path took 0.1–5 ms of
the host's thread, so it is only a safety net one macrotask later). With the check on, the type check (~2 ms) runs on the
host while the sandbox starts the program, so it adds little wall time; no output is seen and no tool
runs before it passes. Each run gets a fresh process whose code is cold by design (one program per
process, never reused), so the sandbox side alone is ~3–4 ms: the 2 ms goal needs less than a process
boundary and a module load cost here. A tool call crosses the process boundary twice; a bare pipe round
trip between a Deno host and a permission-less Worker in a child that reads its own stdin and answers
with \`writeSync\` (the channel's own path) measures 0.14 ms back to back and 0.4–0.5 ms after 100 ms
idle here, which bounds the sequential figure: codemode's own work per call (validation, JSON, call
site, promise) adds 0.1–0.2 ms on top. The Worker owns the channel (no relay isolate): that removed a thread wake and a
re-serialisation per message, about 0.8 ms of each run's start and half of each call's round trip.
`;
    const md = [
      "# Benchmarks",
      "",
      "Written by `deno task bench` (bench/main.ts); every figure below comes from one run.",
      "",
      `- Machine: ${host.cores} × ${host.cpu}, ${host.memoryGb.toFixed(1)} GB memory, ${host.os}`,
      `- Deno ${host.deno} (V8 ${host.v8}, TypeScript ${host.typescript})`,
      `- Load average at start: ${host.load}`,
      `- Date: ${host.date}`,
      "",
      "p50 / p90 are over the runs shown; figures move with machine load, goals are checked " +
      "against p50. The bench never fails because the machine is slow.",
      ...(busy ? ["", `> ${busy}`] : []),
      "",
      renderTable(summary),
      WHERE_THE_TIME_GOES,
      ...tables.map(renderTable),
    ].join("\n");
    await Deno.writeTextFile(`${REPO}/BENCHMARKS.md`, md);
    // Keep the file as `deno fmt` wants it (the repository's `fmt --check` covers it).
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", `${REPO}/BENCHMARKS.md`],
      cwd: REPO,
      stdout: "null",
      stderr: "inherit",
    }).output();
    console.error(`… wrote ${REPO}/BENCHMARKS.md`);
  }
}

await main();
