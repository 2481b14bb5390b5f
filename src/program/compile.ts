/**
 * The program front end: from the text an LLM sent to a JavaScript module the sandbox can run.
 * Markdown fences are unwrapped, the TypeScript compiler drops unused and type-only imports, the
 * import policy refuses anything but the tool stub modules, and the program is type-checked
 * against the tool declarations — all before any tool runs. Every position reported (syntax,
 * import, type, and through {@linkcode CompiledProgram.mapPosition} runtime) is a line and
 * column of the text as sent.
 *
 * The work runs in compiler processes (`compiler_pool.ts`, `front_end.ts`), under the caller's
 * deadline: a compile that overruns it is killed with its process and reported as a `timeout`
 * naming the stage. The host only checks the size, cleans the messages and maps positions; it
 * never loads TypeScript.
 *
 * @module
 */

import { _checkMode, type CheckMode } from "./program_shapes.ts";
import { _CompilerPool, type _Job } from "./compiler_pool.ts";
import {
  _lost,
  _outcome,
  _program,
  _stopped,
  type CompiledProgram,
  type CompileOutcome,
} from "./compile_outcome.ts";
import { _utf8Length } from "./source_text.ts";

export {
  type CompiledProgram,
  type CompileOutcome,
  type CompileStage,
  formatDiagnostic,
} from "./compile_outcome.ts";
export { decodeProgram } from "./source_text.ts";
export { type StubModule, stubModules } from "./stub_modules.ts";

/**
 * How to compile a program.
 *
 * @example Check against a tool declaration
 * ```ts
 * import type { CompileOptions } from "./compile.ts";
 * const options: CompileOptions = {
 *   declarations: "declare function read_file(input: { path: string }): Promise<string>;",
 *   toolNames: ["read_file"],
 * };
 * ```
 */
export interface CompileOptions {
  /**
   * Global-script d.ts declaring the tools and helpers (`print`, `gatherLimited`,
   * `searchTools`): the declarations the LLM is shown.
   * @default {""}
   */
  declarations?: string;
  /**
   * Program names of the tools: `read_file`, `memory.create_entities` (namespace.tool). Decides
   * which stub modules exist and what "did you mean" suggests.
   * @default {[]}
   */
  toolNames?: readonly string[];
  /**
   * `"error"` refuses a program with type errors, `"warn"` returns them as diagnostics of a
   * compiled program, `"off"` skips the type check (syntax and imports are always checked).
   * @default {"error"}
   */
  check?: CheckMode;
  /**
   * Largest source accepted, in UTF-8 bytes; a larger one is refused before compiling.
   * @default {1000000}
   */
  maxProgramBytes?: number;
  /**
   * Ends the compile (and the type check) when aborted: its compiler process is killed and the
   * outcome is a `timeout` naming the stage. A `TimeoutError` reason (`AbortSignal.timeout`)
   * reads as a deadline, any other as a cancellation.
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * A deadline of its own, in ms from the call, for the compile and the type check together;
   * also the figure a timeout's message names (give the run's `timeoutMs` with a `signal` built
   * from it).
   * @default {undefined}
   */
  timeoutMs?: number;
}

/** The longest delay a timer holds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Heap limit of a compiler process unless `ProgramCompilerOptions.memoryMb` says otherwise. */
export const _DEFAULT_COMPILER_MEMORY_MB = 1024;

/**
 * How the compiler processes run.
 *
 * @example A compiler with a smaller heap per process
 * ```ts
 * import { ProgramCompiler, type ProgramCompilerOptions } from "./compile.ts";
 * const options: ProgramCompilerOptions = { memoryMb: 384, maxProcesses: 2 };
 * await using compiler = new ProgramCompiler(options);
 * ```
 */
export interface ProgramCompilerOptions {
  /**
   * The `deno` executable that runs the compiler processes.
   * @default {Deno.execPath()}
   */
  denoPath?: string;
  /**
   * Heap limit of each compiler process in megabytes; a compile that needs more is refused as
   * `limit` (the program is too complex), and a process whose heap passed 60% of it is replaced.
   * @default {1024}
   */
  memoryMb?: number;
  /**
   * Compiler processes alive at most: while every one is busy, more compiles wait.
   * @default {3}
   */
  maxProcesses?: number;
  /**
   * Compiles a process serves before it is replaced (off the path of any compile).
   * @default {1000}
   */
  maxCompiles?: number;
}

