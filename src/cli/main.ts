/**
 * The `codemode` command line: `run | check | describe | serve | tools`.
 *
 * @module
 */

import { _checkCommand } from "./check_command.ts";
import { _processIo, _safeIo, _UsageError, type CliIo } from "./cli_io.ts";
import { _missingPermissions } from "./permission_guard.ts";
import { _describeCommand, _toolsCommand } from "./describe_command.ts";
import { _runCommand } from "./run_command.ts";
import { _serveCommand } from "./serve_command.ts";
import { VERSION } from "../version.ts";

/** The version printed by `codemode --version`. */
export { VERSION };

/** Help for `codemode` itself. */
export const MAIN_HELP =
  `codemode ${VERSION} — run an LLM's TypeScript program against tools in a locked-down sandbox

Usage: codemode <command> [flags]

Commands:
  run <file|->     Run a program; only what it prints goes to stdout
  check <file|->   Compile, apply the import policy and type-check without running
  describe         Print the description a model gets (tool declarations, patterns, helpers)
  serve            Be an MCP server with one tool, run_program (stdio, or --http PORT)
  tools            List the tools programs can call

Run "codemode <command> --help" for the flags of a command.

Examples:
  codemode run examples/seed_demo.ts
  codemode serve --mcp mcp.json
`;

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  run: _runCommand,
  check: _checkCommand,
  describe: _describeCommand,
  serve: _serveCommand,
  tools: _toolsCommand,
};

/**
 * Runs the CLI with `args`; resolves to the exit code (0 success, 1 the program failed, 2 usage).
 *
 * @example Run the CLI in-process
 * ```ts
 * import { main } from "@codemode/cli";
 * const code = await main(["check", "program.ts"]);
 * ```
 */
export async function main(args: string[], io: CliIo = _processIo()): Promise<number> {
  const [command, ...rest] = args;
  // Program output to a terminal is escaped (scripts that pipe it, and --json, get it as it is);
  // serve's stdout is a protocol channel, never escaped.
  const flags = rest.slice(0, rest.includes("--") ? rest.indexOf("--") : undefined);
  io = _safeIo(
    io,
    io.stdoutIsTerminal === true && command !== "serve" && !flags.includes("--json"),
  );
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    io.stdout(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-V") {
    io.stdout(`codemode ${VERSION}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    io.stderr(
      `codemode: unknown command "${command}"; use one of: ${Object.keys(COMMANDS).join(", ")}\n`,
    );
    return 2;
  }
  const missing = _missingPermissions(args);
  if (missing !== null) {
    io.stderr(missing + "\n");
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (err) {
    if (err instanceof _UsageError) {
      io.stderr(
        `codemode ${command}: ${err.message}\nRun "codemode ${command} --help" for usage.\n`,
      );
      return 2;
    }
    throw err;
  }
}
