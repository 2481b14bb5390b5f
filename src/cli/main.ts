/**
 * The `codemode` command line: `run | check | describe | serve | tools`.
 *
 * @module
 */

import { _processIo, _safeIo, _UsageError, type CliIo } from "./cli_io.ts";
import { _missingPermissions } from "./permission_guard.ts";
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

type _Command = (args: string[], io: CliIo) => Promise<number>;

/** Each command's module, loaded only when the command runs (a `run` loads no MCP server). */
const COMMANDS: Record<string, () => Promise<_Command>> = {
  run: async () => (await import("./run_command.ts"))._runCommand,
  check: async () => (await import("./check_command.ts"))._checkCommand,
  describe: async () => (await import("./describe_command.ts"))._describeCommand,
  serve: async () => (await import("./serve_command.ts"))._serveCommand,
  tools: async () => (await import("./describe_command.ts"))._toolsCommand,
};

/**
 * Runs the CLI with `args`; resolves to the exit code (0 success, 1 the program failed, 2 usage).
 *
 * @example Run the CLI in-process
 * ```ts
 * import { main } from "@codemode/cli/cli";
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
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (load === undefined) {
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
    return await (await load())(rest, io);
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
