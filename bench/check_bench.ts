/**
 * Program front-end timings: first check in a fresh process, a compiler process's cold start,
 * and warm compiles of a 50-line program against 100 tools with the type check on and off.
 * Prints figures; asserts nothing.
 *
 *   deno run -A bench/check_bench.ts
 *
 * Goals (issue 3): ≤ 50 ms warm check (50 lines, 100 tools), ≤ 1.5 s first check in a fresh
 * process; the check-off path should stay within a couple of milliseconds. Since the front end
 * runs in compiler processes (issue 10), a warm compile pays one round trip to its process: it
 * must stay within ~1 ms of the in-process figures.
 */

import { ProgramCompiler } from "../src/program/compile.ts";
import type { _ChildReply, _HostRequest } from "../src/program/compiler_protocol.ts";
import { _CompilerProcess } from "../src/program/compiler_process.ts";

const TOOLS = 100;

/** Declarations shaped like the describe output: a typed input and output per tool. */
function declarations(): string {
  const lines = [
    "/** Prints values to the output. */",
    "declare function print(...values: unknown[]): void;",
    "declare function gatherLimited<T>(tasks: Iterable<() => Promise<T>>, limit?: number): Promise<T[]>;",
  ];
  for (let i = 0; i < TOOLS; i++) {
    lines.push(
      `/**`,
      ` * Tool number ${i}: reads things and returns a listing.`,
      ` * @param input.path Where to look.`,
      ` */`,
      `declare function tool_${i}(input: {`,
      `  /** Where to look. */ path: string;`,
      `  limit?: number;`,
      `  mode?: "fast" | "full";`,
      `  filters?: { name?: string; minSize?: number }[];`,
      `}): Promise<{ content: string; lines: number; items: { name: string; size: number }[] }>;`,
    );
  }
  return lines.join("\n");
}

/** A 50-line program using a spread of the tools, imports included. */
function program(variant: number): string {
  const lines = [
    `import fs from "node:fs";`,
    `import { tool_0, tool_1 } from "codemode:tools";`,
    `const first = await tool_0({ path: "a", limit: 10 });`,
  ];
  for (let i = 1; lines.length < 48; i++) {
    lines.push(
      `const r${i} = await tool_${i}({ path: "dir/${i}", mode: "full" });`,
      `print(r${i}.items.filter((x) => x.size > ${i}).map((x) => x.name).join(", "), r${i}.lines);`,
    );
  }
  lines.push(
    `const all = await gatherLimited([1, 2, 3].map((n) => () => tool_1({ path: String(n) })), 2);`,
  );
  lines.push(`print(first.content.length, all.length); // variant ${variant}`);
  return lines.join("\n");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The 50-line benchmark program (`variant` makes each source text distinct). */
export const fiftyLineProgram: (variant: number) => string = program;

/** Compile times in ms of `runs` compiles of `source(i)` against 100 tools, after 5 warm-ups. */
export async function compileTimes(
  compiler: ProgramCompiler,
  source: (i: number) => string,
  check: "error" | "off",
  runs: number,
): Promise<number[]> {
  const options = {
    declarations: declarations(),
    toolNames: Array.from({ length: TOOLS }, (_, i) => `tool_${i}`),
    check,
  };
  for (let i = 0; i < 5; i++) await compiler.compile(source(-i), options); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const outcome = await compiler.compile(source(i), options);
    times.push(performance.now() - started);
    if (!outcome.ok) throw new Error(`compile failed: ${outcome.error.message}`);
  }
  return times;
}

/** One first check in a fresh process, as reported by that process (ms). */
export interface ColdCheck {
  /** Time from process start until the compiler modules were loaded. */
  loaded: number;
  /** The first compile with the type-check on. */
  firstCheck: number;
  /** Time from process start until the first check was done. */
  sinceStart: number;
  /** Wall time of the whole process, seen from outside. */
  wall: number;
}

/** Runs the first-check measurement in `runs` fresh processes. */
export async function coldChecks(runs: number): Promise<ColdCheck[]> {
  const colds: ColdCheck[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--cold"],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const wall = performance.now() - started;
    if (!out.success) throw new Error("cold run failed");
    colds.push({ ...JSON.parse(new TextDecoder().decode(out.stdout)), wall });
  }
  return colds;
}

