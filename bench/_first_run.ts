/**
 * Run by `bench/main.ts` in a fresh process: the first `print(1)` of a new CodeMode, pool and
 * compiler cold. Prints one JSON line: `loaded` (ms from process start until the modules were
 * loaded), `firstRun` (ms from just before `new CodeMode` to the result), `sinceStart`.
 *
 *   deno run -A bench/_first_run.ts off|error
 *
 * @module
 */

import { CodeMode } from "../mod.ts";

const check = Deno.args[0] === "error" ? "error" : "off";
const loaded = performance.now();
const codeMode = new CodeMode({ check });
const result = await codeMode.run("print(1)");
const done = performance.now();
await codeMode.close();
console.log(JSON.stringify({
  loaded,
  firstRun: done - loaded,
  sinceStart: done,
  ok: result.ok && result.output === "1\n",
  error: result.error?.message,
}));
