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
why back to back runs cost about one Worker start each once the warm Workers are used up.
The warm pool hides that cost for runs that arrive with a pause between them (the warm-run
figure). Such a run, check off, profiled with timestamps on both sides (p50 of 40, 200 ms apart):
compile 2.3 ms (the front end itself 0.9 ms of it, \`transpileModule\` 0.67 ms; the rest is the
round trip to the compiler process, four thread wakes across two processes); the \`run\` record
reaching the Worker 1.5 ms more (session set-up, the stdin pipe, the router, the ring's wake);
defining the program's globals 0.8 ms (tools, lock-down, the buffer budget); \`import()\` of the
program's blob module 1.9 ms (Deno's module loader: ~0.9 ms for a one-line blob module in a bare
Worker after an idle moment, 0.45 ms back to back); the end back to a \`RunResult\` 1.0 ms. Each
of these is mostly a thread wake or Deno's loader rather than codemode's own work, which is why the
5 ms goal is not met.

**A tool call** crosses Worker → ring cell → stderr pipe → host (validation, dispatch) → stdin
pipe → router thread → ring → Worker. The raw transport alone, measured without codemode's work,
is ~90–120 µs for a round trip here (each thread wake is tens of µs on this VM); validation,
encoding and the call site add the rest. Parallel calls are batched by the channel's credit
flow, so throughput stays well above the goal.

**Memory.** A parked run is its Worker plus its share of the process. A \`node:worker_threads\`
Worker holds ~10.3 MB in a bare Deno process whatever the flags (V8's heap is ~8 MB of it: 4.75 MB
of old space from Deno's and Node's bootstrap, 2 MB of new space, 1 MB of trusted space; a smaller
young generation saves 0.6 MB but made allocation-heavy programs ~30% slower, so it is not used);
with codemode's runtime and the program, ~11.5 MB. A sandbox process's base (main isolate, router,
Deno's binary pages, which PSS divides among the processes sharing them) is ~37 MB, shared by up to
16 runs; while a burst holds its Workers only the 2 spares are kept warm. So ~12 MB per run is this
shape's floor, reached only with full processes; 50 parked runs in 4 processes measure ~14 MB. Each
Worker reserves a 64 MB code range (\`codeRangeSizeMb\`), counted in the process's data limit,
which is raised as Workers start (once the process has exec'd past \`prlimit\`) and lowered 2 s
after they end.

**Cold CLI.** \`codemode run\` loads only the core (no MCP SDK, dax or ajv unless the command needs
them) and starts the sandbox process and the compiler process while the program is read; with the
check on, TypeScript's load (~170 ms) in the compiler process is the critical path.
`;
