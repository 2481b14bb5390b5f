/**
 * Embedding codemode in a Deno agent service: one CodeMode per tool set, the description goes
 * into the system prompt, each model answer is run as a program, and only its output returns.
 *
 * Run: deno run -A examples/embed.ts
 */
import { CodeMode, formatRunError, type Tool } from "../mod.ts";
import { builtinTools } from "../src/tools/mod.ts";

const weather: Tool = {
  name: "weather.current",
  description: "Current weather for a city.",
  inputSchema: {
    type: "object",
    properties: { city: { type: "string", description: "City name, e.g. Oslo" } },
    required: ["city"],
  },
  outputSchema: {
    type: "object",
    properties: { city: { type: "string" }, celsius: { type: "number" } },
    required: ["city", "celsius"],
  },
  execute: ({ city }: { city: string }) => ({ city, celsius: (city.length * 7) % 30 }),
};

await using codeMode = new CodeMode({
  tools: [...builtinTools({ root: "." }), weather],
  limits: { timeoutMs: 10_000 },
});

// What the model is told (put it in the system prompt or a tool description).
const { description } = codeMode.describe();
console.log(`description: ${description.length} characters`);

// What a model might answer with: one program, parallel calls, only the answer printed.
const program = `
const cities = ["Oslo", "Lisbon", "Nairobi", "Lima"];
const all = await Promise.all(cities.map((city) => weather.current({ city })));
const warm = all.filter((w) => w.celsius >= 15).sort((a, b) => b.celsius - a.celsius);
print(warm.map((w) => \`\${w.city} \${w.celsius}°C\`).join(", ") || "none warm");
`;
const result = await codeMode.run(program);
console.log(result.ok ? result.output : `${result.output}${formatRunError(result.error!)}`);
console.log(
  `calls: ${result.calls}, tools returned ${result.stats.toolResultBytes} B, printed ${result.stats.outputBytes} B`,
);
