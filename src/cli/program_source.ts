/**
 * Reading a program named on the command line (a file, or `-` for standard input).
 *
 * @module
 */

import { resolve } from "node:path";
import { decodeProgram } from "../program/compile.ts";
import { _UsageError, type CliIo } from "./cli_io.ts";

/** Reads and decodes the program `arg` names; usage errors say what to pass instead. */
export async function _readProgram(arg: string | undefined, io: CliIo): Promise<string> {
  if (arg === undefined) {
    throw new _UsageError("name a program file, or - to read the program from standard input");
  }
  let bytes: Uint8Array;
  if (arg === "-") {
    bytes = await io.readStdin();
  } else {
    try {
      bytes = await Deno.readFile(resolve(io.cwd, arg));
    } catch (err) {
      throw new _UsageError(`cannot read the program file "${arg}": ${(err as Error).message}`);
    }
  }
  try {
    return decodeProgram(bytes);
  } catch (err) {
    throw new _UsageError(`${arg === "-" ? "standard input" : arg}: ${(err as Error).message}`);
  }
}