/**
 * A program that passed every stage but the type check, which is running already (in its
 * compiler process): a run starts the sandbox meanwhile and holds its messages until `check()`
 * gives the verdict.
 */
export interface StagedProgram {
  ok: true;
  program: CompiledProgram;
  /** The type check's final outcome, as `compile` would have given it (the same promise each call). */
  check(): Promise<CompileOutcome>;
}

/**
 * Compiles programs in a small pool of compiler processes, each keeping its TypeScript checker
 * warm across calls (one compiler per tool set is best; a changed `declarations` text is swapped
 * in, reusing the parsed library). A compile that overruns its deadline is killed with its
 * process, and the next compile goes to another process.
 *
 * @example Compile and run-check a program
 * ```ts
 * import { ProgramCompiler } from "./compile.ts";
 * await using compiler = new ProgramCompiler();
 * const outcome = await compiler.compile('import fs from "node:fs";\nprint(1 + 1);', {
 *   declarations: "declare function print(...values: unknown[]): void;",
 *   timeoutMs: 10_000,
 * });
 * if (outcome.ok) console.log(outcome.program.js); // print(1 + 1); — the unused import is gone
 * ```
 */
export class ProgramCompiler implements AsyncDisposable, Disposable {
  #pool: _CompilerPool;
  #memoryMb: number;
  #closed = false;

  /**
   * Creates a compiler. No process starts until the first compile (or `warm()`).
   *
   * @param options Where `deno` is and how the compiler processes are sized.
   * @throws {RangeError} When a size is not a positive integer.
   */
  constructor(options: ProgramCompilerOptions = {}) {
    const {
      denoPath = Deno.execPath(),
      memoryMb = _DEFAULT_COMPILER_MEMORY_MB,
      maxProcesses = 3,
      maxCompiles = 1000,
    } = options;
    for (const [name, value] of Object.entries({ memoryMb, maxProcesses, maxCompiles })) {
      if (!Number.isInteger(value) || value <= 0) {
        throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
      }
    }
    this.#memoryMb = memoryMb;
    this.#pool = new _CompilerPool({ denoPath, memoryMb, maxProcesses, maxCompiles });
  }

  /**
   * Compiles one program: fences, size, syntax, import policy and (unless `check` is `"off"`)
   * types. Bad programs give `{ ok: false, error }`, never an exception.
   *
   * @param source The program as the LLM sent it.
   * @param options Declarations, tool names, check mode, size cap and deadline.
   * @returns The compiled program, or the first error plus every diagnostic.
   * @throws {TypeError} When `source` is not a string, `check` is not a known mode, or the
   *   compiler is closed.
   * @throws {RangeError} When `maxProgramBytes` or `timeoutMs` is not a positive number.
   */
  async compile(source: string, options: CompileOptions = {}): Promise<CompileOutcome> {
    const staged = await this.stage(source, options);
    return "check" in staged ? await staged.check() : staged;
  }