/** One compiler process's cold start, seen from the host (ms since the spawn). */
export interface CompilerColdStart {
  /** TypeScript loaded: the process says it is ready. */
  ready: number;
  /** The first compile with the check off answered. */
  firstTranspile: number;
  /** Then the first type check answered (the library parsed). */
  firstCheck: number;
}

/** Starts `runs` compiler processes one after the other and times each one's first answers. */
export async function compilerColdStarts(runs: number): Promise<CompilerColdStart[]> {
  const starts: CompilerColdStart[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const child = new _CompilerProcess({ denoPath: Deno.execPath(), memoryMb: 1024 });
    const ask = (request: _HostRequest) =>
      new Promise<void>((done) => child.send(request, (r: _ChildReply) => r.t === "end" && done()));
    await child.ready;
    const ready = performance.now() - started;
    await ask({
      t: "compile",
      id: 1,
      source: "print(1);",
      check: "off",
      declarations: declarations(),
      toolNames: Array.from({ length: TOOLS }, (_, i) => `tool_${i}`),
    });
    const firstTranspile = performance.now() - started;
    await ask({ t: "compile", id: 2, source: "print(2);", check: "error" });
    starts.push({ ready, firstTranspile, firstCheck: performance.now() - started });
    child.kill();
    await child.exited;
  }
  return starts;
}

async function measure(
  compiler: ProgramCompiler,
  label: string,
  source: (i: number) => string,
  check: "error" | "off",
  runs: number,
): Promise<void> {
  const times = await compileTimes(compiler, source, check, runs);
  console.log(
    `${label.padEnd(44)} median ${median(times).toFixed(2).padStart(7)} ms   ` +
      `min ${Math.min(...times).toFixed(2).padStart(7)} ms   (${runs} runs)`,
  );
}

if (import.meta.main && Deno.args[0] === "--cold") {
  // Runs in a fresh process: module load + first compile with the check on (which starts the
  // compiler process).
  const loaded = performance.now();
  await using compiler = new ProgramCompiler();
  const started = performance.now();
  const outcome = await compiler.compile(program(0), {
    declarations: declarations(),
    toolNames: Array.from({ length: TOOLS }, (_, i) => `tool_${i}`),
  });
  const done = performance.now();
  if (!outcome.ok) throw new Error(outcome.error.message);
  console.log(JSON.stringify({ loaded, firstCheck: done - started, sinceStart: done }));
} else if (import.meta.main) {
  console.log(`program front end — ${TOOLS} tools, 50-line program, deno ${Deno.version.deno}`);
  const colds = await coldChecks(3);
  const cold = (key: keyof (typeof colds)[0]) => median(colds.map((c) => c[key])).toFixed(0);
  console.log(
    `fresh process (median of 3): modules loaded at ${cold("loaded")} ms, first compile+check ` +
      `${cold("firstCheck")} ms, done ${cold("sinceStart")} ms after start, process wall ${
        cold("wall")
      } ms`,
  );
  const starts = await compilerColdStarts(5);
  const start = (key: keyof CompilerColdStart) => median(starts.map((c) => c[key])).toFixed(0);
  console.log(
    `compiler process cold start (median of 5): ready ${start("ready")} ms, first transpile ` +
      `answered ${start("firstTranspile")} ms, first check answered ${start("firstCheck")} ms`,
  );
  await using compiler = new ProgramCompiler();
  await measure(compiler, "warm, check on, 50 lines", program, "error", 40);
  await measure(compiler, "warm, check off, 50 lines", program, "off", 200);
  await measure(compiler, "warm, check on, trivial program", (i) => `print(${i});`, "error", 40);
  await measure(compiler, "warm, check off, trivial program", (i) => `print(${i});`, "off", 500);
  await measure(
    compiler,
    "warm, check off, trivial + stub import",
    (i) => `import { tool_3 } from "codemode:tools";\nprint(${i}, tool_3);`,
    "off",
    500,
  );
}
