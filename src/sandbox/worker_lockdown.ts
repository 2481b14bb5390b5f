/**
 * What the program Worker takes away before a program runs, serialised with
 * `Function.prototype.toString` into the Worker's module next to the runtime (see
 * `child_source.ts`), so it must not refer to anything outside its own body.
 *
 * Refused with a message that says to use the tools: `Worker`, the process's stdio on `Deno`,
 * `prompt`/`alert`/`confirm` (they would read the process's stdin, which is the host's channel),
 * `Atomics.wait` (it would block the Worker's thread, where nothing could stop it but the end of
 * the process), `BroadcastChannel` (it reaches the other runs in the same process) and Deno's
 * Node-compatible `process` (its `stdout`, and `getBuiltinModule`, which would reach `node:vm`
 * past the eval ban). Ended as a failed run: `close()`, `Deno.exit()`, `Deno.kill()`. Removed:
 * `Deno[Deno.internal]` (raw ops), the Web Storage and Cache APIs. Replacements are
 * non-writable and non-configurable, so the program cannot put the originals back. Below all
 * this, the process has no permissions.
 *
 * @module
 */

/**
 * Locks `scope` down; `stop(what)` gives the function that ends the run when the program calls
 * `what`.
 */
export function _lockDown(
  scope: Record<string, unknown>,
  stop: (what: string) => () => never,
): void {
  /** Property attributes for what is replaced: the program cannot undo them. */
  const LOCKED = { writable: false, configurable: false } as const;
  // A plain function, not an arrow, so `new Worker(...)` gets this message too.
  const refuse = (what: string) =>
    function () {
      throw new Error(
        `${what} is not available in codemode programs: the sandbox has no files, network, environment or processes; use the tools instead`,
      );
    };
  scope.Worker = refuse("Worker");
  for (const name of ["prompt", "alert", "confirm", "BroadcastChannel"]) {
    try {
      Object.defineProperty(scope, name, { value: refuse(name), ...LOCKED });
    } catch {
      // Not configurable here: the Worker's channel still owns stdin through the router.
    }
  }
  for (const name of ["localStorage", "sessionStorage", "caches"]) {
    try {
      Object.defineProperty(scope, name, { value: undefined, ...LOCKED });
    } catch {
      // Not configurable here: without permissions they reach nothing on disk.
    }
  }
  try {
    Object.defineProperty(Atomics, "wait", { value: refuse("Atomics.wait"), ...LOCKED });
  } catch {
    // Not configurable: the watchdog would take the stuck Worker for one out of memory.
  }
  // Deno's internals (`Deno[Deno.internal].core`) would give the program raw ops: `evalContext`
  // past the eval ban, reads of stdin, writes to stdout. The channel and the runtime took what they
  // need from them before this runs.
  try {
    const internal = (Deno as unknown as { internal: symbol }).internal;
    delete (Deno as unknown as Record<symbol, unknown>)[internal];
    Object.defineProperty(Deno, "internal", { value: undefined, ...LOCKED });
  } catch {
    // Not configurable on this Deno: permissions and the frame token still hold.
  }
  scope.close = stop("close()");
  try {
    Object.defineProperty(Deno, "exit", { value: stop("Deno.exit()"), ...LOCKED });
    // Signalling its own process would kill it before the output printed so far has left.
    Object.defineProperty(Deno, "kill", { value: stop("Deno.kill()"), ...LOCKED });
  } catch {
    // Not configurable: the main isolate reports the Worker's end instead.
  }
  try {
    const silent = { write: refuse("Deno.stdout"), writeSync: refuse("Deno.stdout") };
    Object.defineProperty(Deno, "stdout", { value: silent, ...LOCKED });
    Object.defineProperty(Deno, "stderr", { value: silent, ...LOCKED });
    Object.defineProperty(Deno, "stdin", {
      value: { read: refuse("Deno.stdin"), readSync: refuse("Deno.stdin") },
      ...LOCKED,
    });
  } catch {
    // Not configurable on this Deno: the host's frame token still keeps the channel safe.
  }
  // Deno's Node-compatible `process` would hand out stdio (`process.stdout`) and built-in
  // modules (`process.getBuiltinModule("node:vm")` evaluates strings despite the eval ban).
  const noProcess = new Proxy(Object.freeze({}), {
    get: (_t, key) => {
      if (typeof key === "symbol") return undefined;
      throw new Error(
        `process.${key} is not available in codemode programs: the sandbox has no files, network, environment or processes; use the tools instead`,
      );
    },
  });
  try {
    Object.defineProperty(scope, "process", { value: noProcess, ...LOCKED });
  } catch {
    // Not configurable: the child's lack of permissions still refuses what `process` reaches.
  }
}
