/**
 * `codemode describe` and `codemode tools`: what a model is told, and which tools there are.
 *
 * @module
 */

import type { CliIo } from "./cli_io.ts";
import { _openSession, _parse, _TOOL_FLAGS_HELP } from "./common_flags.ts";

/** Help for `codemode describe`. */
export const DESCRIBE_HELP =
  `codemode describe — print the description a model gets (the run_program tool's text)

Usage: codemode describe [flags]

Flags:
${_TOOL_FLAGS_HELP}
  --threshold N       Above N tools, list namespaces and point to searchTools (default: 40)

Example:
  codemode describe --mcp mcp.json
  codemode describe --json | jq '.tools[].signature'
`;

/** Help for `codemode tools`. */
export const TOOLS_HELP = `codemode tools — list the tools programs can call

Usage: codemode tools [flags]

Flags:
${_TOOL_FLAGS_HELP}

Example:
  codemode tools --allow-run --mcp mcp.json
`;

/** Runs `codemode describe`; returns the exit code. */
export async function _describeCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = _parse(args, { threshold: { type: "string" } });
  if (values.help) {
    io.stdout(DESCRIBE_HELP);
    return 0;
  }
  await using session = await _openSession(values, io, { poolSize: 0 });
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  const d = session.codeMode.describe(threshold === undefined ? {} : { threshold });
  io.stdout(values.json ? JSON.stringify(d) + "\n" : d.description);
  return 0;
}

/** Runs `codemode tools`; returns the exit code. */
export async function _toolsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = _parse(args, {});
  if (values.help) {
    io.stdout(TOOLS_HELP);
    return 0;
  }
  await using session = await _openSession(values, io, { poolSize: 0 });
  const { tools } = session.codeMode.describe({ threshold: Number.MAX_SAFE_INTEGER });
  if (values.json) {
    io.stdout(JSON.stringify({ tools, servers: session.mcp?.status() ?? [] }) + "\n");
    return 0;
  }
  for (const t of tools) io.stdout(`${t.signature}\n`);
  for (const s of session.mcp?.status() ?? []) {
    io.stdout(`# server ${s.name}: ${s.state}${s.error ? ` — ${s.error}` : ""}\n`);
  }
  return 0;
}