  /**
   * `compile`, resolved as soon as the program is compiled: when `check` is on, a passing program
   * comes back with a `check()` promise of the final outcome while the type check goes on. With
   * `check: "off"` (or a failure before the check) the outcome is final.
   *
   * @param source The program as the LLM sent it.
   * @param options Declarations, tool names, check mode, size cap and deadline.
   * @returns The final outcome, or the program with its type check under way.
   * @throws {TypeError} When `source` is not a string, `check` is not a known mode, or the
   *   compiler is closed.
   * @throws {RangeError} When `maxProgramBytes` or `timeoutMs` is not a positive number.
   */
  stage(source: string, options: CompileOptions = {}): Promise<CompileOutcome | StagedProgram> {
    try {
      return Promise.resolve(this.#stage(source, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #stage(
    source: string,
    options: CompileOptions,
  ): CompileOutcome | Promise<CompileOutcome | StagedProgram> {
    const {
      declarations = "",
      toolNames = [],
      check = "error",
      maxProgramBytes = 1_000_000,
      signal,
      timeoutMs,
    } = options;
    if (typeof source !== "string") {
      throw new TypeError(`The program source must be a string, got ${typeof source}`);
    }
    _checkMode(check);
    if (!Number.isInteger(maxProgramBytes) || maxProgramBytes <= 0) {
      throw new RangeError(`maxProgramBytes must be a positive integer, got ${maxProgramBytes}`);
    }
    if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs > 0)) {
      throw new RangeError(`timeoutMs must be a positive number, got ${String(timeoutMs)}`);
    }
    if (this.#closed) {
      throw new TypeError("This ProgramCompiler is closed: create a new one to compile programs");
    }
    if (source.length * 3 > maxProgramBytes) {
      const bytes = _utf8Length(source);
      if (bytes > maxProgramBytes) {
        return {
          ok: false,
          error: {
            kind: "limit",
            message: `The program is ${bytes} bytes, over the ${maxProgramBytes}-byte limit: ` +
              "send a shorter program (let the tools fetch data instead of pasting it in)",
          },
          diagnostics: [],
        };
      }
    }
    return this.#run({ source, check, declarations, toolNames }, signal, timeoutMs);
  }

  /** Runs one job in the pool under its deadline. */
  #run(
    request: Pick<_Job, "source" | "check" | "declarations" | "toolNames">,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<CompileOutcome | StagedProgram> {
    const staged = Promise.withResolvers<CompileOutcome | StagedProgram>();
    const checked = Promise.withResolvers<CompileOutcome>();
    let program: CompiledProgram | undefined;
    let handedOut = false;
    let over = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (outcome: CompileOutcome) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (handedOut) checked.resolve(outcome);
      else staged.resolve(outcome);
    };
    const job: _Job = {
      ...request,
      stage: "queue",
      onReply: (reply) => {
        if (over) return;
        if (reply.t === "program") {
          program = _program(reply);
          if (request.check !== "off") {
            handedOut = true;
            staged.resolve({ ok: true, program, check: () => checked.promise });
          }
          return;
        }
        settle(_outcome(reply, program));
      },
      onFailure: (failure) => settle(_lost(failure, job.stage, this.#memoryMb)),
    };
    const stop = (reason: unknown) => {
      if (over) return;
      const stage = job.stage;
      this.#pool.cancel(job);
      settle(_stopped(stage, reason, timeoutMs));
    };
    const onAbort = () => stop(signal?.reason);
    if (signal?.aborted) {
      stop(signal.reason);
      return staged.promise;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    // A deadline past what a timer can hold (~24 days) is no deadline.
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => stop(undefined), timeoutMs);
    }
    this.#pool.submit(job);
    return staged.promise;
  }

  /**
   * Starts a compiler process and warms it (TypeScript library, import policy) for this tool set,
   * so the first compile is fast. Optional; safe to call at start-up alongside other work.
   *
   * @param options The declarations and tool names the first programs will use.
   * @returns When a compiler process is warm.
   *
   * @example Warm up while the sandbox pool starts
   * ```ts
   * import { ProgramCompiler } from "./compile.ts";
   * await using compiler = new ProgramCompiler();
   * await compiler.warm();
   * ```
   */
  async warm(options: Pick<CompileOptions, "declarations" | "toolNames"> = {}): Promise<void> {
    if (this.#closed) return;
    await this.#pool.warm(options.declarations ?? "", options.toolNames ?? []);
  }

  /** Process ids of the compiler processes alive now (for monitoring and tests). */
  get pids(): number[] {
    return this.#pool.pids;
  }

  /**
   * Ends every compiler process and waits until they are gone; compiles under way end with an
   * error.
   *
   * @returns When every process has exited.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool.close();
  }

  /** Same as {@linkcode ProgramCompiler.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Ends every compiler process now, without waiting for them to exit. */
  [Symbol.dispose](): void {
    this.close().catch(() => {});
  }
}
