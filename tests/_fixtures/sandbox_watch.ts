/**
 * Test helpers for the hostile-program, fault and load suites: which sandbox processes exist
 * (read from /proc, not from what the library says), whether the host is spinning, and the
 * checks every hostile row shares.
 */

import assert from "node:assert/strict";
import type { CodeMode, RunError, RunResult } from "../../mod.ts";

/** The marker in a sandbox child's command line (its V8 flags). */
const SANDBOX_FLAG = "--disallow-code-generation-from-strings";
/** The marker in a compiler process's command line: its main module (not a sandbox). */
const COMPILER_MODULE = "/src/program/compiler_child.ts";

interface _Stat {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
}

function _stat(pid: number | "self"): _Stat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // The command name sits in parentheses and may contain spaces: split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    pid: Number(text.slice(0, text.indexOf(" "))),
    state: fields[0],
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
  };
}

function _cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return "";
  }
}

/**
 * Whether `check` comes true within `tries` polls `everyMs` apart (10 s by default: generous, for
 * a busy 2-core machine, where a killed process can take a moment to leave /proc).
 */
export async function eventually(
  check: () => boolean,
  tries = 500,
  everyMs = 20,
): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return check();
}

/** Waits until `check` comes true, polling every 50 ms; the test's own timeout bounds it. */
export async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

