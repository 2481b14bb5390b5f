/**
 * The machine a benchmark ran on: cores, CPU model, memory, Deno version, load, date.
 *
 * @module
 */

/** What BENCHMARKS.md says about the machine. */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  deno: string;
  v8: string;
  typescript: string;
  os: string;
  load: string;
  date: string;
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

async function nproc(): Promise<number> {
  try {
    const out = await new Deno.Command("nproc", { stdout: "piped", stderr: "null" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    if (out.success && n > 0) return n;
  } catch {
    // no nproc here
  }
  return navigator.hardwareConcurrency;
}

/** Reads the machine's description (Linux `/proc` where present). */
export async function machine(): Promise<Machine> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readText("/proc/cpuinfo"))?.[1]?.trim() ??
    "unknown CPU";
  const memKb = Number(/^MemTotal:\s*(\d+)/m.exec(readText("/proc/meminfo"))?.[1] ?? 0);
  const memoryGb = memKb ? memKb / 1024 / 1024 : Deno.systemMemoryInfo().total / 1024 ** 3;
  return {
    cores: await nproc(),
    cpu,
    memoryGb,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    load: readText("/proc/loadavg").split(" ").slice(0, 3).join(" ") || "unknown",
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

/** VmRSS of a process in bytes, from `/proc/<pid>/status` (NaN where unreadable). */
export function processRss(pid: number): number {
  const kb = /^VmRSS:\s*(\d+)\s*kB/m.exec(readText(`/proc/${pid}/status`))?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/** Proportional set size of a process in bytes, from `/proc/<pid>/smaps_rollup` (NaN where unreadable). */
export function processPss(pid: number): number {
  const kb = /^Pss:\s*(\d+)\s*kB/m.exec(readText(`/proc/${pid}/smaps_rollup`))?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/** Threads of a process, from `/proc/<pid>/task` (0 where unreadable). */
export function processThreads(pid: number): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/task`)) n++;
    return n;
  } catch {
    return 0;
  }
}
