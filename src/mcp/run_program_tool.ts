/**
 * The `run_program` tool as MCP shows it: its definition (JSON Schemas for the program and the
 * {@linkcode RunResult}) and the `tools/call` result made from a run.
 *
 * @module
 */

import { z } from "zod";
import { _runResultText, PROGRAM_DESCRIPTION, RUN_PROGRAM_TOOL } from "../program_tool.ts";
import type { Diagnostic, RunError, RunResult, RunStats, ToolCallTrace } from "../types.ts";

export { RUN_PROGRAM_TOOL };

// Each shape names every field of its type (`satisfies`), so a field added to the types fails
// the type-check here; objects are loose so that clients validating older schemas still accept it.
const DIAGNOSTIC = z.looseObject(
  {
    kind: z.enum(["syntax", "type", "import"]),
    message: z.string(),
    line: z.number(),
    column: z.number(),
  } satisfies Record<keyof Diagnostic, unknown>,
);

const RUN_ERROR = z.looseObject(
  {
    kind: z.enum(["syntax", "type", "import", "runtime", "tool", "timeout", "memory", "limit"]),
    message: z.string(),
    line: z.number().optional(),
    column: z.number().optional(),
    tool: z.string().optional(),
  } satisfies Record<keyof RunError, unknown>,
);

const TOOL_CALL = z.looseObject(
  {
    tool: z.string(),
    startMs: z.number(),
    durationMs: z.number(),
    inputBytes: z.number(),
    outputBytes: z.number(),
    ok: z.boolean(),
  } satisfies Record<keyof ToolCallTrace, unknown>,
);

/** The zod shape of a {@linkcode RunResult}: the `run_program` tool's output schema. */
const RUN_RESULT = z.looseObject(
  {
    ok: z.boolean().describe("True when the program ran to its end without an error or a limit."),
    output: z.string().describe("Everything the program printed, also when it failed."),
    error: RUN_ERROR.optional().describe("Why the run failed, when ok is false."),
    calls: z.number().describe("Number of tool calls the program made."),
    stats: z.looseObject(
      {
        durationMs: z.number(),
        toolResultBytes: z.number(),
        outputBytes: z.number(),
      } satisfies Record<keyof RunStats, unknown>,
    ),
    diagnostics: z.array(DIAGNOSTIC).optional(),
    trace: z.array(TOOL_CALL).optional(),
  } satisfies Record<keyof RunResult, unknown>,
);

const PROGRAM_INPUT = z.object({ program: z.string().describe(PROGRAM_DESCRIPTION) });

let _schemas: { input: Record<string, unknown>; output: Record<string, unknown> } | undefined;

/** The tool's input and output JSON Schemas (draft 7, as MCP clients validate them). */
function _toolSchemas(): { input: Record<string, unknown>; output: Record<string, unknown> } {
  return _schemas ??= {
    input: z.toJSONSchema(PROGRAM_INPUT, { target: "draft-7", io: "input" }),
    output: z.toJSONSchema(RUN_RESULT, { target: "draft-7", io: "output" }),
  };
}

/** An MCP tool definition, as `tools/list` lists it. */
export interface _ToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  annotations: Record<string, unknown>;
  execution: { taskSupport: "forbidden" };
}

/** `run_program`'s definition with `description` (the CodeMode's description). */
export function _runProgramDefinition(description: string): _ToolDefinition {
  const { input, output } = _toolSchemas();
  return {
    name: RUN_PROGRAM_TOOL,
    title: "Run a TypeScript program against the tools",
    description,
    inputSchema: input,
    outputSchema: output,
    annotations: { title: "Run a TypeScript program", openWorldHint: true },
    execution: { taskSupport: "forbidden" },
  };
}

/** A `tools/call` result. */
export interface _CallResult {
  [key: string]: unknown;
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** The `tools/call` result of a run. */
export function _callResult(result: RunResult): _CallResult {
  const out: _CallResult = {
    content: [{ type: "text", text: _runResultText(result) }],
    structuredContent: result as unknown as Record<string, unknown>,
  };
  if (!result.ok) out.isError = true;
  return out;
}

/** A run that never started, as a {@linkcode RunResult} with an error of `kind`. */
export function _refusedRun(kind: RunError["kind"], message: string): RunResult {
  return {
    ok: false,
    output: "",
    error: { kind, message },
    calls: 0,
    stats: { durationMs: 0, toolResultBytes: 0, outputBytes: 0 },
  };
}

/** The progress message for one completed tool call. */
export function _progressMessage(call: ToolCallTrace): string {
  return `${call.tool} ${call.ok ? "done" : "failed"} in ${call.durationMs.toFixed(0)} ms`;
}
