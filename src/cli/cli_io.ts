/**
 * Where the CLI reads and writes, so tests can run commands in-process.
 *
 * @module
 */

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
    cwd: Deno.cwd(),
  };
}

/** A usage error: the CLI prints it with the command's help hint and exits 2. */
export class _UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
