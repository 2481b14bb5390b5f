/**
 * The live status line of `codemode run`: only on a terminal, never with --json, counting calls
 * done and in flight.
 */

import assert from "node:assert/strict";
import { _StatusLine } from "../src/cli/status_line.ts";
import type { CliIo } from "../src/cli/cli_io.ts";
import type { Tool, ToolContext } from "../src/types.ts";

function io(terminal: boolean, onWrite?: (text: string) => void): CliIo & { err: string } {
  const out = {
    err: "",
    stdout: () => {},
    stderr: (text: string) => {
      out.err += text;
      onWrite?.(text);
    },
    readStdin: () => Promise.resolve(new Uint8Array()),
    stderrIsTerminal: terminal,
    cwd: ".",
  };
  return out;
}

const context: ToolContext = { signal: new AbortController().signal, name: "t" };

Deno.test("_StatusLine.start() shows a line only on a terminal and never with --json", () => {
  const cases: [boolean, boolean, boolean][] = [
    [true, false, true],
    [true, true, false],
    [false, false, false],
    [false, true, false],
  ];
  for (const [terminal, json, shown] of cases) {
    const status = _StatusLine.start(io(terminal), { json });
    assert.equal(status !== null, shown, `terminal ${terminal}, json ${json}`);
    status?.stop();
  }
});

Deno.test("_StatusLine counts tool calls done and in flight through wrapped tools", async () => {
  const target = io(true);
  const status = _StatusLine.start(target, { json: false })!;
  try {
    const pending = Promise.withResolvers<string>();
    const slow = status.wrap({
      name: "slow",
      description: "",
      inputSchema: { type: "object" },
      execute: () => pending.promise,
    } as Tool);
    const quick = status.wrap({
      name: "quick",
      description: "",
      inputSchema: { type: "object" },
      execute: () => 42,
    } as Tool);
    const failing = status.wrap({
      name: "failing",
      description: "",
      inputSchema: { type: "object" },
      execute: () => {
        throw new Error("no");
      },
    } as Tool);
    assert.equal(quick.execute({}, context), 42, "a synchronous result stays synchronous");
    assert.throws(() => failing.execute({}, context), /no/);
    const waiting = slow.execute({}, context) as Promise<string>;
    assert.match(status.text(), /^codemode: running \d+\.\d s · 2 tool calls done, 1 in flight$/);
    pending.resolve("ok");
    assert.equal(await waiting, "ok");
    assert.match(status.text(), /· 3 tool calls done, 0 in flight$/);
  } finally {
    status.stop();
  }
  assert.equal(target.err, "", "a short run never drew the line");
});

Deno.test("_StatusLine draws the line once the run is long, and takes it off for output and at the end", async () => {
  const drawn = Promise.withResolvers<void>();
  const target = io(true, (text) => text.includes("running") && drawn.resolve());
  const status = _StatusLine.start(target, { json: false })!;
  try {
    await drawn.promise;
    assert.match(
      target.err,
      // deno-lint-ignore no-control-regex -- the line's own cursor codes are what is checked
      /^\r\x1b\[2Kcodemode: running \d+\.\d s · 0 tool calls done, 0 in flight/,
    );
    status.clear();
    assert.ok(target.err.endsWith("\r\x1b[2K"));
  } finally {
    status.stop();
  }
});
