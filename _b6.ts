import { CodeMode } from "./src/code_mode.ts";
const slow = {
  name: "slow",
  description: "slow",
  inputSchema: { type: "object" },
  execute: (x: { ms: number }) => new Promise((r) => setTimeout(() => r(1), x.ms)),
};
await using cm = new CodeMode({ check: "off", tools: [slow], learnShapes: false });
cm.warmUp();
await new Promise((r) => setTimeout(r, 2000));
const t = performance.now();
const rs = await Promise.all(
  Array.from({ length: 200 }, () => cm.run(`await slow({ ms: 1000 }); print("ok")`)),
);
console.log(
  "200 x 1s wall s",
  ((performance.now() - t) / 1000).toFixed(2),
  rs.filter((x) => x.ok).length,
);
const errs = new Map<string, number>();
for (const r of rs) {
  if (!r.ok) {
    errs.set(r.error!.message.slice(0, 150), (errs.get(r.error!.message.slice(0, 150)) ?? 0) + 1);
  }
}
console.log(errs);
console.log(
  "durations p50/max",
  rs.map((r) => r.stats.durationMs).sort((a, b) => a - b)[100],
  Math.max(...rs.map((r) => r.stats.durationMs)),
);
