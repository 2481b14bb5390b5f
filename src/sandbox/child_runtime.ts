/**
 * The child's main isolate: it starts the program's Worker and then only watches it.
 *
 * Serialised with `Function.prototype.toString` and started as the child's `data:` main module,
 * so it must not refer to anything outside its own body. The Worker (`permissions: "none"`) owns
 * the host channel on the process's stdin and stdout (`worker_channel.ts`); a relay here would
 * cost a thread wake and a re-serialisation on every message. What is left for the main isolate
 * is what the Worker cannot do for itself: end the process when the host has gone (the Worker says
 * "exit" when stdin closes), and report a Worker that died on stderr with exit code
 * {@linkcode _WORKER_DIED_CODE}, which the host turns into the run's error.
 *
 * @module
 */

/** Exit code of a child whose program Worker died; its stderr holds `codemode-sandbox: <why>`. */
export const _WORKER_DIED_CODE = 70;

/** How often the main isolate checks that the host is still its parent. */
export const _ORPHAN_CHECK_MS = 250;

/** Runs inside the child; `workerUrl` is the program Worker's `data:` module. */
export function _childRuntime(workerUrl: string): void {
  const worker = new Worker(workerUrl, {
    type: "module",
    name: "codemode-program",
    // deno-lint-ignore no-explicit-any -- `deno` worker options are typed only under --unstable
    deno: { permissions: "none" } as any,
  } as WorkerOptions);
  const died = (why: string) => {
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(`\ncodemode-sandbox: ${why}\n`));
    } finally {
      Deno.exit(70);
    }
  };
  // A spinning program cannot see stdin close; a changed parent means the host is gone.
  const host = Deno.ppid;
  setInterval(() => {
    if (Deno.ppid !== host) Deno.exit(0);
  }, 250);
  worker.addEventListener("message", (e) => {
    if ((e as MessageEvent).data === "exit") Deno.exit(0);
  });
  worker.addEventListener("messageerror", () => {});
  worker.addEventListener("error", (e) => {
    e.preventDefault();
    died((e as ErrorEvent).message || "the program's sandbox stopped with an error");
  });
}
