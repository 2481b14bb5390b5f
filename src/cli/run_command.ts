/**
 * `codemode run`: run a program file against the tools and print what it printed.
 *
 * @module
 */

import { _warnings } from "../program_tool.ts";
import { formatRunError } from "../run/run_errors.ts";
import type { RunResult } from "../types.ts";
import { _UsageError, type CliIo } from "./cli_io.ts";
import { _openSession, _parse, _TOOL_FLAGS_HELP } from "./common_flags.ts";
import { _readProgram } from "./program_source.ts";
import { _StatusLine } from "./status_line.ts";

/** Help for `codemode run`. */
export const RUN_HELP = `codemode run — run a TypeScript program against the tools in a sandbox

Usage: codemode run [flags] <program.ts | ->

Only what the program prints goes to stdout; the error report goes to stderr.
Exit code 0: the program succeeded; 1: it failed (see the report); 2: usage error.

Flags:
${_TOOL_FLAGS_HELP}
  --trace             After the run, print each tool call (start, duration, bytes) to stderr

Example:
  codemode run --root . examples/seed_demo.ts
  echo 'print(await list_files({ pattern: "*.md" }))' | codemode run -
`;

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

/** The `--trace` report: each call on a timeline, then the context kept out. */
export function _traceReport(result: RunResult): string {
  const lines = ["codemode trace:"];
  const calls = result.trace ?? [];
  const end = Math.max(1, ...calls.map((c) => c.startMs + c.durationMs));
  const width = 30;
  for (const c of calls) {
    const from = Math.floor((c.startMs / end) * width);
    const to = Math.max(from + 1, Math.round(((c.startMs + c.durationMs) / end) * width));
    const bar = " ".repeat(from) + "█".repeat(to - from) + " ".repeat(Math.max(0, width - to));
    lines.push(
      `  |${bar}| ${c.startMs.toFixed(1).padStart(7)} ms +${
        c.durationMs.toFixed(1).padStart(7)
      } ms  ${c.ok ? "ok  " : "FAIL"} ${c.tool}  in ${kb(c.inputBytes)}, out ${kb(c.outputBytes)}`,
    );
  }
  const s = result.stats;
  const kept = s.toolResultBytes > 0
    ? ` — ${
      (100 * (1 - Math.min(1, s.outputBytes / s.toolResultBytes))).toFixed(1)
    }% kept out of the context`
    : "";
  lines.push(
    `  ${result.calls} tool calls in ${s.durationMs.toFixed(1)} ms; tools returned ${
      kb(s.toolResultBytes)
    }, the program printed ${kb(s.outputBytes)}${kept}`,
  );
  return lines.join("\n") + "\n";
}

/** Runs `codemode run`; returns the exit code. */
export async function _runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = _parse(args, { trace: { type: "boolean" } });
  if (values.help) {
    io.stdout(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new _UsageError(
      `run takes one program, got ${positionals.length}: ${positionals.join(" ")}`,
    );
  }
  const source = await _readProgram(positionals[0], io);
  const json = values.json === true;
  // A live line on a terminal's stderr while the run is long (src/cli/status_line.ts).
  const status = _StatusLine.start(io, { json });
  let result: RunResult;
  try {
    await using session = await _openSession(values, io, { poolSize: 1, wrapTool: status?.wrap });
    result = await session.codeMode.run(source, {
      onOutput: json ? undefined : (text) => {
        status?.clear();
        io.stdout(text);
      },
    });
  } finally {
    status?.stop();
  }
  if (json) {
    io.stdout(JSON.stringify(result) + "\n");
  } else {
    const cutNote = result.error?.kind === "limit" && result.output.includes("[output cut:");
    if (result.error && !cutNote) io.stderr(`codemode: ${formatRunError(result.error)}\n`);
    for (const d of _warnings(result)) {
      io.stderr(`codemode: warning ${d.line}:${d.column} ${d.kind} ${d.message}\n`);
    }
  }
  if (values.trace) io.stderr(_traceReport(result));
  return result.ok ? 0 : 1;
}
