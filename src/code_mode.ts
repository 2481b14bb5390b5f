/**
 * `CodeMode`: the library entry point. Compile a program, run it in a sandbox process against
 * the tools, and return what it printed with an account of the run.
 *
 * @module
 */

import {
  type DescribeOptions,
  describeTools,
  type Description,
} from "./describe/describe_tools.ts";
import { _describeTool } from "./describe/describe_tool.ts";
import { _LearnedShapes } from "./describe/learned_shapes.ts";
import { searchTools } from "./describe/search_tools.ts";
import { toolDeclarations } from "./describe/tool_declarations.ts";
import { _resolveLimits, type Limits } from "./limits.ts";
import type { CheckResult, CodeModeOptions, RunOptions } from "./code_mode_options.ts";
import { ProgramCompiler } from "./program/compile.ts";
import { _checkMode, type CheckMode } from "./program/program_shapes.ts";
import { _failedResult } from "./run/run_result.ts";
import { type _GateResult, _runSession } from "./run/run_session.ts";
import { _SandboxPool } from "./sandbox/pool.ts";
import { _ToolSet } from "./tools/tool_set.ts";
import type { RunResult, Tool } from "./types.ts";

/** Milliseconds a tenant's pool waits without a run before it closes its processes. */
const IDLE_MS = 30_000;

export type { CheckMode } from "./program/program_shapes.ts";
export type { CheckResult, CodeModeOptions, RunOptions } from "./code_mode_options.ts";

/**
 * Runs an LLM's TypeScript program against tools in a locked-down sandbox.
 *
 * Each run gets its own Worker with a heap limit, in a permission-less sandbox process shared only
 * with runs of the same tenant (`runsPerProcess` at once); tool calls cross a structured-clone
 * channel the host checks against each tool's schema and the limits. Failures inside a program
 * are data in the {@linkcode RunResult}, never exceptions.
 *
 * @example Run a program
 * ```ts
 * import { CodeMode } from "@codemode/cli";
 * await using cm = new CodeMode({
 *   tools: [{
 *     name: "add",
 *     description: "Add two numbers.",
 *     inputSchema: {
 *       type: "object",
 *       properties: { a: { type: "number" }, b: { type: "number" } },
 *       required: ["a", "b"],
 *     },
 *     execute: ({ a, b }) => a + b,
 *   }],
 * });
 * const result = await cm.run("const [x, y] = await Promise.all([add({ a: 1, b: 2 }), add({ a: 3, b: 4 })]);\nprint(x * y);");
 * console.log(result.output); // "21\n"
 * ```
 */
export class CodeMode implements AsyncDisposable {
  #tools: readonly Tool[];
  #shapes: _LearnedShapes | null;
  #registry: _ToolSet;
  #declarations: string | undefined;
  #described?: { registry: _ToolSet; changes: number; description: Description };
  #limits: Limits;
  #check: CheckMode;
  #poolSize: number;
  #burstPoolSize: number;
  #runsPerProcess: number;
  #denoPath: string | undefined;
  #describeThreshold: number;
  #pools = new Map<string, _SandboxPool>();
  #compiler: ProgramCompiler;
  #closed = false;
  #running = new Set<Promise<RunResult>>();

  /**
   * Creates a runner for a tool set. No process starts until the first run (or `warmUp()`).
   *
   * @param options Tools, limits and sandbox settings.
   * @throws {TypeError} When a tool definition is malformed or two tools take the same name.
   * @throws {RangeError} When a limit is out of range, `poolSize` or `burstPoolSize` is not a
   * non-negative integer, or `runsPerProcess` is not an integer from 1 to 256.
   */
  constructor(options: CodeModeOptions = {}) {
    this.#tools = [...(options.tools ?? [])];
    this.#shapes = options.learnShapes === false ? null : new _LearnedShapes(options.shapeCacheDir);
    this.#registry = new _ToolSet(this.#shapes?.wrap(this.#tools) ?? this.#tools);
    this.#limits = _resolveLimits(options.limits);
    this.#check = _checkMode(options.check ?? "error");
    const poolSize = options.poolSize ?? 2;
    if (!Number.isInteger(poolSize) || poolSize < 0) {
      throw new RangeError(`poolSize must be a non-negative integer, got ${String(poolSize)}`);
    }
    this.#poolSize = poolSize;
    const burst = options.burstPoolSize ?? 8;
    if (!Number.isInteger(burst) || burst < 0) {
      throw new RangeError(`burstPoolSize must be a non-negative integer, got ${String(burst)}`);
    }
    this.#burstPoolSize = Math.max(burst, poolSize);
    const runsPerProcess = options.runsPerProcess ?? 16;
    if (!Number.isInteger(runsPerProcess) || runsPerProcess < 1 || runsPerProcess > 256) {
      throw new RangeError(
        `runsPerProcess must be an integer from 1 to 256, got ${String(runsPerProcess)}`,
      );
    }
    this.#runsPerProcess = runsPerProcess;
    this.#denoPath = options.denoPath;
    this.#compiler = new ProgramCompiler({ denoPath: options.denoPath });
    this.#describeThreshold = options.describeThreshold ?? 40;
  }

