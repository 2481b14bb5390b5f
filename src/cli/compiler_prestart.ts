/**
 * When `mod.ts` is the program being run with a command that compiles (`run`, `check`, `serve`):
 * starts a compiler process before the rest of codemode loads, so TypeScript loads in that child
 * while the host still loads its own modules. The CLI's first `CodeMode` takes it over. `mod.ts`
 * imports this module right after the permission guard; a library import does nothing here.
 *
 * @module
 */

import { _prestartCompiler } from "../program/compiler_pool.ts";
import { _DEFAULT_COMPILER_MEMORY_MB } from "../program/compile.ts";

if (
  Deno.mainModule === new URL("../../mod.ts", import.meta.url).href &&
  ["run", "check", "serve"].includes(Deno.args[0]) &&
  !Deno.args.some((a) => a === "--help" || a === "-h")
) {
  _prestartCompiler({ denoPath: Deno.execPath(), memoryMb: _DEFAULT_COMPILER_MEMORY_MB });
}
