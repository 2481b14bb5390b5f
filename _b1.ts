import { CodeMode } from "./src/code_mode.ts";
const nop = { name: "nop", description: "nop", inputSchema: { type: "object" }, execute: () => 1 };
const slow = {
  name: "slow",
  description: "slow",
  inputSchema: { type: "object" },
  execute: (x: { ms: number }) => new Promise((r) => setTimeout(() => r(1), x.ms)),
};
await using cm = new CodeMode({ check: "off", tools: [nop, slow], learnShapes: false });
cm.warmUp();
await new Promise((r) => setTimeout(r, 2000));
const p50 = (a: number[]) => (a.sort((x, y) => x - y), a[Math.floor(a.length / 2)]);
for (let i = 0; i < 5; i++) await cm.run("print(1)");
const warm: number[] = [];
for (let i = 0; i < 20; i++) {
  await new Promise((r) => setTimeout(r, 100));
  const t = performance.now();
  await cm.run("print(1)");
  warm.push(performance.now() - t);
}
console.log("warm trivial run p50 ms", p50(warm).toFixed(2));
const b2b: number[] = [];
const t0 = performance.now();
for (let i = 0; i < 40; i++) {
  const t = performance.now();
  await cm.run("print(1)");
  b2b.push(performance.now() - t);
}
console.log(
  "back-to-back p50 ms",
  p50(b2b).toFixed(2),
  "mean",
  ((performance.now() - t0) / 40).toFixed(2),
);
let r = await cm.run(
  `const t = performance.now(); for (let i = 0; i < 2000; i++) await nop({}); print(((performance.now() - t) / 2000 * 1000).toFixed(1))`,
  { limits: { maxToolCalls: 5000 } },
);
console.log("sequential call us", r.output.trim(), r.error?.message);
r = await cm.run(
  `const t = performance.now(); await Promise.all(Array.from({length: 5000}, () => nop({}))); print(Math.round(5000 / ((performance.now() - t) / 1000)))`,
  { limits: { maxToolCalls: 10000 } },
);
console.log("parallel calls/s", r.output.trim(), r.error?.message);
let t = performance.now();
let rs = await Promise.all(
  Array.from(
    { length: 50 },
    () => cm.run(`for (let i = 0; i < 10; i++) await slow({ ms: 20 }); print("ok")`),
  ),
);
console.log(
  "50 x 10 x 20ms wall s",
  ((performance.now() - t) / 1000).toFixed(2),
  rs.filter((x) => x.ok).length,
);
t = performance.now();
rs = await Promise.all(
  Array.from({ length: 200 }, () => cm.run(`await slow({ ms: 1000 }); print("ok")`)),
);
console.log(
  "200 x 1s wall s",
  ((performance.now() - t) / 1000).toFixed(2),
  rs.filter((x) => x.ok).length,
);