  /** The current tool definitions. */
  get tools(): readonly Tool[] {
    return this.#tools;
  }

  /** The limits every run gets unless `run` overrides them. */
  get limits(): Readonly<Limits> {
    return this.#limits;
  }

  /**
   * Replaces the tool set; the next description, check and run use it, runs under way keep
   * the tools they started with.
   *
   * @param tools The new tools.
   * @throws {TypeError} When a definition is malformed or two tools take the same name.
   */
  setTools(tools: Iterable<Tool>): void {
    const list = [...tools];
    this.#registry = new _ToolSet(this.#shapes?.wrap(list) ?? list);
    this.#tools = list;
    this.#declarations = undefined;
  }

  /**
   * Calls `listener` when a learned result shape first appears or changes while the description
   * declares every tool (at most `describeThreshold` tools; above it shapes show only through
   * `searchTools` and `describeTool`, so the description does not change), at most once per burst
   * of results. An MCP server built with `createCodeModeServer` passes its `watchTools` callback
   * here too, to send `notifications/tools/list_changed` (as `codemode serve` does).
   *
   * @param listener Called with no arguments; exceptions it throws are ignored.
   * @returns A function that unregisters it.
   */
  onShapesLearned(listener: () => void): () => void {
    if (!this.#shapes) return () => {};
    return this.#shapes.onChange(() => {
      if (this.#registry.tools.length <= this.#describeThreshold) listener();
    });
  }

