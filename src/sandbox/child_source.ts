/**
 * The source of a sandbox process, built once from its serialised functions: the main module
 * (`_childMain`, with the router `_childRouter` inside it as a `data:` URL) goes on the command
 * line; the program Worker's module (the channel's halves, `_workerRuntime` and its parts) is sent
 * in the host's first frame, so the command line stays short.
 *
 * @module
 */

import { _childMain } from "./child_main.ts";
import { _childRouter } from "./child_router.ts";
import { _WIRE } from "./protocol.ts";
import { _isPlainJson } from "./value_codec.ts";
import { _makeCalls } from "./worker_calls.ts";
import { _makeErrors } from "./worker_errors.ts";
import { _takeBytes, _workerInbox, _workerOutbox } from "./worker_channel.ts";
import { _makeGatherLimited } from "./worker_gather.ts";
import { _guardBuffers } from "./worker_buffers.ts";
import { _linkProgram } from "./worker_link.ts";
import { _lockDown } from "./worker_lockdown.ts";
import { _makeOutput } from "./worker_output.ts";
import { _workerRuntime } from "./worker_runtime.ts";
import { _makeTimers } from "./worker_timers.ts";

let mainUrl: string | undefined;
let workerSource: string | undefined;

function dataUrl(source: string): string {
  const bytes = new TextEncoder().encode(source);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return "data:text/javascript;base64," + btoa(binary);
}

/**
 * The process's main module as a `data:` URL. A `data:` main module needs no file and no read
 * permission, and works whether codemode itself was loaded from disk, JSR or a compiled binary.
 */
export function _childModuleUrl(): string {
  if (mainUrl === undefined) {
    const wire = JSON.stringify(_WIRE);
    const router = dataUrl(`(${_childRouter})(${wire});`);
    mainUrl = dataUrl(
      `import { Worker as NodeWorker } from "node:worker_threads";\n` +
        `(${_childMain})(${wire}, ${JSON.stringify(router)}, NodeWorker);`,
    );
  }
  return mainUrl;
}

/** The program Worker's module source (the main isolate turns it into a `data:` URL). */
export function _workerModuleSource(): string {
  if (workerSource === undefined) {
    const wire = JSON.stringify(_WIRE);
    // The channel is opened first, so it takes stdout and the ring before the runtime hides them;
    // `Deno.exit` (in a Worker it ends the Worker) is taken before the lock-down replaces it.
    workerSource = `import v8 from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
// Waiting on the ring (Atomics.waitAsync) does not keep a Worker alive; a port listener does.
parentPort.on("message", () => {});
const wire = ${wire};
const exit = Deno.exit.bind(Deno, 0);
const codec = { serialize: v8.serialize.bind(v8), deserialize: v8.deserialize.bind(v8) };
const bytes = (${_takeBytes})();
const outbox = (${_workerOutbox})(wire, workerData, codec, bytes);
const channel = { ...outbox, ...(${_workerInbox})(wire, workerData, codec, bytes, outbox.send) };
(${_workerRuntime})(wire, channel, {
  makeOutput: ${_makeOutput},
  makeCalls: ${_makeCalls},
  makeErrors: ${_makeErrors},
  makeTimers: ${_makeTimers},
  makeGatherLimited: ${_makeGatherLimited},
  lockDown: ${_lockDown},
  guardBuffers: ${_guardBuffers},
  linkProgram: ${_linkProgram},
  isPlainJson: ${_isPlainJson},
}, exit);
`;
  }
  return workerSource;
}
