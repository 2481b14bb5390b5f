/**
 * The options of a {@linkcode CodeMode} and of one run, and what `check` returns.
 *
 * @module
 */

// deno-lint-ignore no-unused-vars -- imported for the {@linkcode CodeMode} links in the docs below
import type { CodeMode } from "./code_mode.ts";
import type { Limits } from "./limits.ts";
import type { CheckMode } from "./program/program_shapes.ts";
import type { Diagnostic, RunError, Tool, ToolCallTrace } from "./types.ts";

/**
 * Options for {@linkcode CodeMode}.
 *
 * @example Tools, limits and a relaxed check
 * ```ts
 * import { CodeMode, type CodeModeOptions } from "@codemode/cli";
 * const options: CodeModeOptions = { tools: [], limits: { timeoutMs: 10_000 }, check: "warn" };
 * await using cm = new CodeMode(options);
 * ```
 */
export interface CodeModeOptions {
  /**
   * The tools programs may call.
   * @default {[]}
   */
  tools?: Iterable<Tool>;
  /**
   * Budgets for every run (see {@linkcode Limits}); missing fields take the defaults.
   * @default {DEFAULT_LIMITS}
   */
  limits?: Partial<Limits>;
  /**
   * `"error"`: a program with type errors does not run; `"warn"`: it runs and the errors come
   * back as `diagnostics`; `"off"`: no type-check (syntax and imports are still checked).
   * @default {"error"}
   */
  check?: CheckMode;
  /**
   * Sandbox Workers kept started and warm, so a run does not wait for one (each holds ~10 MB).
   * @default {2}
   */
  poolSize?: number;
  /**
   * After a burst of runs at once, Workers kept warm at most: the pool grows to the burst's size
   * (up to this), so the next burst starts at once, and shrinks once idle for 30 s. Starting a
   * Worker costs ~40–60 ms of CPU; each warm one holds ~10 MB.
   * @default {8}
   */
  burstPoolSize?: number;
  /**
   * Runs one sandbox process hosts at once, each in its own Worker. Runs share processes only
   * within a tenant (see {@linkcode RunOptions.tenant}).
   * @default {16}
   */
  runsPerProcess?: number;
  /**
   * The `deno` executable that hosts sandboxes.
   * @default {Deno.execPath()}
   */
  denoPath?: string;
  /**
   * Above this many tools the description lists namespaces and points to `searchTools`.
   * @default {40}
   */
  describeThreshold?: number;
  /**
   * Learn the shapes of results of tools without an `outputSchema` and show them in the
   * description (`@returns seen: <type> — e.g. <example>`, documentation only: the declared type
   * does not change). `false` turns learning off.
   * @default {true}
   */
  learnShapes?: boolean;
  /**
   * Where learned shapes persist across processes (a bounded JSON file, written atomically);
   * `null` keeps them in memory only.
   * @default {$CODEMODE_CACHE_DIR, else $XDG_CACHE_HOME/codemode, else ~/.cache/codemode (macOS: ~/Library/Caches/codemode, Windows: %LOCALAPPDATA%\codemode)}
   */
  shapeCacheDir?: string | null;
}

/**
 * Options for one {@linkcode CodeMode.run}.
 *
 * @example Cancel a run after five seconds
 * ```ts
 * import { CodeMode, type RunOptions } from "@codemode/cli";
 * await using cm = new CodeMode();
 * const options: RunOptions = { signal: AbortSignal.timeout(5_000) };
 * await cm.run("print(1)", options);
 * ```
 */
export interface RunOptions {
  /**
   * Aborting ends the run (`error.kind: "timeout"`), keeping the output printed so far.
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Overrides the type-check mode for this run.
   * @default {the CodeMode's check}
   */
  check?: CheckMode;
  /**
   * Overrides limits for this run.
   * @default {the CodeMode's limits}
   */
  limits?: Partial<Limits>;
  /**
   * Receives output as the program prints it.
   * @default {undefined}
   */
  onOutput?: (text: string) => void;
  /**
   * Receives each tool call as it completes.
   * @default {undefined}
   */
  onToolCall?: (call: ToolCallTrace) => void;
  /**
   * Who the run is for. Runs of one tenant may share a sandbox process (each still in its own
   * Worker, with its own heap limit); runs of different tenants never do. A hostile program can
   * at worst disturb runs of its own tenant: its process's buffers and wasm memory are shared,
   * and a busy loop keeps a core of it until the process ends. Give each caller (an MCP
   * session, a user) its own tenant.
   * @default {""}
   */
  tenant?: string;
}

/**
 * The outcome of {@linkcode CodeMode.check}.
 *
 * @example Print findings
 * ```ts
 * import { CodeMode, type CheckResult } from "@codemode/cli";
 * await using cm = new CodeMode();
 * const r: CheckResult = await cm.check("print(nope)");
 * for (const d of r.diagnostics) console.log(`${d.line}:${d.column} ${d.kind} ${d.message}`);
 * ```
 */
export interface CheckResult {
  /** True when the program would be allowed to run. */
  ok: boolean;
  /** Every finding: syntax, import policy and type errors. */
  diagnostics: Diagnostic[];
  /** The first blocking error, when `ok` is false. */
  error?: RunError;
}
