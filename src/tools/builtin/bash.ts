/**
 * The `bash` built-in tool: a shell command run with dax's cross-platform shell, starting in the
 * root, with a timeout and an output cap. The shell runs in a helper process in a PID namespace or
 * session of its own (`_bash_process.ts`), so every process the call started ends with it; where
 * neither is available, in the host, with only the environment marker to find its processes.
 *
 * @module
 */

import { _killMarked, _MARKER_VAR } from "./_marked_processes.ts";
import {
  _bashContainment,
  type _ContainedRun,
  type _Containment,
  _runContained,
  PIPE_GRACE_MS,
} from "./_bash_process.ts";
import type { Tool, ToolContext } from "../../types.ts";
import type { Root } from "../root.ts";
import { _field, _integer } from "./_input.ts";

/** Timeout of a command when `timeoutMs` is not given. */
export const BASH_DEFAULT_TIMEOUT_MS = 20_000;
/** The largest `timeoutMs` accepted. */
export const BASH_MAX_TIMEOUT_MS = 600_000;
/** Bytes kept of each of stdout and stderr; a command writing more is stopped. */
export const BASH_MAX_OUTPUT_BYTES = 1_000_000;

/** What `bash` returns. */
export interface BashResult {
  /** What the command wrote to stdout (cut at the cap). */
  stdout: string;
  /** What the command wrote to stderr (cut at the cap), plus a note when it was stopped. */
  stderr: string;
  /** The exit code: 0 on success, 2 when the shell cannot parse the command, 137 when killed. */
  exitCode: number;
  /** True when the command was stopped at `timeoutMs`. */
  timedOut: boolean;
  /** True when the command wrote more than the cap and was stopped. */
  truncated: boolean;
}

/**
 * Creates the `bash` tool for a root (enabled by `allowRun`).
 *
 * @example Run a command in the root
 * ```ts
 * import { Root } from "../root.ts";
 * import { bashTool } from "./bash.ts";
 * const tool = bashTool(new Root("."));
 * const { stdout } = await tool.execute({ command: "echo hi" }, {
 *   signal: new AbortController().signal,
 *   name: "bash",
 * }) as { stdout: string };
 * ```
 */
export function bashTool(root: Root): Tool {
  return {
    name: "bash",
    description: `Run a command line in dax's cross-platform shell (pipes, &&, ||, ;, ` +
      `redirects, globs, $VAR; no if/for/while — use sh -c '...' for those) starting in the ` +
      `root directory ${root.path} or a \`cwd\` confined to it, returning stdout, stderr and ` +
      `the exit code.`,
    inputSchema: {
      type: "object",
      properties: {
        command: {
          type: "string",
          minLength: 1,
          description: 'The command line, e.g. "git log --oneline -n 5" or "ls src | wc -l".',
        },
        cwd: {
          type: "string",
          description: 'Directory to start in, relative to the root. Default: "." (the root).',
        },
        timeoutMs: {
          type: "integer",
          minimum: 1,
          maximum: BASH_MAX_TIMEOUT_MS,
          description: `Milliseconds before the command is killed. Default: ` +
            `${BASH_DEFAULT_TIMEOUT_MS}.`,
        },
      },
      required: ["command"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "object",
      properties: {
        stdout: {
          type: "string",
          description: `Standard output (at most ${BASH_MAX_OUTPUT_BYTES} bytes kept).`,
        },
        stderr: {
          type: "string",
          description: "Standard error, plus a note when the command was stopped.",
        },
        exitCode: {
          type: "integer",
          description: "Exit code: 0 is success; 2 for a command line the shell cannot parse; " +
            "127 for an unknown command; 137 when killed (timeout or output cap).",
        },
        timedOut: { type: "boolean", description: "True when stopped at timeoutMs." },
        truncated: {
          type: "boolean",
          description: "True when the output passed the cap and the command was stopped.",
        },
      },
      required: ["stdout", "stderr", "exitCode", "timedOut", "truncated"],
      additionalProperties: false,
    },
    execute: (input: unknown, context: ToolContext) => _bash(root, input, context.signal),
  };
}

async function _bash(root: Root, input: unknown, signal?: AbortSignal): Promise<BashResult> {
  const tool = "bash";
  const command = _field(tool, input, "command", "string", true)!;
  if (command.trim() === "") {
    throw new TypeError(`${tool}: "command" is empty: pass a command line such as "ls"`);
  }
  const cwdPath = _field(tool, input, "cwd", "string") ?? ".";
  const timeoutMs = _integer(tool, input, "timeoutMs", {
    min: 1,
    max: BASH_MAX_TIMEOUT_MS,
    fallback: BASH_DEFAULT_TIMEOUT_MS,
  })!;
  signal?.throwIfAborted();
  const cwd = await root.resolve(cwdPath, { tool });
  if (!(await Deno.stat(cwd.absolute)).isDirectory) {
    throw new TypeError(
      `${tool}: cwd "${cwdPath}" is a file in the root ${root.path}, not a directory: ` +
        `pass the directory that contains it`,
    );
  }
  const kill = new AbortController();
  let timedOut = false;
  let truncated = false;
  // Every process of this call ends with it: in a PID namespace or session of its own where the
  // system allows (`_bash_process.ts`), and through the environment marker in any case.
  const marker = crypto.randomUUID();
  const stop = () => {
    kill.abort();
    void _killMarked(marker);
  };
  const overflow = () => {
    truncated = true;
    stop();
  };
  const stdout = new _CappedSink(BASH_MAX_OUTPUT_BYTES, overflow);
  const stderr = new _CappedSink(BASH_MAX_OUTPUT_BYTES, overflow);
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, timeoutMs);
  signal?.addEventListener("abort", stop, { once: true });
  let exitCode: number;
  let parseError: string | undefined;
  let mode: _Containment = "marker";
  try {
    mode = await _bashContainment();
    const run = { cwd: cwd.absolute, marker, stdout: stdout.stream, stderr: stderr.stream };
    const contained = mode === "marker"
      ? undefined
      : await _runContained(mode, command, { ...run, kill: kill.signal });
    ({ exitCode, parseError } = contained ?? await _runInHost(command, run, kill.signal));
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
    // Background jobs (`cmd &`) end with the call, not after it; a PID namespace saw to that.
    if (mode !== "pid-namespace") await _killMarked(marker);
  }
  const parseNote = parseError === undefined ? "" : `bash: ${parseError}\n` +
    `[bash: this shell (dax) runs pipes, &&, ||, ;, redirects, globs, $VAR and ( ) ` +
    `subshells, but not if/for/while, functions, here-documents or $(...): run those through ` +
    `sh -c '...', or do the logic in the program]\n`;
  signal?.throwIfAborted();
  let note = "";
  if (timedOut) {
    note = `[bash: the command was killed after ${timeoutMs} ms (timeoutMs): pass a larger ` +
      `timeoutMs (up to ${BASH_MAX_TIMEOUT_MS}) or make the command faster]`;
  } else if (truncated) {
    note = `[bash: the command was killed after writing more than ${BASH_MAX_OUTPUT_BYTES} ` +
      `bytes to one stream; print less, e.g. pipe through "head -n 100" or filter with grep]`;
  }
  let errText = parseNote + stderr.text();
  if (note) errText += (errText === "" || errText.endsWith("\n") ? "" : "\n") + note;
  return {
    stdout: stdout.text(),
    stderr: errText,
    exitCode,
    timedOut,
    truncated,
  };
}

