/**
 * `codemode check`: compile, apply the import policy and type-check a program without running it.
 *
 * @module
 */

import { formatDiagnostic } from "../program/compile.ts";
import { _UsageError, type CliIo } from "./cli_io.ts";
import { _checkFlag, _openSession, _parse, _TOOL_FLAGS_HELP } from "./common_flags.ts";
import { _readProgram } from "./program_source.ts";

/** Help for `codemode check`. */
export const CHECK_HELP = `codemode check — check a program without running it

Usage: codemode check [flags] <program.ts | ->

Prints one finding per line: line:column kind message. Exit 0 when clean, 1 with findings,
2 on a usage error. The program is checked against the tools the flags enable.

Flags:
${_TOOL_FLAGS_HELP}

Example:
  codemode check program.ts
  codemode check --json --mcp mcp.json program.ts
`;

/** Runs `codemode check`; returns the exit code. */
export async function _checkCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = _parse(args, {});
  if (values.help) {
    io.stdout(CHECK_HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new _UsageError(`check takes one program, got ${positionals.length}`);
  }
  const source = await _readProgram(positionals[0], io);
  await using session = await _openSession(values, io, { poolSize: 0 });
  const mode = _checkFlag(values);
  const result = await session.codeMode.check(source, { check: mode === "off" ? "off" : "error" });
  const diagnostics = result.diagnostics.length || result.ok ? result.diagnostics : [{
    kind: "syntax" as const,
    message: result.error!.message,
    line: result.error!.line ?? 1,
    column: result.error!.column ?? 1,
  }];
  if (values.json) {
    io.stdout(JSON.stringify({ ok: result.ok && diagnostics.length === 0, diagnostics }) + "\n");
  } else {
    for (const d of diagnostics) io.stdout(formatDiagnostic(d) + "\n");
  }
  return result.ok && diagnostics.length === 0 ? 0 : 1;
}
