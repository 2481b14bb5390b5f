/**
 * The explanation written into BENCHMARKS.md under the goals: where the time and memory of a
 * run go in the sandbox's current shape. Profiled by hand (scratch scripts, /proc), not
 * re-measured by the bench; the dates say when.
 *
 * @module
 */

/** Markdown, written as-is into BENCHMARKS.md. */
export const WHERE_THE_TIME_GOES = `
### Where the time and memory go (profiled by hand 2026-12-02, not re-measured by this script)

**The shape.** A sandbox process (permission-less \`deno run\`, under \`prlimit\`) hosts up to
\`runsPerProcess\` (16) runs of one tenant at once, each in its own \`node:worker_threads\` Worker
with a heap limit and no permissions. Its main isolate only spawns, watches (a ping every 500 ms)
and stops Workers; a router Worker does a blocking read of stdin and copies each frame into the
target Worker's shared-memory ring; Workers write to the host with one \`write(2)\` of ≤ 4 KB on
stderr (atomic between threads). A Worker serves one run and is never reused: the next run takes
another warm Worker, and the one that ran is proven gone (its thread leaves /proc/<pid>/task)
before its slot is reused; a Worker that cannot be proven gone (a busy loop ignores
\`terminate()\`) drains its process, which is replaced.

**Per-run CPU is the Worker's start.** Starting a \`node:worker_threads\` Worker costs 35–40 ms of
CPU bare and ~60 ms with codemode's runtime here (a web Worker: ~13 ms, but a heap overflow in
one aborts the whole process, taking its co-tenants along, so it cannot host programs). Every run
needs a fresh Worker (runs never see each other's data), so N runs cost N × ~60 ms of CPU
whatever the pool does: on 2 cores, 200 runs at once need ≥ 6 s and 50 runs ≥ 1.5 s before any
program starts, which is why the burst goals (≤ 4 s, ≤ 0.5 s) are out of reach in this shape, and
why back to back runs cost about one Worker start each once the warm Workers are used up. The
warm pool hides that cost for runs that arrive with a pause between them (the warm-run figure):
the run then pays compile (~1 ms check off, ~2–3 ms check on, in a compiler process), one frame
to the Worker, \`import()\` of the program's module and its result back.

**A tool call** crosses Worker → ring cell → stderr pipe → host (validation, dispatch) → stdin
pipe → router thread → ring → Worker. The raw transport alone, measured without codemode's work,
is ~90–120 µs for a round trip here (each thread wake is tens of µs on this VM); validation,
encoding and the call site add the rest. Parallel calls are batched by the channel's credit
flow, so throughput stays well above the goal.

**Memory.** An idle warm Worker holds ~10 MB RSS (its isolate, the Deno and Node bootstrap, and
codemode's runtime); a sandbox process's base (main isolate, router) is ~35 MB RSS, shared among
its runs, and Deno's binary pages are shared between processes, which PSS divides. A parked run
(waiting in a tool call) is therefore about its Worker plus 1/16 of its process. Each Worker
reserves a 64 MB code range (\`codeRangeSizeMb\`), counted in the process's data limit, which is
raised as Workers start and lowered as they end.

**Cold CLI.** \`codemode run\` loads only the core (no MCP SDK, dax or ajv unless the command needs
them) and starts the sandbox process and the compiler process while the program is read; with the
check on, TypeScript's load (~170 ms) in the compiler process is the critical path.
`;
