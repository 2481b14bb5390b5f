/**
 * A host that starts a program which spins forever and prints the sandbox's pid once the program
 * runs; the test kills this host and checks the sandbox does not outlive it.
 *
 * @module
 */

import { CodeMode } from "../../mod.ts";

const codeMode = new CodeMode({ check: "off", poolSize: 0 });
codeMode.run('print("looping");\nwhile (true) {}', {
  limits: { timeoutMs: 120_000 },
  onOutput: () => console.log(JSON.stringify(codeMode.sandboxPids)),
});
