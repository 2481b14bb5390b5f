/**
 * The main module of a compiler process: reads requests (one JSON object per line) on stdin,
 * runs the front end for each, in order, and writes the replies on stdout. The process has no
 * permission but reading TypeScript's library directory (and the import policy's wasm); the host
 * kills it when a compile overruns its deadline. It ends when stdin closes.
 *
 * @module
 */

// First: TypeScript must find an empty environment when it loads (see the module).
import "./compiler_child_env.ts";
import {
  type _ChildReply,
  _encodeLine,
  type _HostRequest,
  _LineReader,
} from "./compiler_protocol.ts";
import { _FrontEnd } from "./front_end.ts";
import { _LIB_DIR } from "./type_check.ts";

/** Writes one reply at once (the event loop may be blocked by the next compile). */
function _send(reply: _ChildReply): void {
  const bytes = _encodeLine(reply);
  for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
}

async function _serve(): Promise<void> {
  const frontEnd = new _FrontEnd();
  const lines = new _LineReader();
  const queue: _HostRequest[] = [];
  _send({ t: "ready", libDir: _LIB_DIR });
  const buffer = new Uint8Array(256 * 1024);
  while (true) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) break;
    lines.push(buffer.subarray(0, n), (line) => {
      if (line !== "") queue.push(JSON.parse(line) as _HostRequest);
    });
    while (queue.length > 0) await frontEnd.handle(queue.shift()!, _send);
  }
}

await _serve();
