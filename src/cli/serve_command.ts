/**
 * `codemode serve`: an MCP server with one tool, `run_program`, over stdio or Streamable HTTP.
 *
 * @module
 */

import process from "node:process";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { _serveHttp } from "../mcp/http_server.ts";
import { createCodeModeServer } from "../mcp/server.ts";
import { _UsageError, type CliIo } from "./cli_io.ts";
import { _openSession, _parse, _TOOL_FLAGS_HELP } from "./common_flags.ts";

/** Help for `codemode serve`. */
export const SERVE_HELP = `codemode serve — be an MCP server with one tool, run_program

Usage: codemode serve [flags]

Speaks MCP over stdio (default), or Streamable HTTP at http://127.0.0.1:PORT/mcp with --http.
run_program takes { program: string }; its description declares the tools the flags enable and
follows changes of the MCP servers' tools and of the result shapes learned. Logs go to stderr.
Stops on SIGINT/SIGTERM, or when standard input ends (stdio).

Flags:
${_TOOL_FLAGS_HELP}
  --http PORT         Serve Streamable HTTP on 127.0.0.1:PORT (0 picks a free port) instead of stdio

Example:
  codemode serve --mcp mcp.json
  codemode serve --http 3000 --root ~/project --allow-run
  npx -y @modelcontextprotocol/inspector --cli deno run -A mod.ts serve --method tools/list
`;

function _port(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (
    typeof value !== "string" || value.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535
  ) {
    throw new _UsageError(`--http takes a port number from 0 to 65535, got "${String(value)}"`);
  }
  return n;
}

/** Resolves on SIGINT or SIGTERM (where the platform has them); `dispose` removes the listeners. */
function _stopSignals(stop: () => void): () => void {
  const removers: (() => void)[] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, stop);
      removers.push(() => Deno.removeSignalListener(sig, stop));
    } catch {
      // SIGTERM cannot be listened to on Windows; Ctrl+C still works.
    }
  }
  return () => removers.forEach((r) => r());
}

/** Runs `codemode serve`; returns the exit code once the server stopped. */
export async function _serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = _parse(args, { http: { type: "string" } });
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new _UsageError(`serve takes no program, got: ${positionals.join(" ")}`);
  }
  const port = _port(values.http);
  // From here on, stdout may be the protocol channel: only io.stderr is written.
  const log = (message: string) => io.stderr(`codemode serve: ${message}\n`);
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  const removeSignals = _stopSignals(() => stop("signal"));
  try {
    await using session = await _openSession(values, io);
    const { codeMode, mcp } = session;
    codeMode.warmUp();
    const newServer = () =>
      createCodeModeServer(codeMode, {
        // Tool changes, and learned result shapes, re-describe and send list_changed.
        watchTools: (changed) => {
          const offTools = mcp?.onToolsChanged(() => changed());
          const offShapes = codeMode.onShapesLearned(changed);
          return () => {
            offTools?.();
            offShapes();
          };
        },
        log,
        beforeRun: () => session.retryFailedServers(log),
      });
    const toolCount = codeMode.tools.length;
    if (port !== undefined) {
      let serving;
      try {
        serving = await _serveHttp({ port, newServer, log });
      } catch (err) {
        if (!(err instanceof Deno.errors.AddrInUse)) throw err;
        throw new _UsageError(
          `--http ${port}: the port is in use on 127.0.0.1; pick another, or 0 for any free port`,
        );
      }
      log(`${toolCount} tools; MCP endpoint ${serving.url} (Streamable HTTP)`);
      await stopped;
      log("stopping");
      await serving.close();
      return 0;
    }
    const server = newServer();
    const transport = new StdioServerTransport();
    const ended = () => stop("stdin");
    process.stdin.on("end", ended);
    process.stdin.on("close", ended);
    try {
      await server.connect(transport);
      log(`${toolCount} tools; serving MCP on stdio`);
      await stopped;
      await server.close();
    } finally {
      process.stdin.off("end", ended);
      process.stdin.off("close", ended);
      // A stdin still open (stopped by a signal) must not keep the process alive.
      process.stdin.destroy();
    }
    return 0;
  } finally {
    removeSignals();
  }
}
