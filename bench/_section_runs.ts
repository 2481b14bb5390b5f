/**
 * Bench sections 1, 2 and 7: a warm run of `print(1)` against a fresh `deno run` and a direct
 * call, the first run in a fresh process, and the memory of an idle host and its sandbox.
 *
 * @module
 */

import { CodeMode } from "../mod.ts";
import { processPss, processRss, processThreads } from "./_machine.ts";
import {
  COMPILER_WARM_UP,
  directCalls,
  type FirstRun,
  firstRuns,
  freshDenoRuns,
  noop,
  noPoolRuns,
  POOL_SIZE,
  REFILL_MS,
  refilled,
  warmRuns,
} from "./_measure.ts";
import { mb, met, ms, percentile, type Report, type Spread, times } from "./_report.ts";

const WARM_RUNS = 60;

/** Sections 1 and 7; returns the fresh `deno run` figure the other sections compare with. */
export async function warmRunSection(report: Report): Promise<Spread> {
  const { rss: hostRssAtStart, heapUsed: hostHeapAtStart } = Deno.memoryUsage();
  report.progress("warm runs of print(1) (a pause between runs)");
  const warm = new CodeMode({ tools: [noop], poolSize: POOL_SIZE, learnShapes: false });
  warm.warmUp();
  const warmOn = await warmRuns(warm, "error", WARM_RUNS);
  const warmOff = await warmRuns(warm, "off", WARM_RUNS);
  report.progress("no pool, fresh deno run, direct call");
  const noPool = await noPoolRuns(20);
  const fresh = await freshDenoRuns(40);
  const direct = await directCalls();
  const onGoal = warmOn.p50 <= 8 && fresh.p50 / warmOn.p50 >= 2;
  const offGoal = warmOff.p50 <= 5;
  const offFirstRound = warmOff.p50 <= 2 && fresh.p50 / warmOff.p50 >= 8;
  const rows: [string, Spread, string][] = [
    ["codemode, warm pool, type-check on", warmOn, `≤ 8 ms and ≥ 2× faster: ${met(onGoal)}`],
    [
      "codemode, warm pool, check off",
      warmOff,
      `≤ 5 ms: ${met(offGoal)}; first round's ≤ 2 ms and ≥ 8×: ${met(offFirstRound)}`,
    ],
    ["codemode, no warm Worker (poolSize 0), check off", noPool, ""],
    ["fresh `deno run --no-prompt program.js`", fresh, ""],
    ["direct in-process async call (floor)", direct, ""],
  ];
  report.show({
    title: "1. Warm run of `print(1)`",
    columns: ["what", "p50", "p90", "runs", "fresh deno run ÷ this", "this ÷ direct call", "goal"],
    rows: rows.map(([label, s, goal]) => [
      label,
      ms(s.p50),
      ms(s.p90),
      String(s.n),
      times(fresh.p50 / s.p50),
      times(s.p50 / direct.p50),
      goal,
    ]),
    notes: [
      `"warm": the CodeMode keeps ${POOL_SIZE} sandbox Workers started (in one sandbox ` +
      `process); each run takes one and the pool starts a replacement, so the bench waits ` +
      `${REFILL_MS} ms before every timed run. Timed: \`await codeMode.run("print(1)")\`, ` +
      `compile + sandbox + result. Before timing, ${COMPILER_WARM_UP} programs are compiled ` +
      "with `check()` and 5 runs made (a long-lived host).",
      "no warm Worker: the same run when its Worker must be started for it (process and " +
      "compiler warm).",
      "fresh deno run: a plain JS file with a `print` shim, a new permission-less process each " +
      "time (what most peers do), wall time of spawn to exit.",
      "direct call: `await program()` where the program calls an in-process `print` (floor).",
    ],
  });
  report.goal(
    "warm run, check off: p50 ≤ 5 ms",
    `${ms(warmOff.p50)} (${times(fresh.p50 / warmOff.p50)} faster than fresh deno run)`,
    offGoal,
  );
  report.goal(
    "warm run, check off (first round): p50 ≤ 2 ms, ≥ 8× faster than fresh deno run",
    `${ms(warmOff.p50)}, ${times(fresh.p50 / warmOff.p50)}`,
    offFirstRound,
  );
  report.goal(
    "warm run, check on: p50 ≤ 8 ms, ≥ 2× faster than fresh deno run",
    `${ms(warmOn.p50)}, ${times(fresh.p50 / warmOn.p50)}`,
    onGoal,
  );

  await refilled(warm);
  await new Promise((r) => setTimeout(r, 500));
  const { rss: hostRss, heapUsed: hostHeap } = Deno.memoryUsage();
  const pids = warm.sandboxPids;
  const sandboxRss = pids.map(processRss).reduce((a, b) => a + b, 0);
  const sandboxPss = pids.map(processPss).reduce((a, b) => a + b, 0);
  const threads = pids.map(processThreads).reduce((a, b) => a + b, 0);
  await warm.close();
  report.show({
    title: "7. Memory of an idle host",
    columns: ["what", "RSS", "PSS", "JS heap used"],
    rows: [
      [
        "host (this bench process) at start: modules imported, no CodeMode yet",
        mb(hostRssAtStart),
        "",
        mb(hostHeapAtStart),
      ],
      ["host with a warm CodeMode (compiler warm, pool full)", mb(hostRss), "", mb(hostHeap)],
      [
        `its sandbox (${pids.length} process, ${POOL_SIZE} warm Workers, ${threads} threads)`,
        Number.isFinite(sandboxRss) ? mb(sandboxRss) : "unavailable",
        Number.isFinite(sandboxPss) ? mb(sandboxPss) : "unavailable",
        "",
      ],
    ],
    notes: [
      "Host: `Deno.memoryUsage().rss`, which includes the benchmark's own code and samples. " +
      "Sandbox: /proc/<pid>/status VmRSS and /proc/<pid>/smaps_rollup Pss of each " +
      "`codeMode.sandboxPids` entry while idle. Compiler processes are not counted here. " +
      `The warm host has type-checked ~${COMPILER_WARM_UP + WARM_RUNS} programs; V8 keeps ` +
      "the pages it grew to, so RSS stays well above the heap in use.",
    ],
  });
  return fresh;
}

/** Section 2: the first run of a new CodeMode in a fresh process. */
export async function firstRunSection(report: Report): Promise<void> {
  report.progress("first run in fresh processes");
  const firstOff = await firstRuns("off", 5);
  const firstOn = await firstRuns("error", 3);
  const p50 = (r: FirstRun[], key: keyof FirstRun) => percentile(r.map((x) => x[key]), 0.5);
  const row = (label: string, r: FirstRun[], goal: string) => [
    label,
    ms(p50(r, "firstRun")),
    ms(p50(r, "loaded")),
    ms(p50(r, "sinceStart")),
    ms(p50(r, "wall")),
    String(r.length),
    goal,
  ];
  const offP50 = p50(firstOff, "firstRun");
  report.show({
    title: "2. First run of a new CodeMode in a fresh process (pool cold, compiler cold)",
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
      row("check off", firstOff, `≤ 300 ms: ${met(offP50 <= 300)}`),
      row("type-check on", firstOn, ""),
    ],
    notes: [
      "A new `deno run -A bench/_first_run.ts` per run: imports mod.ts, then times " +
      '`new CodeMode()` + `run("print(1)")` (sandbox process and Worker start, compiler ' +
      "process start, compile). Medians.",
    ],
  });
  report.goal("first run in a fresh process, check off ≤ 300 ms", ms(offP50), offP50 <= 300);
}
