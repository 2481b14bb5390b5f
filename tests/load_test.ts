/**
 * Load: many programs at once on one CodeMode, each with its own sandbox process. Every run must
 * finish with exactly its own output (also as streamed), and no process may be left behind.
 * The host's RSS is reported, not asserted (machines differ).
 */

import assert from "node:assert/strict";
import { CodeMode, type Tool } from "../mod.ts";
import { assertNothingOutlives } from "./_fixtures/sandbox_watch.ts";

const RUNS = 50;
const POOL_SIZE = 2;

const tag: Tool = {
  name: "tag",
  description: "Returns `run:step` after a short, random delay.",
  inputSchema: {
    type: "object",
    properties: { run: { type: "integer" }, step: { type: "integer" } },
    required: ["run", "step"],
  },
  execute: async ({ run, step }: { run: number; step: number }) => {
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10)));
    return `${run}:${step}`;
  },
};

function program(i: number): string {
  return `const a = await tag({ run: ${i}, step: 1 });
const [b, c] = await Promise.all([tag({ run: ${i}, step: 2 }), tag({ run: ${i}, step: 3 })]);
const rest = await gatherLimited([4, 5, 6].map((step) => () => tag({ run: ${i}, step })), 2);
print("run ${i} start");
print(a, b, c, ...rest);
print("run ${i} end");`;
}

function expected(i: number): string {
  const tags = [1, 2, 3, 4, 5, 6].map((s) => `${i}:${s}`).join(" ");
  return `run ${i} start\n${tags}\nrun ${i} end\n`;
}

Deno.test(`${RUNS} programs at once all finish with their own output`, async () => {
  const rssBefore = Deno.memoryUsage().rss;
  const codeMode = new CodeMode({ tools: [tag], poolSize: POOL_SIZE, burstPoolSize: POOL_SIZE });
  try {
    codeMode.warmUp();
    const streamed: string[] = Array.from({ length: RUNS }, () => "");
    const started = performance.now();
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
    }, 50);
    let results;
    try {
      results = await Promise.all(
        Array.from(
          { length: RUNS },
          (_, i) => codeMode.run(program(i), { onOutput: (text) => (streamed[i] += text) }),
        ),
      );
    } finally {
      clearInterval(sampler);
    }
    const wall = performance.now() - started;
    results.forEach((result, i) => {
      assert.equal(result.ok, true, `run ${i}: ${JSON.stringify(result.error)}`);
      assert.equal(result.output, expected(i), `run ${i} output`);
      assert.equal(streamed[i], expected(i), `run ${i} streamed output`);
      assert.equal(result.calls, 6, `run ${i} calls`);
    });
    await assertNothingOutlives([codeMode], POOL_SIZE);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    console.log(
      `load: ${RUNS} runs at once in ${wall.toFixed(0)} ms; host RSS before ${mb(rssBefore)}, ` +
        `peak ${mb(peakRss)}, after ${
          mb(Deno.memoryUsage().rss)
        }; sandboxes left ${codeMode.sandboxPids.length} (pool ${POOL_SIZE})`,
    );
  } finally {
    await codeMode.close();
  }
});
