/**
 * Finding and ending the processes a stdio MCP server started (e.g. `npx` → `sh` → `node`), so
 * that none outlives codemode even when the server ignores the end of its input.
 *
 * @module
 */

/**
 * The live (non-zombie) processes below `pid`, children first, read from `ps`. Empty on Windows
 * or when `ps` is unavailable.
 *
 * @param pid The root process.
 * @returns Their process ids, `pid` itself not included.
 *
 * @example List what a server started
 * ```ts ignore
 * import { _descendants } from "./process_tree.ts";
 * console.log(await _descendants(1234));
 * ```
 */
export async function _descendants(pid: number): Promise<number[]> {
  const table = await _processTable();
  const children = new Map<number, number[]>();
  for (const { pid: p, ppid } of table.values()) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(p);
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Which of `pids` are still running (zombies count as ended).
 *
 * @param pids Process ids.
 * @returns The ones alive.
 *
 * @example Check for survivors
 * ```ts ignore
 * import { _alive } from "./process_tree.ts";
 * console.log(await _alive([1234, 1235]));
 * ```
 */
export async function _alive(pids: Iterable<number>): Promise<number[]> {
  const table = await _processTable();
  return [...pids].filter((p) => table.has(p));
}

/**
 * Ends `pids`: SIGTERM, up to `graceMs` for them to exit, then SIGKILL for the rest.
 *
 * @param pids Process ids (already-ended ones are skipped).
 * @param graceMs How long to wait between SIGTERM and SIGKILL.
 *
 * @example End a process tree
 * ```ts ignore
 * import { _descendants, _terminate } from "./process_tree.ts";
 * await _terminate([1234, ...(await _descendants(1234))], 1000);
 * ```
 */
export async function _terminate(pids: Iterable<number>, graceMs: number): Promise<void> {
  let left = await _alive(pids);
  if (left.length === 0) return;
  for (const p of left) _signal(p, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = await _alive(left);
    if (left.length === 0) return;
  }
  for (const p of left) _signal(p, "SIGKILL");
}

function _signal(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // Already gone, or not ours: nothing to do.
  }
}

async function _processTable(): Promise<Map<number, { pid: number; ppid: number }>> {
  const table = new Map<number, { pid: number; ppid: number }>();
  if (Deno.build.os === "windows") return table;
  let stdout: Uint8Array;
  try {
    const out = await new Deno.Command("ps", {
      args: ["-A", "-o", "pid=,ppid=,stat="],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return table;
    stdout = out.stdout;
  } catch {
    return table;
  }
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const [pid, ppid, stat] = line.trim().split(/\s+/);
    if (!pid || !ppid || stat?.startsWith("Z")) continue;
    table.set(Number(pid), { pid: Number(pid), ppid: Number(ppid) });
  }
  return table;
}
