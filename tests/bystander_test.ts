/**
 * The host holds: `codemode serve --http` as an attacker would use it. While one client sends
 * hostile programs — each aimed at work on the host's own thread (globs, fences, transpile, the
 * type check, tool search, deep arguments), at its memory, or at the sandbox — another client's
 * `print(1)` keeps answering, each hostile run ends within its timeout + 2 s, and the server's
 * memory stays within 300 MB of where it started. Real server process, real HTTP, official SDK
 * client.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startServe } from "./_fixtures/processes.ts";
import { TEMPLATE_BOMB } from "./_fixtures/hostile_programs.ts";

/** The run timeout the server is started with. */
const TIMEOUT_MS = 3_000;

/** Hostile programs, by the host mechanism each one aims at. */
const HOSTILE: [string, string][] = [
  [
    "a glob of empty brace alternatives",
    `print(await list_files({ pattern: "${"{,,,,,,,,,,,,}*".repeat(6)}x" }));`,
  ],
  ["a long line that opens like a fence", "```ts " + "a".repeat(200_000) + "\nprint(1);\n"],
  ["a 64 KB flat expression", "const a = 1;\nprint(" + "a+".repeat(32_000) + "a);\n"],
  ["a pathological type", TEMPLATE_BOMB],
  ["a triple-slash reference to a file", '/// <reference path="/etc/passwd" />\nprint(1);\n'],
  ["a 600 KB tool search", `print(await searchTools(${JSON.stringify("read ".repeat(120_000))}));`],
  [
    "an argument nested 10,000 deep",
    `let a: unknown = 1;\nfor (let i = 0; i < 10_000; i++) a = [a];\nprint(await read_file({ path: a as string }));`,
  ],
  ["a busy loop", `print("spin");\nwhile (true) {}`],
  [
    "a heap bomb in a microtask",
    `await null;\nconst a: number[][] = [];\nwhile (true) a.push(new Array(100_000).fill(1.5));`,
  ],
  ["a buffer bomb", `const a: ArrayBuffer[] = [];\nwhile (true) a.push(new ArrayBuffer(1 << 24));`],
  ["an output flood", `for (;;) print("x".repeat(1000));`],
  ["a message flood", `for (;;) postMessage({ t: "call", id: 1, tool: "read_file", a: "{}" });`],
];

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "codemode-bystander-test", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

function run(client: Client, program: string): Promise<CallToolResult> {
  return client.callTool(
    { name: "run_program", arguments: { program } },
    undefined,
    // The HTTP client's own timeout: well past what any run here may take.
    { timeout: 60_000 },
  ) as Promise<CallToolResult>;
}

Deno.test({
  name:
    "serve --http: hostile programs end within their timeout + 2 s while a bystander's print(1) keeps answering",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "codemode_bystander_" }));
    await Deno.writeTextFile(join(root, "a.txt"), "a");
    const { proc, url } = await startServe([
      "--root",
      root,
      "--timeout",
      String(TIMEOUT_MS),
      "--memory",
      "64",
    ]);
    const attacker = await connect(url);
    const bystander = await connect(url);
    try {
      // Warm both sessions first, so the bystander's figures are about the attack.
      await run(attacker, "print(0)");
      await run(bystander, "print(0)");
      const rssStart = rssMb(proc.pid);
      let attacking = true;
      const latencies: number[] = [];
      const watching = (async () => {
        while (attacking) {
          const t = performance.now();
          const r = await run(bystander, "print(1)");
          latencies.push(performance.now() - t);
          assert.equal((r.content[0] as { text: string }).text, "1\n", JSON.stringify(r));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const slow: string[] = [];
      try {
        for (const [name, program] of HOSTILE) {
          const t = performance.now();
          const r = await run(attacker, program);
          const took = performance.now() - t;
          // The bound: the run's own timeout plus 2 s, whatever the program did.
          if (took > TIMEOUT_MS + 2_000) slow.push(`${name}: ${Math.round(took)} ms`);
          assert.ok(r.content.length > 0, name);
        }
      } finally {
        attacking = false;
        await watching;
      }
      assert.deepEqual(slow, [], "hostile runs that outlived their timeout + 2 s");
      latencies.sort((a, b) => a - b);
      const p90 = latencies[Math.floor(latencies.length * 0.9)];
      // The bound for a 2-core machine: p90 of the bystander's answers within 1 s.
      assert.ok(p90 <= 1_000, `bystander p90 ${Math.round(p90)} ms over ${latencies.length} runs`);
      const grew = rssMb(proc.pid) - rssStart;
      console.log(
        `bystander: ${latencies.length} answers, p50 ${
          Math.round(latencies[latencies.length >> 1])
        } ms, ` +
          `p90 ${Math.round(p90)} ms; server RSS ${Math.round(rssStart)} → ${
            Math.round(rssStart + grew)
          } MB`,
      );
      assert.ok(grew <= 300, `the server's RSS grew by ${Math.round(grew)} MB`);
    } catch (err) {
      console.error(`codemode serve stderr:\n${proc.stderr()}`);
      throw err;
    } finally {
      await attacker.close();
      await bystander.close();
      await proc.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});
