/**
 * The CLI's permission check. `mod.ts` imports this module first, so that when the CLI was started
 * without the permissions it needs it can say which command to run instead — before TypeScript,
 * which reads the environment as it loads, is even imported.
 *
 * @module
 */

import { _escapeForTerminal } from "../run/run_errors.ts";

/**
 * Says which command to run when the process lacks the permissions the CLI needs
 * (it starts sandbox processes and reads the tool root); `null` when all is there.
 */
export function _missingPermissions(args: readonly string[] = Deno.args): string | null {
  const needed: Deno.PermissionDescriptor[] = [{ name: "run" }, { name: "read" }, { name: "env" }];
  const missing = needed.filter((d) => Deno.permissions.querySync(d).state !== "granted");
  if (missing.length === 0) return null;
  const command = args.join(" ") || "<command>";
  return `codemode needs to start sandbox processes and read files, but this process lacks --allow-${
    missing.map((d) => d.name).join(", --allow-")
  }.\nRun it with all permissions instead (the programs it runs still get none):\n  deno run -A jsr:@codemode/cli ${command}\n  deno task codemode ${command}      (from a checkout)`;
}

// Only when mod.ts is the program being run: a library import never exits the process.
if (Deno.mainModule === new URL("../../mod.ts", import.meta.url).href) {
  const missing = _missingPermissions();
  if (missing !== null) {
    console.error(_escapeForTerminal(missing)); // it quotes the arguments

    Deno.exit(2);
  }
}
