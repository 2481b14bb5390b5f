/**
 * The source of a sandbox child process, built once from the two runtimes.
 *
 * @module
 */

import { _childRuntime } from "./child_runtime.ts";
import { _workerRuntime } from "./worker_runtime.ts";

let cached: string | undefined;

function dataUrl(source: string): string {
  const bytes = new TextEncoder().encode(source);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return "data:text/javascript;base64," + btoa(binary);
}

/**
 * The child's main module as a `data:` URL. A `data:` main module needs no file and no read
 * permission, and works whether codemode itself was loaded from disk, JSR or a compiled binary.
 */
export function _childModuleUrl(): string {
  if (cached === undefined) {
    const worker = dataUrl(`(${_workerRuntime.toString()})();`);
    cached = dataUrl(`(${_childRuntime.toString()})(${JSON.stringify(worker)});`);
  }
  return cached;
}
