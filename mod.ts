/**
 * codemode runs an LLM's TypeScript program against tools in a locked-down sandbox and returns
 * only what the program printed. Instead of calling tools one at a time and carrying every raw
 * result in its context, the model writes one program that calls every tool as an `async`
 * function — in parallel, filtering and joining data in code.
 *
 * Each run is type-checked against the tools' declarations before any tool runs, then executed
 * in a Worker of its own, with a heap limit, inside a permission-less sandbox `deno` process that
 * hosts only the same caller's runs; tool calls and their results cross, as structured clones, a
 * channel the host validates against each tool's schema and the run's budgets.
 *
 * This entry is the core (no MCP, CLI or dax code loads with it). The rest are subpaths:
 * `@codemode/cli/tools` (built-in tools), `/mcp` (MCP servers as tools), `/mcp-server` (codemode as
 * an MCP server), `/ai` (an AI SDK tool) and `/cli`. Run as a program, this module is the `codemode`
 * CLI (`run | check | describe | serve | tools`).
 *
 * @example Run a program against a tool
 * ```ts
 * import { CodeMode } from "@codemode/cli";
 *
 * await using codeMode = new CodeMode({
 *   tools: [{
 *     name: "get_weather",
 *     description: "Current weather for a city.",
 *     inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
 *     execute: ({ city }) => ({ city, celsius: city === "Oslo" ? 4 : 21 }),
 *   }],
 * });
 * const result = await codeMode.run(`
 *   const cities = ["Oslo", "Rome", "Lima"];
 *   const all = await Promise.all(cities.map((city) => get_weather({ city })));
 *   print(all.filter((w) => w.celsius > 10).map((w) => w.city).join(", "));
 * `);
 * console.log(result.output); // "Rome, Lima\n"
 * ```
 *
 * @module
 */

import { _loadSchemaCompiler } from "./src/tools/schema_compiler.ts";

export {
  type CheckMode,
  type CheckResult,
  CodeMode,
  type CodeModeOptions,
  type RunOptions,
} from "./src/code_mode.ts";
export { DEFAULT_LIMITS, type Limits } from "./src/limits.ts";
export type {
  Diagnostic,
  JsonSchema,
  RunError,
  RunErrorKind,
  RunResult,
  RunStats,
  Tool,
  ToolCallTrace,
  ToolContext,
} from "./src/types.ts";
export { toIdentifier } from "./src/tools/names.ts";
export { formatRunError } from "./src/run/run_errors.ts";
export { formatDiagnostic } from "./src/program/compile.ts";
export {
  type DescribedTool,
  type DescribeOptions,
  describeTools,
  type Description,
  schemaToTypeScript,
  type SchemaToTypeScriptOptions,
  searchTools,
  type SearchToolsOptions,
  toolDeclarations,
  type ToolDeclarationsOptions,
  type ToolMatch,
} from "./src/describe/mod.ts";
if (import.meta.main) {
  // Run as a program, this module is the CLI, loaded only then: first the "run with -A" message
  // and a compiler process that starts loading TypeScript while the CLI loads, then the CLI.
  await import("./src/cli/permission_guard.ts");
  await import("./src/cli/compiler_prestart.ts");
  const { main } = await import("./src/cli/main.ts");
  Deno.exitCode = await main(Deno.args);
} else {
  // A library user's `new CodeMode({ tools })` compiles the tools' schemas at once and refuses
  // one that cannot be compiled (src/tools/tool_set.ts); the CLI loads the compiler only when a
  // run calls a tool.
  // If it cannot load, every tool call is refused with the reason (fail-closed), not the import.
  await _loadSchemaCompiler().catch(() => {});
}
