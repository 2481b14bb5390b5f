import { CodeMode } from "./src/code_mode.ts";
const nop = { name: "nop", description: "nop", inputSchema: { type: "object" }, execute: () => 1 };
await using cm = new CodeMode({ check: "off", tools: [nop], learnShapes: false });
for (let k = 0; k < 3; k++) {
  const r = await cm.run(
    `const t = performance.now(); for (let i = 0; i < 5000; i++) await nop({}); print(((performance.now() - t) / 5000 * 1000).toFixed(1))`,
    { limits: { maxToolCalls: 10000 } },
  );
  console.log("sequential call us", r.output.trim(), r.error?.message);
}
