/**
 * The `codemode` command line as a function: `main(args, io)` runs `run | check | describe |
 * serve | tools` in-process and resolves to the exit code. (`deno run -A jsr:@codemode/cli …`
 * runs it as a program.)
 *
 * @example Check a program from code
 * ```ts ignore
 * import { main } from "@codemode/cli/cli";
 * const code = await main(["check", "program.ts"]);
 * ```
 *
 * @module
 */

export { main } from "./main.ts";
export { type CliIo } from "./cli_io.ts";
