/**
 * The host's own hardening around the sandbox: `bash` ends every process it started however a
 * child tries to leave, the sandbox process does not start in the host's directory, and text a
 * program controls reaches the host's terminal and messages only in a safe form.
 */

import assert from "node:assert/strict";
import { builtinTools } from "../mod.ts";
import {
  _bashContainment,
  type _Containment,
  _setBashContainmentForTests,
} from "../src/tools/builtin/_bash_process.ts";
import { _MARKER_VAR } from "../src/tools/builtin/_marked_processes.ts";

// --- bash: every process a call started ends with it --------------------------------------------

/** Pids of live (not zombie) processes with `tag` as one of their arguments. */
function tagged(tag: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const args = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (!args.includes(tag)) continue;
      if (/State:\s+Z/.test(Deno.readTextFileSync(`/proc/${entry.name}/status`))) continue;
      pids.push(Number(entry.name));
    } catch { /* gone */ }
  }
  return pids;
}

/**
 * Polls until `check` holds. The bound is generous (10 s) because a SIGKILL's delivery and the
 * exit that follows are not instant on a busy 2-core machine; it is never a speed assertion.
 */
async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

/** Ways a child may try to outlive its `bash` call; `TAG` becomes a unique `sleep` argument. */
const ESCAPES: { name: string; start: string; survives: _Containment[]; skip?: _Containment }[] = [
  { name: "a background job", start: "sleep TAG >/dev/null 2>&1 &", survives: [] },
  { name: "nohup", start: "nohup sleep TAG >/dev/null 2>&1 &", survives: [] },
  {
    name: "env -u <marker>",
    start: `env -u ${_MARKER_VAR} sleep TAG >/dev/null 2>&1 &`,
    survives: ["marker"],
  },
  { name: "setsid", start: "setsid sleep TAG >/dev/null 2>&1 &", survives: [] },
  {
    name: "env -u <marker> setsid, holding stdout open",
    start: `env -u ${_MARKER_VAR} setsid sleep TAG &`,
    survives: ["session", "marker"],
    // With the marker only, it also holds the call open until its timeout (README).
    skip: "marker",
  },
  {
    name: "a double fork with env -u and setsid",
    start: `(env -u ${_MARKER_VAR} setsid nohup sleep TAG >/dev/null 2>&1 &) ; true`,
    survives: ["session", "marker"],
  },
];

/** How the call ends: on its own, at its timeout, or by the run's signal. */
const ENDINGS = ["returns", "timeout", "abort"] as const;

async function _hasSetsid(): Promise<boolean> {
  try {
    return (await new Deno.Command("setsid", { args: ["true"] }).output()).success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "bash ends every process it started: env -u, setsid, nohup, double forks (every ending)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const detected = await _bashContainment();
    const order: _Containment[] = ["pid-namespace", "session", "marker"];
    const modes = order.slice(order.indexOf(detected));
    if (!(await _hasSetsid())) modes.splice(modes.indexOf("session"), 1);
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "codemode_bash_" }));
    const bash = builtinTools({ root, allowRun: true }).find((t) => t.name === "bash")!;
    const leftovers: number[] = [];
    try {
      for (const mode of modes) {
        _setBashContainmentForTests(mode);
        for (const ending of ENDINGS) {
          const rows = ESCAPES.filter((escape) => escape.skip !== mode);
          await Promise.all(rows.map(async (escape, i) => {
            const tag = `300.${crypto.getRandomValues(new Uint32Array(1))[0]}${i}`;
            const start = escape.start.replace("TAG", tag);
            const where = `${mode}, ${ending}: ${escape.name}`;
            const controller = new AbortController();
            // The timeout is what is tested: 8 s, so that the child has started before it fires even
            // when the helper process starts slowly on a busy machine.
            const input = ending === "returns"
              ? { command: `sh -c '${start}' && echo finished` }
              : {
                command: `sh -c '${start}\nsleep 60'`,
                timeoutMs: ending === "timeout" ? 8000 : undefined,
              };
            const calling = bash.execute(input, { signal: controller.signal, name: "bash" });
            if (ending !== "returns") {
              assert.ok(await eventually(() => tagged(tag).length > 0), `${where}: never started`);
            }
            if (ending === "abort") controller.abort(new Error("run cancelled"));
            let result: Record<string, unknown> | undefined;
            try {
              result = (await calling) as Record<string, unknown>;
            } catch (error) {
              assert.equal(ending, "abort", `${where}: ${error}`);
              assert.equal((error as Error).message, "run cancelled");
            }
            if (ending === "returns") assert.equal(result?.stdout, "finished\n", where);
            if (ending === "timeout") assert.equal(result?.timedOut, true, where);
            if (escape.survives.includes(mode)) {
              // The documented residue of this mode (README): the child is still there.
              assert.ok(
                await eventually(() => tagged(tag).length > 0),
                `${where}: expected to survive (README says so), but it is gone`,
              );
              leftovers.push(...tagged(tag));
            } else {
              assert.ok(
                await eventually(() => tagged(tag).length === 0),
                `${where}: outlived the call`,
              );
            }
          }));
        }
      }
    } finally {
      _setBashContainmentForTests(undefined);
      for (const pid of leftovers) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
      await Deno.remove(root, { recursive: true });
    }
  },
});
