/**
 * The public data shapes of codemode: tools, run results and errors.
 *
 * @module
 */

/** A JSON Schema object, as carried by MCP tools in `inputSchema` / `outputSchema`. */
export type JsonSchema = { [key: string]: unknown };

/**
 * What a tool handler receives besides its input.
 *
 * @example Honour cancellation in a tool
 * ```ts
 * import type { ToolContext } from "@codemode/cli";
 * async function slow(_input: unknown, context: ToolContext): Promise<string> {
 *   await new Promise((r, j) => {
 *     const t = setTimeout(r, 10);
 *     context.signal.addEventListener("abort", () => (clearTimeout(t), j(context.signal.reason)));
 *   });
 *   return "done";
 * }
 * ```
 */
export interface ToolContext {
  /** Aborted when the run ends (finished, failed, timed out or cancelled) or the tool's own timeout passes. */
  signal: AbortSignal;
  /** The tool's identifier-safe name as the program called it, e.g. `read_file` or `memory.create_entities`. */
  name: string;
  /** Called by a long tool to report progress; forwarded to the caller's `onProgress`, if any. */
  progress?: (message: string) => void;
}

/**
 * A tool: the MCP tool shape plus a handler.
 *
 * A `name` with one dot (`server.tool`) puts the tool in a namespace: the program calls it as
 * `server.tool(input)`. Each part is made identifier-safe with {@linkcode toIdentifier}.
 *
 * @example Define a tool
 * ```ts
 * import type { Tool } from "@codemode/cli";
 * const add: Tool = {
 *   name: "add",
 *   description: "Add two numbers.",
 *   inputSchema: {
 *     type: "object",
 *     properties: { a: { type: "number" }, b: { type: "number" } },
 *     required: ["a", "b"],
 *   },
 *   execute: ({ a, b }) => (a as number) + (b as number),
 * };
 * ```
 */
export interface Tool {
  /** The tool's name; `namespace.tool` for a namespaced tool. */
  name: string;
  /** What the tool does, shown to the model. */
  description: string;
  /** JSON Schema of the tool's input; arguments are validated against it before the tool runs. */
  inputSchema: JsonSchema;
  /** JSON Schema of the tool's result, when known; gives the model a typed return value. */
  outputSchema?: JsonSchema;
  /**
   * The result follows the MCP conversion rule (set on the tools of `connectMcpServers`):
   * without an `outputSchema` it is declared `string | McpContent[]` (text, or the content
   * blocks) instead of `any`.
   */
  mcpContent?: boolean;
  /**
   * The handler. Its result must be JSON-compatible (it crosses a process boundary as JSON);
   * a thrown error reaches the program as an `Error` naming the tool.
   */
  // deno-lint-ignore no-explicit-any -- tool inputs are validated JSON whose shape only the schema knows
  execute(input: any, context: ToolContext): unknown | Promise<unknown>;
}

/** What ended a failed run. */
export type RunErrorKind =
  | "syntax"
  | "type"
  | "import"
  | "runtime"
  | "tool"
  | "timeout"
  | "memory"
  | "limit";

/**
 * Why a run failed: a value, never an exception thrown across the sandbox boundary.
 *
 * @example Report an error to a model
 * ```ts
 * import type { RunError } from "@codemode/cli";
 * function report(e: RunError): string {
 *   const at = e.line ? ` at ${e.line}:${e.column ?? 1}` : "";
 *   return `${e.kind} error${at}: ${e.message}`;
 * }
 * ```
 */
export interface RunError {
  /** The class of failure. */
  kind: RunErrorKind;
  /** What went wrong and what to do about it, in words a model can act on. */
  message: string;
  /** 1-based line in the program as it was written, where known. */
  line?: number;
  /** 1-based column in the program as it was written, where known. */
  column?: number;
  /** The tool whose failure ended the run (`kind: "tool"`). */
  tool?: string;
}

/**
 * A compiler or policy finding about the program (also the `check` command's output).
 *
 * @example Print diagnostics one per line
 * ```ts
 * import type { Diagnostic } from "@codemode/cli";
 * const lines = (ds: Diagnostic[]) => ds.map((d) => `${d.line}:${d.column} ${d.kind} ${d.message}`);
 * ```
 */
export interface Diagnostic {
  /** `"syntax"`, `"type"` or `"import"`. */
  kind: "syntax" | "type" | "import";
  /** The compiler's or the policy's message. */
  message: string;
  /** 1-based line in the program as written. */
  line: number;
  /** 1-based column in the program as written. */
  column: number;
}

/**
 * One tool call as the host saw it (for `--trace`).
 *
 * @example Sum tool time
 * ```ts
 * import type { ToolCallTrace } from "@codemode/cli";
 * const total = (t: ToolCallTrace[]) => t.reduce((s, c) => s + c.durationMs, 0);
 * ```
 */
export interface ToolCallTrace {
  /** The tool's identifier-safe name. */
  tool: string;
  /** Milliseconds since the run started when the call arrived. */
  startMs: number;
  /** How long the call took in milliseconds. */
  durationMs: number;
  /** Size of the JSON arguments in bytes. */
  inputBytes: number;
  /** Size of the JSON result in bytes (0 on failure). */
  outputBytes: number;
  /** Whether the tool succeeded. */
  ok: boolean;
}

/**
 * Figures for one run.
 *
 * @example Share of tool data kept out of the model's context
 * ```ts
 * import type { RunStats } from "@codemode/cli";
 * const keptOut = (s: RunStats) => 1 - s.outputBytes / Math.max(1, s.toolResultBytes);
 * ```
 */
export interface RunStats {
  /** Wall time of the run in milliseconds, compile and type-check included. */
  durationMs: number;
  /** Bytes of tool results delivered to the program (JSON). */
  toolResultBytes: number;
  /** Bytes of output the program printed (UTF-8), as returned. */
  outputBytes: number;
}

/**
 * The account of one run.
 *
 * @example Use a result
 * ```ts
 * import type { RunResult } from "@codemode/cli";
 * function show(r: RunResult): string {
 *   return r.ok ? r.output : `${r.output}\n${r.error?.kind}: ${r.error?.message}`;
 * }
 * ```
 */
export interface RunResult {
  /** True when the program ran to its end without an uncaught error or a limit. */
  ok: boolean;
  /** Everything the program printed, also when it failed. */
  output: string;
  /** Why the run failed, when `ok` is false. */
  error?: RunError;
  /** Number of tool calls the program made. */
  calls: number;
  /** Sizes and timing. */
  stats: RunStats;
  /** Non-blocking diagnostics (type-check in `"warn"` mode). */
  diagnostics?: Diagnostic[];
  /** Every tool call, in the order they started. */
  trace?: ToolCallTrace[];
}