/** Whether /proc has this process (a zombie counts as gone: it runs nothing). */
export function processAlive(pid: number): boolean {
  const s = _stat(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
}

/**
 * Sandbox processes this test process is responsible for: every live descendant of this process
 * but the CodeModes' compiler processes, plus orphaned sandbox children (an exited CLI
 * subprocess's) left in this process group.
 */
export function sandboxProcesses(): number[] {
  const self = _stat("self")!;
  const stats = new Map<number, _Stat>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const s = _stat(Number(entry.name));
    if (s && s.state !== "Z" && s.state !== "X") stats.set(s.pid, s);
  }
  const descends = (s: _Stat): boolean => {
    for (let p = s.ppid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === self.pid) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const out: number[] = [];
  for (const s of stats.values()) {
    if (s.pid === self.pid) continue;
    // A CodeMode's compiler processes live as long as it does (tests/compiler_process_test.ts
    // checks that close() ends them); they are not sandboxes.
    if (_cmdline(s.pid).includes(COMPILER_MODULE)) continue;
    // An orphan's parent is gone (it was re-parented out of this group); a sandbox whose parent
    // is alive in this group belongs to a sibling (e.g. another test process under --parallel).
    const orphan = s.ppid === 1 || stats.get(s.ppid)?.pgid !== self.pgid;
    if (
      descends(s) || (s.pgid === self.pgid && orphan && _cmdline(s.pid).includes(SANDBOX_FLAG))
    ) {
      out.push(s.pid);
    }
  }
  return out.sort((a, b) => a - b);
}

/**
 * Program Worker threads in a sandbox process (each Worker's thread is named `worker-<id>`; one of
 * them is the process's router).
 */
export function workerThreads(pid: number): number {
  let n = 0;
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        if (Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/comm`).startsWith("worker-")) n++;
      } catch {
        // The thread ended while we looked.
      }
    }
  } catch {
    return 0;
  }
  return Math.max(0, n - 1);
}

/**
 * Waits (generously) until the only sandbox processes left are the CodeModes' pools, each
 * holding no more program Workers than its warm ones (`poolSize`), and every pid in `finished`
 * that is not a pool's is gone from /proc. Fails with what is still there.
 */
export async function assertNothingOutlives(
  codeModes: CodeMode[],
  poolSize: number,
  finished: Iterable<number> = [],
): Promise<void> {
  const done = [...finished];
  let last = "";
  for (let i = 0; i < 200; i++) {
    const idle = new Set(codeModes.flatMap((c) => c.sandboxPids));
    const found = sandboxProcesses();
    const strays = found.filter((p) => !idle.has(p));
    const lingering = done.filter((p) => !idle.has(p) && processAlive(p));
    const workers = codeModes.map((c) =>
      c.sandboxPids.reduce((sum, pid) => sum + workerThreads(pid), 0)
    );
    const tooMany = workers.some((w) => w > poolSize);
    if (strays.length === 0 && lingering.length === 0 && !tooMany) return;
    last = `strays ${strays.join(",")}; finished but alive ${lingering.join(",")}; pools ${
      codeModes.map((c, k) => `${c.sandboxPids.join(",")} (${workers[k]} Workers)`).join(" | ")
    }`;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`sandbox processes or Workers outlived their runs: ${last}`);
}

/**
 * CPU time this process used over `ms` milliseconds, as a share of one core (0..cores), from
 * utime + stime in /proc/self/stat (clock ticks; 100 per second on Linux).
 */
export async function hostCpuShare(ms = 300): Promise<number> {
  const ticks = () => {
    const text = Deno.readTextFileSync("/proc/self/stat");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  };
  const t0 = performance.now();
  const c0 = ticks();
  await new Promise((r) => setTimeout(r, ms));
  return ((ticks() - c0) * 10) / (performance.now() - t0);
}

/** What a row expects of a run. */
export interface Expect {
  /** Accepted error kinds; `"ok"` for a run that succeeds. */
  kind: RunError["kind"] | "ok" | (RunError["kind"] | "ok")[];
  /** The error message must match this. */
  messageIncludes?: RegExp | string;
  /** The output must contain this. */
  outputIncludes?: string;
  /** The output must not contain this. */
  outputExcludes?: string;
}

/** Checks a result against a row's expectations, and that its error reads as advice. */
export function assertOutcome(name: string, result: RunResult, expect: Expect): void {
  const kinds = Array.isArray(expect.kind) ? expect.kind : [expect.kind];
  const got = result.ok ? "ok" : result.error?.kind;
  const where = `${name}: got ${got} ${JSON.stringify(result.error?.message ?? "")} output ${
    JSON.stringify(result.output.slice(0, 300))
  }`;
  assert.ok(kinds.includes(got as RunError["kind"]), `${where}; expected ${kinds.join(" or ")}`);
  assert.equal(result.ok, got === "ok", where);
  if (result.error) {
    const m = result.error.message;
    // Either advice in words, or the program's own error with where it happened.
    assert.ok(
      m.length >= 20 || (m.length > 0 && result.error.line !== undefined),
      `${where}: the message is too short to act on`,
    );
    // deno-lint-ignore no-control-regex -- checking that no control characters reach the model
    assert.doesNotMatch(m, /[\x00-\x08\x0b-\x1f\x7f]/, `${where}: control characters in message`);
  }
  if (expect.messageIncludes !== undefined) {
    const m = result.error?.message ?? "";
    if (typeof expect.messageIncludes === "string") {
      assert.ok(m.includes(expect.messageIncludes), `${where}; wanted ${expect.messageIncludes}`);
    } else assert.match(m, expect.messageIncludes, where);
  }
  if (expect.outputIncludes !== undefined) {
    assert.ok(result.output.includes(expect.outputIncludes), `${where}; output lost`);
  }
  if (expect.outputExcludes !== undefined) {
    assert.ok(!result.output.includes(expect.outputExcludes), `${where}; forged output`);
  }
}

/** The host still runs programs: `print(1)` works. */
export async function assertAnswers(codeMode: CodeMode): Promise<void> {
  const next = await codeMode.run("print(1)", { check: "off" });
  assert.equal(next.ok, true, `the next run failed: ${JSON.stringify(next.error)}`);
  assert.equal(next.output, "1\n");
}

/** Runs a program and records every sandbox pid seen around it (idle before, running during). */
export async function runWatched(
  codeMode: CodeMode,
  source: string,
  options: Parameters<CodeMode["run"]>[1] = {},
): Promise<{ result: RunResult; pids: number[] }> {
  const pids = new Set(codeMode.sandboxPids);
  const result = await codeMode.run(source, {
    ...options,
    onOutput: (text) => {
      for (const p of codeMode.sandboxPids) pids.add(p);
      options.onOutput?.(text);
    },
  });
  return { result, pids: [...pids] };
}

/** Asserts a run succeeded (showing its error otherwise) and returns its output. */
export function okOutput(result: RunResult): string {
  assert.equal(
    result.ok,
    true,
    `expected success, got ${JSON.stringify(result.error)}\noutput: ${result.output}`,
  );
  return result.output;
}
