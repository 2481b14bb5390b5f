/**
 * codemode as an MCP server: one tool, `run_program`, whose description is the generated
 * description of a {@linkcode CodeMode}'s tools. Built on the official SDK's `McpServer`; connect
 * it to any SDK server transport (stdio, Streamable HTTP).
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { CodeMode } from "../code_mode.ts";
import { formatRunError } from "../run/run_errors.ts";
import type { Diagnostic, RunError, RunResult, RunStats, ToolCallTrace } from "../types.ts";

/** The one tool's name. */
export const RUN_PROGRAM_TOOL = "run_program";

/**
 * What {@linkcode createCodeModeServer} returns: the official SDK's `McpServer` (from
 * `@modelcontextprotocol/sdk/server/mcp.js`), with `run_program` registered and not yet connected.
 * Call `connect(transport)` with any SDK server transport, and `close()` when done.
 *
 * @example Connect over stdio
 * ```ts ignore
 * import { CodeMode, createCodeModeServer, type CodeModeMcpServer } from "@codemode/cli";
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * const server: CodeModeMcpServer = createCodeModeServer(new CodeMode());
 * await server.connect(new StdioServerTransport());
 * ```
 */
export type CodeModeMcpServer = McpServer;

/**
 * Options for {@linkcode createCodeModeServer}.
 *
 * @example Re-describe when MCP servers change their tools
 * ```ts ignore
 * import { connectMcpServers, CodeMode, createCodeModeServer } from "@codemode/cli";
 * const mcp = await connectMcpServers({ mcpServers: {} });
 * const codeMode = new CodeMode({ tools: mcp.tools });
 * const server = createCodeModeServer(codeMode, {
 *   watchTools: (changed) =>
 *     mcp.onToolsChanged((tools) => {
 *       codeMode.setTools(tools);
 *       changed();
 *     }),
 * });
 * ```
 */
export interface CodeModeServerOptions {
  /**
   * The server name announced to clients.
   * @default {"codemode"}
   */
  name?: string;
  /**
   * The server version announced to clients.
   * @default {"0.1.0"}
   */
  version?: string;
  /**
   * Subscribes the server to changes of the CodeMode's tool set. It is called once with a
   * `changed` callback; call that after each `codeMode.setTools(...)` and the server describes the
   * tools again and sends `notifications/tools/list_changed`. Return a function that unsubscribes;
   * the server calls it when it closes.
   * @default {undefined}
   */
  watchTools?: (changed: () => void) => () => void;
  /**
   * Receives one line per event worth logging (a failed notification, a finished run); stdio
   * servers must not write these to standard output.
   * @default {undefined}
   */
  log?: (message: string) => void;
  /**
   * Called as each `run_program` request arrives, before the program runs (e.g. to restart MCP
   * servers that failed, so the next run can reach them).
   * @default {undefined}
   */
  beforeRun?: () => void;
}

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

const PROGRAM_INPUT = {
  program: z.string().describe(
    "One complete TypeScript program (an ES module, top-level await allowed). Call the tools " +
      "declared in this tool's description as async functions and print() only what the answer " +
      "needs.",
  ),
};

/**
 * The text a client shows for a run: what the program printed, then the error report on failure
 * and any type-check warnings.
 *
 * @param result The run's result.
 * @returns The text content of the `run_program` result.
 *
 * @example Format a failed run
 * ```ts
 * import { _runResultText } from "./server.ts";
 * _runResultText({
 *   ok: false,
 *   output: "partial\n",
 *   error: { kind: "runtime", message: "Error: boom" },
 *   calls: 0,
 *   stats: { durationMs: 1, toolResultBytes: 0, outputBytes: 8 },
 * }); // "partial\nruntime error: Error: boom"
 * ```
 */
export function _runResultText(result: RunResult): string {
  if (result.error === undefined && !result.diagnostics?.length) {
    return result.output === "" ? "(the program printed nothing)" : result.output;
  }
  const parts: string[] = [];
  if (result.output !== "") parts.push(result.output.replace(/\n$/, ""));
  if (result.error) parts.push(formatRunError(result.error));
  for (const d of result.diagnostics ?? []) {
    parts.push(`warning ${d.line}:${d.column} ${d.kind} ${d.message}`);
  }
  return parts.join("\n");
}

