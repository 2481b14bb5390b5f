/**
 * The source of a sandbox child process, built once from its serialised functions: the main
 * isolate's `_childRuntime`, and for the program's Worker `_workerChannel`, `_workerRuntime`,
 * `_makeGatherLimited` and `_lockDown`.
 *
 * @module
 */

import { _childRuntime } from "./child_runtime.ts";
import { _workerChannel } from "./worker_channel.ts";
import { _makeGatherLimited } from "./worker_gather.ts";
import { _lockDown } from "./worker_lockdown.ts";
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
    // The channel is opened first, so it takes stdin and stdout before the runtime hides them.
    const worker = dataUrl(
      `(${_workerRuntime})((${_workerChannel})(), ${_makeGatherLimited}, ${_lockDown});`,
    );
    cached = dataUrl(`(${_childRuntime.toString()})(${JSON.stringify(worker)});`);
  }
  return cached;
}
