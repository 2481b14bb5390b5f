/**
 * Run limits and their defaults.
 *
 * @module
 */

/**
 * Budgets the host enforces on every run. Hitting one ends the run with the matching
 * `error.kind` and the output printed so far.
 *
 * @example Tighten the limits
 * ```ts
 * import { CodeMode } from "@codemode/cli";
 * await using cm = new CodeMode({ tools: [], limits: { timeoutMs: 5_000, maxToolCalls: 50 } });
 * ```
 */
export interface Limits {
  /**
   * Wall-clock time for the whole run in milliseconds.
   * @default {60000}
   */
  timeoutMs: number;
  /**
   * Memory for the program in megabytes (JavaScript heap; buffers and wasm memory are capped
   * by an OS limit of the same size where the platform has one).
   * @default {256}
   */
  memoryMb: number;
  /**
   * Characters of output kept; the rest is cut with a note.
   * @default {40000}
   */
  maxOutputChars: number;
  /**
   * Tool calls in one run.
   * @default {1000}
   */
  maxToolCalls: number;
  /**
   * Tool calls running at once; further calls wait for a free slot.
   * @default {16}
   */
  maxConcurrentCalls: number;
  /**
   * Size of one call's JSON arguments in bytes.
   * @default {1000000}
   */
  maxArgumentBytes: number;
  /**
   * Size of one tool result's JSON in bytes.
   * @default {10000000}
   */
  maxResultBytes: number;
  /**
   * Time one tool call may take in milliseconds before it fails in the program.
   * @default {30000}
   */
  toolTimeoutMs: number;
  /**
   * Size of the program's source text in bytes.
   * @default {1000000}
   */
  maxProgramBytes: number;
}

/**
 * The defaults for {@linkcode Limits}.
 *
 * @example Read a default
 * ```ts
 * import { DEFAULT_LIMITS } from "@codemode/cli";
 * console.log(DEFAULT_LIMITS.timeoutMs); // 60000
 * ```
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  timeoutMs: 60_000,
  memoryMb: 256,
  maxOutputChars: 40_000,
  maxToolCalls: 1_000,
  maxConcurrentCalls: 16,
  maxArgumentBytes: 1_000_000,
  maxResultBytes: 10_000_000,
  toolTimeoutMs: 30_000,
  maxProgramBytes: 1_000_000,
});

/** Merges user limits over the defaults, refusing values that are not positive integers. */
export function _resolveLimits(limits: Partial<Limits> = {}): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) {
      throw new TypeError(
        `Unknown limit "${key}": use one of ${Object.keys(DEFAULT_LIMITS).join(", ")}`,
      );
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      throw new RangeError(`Limit "${key}" must be a positive integer, got ${String(value)}`);
    }
    out[key as keyof Limits] = value;
  }
  return out;
}
