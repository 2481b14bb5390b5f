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
import { contextFigures } from "./_context.ts";
import { machine } from "./_machine.ts";
import { REPO } from "./_measure.ts";
import { met, renderTable, type Report, type Table } from "./_report.ts";
import { callSection } from "./_section_calls.ts";
import { compileSection } from "./_section_compile.ts";
import { densitySection } from "./_section_density.ts";
import { firstRunSection, warmRunSection } from "./_section_runs.ts";
import { WHERE_THE_TIME_GOES } from "./_where_the_time_goes.ts";

const args = parseArgs({ args: Deno.args, options: { "no-write": { type: "boolean" } } });
const tables: Table[] = [];
const goals: { goal: string; measured: string; ok: boolean }[] = [];
const report: Report = {
  show(table) {
    tables.push(table);
    console.log(renderTable(table));
  },
  goal(goal, measured, ok) {
    goals.push({ goal, measured, ok });
  },
  progress(text) {
    console.error(`… ${text}`);
  },
};

/** Tables in the order of their numbers ("5b" after "5"), whatever order they ran in. */
function byNumber(a: Table, b: Table): number {
  return a.title.localeCompare(b.title, "en", { numeric: true });
}

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
  console.log(
    `codemode benchmarks — ${host.cores} × ${host.cpu}, ${host.memoryGb.toFixed(1)} GB, ` +
      `deno ${host.deno}, load ${host.load}, ${host.date}\n`,
  );

  const fresh = await warmRunSection(report);
  await firstRunSection(report);
  await callSection(report);
  await densitySection(report, fresh);
  await compileSection(report);
  report.progress("context kept out (seed demo, 20-file scan, two-stage re-query)");
  const context = await contextFigures();
  report.show(context.table);
  for (const { name, keptOut } of context.figures) {
    report.goal(
      `context kept out, ${name} ≥ 95%`,
      `${(keptOut * 100).toFixed(1)}%`,
      keptOut >= 0.95,
    );
  }

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
  if (args.values["no-write"]) return;
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
    ...tables.sort(byNumber).map(renderTable),
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

await main();
