/**
 * Bench section 5: density and throughput (issue 11) — back-to-back runs, memory per program
 * waiting in a tool call, bursts of concurrent runs and the cold CLI, each beside a fresh
 * `deno run`.
 *
 * @module
 */

import {
  BACK_TO_BACK_RUNS,
  backToBack,
  bursts,
  coldCli,
  PARKED_PROCESSES,
  PARKED_RUNS,
  parkedProcesses,
  parkedRuns,
  wait,
} from "./_density.ts";
import { mb, met, ms, percentile, type Report, type Spread, times } from "./_report.ts";

const BURST_REPEATS = 3;

/** Section 5, compared with `fresh`, the p50 of a fresh `deno run` of `print(1)`. */
export async function densitySection(report: Report, fresh: Spread): Promise<void> {
  report.progress(`${BACK_TO_BACK_RUNS} runs back to back`);
  const b2b = await backToBack(BACK_TO_BACK_RUNS);
  report.progress(`${PARKED_RUNS} programs parked in a tool call; fresh processes parked`);
  const parked = await parkedRuns(PARKED_RUNS);
  const processes = await parkedProcesses(PARKED_PROCESSES);
  report.progress("200 runs × one 1 s call; 50 runs × 10 sequential 20 ms calls");
  const waiting = await bursts(200, "await wait({ ms: 1000 }); print('ok')", [wait], BURST_REPEATS);
  const fifty = await bursts(
    50,
    "for (let i = 0; i < 10; i++) await wait({ ms: 20 }); print('ok')",
    [wait],
    BURST_REPEATS,
  );
  report.progress("cold CLI: codemode run in a new process");
  const cliOff = await coldCli("off", 5);
  const cliOn = await coldCli("error", 5);

  const b2bGoal = b2b.mean <= fresh.p50 / 2;
  const pssPerRun = parked.pss / parked.runs;
  const pssGoal = pssPerRun <= 12 * 1024 * 1024;
  const wallP50 = (b: { wall: number[] }) => percentile(b.wall, 0.5);
  const allOk = (b: { ok: number[] }, n: number) => b.ok.every((k) => k === n);
  const waitingGoal = allOk(waiting, 200) && wallP50(waiting) <= 4_000;
  const fiftyGoal = allOk(fifty, 50) && wallP50(fifty) <= 500;
  const offRatio = cliOff.p50 / fresh.p50;
  const onRatio = cliOn.p50 / fresh.p50;
  const burstRow = (
    label: string,
    b: { wall: number[]; ok: number[] },
    n: number,
    ideal: string,
  ) => [
    label,
    ms(wallP50(b)),
    ms(Math.max(...b.wall)),
    `${b.ok.join(", ")} of ${n}`,
    ideal,
  ];
  report.show({
    title: "5. Density and throughput",
    columns: ["what", "codemode", "fresh deno run", "ratio", "goal"],
    rows: [
      [
        `back-to-back \`print(1)\`, ${BACK_TO_BACK_RUNS} runs, no idle, check off: mean (p50, p90)`,
        `${ms(b2b.mean)} (${ms(b2b.perRun.p50)}, ${ms(b2b.perRun.p90)})`,
        ms(fresh.p50),
        times(b2b.mean / fresh.p50),
        `≤ half a fresh deno run: ${met(b2bGoal)}`,
      ],
      [
        `PSS per program parked in a tool call (${parked.runs} at once, ${parked.processes} ` +
        "sandbox processes)",
        mb(pssPerRun),
        mb(processes.pss / processes.runs),
        times(pssPerRun / (processes.pss / processes.runs)),
        `≤ 12 MB: ${met(pssGoal)}`,
      ],
      [
        "RSS per parked program, same runs",
        mb(parked.rss / parked.runs),
        mb(processes.rss / processes.runs),
        times((parked.rss / parked.runs) / (processes.rss / processes.runs)),
        "",
      ],
      [
        "cold CLI `codemode run --check off`, process start → result",
        ms(cliOff.p50),
        ms(fresh.p50),
        times(offRatio),
        `≤ 20×: ${met(offRatio <= 20)}`,
      ],
      [
        "cold CLI `codemode run` (type-check on), process start → result",
        ms(cliOn.p50),
        ms(fresh.p50),
        times(onRatio),
        `≤ 35×: ${met(onRatio <= 35)}`,
      ],
    ],
    notes: [
      "Back to back: a new CodeMode (default pool), 5 runs, then each run starts as soon as " +
      "the previous one returned; mean = total ÷ runs.",
      `Parked: ${parked.runs} runs of \`await park({})\` on one CodeMode (defaults), whose tool ` +
      "holds every call until all have arrived; then the Pss (/proc/<pid>/smaps_rollup) of " +
      "every sandbox process is summed and divided by the runs (process base, Workers kept " +
      `warm and spare included). Fresh deno run: ${processes.runs} permission-less ` +
      "`deno run` processes each waiting on a timer, the process-per-run shape.",
      "Cold CLI: `deno run -A mod.ts run --check off|error --no-learn program.ts` of " +
      "`print(1)`, wall time of the whole command, p50 of 5 after one to fill the disk cache.",
    ],
  });
  report.show({
    title: "5b. Bursts of concurrent runs (check off, one warm CodeMode with defaults)",
    columns: ["what", "wall p50", "wall max", "runs right", "goal"],
    rows: [
      burstRow(
        "200 runs at once, each awaiting a 1 s tool",
        waiting,
        200,
        `all right, ≤ 4 s: ${met(waitingGoal)}`,
      ),
      burstRow(
        "50 runs at once × 10 sequential 20 ms calls",
        fifty,
        50,
        `all right, ≤ 0.5 s: ${met(fiftyGoal)}`,
      ),
    ],
    notes: [
      `${BURST_REPEATS} bursts each, 1 s apart, on one CodeMode: the first burst finds the ` +
      "default 2 warm Workers, later ones the pool grown to the last burst (up to " +
      "burstPoolSize 8). Every run needs its own Worker, so a burst of N starts about N " +
      "Workers; see “where the time goes”.",
    ],
  });
  report.goal(
    `back-to-back runs ≤ half a fresh deno run (${ms(fresh.p50 / 2)})`,
    ms(b2b.mean),
    b2bGoal,
  );
  report.goal("PSS per concurrent (parked) run ≤ 12 MB", mb(pssPerRun), pssGoal);
  report.goal("200 runs × 1 s tool: all right, ≤ 4 s", ms(wallP50(waiting)), waitingGoal);
  report.goal("50 runs × 10 × 20 ms calls ≤ 0.5 s", ms(wallP50(fifty)), fiftyGoal);
  report.goal("cold CLI, check off ≤ 20× fresh deno run", times(offRatio), offRatio <= 20);
  report.goal("cold CLI, check on ≤ 35× fresh deno run", times(onRatio), onRatio <= 35);
}
