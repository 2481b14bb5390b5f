/**
 * Where the CLI reads and writes, so tests can run commands in-process.
 *
 * @module
 */

import { _escapeForTerminal } from "../run/run_errors.ts";

/** The CLI's streams and environment. */
export interface CliIo {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Reads all of standard input. */
  readStdin(): Promise<Uint8Array>;
  /** Whether standard error is a terminal (progress indicator). */
  stderrIsTerminal: boolean;
  /**
   * Whether standard output is a terminal: a program's output is then shown with control and
   * bidi characters escaped visibly (never with `--json`, and never when piped).
   * @default {false}
   */
  stdoutIsTerminal?: boolean;
  /** Working directory for relative paths. */
  cwd: string;
}

const encoder = new TextEncoder();

/** The process's own streams. */
export function _processIo(): CliIo {
  return {
    stdout: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
    stderr: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
    readStdin: async () => new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer()),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    cwd: Deno.cwd(),
  };
}

const RAW_STDERR = Symbol("codemode.rawStderr");

/**
 * The streams as every command sees them: everything written to stderr is shown with control and
 * bidi characters escaped visibly (messages quote programs, paths and MCP servers), and with
 * `escapeStdout`, stdout too. The CLI's own status line, which must move the cursor, is written
 * through {@linkcode _rawStderr} instead.
 */
export function _safeIo(io: CliIo, escapeStdout: boolean): CliIo {
  const safe: CliIo & { [RAW_STDERR]?: (text: string) => void } = {
    ...io,
    stdout: escapeStdout
      ? (text) => io.stdout(_escapeForTerminal(text))
      : (text) => io.stdout(text),
    stderr: (text) => io.stderr(_escapeForTerminal(text)),
    readStdin: () => io.readStdin(),
  };
  safe[RAW_STDERR] = (text) => io.stderr(text);
  return safe;
}

/** Writes to stderr as it is: for the CLI's own cursor movements only, never for quoted text. */
export function _rawStderr(io: CliIo): (text: string) => void {
  return (io as { [RAW_STDERR]?: (text: string) => void })[RAW_STDERR] ??
    ((text) => io.stderr(text));
}

/** A usage error: the CLI prints it with the command's help hint and exits 2. */
export class _UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
