/**
 * `codemode serve`: an MCP server with one tool, `run_program`, over stdio or Streamable HTTP.
 *
 * @module
 */

import { resolve } from "node:path";
import {
  _DEFAULT_MAX_SESSIONS,
  _DEFAULT_SESSION_IDLE_MS,
  type _HttpServing,
  _serveHttp,
} from "../mcp/http_server.ts";
import { _isLoopback } from "../mcp/http_access.ts";
import { _defaultMaxRuns, RunLimit } from "../mcp/run_limit.ts";
import { createCodeModeServer } from "../mcp/server.ts";
import { _StdioServerTransport } from "../mcp/stdio_transport.ts";
import { _UsageError, type CliIo } from "./cli_io.ts";
import { _openSession, _parse, _SERVE_FLAGS_HELP } from "./common_flags.ts";

/** Help for `codemode serve`. */
export const SERVE_HELP = `codemode serve — be an MCP server with one tool, run_program

Usage: codemode serve [flags]

Speaks MCP over stdio (default), or Streamable HTTP at http://127.0.0.1:PORT/mcp with --http.
run_program takes { program: string }; its description declares the tools the flags enable and
follows changes of the MCP servers' tools and of the result shapes learned. Logs go to stderr.
Stops on SIGINT/SIGTERM, or when standard input ends (stdio).

Flags:
${_SERVE_FLAGS_HELP}
  --max-runs N        Programs running at once, across all sessions (default: one per CPU core,
                      ${_defaultMaxRuns()} here); more wait in line
  --max-queue N       Programs that may wait in that line (default: 4 × --max-runs); past it a
                      call gets a "busy, retry" error result at once
  --http PORT         Serve Streamable HTTP on 127.0.0.1:PORT (0 picks a free port) instead of stdio
  --host ADDR         With --http: listen on ADDR instead of 127.0.0.1 (beyond loopback, e.g.
                      0.0.0.0, a token is required)
  --token-file FILE   With --http: every request needs "Authorization: Bearer <token>", the token
                      being FILE's content (or set CODEMODE_TOKEN); others get 401
  --max-sessions N    With --http: sessions open at once (default: ${_DEFAULT_MAX_SESSIONS}); one more is refused
  --session-idle-ms MS
                      With --http: a session without a request for MS is closed, and its id then
                      gets 404 (default: ${_DEFAULT_SESSION_IDLE_MS}, 10 minutes)

Example:
  codemode serve --mcp mcp.json
  codemode serve --http 3000 --root ~/project --allow-run --token-file ~/.codemode-token
  npx -y @modelcontextprotocol/inspector --cli deno run -A mod.ts serve --method tools/list
`;

const SERVE_FLAGS = {
  http: { type: "string" },
  host: { type: "string" },
  "token-file": { type: "string" },
  "max-runs": { type: "string" },
  "max-queue": { type: "string" },
  "max-sessions": { type: "string" },
  "session-idle-ms": { type: "string" },
} as const;

type _Values = Record<string, string | boolean | undefined>;

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

function _whole(values: _Values, flag: string, min: number): number | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isInteger(n) || n < min) {
    throw new _UsageError(
      `--${flag} takes a whole number of at least ${min}, got "${String(value)}"`,
    );
  }
  return n;
}

/** The bearer token from `--token-file`, else `CODEMODE_TOKEN`, else none. */
async function _token(values: _Values, io: CliIo): Promise<string | undefined> {
  const file = values["token-file"];
  if (typeof file === "string") {
    let text: string;
    try {
      text = await Deno.readTextFile(resolve(io.cwd, file));
    } catch (err) {
      throw new _UsageError(`--token-file ${file}: cannot read it (${(err as Error).message})`);
    }
    const token = text.trim();
    if (token === "" || /\s/.test(token)) {
      throw new _UsageError(
        `--token-file ${file}: the file must hold one token (no spaces), e.g. from ` +
          `"openssl rand -hex 32 > ${file}"`,
      );
    }
    return token;
  }
  const env = Deno.env.get("CODEMODE_TOKEN")?.trim();
  if (env === undefined || env === "") return undefined;
  if (/\s/.test(env)) throw new _UsageError("CODEMODE_TOKEN must be one token, without spaces");
  return env;
}

/** What the flags say about HTTP, checked before anything starts. */
async function _httpSettings(values: _Values, io: CliIo) {
  const port = _port(values.http);
  const httpOnly = ["host", "token-file", "max-sessions", "session-idle-ms"];
  if (port === undefined) {
    const given = httpOnly.filter((f) => values[f] !== undefined);
    if (given.length > 0) {
      throw new _UsageError(
        `${given.map((f) => `--${f}`).join(", ")} only apply to --http; add --http PORT`,
      );
    }
    return undefined;
  }
  const hostname = typeof values.host === "string" ? values.host : "127.0.0.1";
  if (hostname.trim() === "") throw new _UsageError(`--host takes an address, got ""`);
  const token = await _token(values, io);
  if (!_isLoopback(hostname) && token === undefined) {
    throw new _UsageError(
      `--host ${hostname} serves beyond this machine, so clients must authenticate: set a token ` +
        `with --token-file FILE or CODEMODE_TOKEN (or serve on 127.0.0.1)`,
    );
  }
  return {
    port,
    hostname,
    token,
    maxSessions: _whole(values, "max-sessions", 1),
    sessionIdleMs: _whole(values, "session-idle-ms", 1),
  };
}

/** Calls `stop` on SIGINT or SIGTERM (where the platform has them); returns what removes the listeners. */
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
  const { values, positionals } = _parse(args, SERVE_FLAGS);
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new _UsageError(`serve takes no program, got: ${positionals.join(" ")}`);
  }
  const http = await _httpSettings(values, io);
  const maxRuns = _whole(values, "max-runs", 1);
  const runLimit = new RunLimit({ maxRuns, maxQueued: _whole(values, "max-queue", 0) });
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
        runLimit,
      });
    const runs = `at most ${runLimit.maxRuns} runs at once, ${runLimit.maxQueued} waiting`;
    const toolCount = codeMode.tools.length;
    if (http !== undefined) {
      let serving: _HttpServing;
      try {
        serving = await _serveHttp({ ...http, newServer, log });
      } catch (err) {
        if (!(err instanceof Deno.errors.AddrInUse)) throw err;
        throw new _UsageError(
          `--http ${http.port}: the port is in use on ${http.hostname}; pick another, or 0 for ` +
            `any free port`,
        );
      }
      const auth = http.token ? "bearer token required" : "no token";
      log(`${toolCount} tools; ${runs}; ${auth}; MCP endpoint ${serving.url} (Streamable HTTP)`);
      await stopped;
      log("stopping");
      await serving.close();
      return 0;
    }
    const server = newServer();
    await server.connect(new _StdioServerTransport());
    log(`${toolCount} tools; ${runs}; serving MCP on stdio`);
    server.closed.then(() => stop("stdin"));
    await stopped;
    await server.close();
    return 0;
  } finally {
    removeSignals();
  }
}
