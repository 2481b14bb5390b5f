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
const cpu = (pid: number | "self") => {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (+f[11] + +f[12]) * 10;
  } catch {
    return 0;
  }
};
const kids = () =>
  [...Deno.readDirSync("/proc")].filter((e) => /^\d+$/.test(e.name)).map((e) => +e.name).filter(
    (pid) => {
      try {
        return Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ")[1] ===
          String(Deno.pid);
      } catch {
        return false;
      }
    },
  );
const hostBefore = cpu("self");
const t = performance.now();
const samples = new Map<number, number>();
const iv = setInterval(() => {
  for (const k of kids()) samples.set(k, cpu(k));
}, 100);
const rs = await Promise.all(
  Array.from({ length: 200 }, () => cm.run(`await slow({ ms: 1000 }); print("ok")`)),
);
for (const k of kids()) samples.set(k, cpu(k));
clearInterval(iv);
console.log(
  "wall",
  ((performance.now() - t) / 1000).toFixed(2),
  "ok",
  rs.filter((x) => x.ok).length,
  "host cpu ms",
  cpu("self") - hostBefore,
);
for (const [k, c] of samples) {
  let cmd = "";
  try {
    cmd = Deno.readTextFileSync(`/proc/${k}/cmdline`).slice(0, 60).replace(/\0/g, " ");
  } catch {}
  console.log(
    k,
    c,
    "ms",
    cmd.includes("compiler") || cmd.includes("allow-read") ? "compiler" : "sandbox",
  );
}
