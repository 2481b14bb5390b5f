/**
 * Runs sharing sandbox processes: each run in its own Worker of a process its tenant's runs
 * share, a hostile run ending only itself, tenants never sharing a process, and values crossing
 * the channel as structured clones both ways. Real processes and Workers throughout.
 */

import assert from "node:assert/strict";
import { CodeMode, type Tool } from "../mod.ts";
import { assertNothingOutlives } from "./_fixtures/sandbox_watch.ts";

/** A tool that answers after `ms`, and records which runs were waiting at once. */
function waitTool(): { tool: Tool; peak: () => number } {
  let waiting = 0;
  let peak = 0;
  return {
    tool: {
      name: "wait",
      description: "Answers `{ tag }` after `ms` milliseconds.",
      inputSchema: {
        type: "object",
        properties: { ms: { type: "integer" }, tag: { type: "string" } },
        required: ["ms", "tag"],
      },
      execute: async ({ ms, tag }: { ms: number; tag: string }) => {
        waiting++;
        peak = Math.max(peak, waiting);
        await new Promise((r) => setTimeout(r, ms));
        waiting--;
        return { tag };
      },
    },
    peak: () => peak,
  };
}

Deno.test("a busy loop, a heap bomb and a buffer bomb end their own runs; neighbours of the same and of another tenant finish normally", async () => {
  const { tool, peak } = waitTool();
  const codeMode = new CodeMode({
    tools: [tool],
    check: "off",
    poolSize: 1,
    burstPoolSize: 1,
    runsPerProcess: 8,
    limits: { memoryMb: 64 },
  });
  try {
    // The neighbours wait on a tool for longer than the hostile runs take to be stopped.
    const neighbour = (tenant: string) =>
      codeMode.run(
        `print("start");\nconst r = await wait({ ms: 3000, tag: ${
          JSON.stringify(tenant)
        } });\nprint(r.tag, "done");`,
        { tenant, limits: { timeoutMs: 60_000 } },
      );
    const sameTenant = neighbour("a");
    const otherTenant = neighbour("b");
    // Hostile runs of tenant "a", in the neighbour's process (one process holds eight runs).
    const [spin, heap, buffers] = await Promise.all([
      codeMode.run(`print("spinning");\nwhile (true) {}`, {
        tenant: "a",
        limits: { timeoutMs: 1500 },
      }),
      codeMode.run(
        `print("growing");\nconst a: number[][] = [];\nawait null;\nwhile (true) a.push(new Array(100_000).fill(1.5));`,
        { tenant: "a", limits: { timeoutMs: 30_000 } },
      ),
      codeMode.run(
        `print("buffers");\nconst a: ArrayBuffer[] = [];\nwhile (true) a.push(new ArrayBuffer(16 * 1024 * 1024));`,
        { tenant: "a", limits: { timeoutMs: 30_000 } },
      ),
    ]);
    assert.equal(spin.error?.kind, "timeout", JSON.stringify(spin.error));
    assert.equal(spin.output, "spinning\n");
    // A heap bomb inside a microtask: V8 stops it at the limit without an error event; the
    // watchdog sees a silent Worker that uses no CPU and reports it as out of memory.
    assert.equal(heap.error?.kind, "memory", JSON.stringify(heap.error));
    assert.equal(heap.output, "growing\n");
    assert.equal(buffers.error?.kind, "memory", JSON.stringify(buffers.error));
    const [a, b] = await Promise.all([sameTenant, otherTenant]);
    assert.deepEqual([a.ok, a.output], [true, "start\na done\n"], JSON.stringify(a.error));
    assert.deepEqual([b.ok, b.output], [true, "start\nb done\n"], JSON.stringify(b.error));
    assert.equal(peak(), 2, "both neighbours waited at once");
    // The process with the spinning Worker takes no new run; the next runs still work.
    const next = await codeMode.run(`print(1)`, { tenant: "a" });
    assert.equal(next.output, "1\n", JSON.stringify(next.error));
    // What is left: one warm Worker per tenant.
    await assertNothingOutlives([codeMode], 2);
  } finally {
    await codeMode.close();
  }
});

Deno.test("runs of one tenant share a process; runs of different tenants never do", async () => {
  const { tool } = waitTool();
  await using codeMode = new CodeMode({ tools: [tool], check: "off", poolSize: 0 });
  // Processes that appeared for these runs (those of earlier tenants may still be alive).
  const pidsDuring = async (tenants: string[]) => {
    const before = new Set(codeMode.sandboxPids);
    const seen = new Set<number>();
    await Promise.all(tenants.map((tenant) =>
      codeMode.run(`await wait({ ms: 300, tag: "x" });`, {
        tenant,
        onToolCall: () => codeMode.sandboxPids.forEach((p) => before.has(p) || seen.add(p)),
      })
    ));
    return seen.size;
  };
  assert.equal(await pidsDuring(["t1", "t1", "t1"]), 1, "three runs of one tenant, one process");
  assert.equal(await pidsDuring(["t2", "t3", "t4"]), 3, "three tenants, three processes");
});

Deno.test("values cross the channel as structured clones both ways", async () => {
  let received: Record<string, unknown> | undefined;
  await using codeMode = new CodeMode({
    check: "off",
    tools: [{
      name: "rich",
      description: "Returns values JSON cannot carry.",
      inputSchema: { type: "object" },
      execute: () => ({
        bytes: new Uint8Array([1, 2, 3]),
        when: new Date(86_400_000),
        map: new Map([["k", new Set([1, 2])]]),
        big: 2n ** 70n,
        missing: undefined,
        nan: NaN,
        holes: [1, , 3],
      }),
    }, {
      name: "take",
      description: "Records what it is given.",
      inputSchema: { type: "object" },
      execute: (input: Record<string, unknown>) => {
        received = input;
        return "taken";
      },
    }],
  });
  const result = await codeMode.run(`const v = await rich({});
print(v.bytes instanceof Uint8Array, v.bytes.length, v.when instanceof Date, v.when.getTime());
print(v.map instanceof Map, v.map.get("k") instanceof Set, typeof v.big, v.big === 2n ** 70n);
print("missing" in v, Number.isNaN(v.nan), 1 in v.holes);
print(await take({ back: v.bytes, at: v.when, tags: new Set(["a"]), n: 5n }));`);
  assert.equal(
    result.output,
    "true 3 true 86400000\ntrue true bigint true\ntrue true false\ntaken\n",
    JSON.stringify(result.error),
  );
  assert.ok(received?.back instanceof Uint8Array);
  assert.deepEqual([...(received.back as Uint8Array)], [1, 2, 3]);
  assert.ok(received.at instanceof Date);
  assert.ok(received.tags instanceof Set && received.tags.has("a"));
  assert.equal(received.n, 5n);
});
