/**
 * The density and throughput measurements behind `bench/main.ts` (issue 11): back-to-back runs,
 * memory per program parked in a tool call, bursts of concurrent runs, and the cold CLI. Each
 * returns figures; main.ts makes the tables.
 *
 * @module
 */

import { CodeMode, type Tool } from "../mod.ts";
import { processPss, processRss } from "./_machine.ts";
import { expectOutput, REPO, timedDenoCommands } from "./_measure.ts";
import { sleep, type Spread, spread } from "./_report.ts";

/** Runs timed back to back (no idle between them) for the sustained figure. */
export const BACK_TO_BACK_RUNS = 40;
/** Programs parked at once in a tool call for the memory figure. */
export const PARKED_RUNS = 50;
/** Fresh `deno run` processes parked at once for the comparison. */
export const PARKED_PROCESSES = 10;

/** `print(1)` runs started as soon as the previous one returned (check off): ms per run. */
export async function backToBack(
  runs: number,
): Promise<{ perRun: Spread; mean: number }> {
  await using codeMode = new CodeMode({ check: "off", learnShapes: false });
  codeMode.warmUp();
  await sleep(1_000);
  for (let i = 0; i < 5; i++) await codeMode.run("print(1)");
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    expectOutput(await codeMode.run("print(1)"), "1\n", "back-to-back print(1)");
    samples.push(performance.now() - t);
  }
  return { perRun: spread(samples), mean: (performance.now() - started) / runs };
}

/** What the sandbox processes hold while `runs` programs wait in a tool call. */
export interface Parked {
  runs: number;
  processes: number;
  pss: number;
  rss: number;
}

/** Parks `runs` programs in a tool call on one CodeMode and sums its sandbox processes' memory. */
export async function parkedRuns(runs: number): Promise<Parked> {
  let arrived = 0;
  let open = () => {};
  const gate = new Promise<void>((resolve) => open = resolve);
  const park: Tool = {
    name: "park",
    description: "Waits until the bench lets it go.",
    inputSchema: { type: "object" },
    execute: async () => {
      arrived++;
      await gate;
      return true;
    },
  };
  await using codeMode = new CodeMode({ check: "off", tools: [park], learnShapes: false });
  const all = Array.from({ length: runs }, () => codeMode.run("await park({}); print('ok')"));
  const until = performance.now() + 120_000;
  while (arrived < runs && performance.now() < until) await sleep(20);
  await sleep(500); // let the pools' spare Workers finish starting, so they are counted too
  const pids = codeMode.sandboxPids;
  const parked: Parked = {
    runs: arrived,
    processes: pids.length,
    pss: pids.map(processPss).reduce((a, b) => a + b, 0),
    rss: pids.map(processRss).reduce((a, b) => a + b, 0),
  };
  open();
  for (const result of await Promise.all(all)) expectOutput(result, "ok\n", "parked run");
  return parked;
}

/** The same figure for fresh permission-less `deno run` processes, each waiting on a timer. */
export async function parkedProcesses(count: number): Promise<Parked> {
  const dir = await Deno.makeTempDir({ prefix: "codemode_bench_" });
  const file = `${dir}/parked.js`;
  await Deno.writeTextFile(
    file,
    'console.log("parked");\nawait new Promise((r) => setTimeout(r, 120_000));\n',
  );
  const children = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", file],
      cwd: dir,
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "null",
    }).spawn());
  try {
    await Promise.all(children.map(async (child) => {
      const reader = child.stdout.getReader();
      await reader.read(); // "parked": the process is up and waiting
      reader.releaseLock();
    }));
    const pids = children.map((c) => c.pid);
    return {
      runs: count,
      processes: count,
      pss: pids.map(processPss).reduce((a, b) => a + b, 0),
      rss: pids.map(processRss).reduce((a, b) => a + b, 0),
    };
  } finally {
    for (const child of children) {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    await Deno.remove(dir, { recursive: true });
  }
}

/** Wall ms of bursts of `runs` concurrent runs of `source` on one warm CodeMode. */
export async function bursts(
  runs: number,
  source: string,
  tools: Tool[],
  repeats: number,
): Promise<{ wall: number[]; ok: number[] }> {
  await using codeMode = new CodeMode({ check: "off", tools, learnShapes: false });
  codeMode.warmUp();
  await sleep(1_000);
  const wall: number[] = [];
  const ok: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: runs }, () => codeMode.run(source)));
    wall.push(performance.now() - started);
    ok.push(results.filter((x) => x.ok && x.output === "ok\n").length);
    await sleep(1_000);
  }
  return { wall, ok };
}

/** A tool that waits `ms` milliseconds. */
export const wait: Tool = {
  name: "wait",
  description: "Waits `ms` milliseconds and returns true.",
  inputSchema: { type: "object", properties: { ms: { type: "integer" } }, required: ["ms"] },
  execute: ({ ms }: { ms: number }) => sleep(ms).then(() => true),
};

/** Wall ms of `codemode run` of a `print(1)` file in a new process each time (cold CLI). */
export function coldCli(check: "off" | "error", runs: number): Promise<Spread> {
  return timedDenoCommands(
    "codemode run",
    ["run", "-A", `${REPO}/mod.ts`, "run", "--check", check, "--no-learn", "program.ts"],
    { "program.ts": "print(1);\n" },
    { runs, warmUps: 1 },
  );
}
