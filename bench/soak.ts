/**
 * Soak: many runs in a row on one CodeMode. Every `--every` runs it prints the host's RSS and
 * heap, its open file descriptors (/proc/self/fd; Deno 2 has no Deno.resources) and its live
 * child processes; at the end, the live sandbox processes against the pool size. Figures only:
 * it never fails because the machine is slow, but it exits 1 if a run gave a wrong answer.
 *
 *   deno task soak                 # 10,000 runs
 *   deno task soak --runs 500 --every 100 [--no-check]
 */

import { parseArgs } from "node:util";
import { CodeMode, type Tool } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10000" },
    every: { type: "string", default: "1000" },
    "pool-size": { type: "string", default: "2" },
    "no-check": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const every = Number(values.every);
const poolSize = Number(values["pool-size"]);
for (
  const [name, n] of [["--runs", runs], ["--every", every], ["--pool-size", poolSize]] as const
) {
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} takes a positive whole number, got ${n}`);
    Deno.exit(2);
  }
}

const add: Tool = {
  name: "add",
  description: "Adds two numbers.",
  inputSchema: {
    type: "object",
    properties: { a: { type: "number" }, b: { type: "number" } },
    required: ["a", "b"],
  },
  execute: ({ a, b }: { a: number; b: number }) => a + b,
};

/** Live (non-zombie) child processes of this process. */
function liveChildren(): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const text = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === Deno.pid && fields[0] !== "Z") out.push(Number(entry.name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function openFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(1).padStart(7);

function report(done: number, started: number, since: number, sinceRuns: number): void {
  const m = Deno.memoryUsage();
  const now = performance.now();
  console.log(
    `${String(done).padStart(6)} runs  ${((now - started) / 1000).toFixed(1).padStart(7)} s  ` +
      `${((done - sinceRuns) / ((now - since) / 1000)).toFixed(0).padStart(5)} runs/s  ` +
      `rss ${mb(m.rss)} MB  heap ${mb(m.heapUsed)} MB  fds ${String(openFds()).padStart(4)}  ` +
      `children ${liveChildren().length}`,
  );
}

const codeMode = new CodeMode({
  tools: [add],
  poolSize,
  check: values["no-check"] ? "off" : "error",
});
codeMode.warmUp();
console.log(
  `soak: ${runs} runs, pool ${poolSize}, type-check ${values["no-check"] ? "off" : "on"}, ` +
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);
console.log(`before: fds ${openFds()}, rss ${mb(Deno.memoryUsage().rss).trim()} MB`);
let wrong = 0;
const started = performance.now();
let mark = started;
let markRuns = 0;
for (let i = 1; i <= runs; i++) {
  // Each program is new text, so the compiler sees a new file every time.
  const result = await codeMode.run(
    `const x: number = await add({ a: ${i}, b: 1 });\nprint("run", x);`,
  );
  if (!result.ok || result.output !== `run ${i + 1}\n`) {
    wrong++;
    if (wrong <= 5) console.error(`run ${i} went wrong:`, result.error ?? result.output);
  }
  if (i % every === 0 || i === runs) {
    report(i, started, mark, markRuns);
    mark = performance.now();
    markRuns = i;
  }
}

// The last run's process is killed as the run returns and its replacement starts once it is
// gone: give both a moment before counting.
let sandboxes = liveChildren().length;
for (
  let i = 0;
  i < 100 && (sandboxes !== poolSize || codeMode.sandboxPids.length !== poolSize);
  i++
) {
  await new Promise((r) => setTimeout(r, 50));
  sandboxes = liveChildren().length;
}
console.log(
  `end: live sandbox processes ${sandboxes} (pool size ${poolSize}; CodeMode tracks ${codeMode.sandboxPids.length}); ` +
    `fds ${openFds()}; wrong answers ${wrong}`,
);
await codeMode.close();
console.log(`after close: live child processes ${liveChildren().length}`);
if (wrong > 0) Deno.exit(1);
