/**
 * Flags shared by the commands that run or describe programs, and building a CodeMode from them.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { resolve } from "node:path";
import { type CheckMode, CodeMode } from "../code_mode.ts";
import type { McpServers } from "../mcp/servers.ts";
import { builtinTools } from "../tools/builtin/mod.ts";
import type { Tool } from "../types.ts";
import { _UsageError, type CliIo } from "./cli_io.ts";

/** The flags every tool-using command accepts. */
export const _TOOL_FLAGS = {
  root: { type: "string" },
  mcp: { type: "string" },
  "allow-write": { type: "boolean" },
  "allow-run": { type: "boolean" },
  "allow-net": { type: "string" },
  timeout: { type: "string" },
  memory: { type: "string" },
  "no-check": { type: "boolean" },
  check: { type: "string" },
  "no-learn": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const SHARED_FLAGS_HELP =
  `  --root DIR          Directory the built-in tools are confined to (default: current directory)
  --mcp FILE          MCP servers to use as tools ({"mcpServers": {...}}, as in Claude Desktop)
  --allow-write       Enable write_file and edit_file (inside --root)
  --allow-run         Enable the bash tool (runs commands in --root)
  --allow-net=HOSTS   Enable web_fetch for these hosts only (comma-separated, host or host:port)
  --timeout MS        Wall-time limit for a run (default: 60000)
  --memory MB         Memory limit for a run (default: 256)
  --check MODE        Type-check mode: error (default), warn or off
  --no-check          Same as --check off
  --no-learn          Do not learn the shapes of tool results (kept in $XDG_CACHE_HOME/codemode)`;

/** Help text for the shared flags. */
export const _TOOL_FLAGS_HELP = `${SHARED_FLAGS_HELP}
  --json              Print machine-readable JSON
  -h, --help          Show this help`;

/** Help text for the shared flags of `serve`, which speaks MCP and prints no reports. */
export const _SERVE_FLAGS_HELP = `${SHARED_FLAGS_HELP}
  -h, --help          Show this help`;

/** Parses `args` with the shared flags plus `extra`; usage errors become `_UsageError`. */
export function _parse<T extends ParseArgsConfig["options"]>(
  args: string[],
  extra: T,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ..._TOOL_FLAGS, ...extra },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    throw new _UsageError((err as Error).message.replace(/^.*TypeError.*?: /, ""));
  }
}

function positiveInt(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new _UsageError(`--${flag} takes a positive whole number, got "${String(value)}"`);
  }
  return n;
}

/** The check mode the flags ask for. */
export function _checkFlag(values: Record<string, string | boolean | undefined>): CheckMode {
  if (values["no-check"]) return "off";
  const mode = values.check ?? "error";
  if (mode !== "error" && mode !== "warn" && mode !== "off") {
    throw new _UsageError(`--check takes error, warn or off, got "${String(mode)}"`);
  }
  return mode;
}

/** A CodeMode with the built-in tools (and MCP servers) the flags enable. */
export interface _Session extends AsyncDisposable {
  codeMode: CodeMode;
  mcp: McpServers | null;
  root: string;
  /**
   * Starts again, in the background, MCP servers that failed or died — at most once per
   * `RETRY_MS` — so a long-lived `serve` recovers them for the next run.
   */
  retryFailedServers(log?: (message: string) => void): void;
}

/** How often `serve` tries again to start MCP servers that failed. */
const RETRY_MS = 30_000;

/** Builds the tools and the CodeMode the flags describe. */
export async function _openSession(
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
  options: { poolSize?: number; wrapTool?: (tool: Tool) => Tool } = {},
): Promise<_Session> {
  const root = resolve(io.cwd, String(values.root ?? "."));
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new Error("not a directory");
  } catch (err) {
    throw new _UsageError(
      `--root ${root} is not a directory you can read (${(err as Error).message})`,
    );
  }
  const allowNet = typeof values["allow-net"] === "string"
    ? values["allow-net"].split(",").map((h) => h.trim()).filter(Boolean)
    : undefined;
  const builtins = builtinTools({
    root,
    allowWrite: values["allow-write"] === true,
    allowRun: values["allow-run"] === true,
    allowNet,
  });
  let mcp: McpServers | null = null;
  if (typeof values.mcp === "string") {
    let config;
    try {
      // The MCP client (the SDK, ajv, zod) loads only for a command given --mcp.
      const { loadMcpConfig } = await import("../mcp/config.ts");
      config = await loadMcpConfig(resolve(io.cwd, values.mcp));
    } catch (err) {
      throw new _UsageError(`--mcp ${values.mcp}: ${(err as Error).message}`);
    }
    try {
      const { connectMcpServers } = await import("../mcp/servers.ts");
      mcp = await connectMcpServers(config);
    } catch (err) {
      throw new _UsageError(`--mcp ${values.mcp}: ${(err as Error).message}`);
    }
    for (const s of mcp.status()) {
      if (s.state === "failed") io.stderr(`codemode: MCP server "${s.name}" failed: ${s.error}\n`);
    }
  }
  const wrap = options.wrapTool ?? ((tool: Tool) => tool);
  const tools = (): Tool[] => [...builtins, ...(mcp?.tools ?? [])].map(wrap);
  const codeMode = new CodeMode({
    tools: tools(),
    check: _checkFlag(values),
    learnShapes: values["no-learn"] !== true,
    poolSize: options.poolSize,
    limits: {
      timeoutMs: positiveInt(values.timeout, "timeout"),
      memoryMb: positiveInt(values.memory, "memory"),
    },
  });
  mcp?.onToolsChanged(() => codeMode.setTools(tools()));
  let lastRetry = performance.now();
  let retrying = false;
  return {
    codeMode,
    mcp,
    root,
    retryFailedServers(log) {
      if (!mcp || retrying || performance.now() - lastRetry < RETRY_MS) return;
      const down = mcp.status().filter((s) => s.state === "failed" || s.state === "disconnected");
      if (down.length === 0) return;
      lastRetry = performance.now();
      retrying = true;
      log?.(`starting again: ${down.map((s) => s.name).join(", ")}`);
      mcp.reconnect().catch((err) => log?.(`restart failed: ${String(err)}`)).finally(() => {
        retrying = false;
      });
    },
    async [Symbol.asyncDispose]() {
      await codeMode.close();
      await mcp?.close();
    },
  };
}
