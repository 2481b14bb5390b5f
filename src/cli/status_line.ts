/**
 * The live status line of a long `codemode run` on stderr: elapsed time, tool calls done and in
 * flight. Only on a terminal, so it never reaches piped output, tests or `--json`.
 *
 * @module
 */

import type { Tool, ToolContext } from "../types.ts";
import { _rawStderr, type CliIo } from "./cli_io.ts";

/** When the line first shows (a run shorter than this never shows one), and how often it moves. */
const FIRST_MS = 1_000;
const EVERY_MS = 250;

/** Erases the current terminal line. */
const ERASE = "\r\x1b[2K";

/**
 * Counts a run's tool calls and keeps one line on stderr up to date while the run is long.
 *
 * @example Around a run
 * ```ts ignore
 * const status = _StatusLine.start(io, { json: false });
 * const session = await _openSession(values, io, { wrapTool: status?.wrap });
 * try {
 *   await session.codeMode.run(source, { onOutput: (t) => (status?.clear(), io.stdout(t)) });
 * } finally {
 *   status?.stop();
 * }
 * ```
 */
export class _StatusLine {
  #write: (text: string) => void;
  #started = performance.now();
  #calls = 0;
  #done = 0;
  #shown = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  private constructor(io: CliIo) {
    // The line moves the cursor: it is the one thing written to stderr unescaped.
    this.#write = _rawStderr(io);
    this.#timer = setTimeout(() => {
      this.#timer = setInterval(() => this.#draw(), EVERY_MS);
      this.#draw();
    }, FIRST_MS);
  }

  /** A status line for a run, or null when stderr is not a terminal or the output is JSON. */
  static start(io: CliIo, options: { json: boolean }): _StatusLine | null {
    return io.stderrIsTerminal && !options.json ? new _StatusLine(io) : null;
  }

  /** The line's text now. */
  text(): string {
    const s = ((performance.now() - this.#started) / 1000).toFixed(1);
    const inFlight = this.#calls - this.#done;
    return `codemode: running ${s} s · ${this.#done} tool calls done, ${inFlight} in flight`;
  }

  /** `tool` counting its calls here (results that are not promises stay synchronous). */
  wrap = (tool: Tool): Tool => {
    const execute = tool.execute;
    return {
      ...tool,
      execute: (input: unknown, context: ToolContext) => {
        this.#calls++;
        let result: unknown;
        try {
          result = execute.call(tool, input as never, context);
        } catch (err) {
          this.#done++;
          throw err;
        }
        if (result instanceof Promise) return result.finally(() => void this.#done++);
        this.#done++;
        return result;
      },
    } as Tool;
  };

  /** Takes the line off the terminal (before the program's output is written). */
  clear(): void {
    if (!this.#shown) return;
    this.#write(ERASE);
    this.#shown = false;
  }

  /** Stops updating and takes the line off. */
  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.clear();
  }

  #draw(): void {
    this.#write(ERASE + this.text());
    this.#shown = true;
  }
}
