/**
 * Where a `bash` call's processes live, so that all of them end with the call however they try to
 * leave: the command line runs in a helper `deno` process (dax's shell, exactly as in the host)
 * started in a PID namespace of its own, or else in a session of its own.
 *
 * - `pid-namespace` (Linux, `unshare` works: as root, or with unprivileged user namespaces): the
 *   helper is PID 1 of a new PID namespace; when it exits or is killed, the kernel kills every
 *   process in the namespace. No process can leave a PID namespace (short of a root process with
 *   `CAP_SYS_ADMIN` calling `setns`), so `setsid`, double forks and a cleared environment do not
 *   help it.
 * - `session` (`setsid` exists): the helper leads a new session and process group, which the host
 *   kills as a group; a process that calls `setsid` (or `setpgid`) itself leaves the group, and only
 *   the environment marker (`_marked_processes.ts`) still finds it.
 * - `marker` (neither, or the helper cannot start): dax runs in the host as before and only the
 *   environment marker finds the call's processes; `env -u` removes it.
 *
 * The mode is detected once, at the first call.
 *
 * @module
 */

import { _killMarked, _MARKER_VAR } from "./_marked_processes.ts";
import config from "../../../deno.json" with { type: "json" };

/** dax as the helper imports it: the very version deno.json pins for the host. */
const DAX = config.imports.dax;

/** How a `bash` call's processes are kept together, strongest first. */
export type _Containment = "pid-namespace" | "session" | "marker";

let detected: Promise<_Containment> | undefined;
let forced: _Containment | undefined;

/** The containment in force (detected at the first call). */
export function _bashContainment(): Promise<_Containment> {
  if (forced !== undefined) return Promise.resolve(forced);
  return detected ??= _detect();
}

/** Forces a containment for tests (`undefined`: back to detection). */
export function _setBashContainmentForTests(mode: _Containment | undefined): void {
  forced = mode;
}

/** After a helper could not start: use the marker from now on. */
function _helperUnavailable(): void {
  detected = Promise.resolve("marker");
}

function _unshareArgs(): string[] {
  // Without root, a user namespace (mapping only our own uid) lets us make the PID namespace.
  let root = false;
  try {
    root = Deno.uid() === 0;
  } catch { /* no --allow-sys: assume not root */ }
  const user = root ? [] : ["--user", "--map-current-user"];
  return [...user, "--pid", "--fork", "--kill-child", "--"];
}

async function _works(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

async function _detect(): Promise<_Containment> {
  try {
    return await _strongest();
  } catch {
    return "marker";
  }
}

async function _strongest(): Promise<_Containment> {
  if (Deno.build.os === "windows") return "marker";
  if (Deno.build.os === "linux" && (await _works("unshare", [..._unshareArgs(), "true"]))) {
    return "pid-namespace";
  }
  if (await _works("setsid", ["true"])) return "session";
  return "marker";
}

/** How long the pipes may stay open after the call ended (only an escaped process holds them). */
export const PIPE_GRACE_MS = 1_000;

/** What {@linkcode _runContained} reports. */
export interface _ContainedRun {
  /** The command line's exit code (137 when killed). */
  exitCode: number;
  /** dax's complaint, when it could not run the command line at all. */
  parseError?: string;
}

/**
 * Runs `command` with dax in a helper process under `mode`, its output piped into `stdout` and
 * `stderr` (not closed); `kill` ends it and every process it started. Resolves to `undefined`
 * when the helper cannot start at all (the caller runs the command in the host instead).
 */
export async function _runContained(
  mode: "pid-namespace" | "session",
  command: string,
  options: {
    cwd: string;
    marker: string;
    stdout: WritableStream<Uint8Array>;
    stderr: WritableStream<Uint8Array>;
    kill: AbortSignal;
  },
): Promise<_ContainedRun | undefined> {
  const token = `codemode-bash-${crypto.randomUUID()}:`;
  const runner = `(${_runner.toString()})();`;
  const deno = [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--no-prompt",
    "--no-config",
    "--no-lock",
    "--quiet",
    "data:application/javascript," + encodeURIComponent(runner),
  ];
  const [program, ...args] = mode === "pid-namespace"
    ? ["unshare", ..._unshareArgs(), ...deno]
    : ["setsid", ...deno];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: options.cwd,
      env: { [_MARKER_VAR]: options.marker },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    _helperUnavailable();
    return undefined;
  }
  const end = () => {
    // The group first (session mode), then the helper (with it, a PID namespace ends).
    if (mode === "session") _killGroup(child.pid);
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  };
  if (options.kill.aborted) end();
  options.kill.addEventListener("abort", end, { once: true });
  const stopPiping = new AbortController();
  const errors = new _TailSink(options.stderr, token);
  const piping = Promise.all([
    child.stdout.pipeTo(options.stdout, {
      preventClose: true,
      preventAbort: true,
      signal: stopPiping.signal,
    }),
    child.stderr.pipeTo(errors.stream, { signal: stopPiping.signal }),
  ]).catch(() => {});
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify({ command, token, dax: DAX })))
      .then(() => writer.close())
      .catch(() => {/* the helper died early; its status tells */});
    const status = await child.status;
    if (mode === "session") {
      // Background jobs are still in the group; a process that left it may still carry the marker.
      _killGroup(child.pid);
      await _killMarked(options.marker);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      piping,
      new Promise<void>((resolve) => timer = setTimeout(resolve, PIPE_GRACE_MS)),
    ]);
    clearTimeout(timer);
    stopPiping.abort();
    await piping;
    const report = errors.report();
    if (report?.startsWith("!load ")) {
      _helperUnavailable();
      return undefined;
    }
    return report === undefined
      ? { exitCode: status.code }
      : { exitCode: 2, parseError: report.replace(/^!parse /, "") };
  } finally {
    options.kill.removeEventListener("abort", end);
  }
}

