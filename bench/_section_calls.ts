/**
 * Bench sections 3 and 4: the tool-call round trip and throughput against a direct in-process
 * call, and a fan-out through `gatherLimited`.
 *
 * @module
 */

import { CodeMode } from "../mod.ts";
import {
  directToolCalls,
  FAN_OUT_PROGRAM,
  noop,
  PARALLEL_CALLS,
  PARALLEL_PROGRAM,
  programFigures,
  SEQUENTIAL_CALLS,
  SEQUENTIAL_PROGRAM,
  slow,
} from "./_measure.ts";
import { int, met, ms, percentile, type Report, spread, times } from "./_report.ts";

/** Sections 3 and 4. */
export async function callSection(report: Report): Promise<void> {
  report.progress("tool-call round trips, throughput, fan-out");
  const calls = new CodeMode({
    tools: [noop, slow],
    poolSize: 1,
    learnShapes: false,
    limits: { maxToolCalls: 20_000, maxConcurrentCalls: 10_000 },
  });
  calls.warmUp();
  const seq = await programFigures(calls, SEQUENTIAL_PROGRAM, 7, /^[\d.]+\n$/, "sequential");
  const par = await programFigures(calls, PARALLEL_PROGRAM, 7, /^[\d.]+ 5000\n$/, "parallel");
  await calls.close();
  const fan = new CodeMode({ tools: [noop, slow], poolSize: 1, learnShapes: false });
  fan.warmUp();
  const fanOut = await programFigures(fan, FAN_OUT_PROGRAM, 5, /^[\d.]+ 20\n$/, "fan-out");
  await fan.close();
  const direct = await directToolCalls();
  const seqS = spread(seq.inProgram);
  const parS = spread(par.inProgram);
  const rate = (elapsed: number) => PARALLEL_CALLS / (elapsed / 1000);
  const seqGoal = seqS.p50 * 1000 <= 150;
  const seqFirstRound = seqS.p50 * 1000 <= 100;
  const parGoal = rate(parS.p50) >= 50_000;
  report.show({
    title: "3. Tool-call overhead (no-op tool)",
    columns: ["what", "p50", "p90", "runs", "vs direct call", "goal"],
    rows: [
      [
        `codemode, sequential round trip (${int(SEQUENTIAL_CALLS)} awaited calls)`,
        `${ms(seqS.p50)}/call`,
        `${ms(seqS.p90)}/call`,
        String(seqS.n),
        `${times(seqS.p50 / direct.sequential.p50)} slower`,
        `≤ 150 µs: ${met(seqGoal)}; first round's ≤ 100 µs: ${met(seqFirstRound)}`,
      ],
      [
        "direct in-process `await tool.execute()`",
        `${ms(direct.sequential.p50)}/call`,
        `${ms(direct.sequential.p90)}/call`,
        String(direct.sequential.n),
        "1×",
        "",
      ],
      [
        `codemode, parallel (\`Promise.all\` of ${int(PARALLEL_CALLS)})`,
        `${int(rate(parS.p50))} calls/s`,
        `${int(rate(parS.p90))} calls/s`,
        String(parS.n),
        `${times(rate(direct.parallel.p50) / rate(parS.p50))} slower`,
        `≥ 50k/s: ${met(parGoal)}`,
      ],
      [
        `direct in-process \`Promise.all\` of ${int(PARALLEL_CALLS)}`,
        `${int(rate(direct.parallel.p50))} calls/s`,
        `${int(rate(direct.parallel.p90))} calls/s`,
        String(direct.parallel.n),
        "1×",
        "",
      ],
    ],
    notes: [
      "Timed inside the program (performance.now() around the loop), check off, after 50 " +
      "(sequential) / 200 (parallel) warm-up calls in the same run. Each call crosses " +
      "Worker → router (shared-memory ring) → the sandbox's stderr pipe → host (schema " +
      "validation, dispatch) → the sandbox's stdin → router → Worker.",
      `Parallel run: limits.maxConcurrentCalls 10,000, maxToolCalls 20,000. p90 column for ` +
      `throughput = the rate of the p90 (slower) run.`,
      `Whole-run wall time (compile, sandbox, calls, result): sequential p50 ${
        ms(percentile(seq.wall, 0.5))
      }, parallel p50 ${ms(percentile(par.wall, 0.5))}.`,
    ],
  });
  report.goal("sequential tool call ≤ 150 µs", ms(seqS.p50), seqGoal);
  report.goal("sequential tool call (first round) ≤ 100 µs", ms(seqS.p50), seqFirstRound);
  report.goal("parallel tool calls ≥ 50,000/s", `${int(rate(parS.p50))}/s`, parGoal);

  const fanS = spread(fanOut.inProgram);
  const fanWall = spread(fanOut.wall);
  const efficiency = 400 / fanS.p50;
  const toolP50 = percentile(fanOut.toolMs, 0.5);
  report.show({
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
  report.goal("fan-out efficiency ≥ 0.95", efficiency.toFixed(3), efficiency >= 0.95);
}