let _daxModule: Promise<typeof import("dax")> | undefined;

/** dax, loaded once, on first use. */
function _dax(): Promise<typeof import("dax")> {
  return _daxModule ??= import("dax");
}

/**
 * Runs the command line with dax in the host itself (no helper process could start), its
 * processes marked with `run.marker`; `killer` kills dax's direct children.
 */
async function _runInHost(
  command: string,
  run: {
    cwd: string;
    marker: string;
    stdout: WritableStream<Uint8Array>;
    stderr: WritableStream<Uint8Array>;
  },
  stopped: AbortSignal,
): Promise<_ContainedRun> {
  try {
    // dax loads with the first such call (~150 ms): in a PID namespace or session, the helper
    // process runs it and the host never loads it.
    const dax = await _dax();
    const $ = dax.default;
    const killer = new dax.KillController();
    if (stopped.aborted) killer.kill("SIGKILL");
    else stopped.addEventListener("abort", () => killer.kill("SIGKILL"), { once: true });
    const running = Promise.resolve(
      $.raw`${command}`
        .cwd(run.cwd)
        .env(_MARKER_VAR, run.marker)
        .stdin("null")
        .stdout(run.stdout)
        .stderr(run.stderr)
        .signal(killer.signal)
        .noThrow(),
    ).then((result) => result.code);
    // A process that left the marker behind and holds stdout open would keep dax waiting for
    // the pipe's end: once the call is stopped, it is left to itself after a grace period.
    running.catch(() => {});
    return { exitCode: await _settledOrStopped(running, stopped, 137) };
  } catch (error) {
    // dax throws before running when it cannot parse the command line (strings, for syntax it
    // does not support).
    return { exitCode: 2, parseError: error instanceof Error ? error.message : String(error) };
  }
}

/** `promise`'s value, or `fallback` once `stopped` has been aborted for {@linkcode PIPE_GRACE_MS}. */
function _settledOrStopped<T>(promise: Promise<T>, stopped: AbortSignal, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onStop = () => {};
  const bound = new Promise<T>((resolve) => {
    onStop = () => timer = setTimeout(() => resolve(fallback), PIPE_GRACE_MS);
    if (stopped.aborted) onStop();
    else stopped.addEventListener("abort", onStop, { once: true });
  });
  return Promise.race([promise, bound]).finally(() => {
    clearTimeout(timer);
    stopped.removeEventListener("abort", onStop);
  });
}

/** A byte sink keeping the first `cap` bytes and calling `onOverflow` once past them. */
class _CappedSink {
  readonly stream: WritableStream<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #over = false;

  constructor(cap: number, onOverflow: () => void) {
    this.stream = new WritableStream<Uint8Array>({
      write: (chunk) => {
        const room = cap - this.#size;
        if (room > 0) {
          const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
          this.#chunks.push(kept.slice());
          this.#size += kept.length;
        }
        if (chunk.length > room && !this.#over) {
          this.#over = true;
          onOverflow();
        }
      },
    });
  }

  text(): string {
    const all = new Uint8Array(this.#size);
    let at = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return new TextDecoder().decode(all);
  }
}
