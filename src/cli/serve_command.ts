/**
 * `codemode serve`: an MCP server with one tool, `run_program`. (Written with the MCP server issue.)
 *
 * @module
 */

import { _UsageError, type CliIo } from "./cli_io.ts";

/** Runs `codemode serve`; returns the exit code. */
export function _serveCommand(_args: string[], _io: CliIo): Promise<number> {
  return Promise.reject(new _UsageError("serve is not available yet"));
}
