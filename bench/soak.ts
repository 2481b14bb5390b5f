/**
 * Soak: many runs in a row on one CodeMode, with a burst of 8 runs at once every 100 runs and a
 * hostile run (a busy loop past its deadline, a heap bomb, in turn) every 500, so Workers,
 * draining processes and their replacements all cycle. Every `--every` runs it prints the host's
 * RSS and heap, its open file descriptors (/proc/self/fd; Deno 2 has no Deno.resources), its live
 * child processes (sandbox and compiler processes), and the sandbox processes' threads and RSS;
 * at the end, what is still alive. Figures only: it never fails because the machine is slow, but
 * it exits 1 if a run gave a wrong answer.
 *
 *   deno task soak                 # 10,000 runs
 *   deno task soak --runs 500 --every 100 [--no-check]
 */

import { parseArgs } from "node:util";
import { CodeMode, type RunResult, type Tool } from "../mod.ts";

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

/** Threads and RSS of the CodeMode's sandbox processes. */
function sandboxes(): { processes: number; threads: number; rss: number } {
  let threads = 0;
  let rss = 0;
  for (const pid of codeMode.sandboxPids) {
    try {
      for (const _ of Deno.readDirSync(`/proc/${pid}/task`)) threads++;
      rss += Number(/^VmRSS:\s*(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1]) *
        1024;
    } catch {
      // gone meanwhile
    }
  }
  return { processes: codeMode.sandboxPids.length, threads, rss };
}

function report(done: number, started: number, since: number, sinceRuns: number): void {
  const m = Deno.memoryUsage();
  const box = sandboxes();
  const now = performance.now();
  console.log(
    `${String(done).padStart(6)} runs  ${((now - started) / 1000).toFixed(1).padStart(7)} s  ` +
      `${((done - sinceRuns) / ((now - since) / 1000)).toFixed(0).padStart(5)} runs/s  ` +
      `rss ${mb(m.rss)} MB  heap ${mb(m.heapUsed)} MB  fds ${String(openFds()).padStart(4)}  ` +
      `children ${liveChildren().length}  sandbox: ${box.processes} processes, ` +
      `${box.threads} threads, rss ${mb(box.rss).trim()} MB`,
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
const expect = (result: RunResult, output: string, what: string) => {
  if (!result.ok || result.output !== output) {
    wrong++;
    if (wrong <= 5) console.error(`${what} went wrong:`, result.error ?? result.output);
  }
};
const HOSTILE = [
  { source: "print('spin'); for (;;) {}", kind: "timeout", limits: { timeoutMs: 300 } },
  { source: "const a: number[][] = []; for (;;) a.push(new Array(1e6).fill(1));", kind: "memory" },
];
for (let i = 1; i <= runs; i++) {
  // Each program is new text, so the compiler sees a new file every time.
  const result = await codeMode.run(
    `const x: number = await add({ a: ${i}, b: 1 });\nprint("run", x);`,
  );
  expect(result, `run ${i + 1}\n`, `run ${i}`);
  if (i % 100 === 0) {
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, k) => codeMode.run(`print(await add({ a: ${i}, b: ${k} }));`)),
    );
    burst.forEach((r, k) => expect(r, `${i + k}\n`, `burst ${i}/${k}`));
  }
  if (i % 500 === 0) {
    const hostile = HOSTILE[(i / 500) % HOSTILE.length];
    const r = await codeMode.run(hostile.source, { check: "off", limits: hostile.limits });
    if (r.ok || r.error?.kind !== hostile.kind) {
      wrong++;
      console.error(`hostile run ${i} ended as ${r.error?.kind ?? "ok"}, not ${hostile.kind}`);
    }
  }
  if (i % every === 0 || i === runs) {
    report(i, started, mark, markRuns);
    mark = performance.now();
    markRuns = i;
  }
}

// Workers end as their runs return and draining processes end once their runs are over: give
// them a moment before counting what is still alive.
for (let i = 0; i < 100 && codeMode.sandboxPids.length > 1; i++) {
  await new Promise((r) => setTimeout(r, 50));
}
const end = sandboxes();
console.log(
  `end: sandbox processes ${end.processes} (${end.threads} threads, rss ${
    mb(end.rss).trim()
  } MB), ` +
    `live child processes ${liveChildren().length} (sandbox and compiler); fds ${openFds()}; ` +
    `wrong answers ${wrong}`,
);
await codeMode.close();
console.log(`after close: live child processes ${liveChildren().length}`);
if (wrong > 0) Deno.exit(1);