function _progressMessage(call: ToolCallTrace): string {
  return `${call.tool} ${call.ok ? "done" : "failed"} in ${call.durationMs.toFixed(0)} ms`;
}

/**
 * Creates an MCP server offering one tool, `run_program` (`{ program: string }`), that runs the
 * program with `codeMode` and returns what it printed.
 *
 * - The tool's description is `codeMode.describe().description`; with `watchTools`, it follows
 *   changes of the tool set and the server sends `notifications/tools/list_changed`.
 * - The result's text content is the printed output; a failed run has `isError: true` and the
 *   error report after the output. `structuredContent` is the whole {@linkcode RunResult}
 *   (declared as the tool's `outputSchema`).
 * - A request with a progress token gets one `notifications/progress` per tool call completed.
 * - A cancelled request (`notifications/cancelled`) ends its run.
 *
 * The server does not own `codeMode`: close it yourself after the server. One server serves one
 * connection; create one per session (e.g. per Streamable HTTP session) over the same CodeMode.
 *
 * @param codeMode The CodeMode that runs programs.
 * @param options Name, version, tool-change subscription and logging.
 * @returns An SDK `McpServer`, not yet connected.
 *
 * @example Serve a CodeMode over stdio
 * ```ts ignore
 * import { CodeMode, createCodeModeServer } from "@codemode/cli";
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 *
 * const codeMode = new CodeMode({ tools: [] });
 * const server = createCodeModeServer(codeMode);
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function createCodeModeServer(
  codeMode: CodeMode,
  options: CodeModeServerOptions = {},
): CodeModeMcpServer {
  const log = options.log ?? (() => {});
  const server = new McpServer(
    { name: options.name ?? "codemode", version: options.version ?? "0.1.0" },
    { capabilities: { tools: { listChanged: true } } },
  );
  let described = codeMode.describe().description;
  const tool = server.registerTool(RUN_PROGRAM_TOOL, {
    title: "Run a TypeScript program against the tools",
    description: described,
    inputSchema: PROGRAM_INPUT,
    outputSchema: RUN_RESULT,
    annotations: { title: "Run a TypeScript program", openWorldHint: true },
  }, async ({ program }, extra): Promise<CallToolResult> => {
    const token = extra._meta?.progressToken;
    let done = 0;
    const onToolCall = token === undefined ? undefined : (call: ToolCallTrace) => {
      done++;
      extra.sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: done, message: _progressMessage(call) },
      }).catch((err: unknown) => log(`progress notification failed: ${String(err)}`));
    };
    options.beforeRun?.();
    const result = await codeMode.run(program, { signal: extra.signal, onToolCall });
    log(
      `run_program: ${result.ok ? "ok" : `${result.error?.kind} error`}, ${result.calls} tool ` +
        `calls, ${result.stats.durationMs.toFixed(0)} ms${
          extra.signal.aborted ? " (cancelled)" : ""
        }`,
    );
    const out: CallToolResult = {
      content: [{ type: "text", text: _runResultText(result) }],
      structuredContent: result as unknown as Record<string, unknown>,
    };
    if (!result.ok) out.isError = true;
    return out;
  });
  const unsubscribe = options.watchTools?.(() => {
    let next: string;
    try {
      next = codeMode.describe().description;
    } catch (err) {
      log(`cannot describe the new tool set: ${(err as Error).message}`);
      return;
    }
    if (next === described) return;
    described = next;
    // Set the field rather than call tool.update(), whose notification's failure (a client gone)
    // would be an unhandled rejection.
    tool.description = next;
    if (server.isConnected()) {
      server.server.sendToolListChanged().catch((err: unknown) =>
        log(`tools/list_changed notification failed: ${String(err)}`)
      );
    }
  });
  if (unsubscribe) {
    const previous = server.server.onclose;
    server.server.onclose = () => {
      unsubscribe();
      previous?.();
    };
  }
  return server;
}
