/**
 * Our schemaToTypeScript vs `json-schema-to-typescript` (formatting off) on the tool schemas of the
 * real MCP servers server-everything, server-filesystem and server-memory: output size, time,
 * whether the output compiles (TypeScript 6, strict) and whether the two types are equivalent.
 *
 * Run: deno run -A bench/schema_compare.ts
 *
 * @module
 */

import { compile } from "json-schema-to-typescript";
import { schemaToTypeScript } from "../src/describe/schema_to_typescript.ts";
import type { JsonSchema } from "../src/types.ts";
import { listServerTools } from "../tests/_fixtures/mcp_servers.ts";
import { typeCheck } from "../tests/_fixtures/ts_check.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** The schema without descriptions (to compare types alone). */
function bare(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(bare);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([k]) => k !== "description").map(([k, v]) => [k, bare(v)]),
  );
}

/** The library's output without `export interface Name` / `export type Name =`. */
function body(text: string, name: string): string {
  return text.replace(`export interface ${name} `, "").replace(`export type ${name} = `, "").trim();
}

const lists = await listServerTools();
const schemas: { label: string; schema: JsonSchema }[] = [];
for (const [server, tools] of Object.entries(lists)) {
  for (const t of tools) {
    schemas.push({ label: `${server}.${t.name} input`, schema: t.inputSchema });
    if (t.outputSchema) {
      schemas.push({ label: `${server}.${t.name} output`, schema: t.outputSchema });
    }
  }
}

const size = { ours: 0, oursBare: 0, libDefault: 0, libClosed: 0, libBare: 0 };
const time = { ours: 0, lib: 0 };
const oursDecls: string[] = [];
const libDecls: string[] = [];
const checks: string[] = [];
for (const [i, { schema }] of schemas.entries()) {
  let t0 = performance.now();
  const ours = schemaToTypeScript(schema);
  const oursBare = schemaToTypeScript(schema, { descriptions: false });
  time.ours += performance.now() - t0;
  t0 = performance.now();
  const options = { format: false, bannerComment: "" };
  const libDefault = await compile(schema, `D${i}`, options);
  const libClosed = await compile(schema, `L${i}`, { ...options, additionalProperties: false });
  const libBare = await compile(bare(schema) as JsonSchema, `B${i}`, {
    ...options,
    additionalProperties: false,
  });
  time.lib += performance.now() - t0;
  size.ours += bytes(ours);
  size.oursBare += bytes(oursBare);
  size.libDefault += bytes(body(libDefault, `D${i}`));
  size.libClosed += bytes(body(libClosed, `L${i}`));
  size.libBare += bytes(body(libBare, `B${i}`));
  oursDecls.push(`export type O${i} = ${ours};`);
  libDecls.push(libDefault, libClosed);
  // Equivalence with the library's closed-object output: each assignable to the other.
  checks.push(
    `export const eq${i}: [O${i}] extends [L${i}] ? [L${i}] extends [O${i}] ? true : false : false = true;`,
  );
}

const oursErrors = typeCheck({ "/ours.ts": oursDecls.join("\n") });
const libErrors = typeCheck({ "/lib.ts": libDecls.join("\n") });
const eqErrors = typeCheck({
  "/ours.ts": oursDecls.join("\n"),
  "/lib.ts": libDecls.join("\n"),
  "/eq.ts": `import type { ${schemas.map((_, i) => `O${i}`).join(", ")} } from "./ours.ts";\n` +
    `import type { ${schemas.map((_, i) => `L${i}`).join(", ")} } from "./lib.ts";\n` +
    checks.join("\n"),
});
const mismatched = eqErrors.map((e) => Number(/eq\.ts:(\d+)/.exec(e)?.[1] ?? 0) - 3)
  .filter((i) => i >= 0).map((i) => schemas[i]?.label);

console.log(`schemas: ${schemas.length} (${Object.keys(lists).join(", ")}; inputs and outputs)`);
console.log("bytes of type text (library: body without `export interface Name`):");
console.log(`  ours, with JSDoc ............ ${size.ours}`);
console.log(`  ours, types only ............ ${size.oursBare}`);
console.log(`  library, defaults ........... ${size.libDefault}  (adds [k: string]: unknown)`);
console.log(`  library, closed objects ..... ${size.libClosed}`);
console.log(`  library, closed, types only . ${size.libBare}`);
console.log(
  `time per schema: ours ${(time.ours / schemas.length / 2).toFixed(3)} ms, library ${
    (time.lib / schemas.length / 3).toFixed(3)
  } ms`,
);
console.log(`compile errors: ours ${oursErrors.length}, library ${libErrors.length}`);
console.log(
  `equivalent to the library's closed output: ${
    schemas.length - mismatched.length
  }/${schemas.length}` +
    (mismatched.length ? `; differs: ${mismatched.join(", ")}` : ""),
);
for (const e of [...oursErrors, ...libErrors]) console.log("  ", e);
const sample = schemas.findIndex((s) => s.label === "filesystem.edit_file input");
if (sample >= 0) {
  console.log(
    `\nsample, ${schemas[sample].label}:\n-- ours:\n${schemaToTypeScript(schemas[sample].schema)}`,
  );
  const lib = await compile(schemas[sample].schema, "EditFileInput", {
    format: false,
    bannerComment: "",
    additionalProperties: false,
  });
  console.log(`-- library (closed objects):\n${lib}`);
}