  /**
   * The LLM-facing description of the current tools: how to write a program, the helpers, the
   * pipeline patterns and the tool declarations (or namespaces and `searchTools` for many tools).
   *
   * @param options Overrides for the description (threshold, patterns, size cap).
   * @returns The text and one signature per tool.
   */
  describe(options: DescribeOptions = {}): Description {
    const plain = Object.keys(options).length === 0;
    const changes = this.#shapes?.changes ?? 0;
    // Every MCP session's server asks for the same description: built once per tool set and
    // shape change, not once per session.
    if (
      plain && this.#described?.registry === this.#registry && this.#described.changes === changes
    ) {
      const { description, tools } = this.#described.description;
      return { description, tools: tools.map((t) => ({ ...t })) };
    }
    const description = describeTools([...this.#registry.tools], {
      limits: this.#limits,
      threshold: this.#describeThreshold,
      ...options,
    });
    if (plain) {
      this.#described = {
        registry: this.#registry,
        changes,
        description: { ...description, tools: description.tools.map((t) => ({ ...t })) },
      };
    }
    return description;
  }

  /** The TypeScript declarations programs are checked against. */
  declarations(): string {
    // The checker's own globals declare `console` in full (src/program/sandbox_globals.ts).
    return this.#declarations ??= toolDeclarations([...this.#registry.tools], { console: false });
  }

  /**
   * Compiles and checks a program without running it: syntax, import policy and types.
   *
   * @param source The program text.
   * @param options `check` mode (`"off"` checks syntax and imports only).
   * @returns The findings (a compile that overruns the CodeMode's `timeoutMs` is a `timeout`).
   * @throws {TypeError} When the CodeMode is closed.
   */
  async check(source: string, options: { check?: CheckMode } = {}): Promise<CheckResult> {
    if (this.#closed) {
      throw new TypeError("This CodeMode is closed: create a new one to check programs");
    }
    const outcome = await this.#compiler.compile(source, {
      declarations: this.declarations(),
      toolNames: this.#registry.programNames,
      check: _checkMode(options.check ?? this.#check),
      maxProgramBytes: this.#limits.maxProgramBytes,
      timeoutMs: this.#limits.timeoutMs,
    });
    return outcome.ok
      ? { ok: true, diagnostics: outcome.diagnostics }
      : { ok: false, diagnostics: outcome.diagnostics, error: outcome.error };
  }

  /**
   * Runs a program. Everything it printed comes back in `output`, also when it failed; how it
   * failed is in `error`. Only misuse throws.
   *
   * @param source The program text (TypeScript; a Markdown-fenced program is unwrapped).
   * @param options Cancellation, per-run limits and check mode, streaming callbacks.
   * @returns The run's result.
   * @throws {TypeError} When `source` is not a string or the CodeMode is closed.
   */
  run(source: string, options: RunOptions = {}): Promise<RunResult> {
    if (typeof source !== "string") {
      throw new TypeError(`run() needs the program as a string, got ${typeof source}`);
    }
    if (this.#closed) {
      throw new TypeError("This CodeMode is closed: create a new one to run programs");
    }
    const p = this.#run(source, options);
    this.#running.add(p);
    // Both arms: a derived promise that rejects unhandled would take the host process down.
    const forget = () => void this.#running.delete(p);
    p.then(forget, forget);
    return p;
  }

  async #run(source: string, options: RunOptions): Promise<RunResult> {
    const startedAt = performance.now();
    const limits = options.limits
      ? _resolveLimits({ ...this.#limits, ...options.limits })
      : this.#limits;
    const registry = this.#registry;
    // Checked before a sandbox is taken: a bad mode must not strand a started Worker.
    const check = _checkMode(options.check ?? this.#check);
    const tenant = options.tenant ?? "";
    if (typeof tenant !== "string") {
      throw new TypeError(`tenant must be a string, got ${typeof tenant}`);
    }
    const pool = this.#pool(tenant);
    // Start fetching a Worker while the program compiles.
    const taking = pool.take(limits.memoryMb, options.signal);
    taking.catch(() => {});
    // Every stage but the type check runs now; the check runs while the sandbox starts the
    // program, and the session lets no tool run and no output out until it has passed. The
    // run's timeout covers compiling and the check (in a compiler process, killed if it overruns).
    const outcome = await this.#compiler.stage(source, {
      declarations: this.declarations(),
      toolNames: registry.programNames,
      check,
      maxProgramBytes: limits.maxProgramBytes,
      signal: options.signal,
      timeoutMs: limits.timeoutMs,
    });
    const spentMs = performance.now() - startedAt;
    if (!outcome.ok) {
      // The Worker was sent no program: stopped, it leaves its process usable at once.
      taking.then((slot) => {
        slot.stop();
        pool.release();
      }, () => {});
      return _failedResult(outcome.error, startedAt, outcome.diagnostics);
    }
    let slot;
    try {
      slot = await taking;
    } catch (err) {
      const cancelled = options.signal?.aborted;
      return _failedResult({
        kind: cancelled ? "timeout" : "runtime",
        message: cancelled
          ? `the run was cancelled before it started: ${String(options.signal?.reason)}`
          : `could not start a sandbox: ${
            (err as Error)?.message ?? String(err)
          }; check that "deno" runs on this machine and that it may start processes and threads`,
      }, startedAt);
    }
    // The registry's own array: searchTools' index is cached per array, so it is built once per
    // tool set rather than once per run.
    const tools = registry.tools;
    const gate = "check" in outcome ? Promise.withResolvers<_GateResult>() : undefined;
    const session = _runSession({
      slot,
      program: outcome.program,
      registry,
      limits,
      startedAt,
      spentMs,
      signal: options.signal,
      gate: gate?.promise,
      diagnostics: "diagnostics" in outcome ? outcome.diagnostics : undefined,
      onOutput: options.onOutput,
      onToolCall: options.onToolCall,
      helpers: {
        searchTools: (input) =>
          searchTools(tools, String(input.query ?? ""), {
            detail: input.detail as "name" | "summary" | "full" | undefined,
            limit: input.limit as number | undefined,
          }),
        describeTool: (input) => _describeTool(tools, input.name),
      },
    });
    if (gate && "check" in outcome) {
      outcome.check().then((checked) =>
        gate.resolve(
          checked.ok
            ? { ok: true, diagnostics: checked.diagnostics }
            : { ok: false, error: checked.error, diagnostics: checked.diagnostics },
        )
      );
    }
    try {
      return await session;
    } finally {
      pool.release();
    }
  }

  #pool(tenant: string): _SandboxPool {
    let pool = this.#pools.get(tenant);
    if (pool === undefined) {
      pool = new _SandboxPool({
        denoPath: this.#denoPath ?? Deno.execPath(),
        slots: this.#runsPerProcess,
        memoryMb: this.#limits.memoryMb,
        warm: this.#poolSize,
        maxWarm: this.#burstPoolSize,
        idleMs: IDLE_MS,
      });
      const created = pool;
      // A tenant's pool goes once idle; the CodeMode's own ("") stays, emptied.
      if (tenant !== "") created.onIdle = () => this.#pools.delete(tenant);
      this.#pools.set(tenant, pool);
    }
    return pool;
  }

  /**
   * Starts the sandbox pool and warms the compiler (TypeScript library, import policy) now
   * rather than at the first run.
   *
   * @returns Nothing; the work goes on in the background.
   */
  warmUp(): void {
    if (this.#closed) return;
    this.#pool("").warm();
    this.#compiler.warm({
      declarations: this.declarations(),
      toolNames: this.#registry.programNames,
    })
      .catch(() => {});
  }

  /** Process ids of the sandbox processes alive now and taking runs (for monitoring and tests). */
  get sandboxPids(): number[] {
    return [...this.#pools.values()].flatMap((p) => p.pids);
  }

  /**
   * Ends every sandbox process (runs under way end with an error) and waits until they are gone,
   * and writes learned shapes not yet saved.
   *
   * @returns When every process has exited.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([
      ...[...this.#pools.values()].map((p) => p.close()),
      this.#compiler.close(),
    ]);
    await Promise.allSettled([...this.#running]);
    await this.#shapes?.close();
  }

  /** Same as {@linkcode CodeMode.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