function _killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch { /* the group is empty */ }
}

/**
 * Passes stderr through to `target`, holding back a final line that starts with `token`: the
 * helper's own report (dax could not parse the command line, or could not be loaded).
 */
class _TailSink {
  readonly stream: WritableStream<Uint8Array>;
  #held = new Uint8Array(0);
  #token: Uint8Array;
  #report: string | undefined;

  constructor(target: WritableStream<Uint8Array>, token: string) {
    this.#token = new TextEncoder().encode("\n" + token);
    const writer = target.getWriter();
    this.stream = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        // Hold back as many bytes as could be the start of the report line.
        const all = new Uint8Array(this.#held.length + chunk.length);
        all.set(this.#held);
        all.set(chunk, this.#held.length);
        const at = _indexOf(all, this.#token);
        if (at >= 0) {
          if (at > 0) await writer.write(all.subarray(0, at));
          this.#held = all.subarray(at);
          return;
        }
        const keep = Math.min(all.length, this.#token.length - 1);
        if (all.length > keep) await writer.write(all.subarray(0, all.length - keep));
        this.#held = all.slice(all.length - keep);
      },
      close: async () => {
        const text = new TextDecoder().decode(this.#held);
        const token = new TextDecoder().decode(this.#token);
        if (text.startsWith(token)) this.#report = text.slice(token.length).trimEnd();
        else if (this.#held.length > 0) await writer.write(this.#held);
        writer.releaseLock();
      },
      abort: () => writer.releaseLock(),
    });
  }

  /** The helper's report, once stderr has closed. */
  report(): string | undefined {
    return this.#report;
  }
}

function _indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = haystack.indexOf(needle[0]); i >= 0; i = haystack.indexOf(needle[0], i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The helper's whole program, run from a `data:` URL (so it must not refer to anything outside
 * itself): reads `{ command, token }` on stdin and runs the command line with dax, exactly as the
 * host would, its stdout and stderr the helper's own. A line `\n<token>!parse <message>` on stderr
 * reports that dax refused the command line; `\n<token>!load <message>` that dax did not load.
 */
async function _runner(): Promise<void> {
  const request = JSON.parse(await new Response(Deno.stdin.readable).text()) as {
    command: string;
    token: string;
    dax: string;
  };
  const report = (kind: string, error: unknown) =>
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `\n${request.token}!${kind} ${error instanceof Error ? error.message : String(error)}\n`,
      ),
    );
  // deno-lint-ignore no-explicit-any -- dax's types are not visible from a data: URL
  let $: any;
  try {
    $ = (await import(request.dax)).default;
  } catch (error) {
    report("load", error);
    Deno.exit(70);
  }
  try {
    const result = await $.raw`${request.command}`.stdin("null").noThrow();
    Deno.exit(result.code);
  } catch (error) {
    report("parse", error);
    Deno.exit(2);
  }
}
