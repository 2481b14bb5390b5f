/**
 * The source text of the tool stub modules the host generates. What each stub exports is defined
 * once, in `src/program/stub_modules.ts` (the type-checker declares the same modules); here each
 * export becomes a line that re-exports the function the sandbox runtime put in scope, so calling
 * an imported tool goes through the host's channel like calling the global.
 *
 * @module
 */

import { stubModules } from "../program/stub_modules.ts";
import type { _StubModule } from "./protocol.ts";

/** The stub modules a compiled program's imports need, as source text. */
export function _stubsFor(
  imports: readonly { stub: string | null }[],
  programNames: readonly string[],
): _StubModule[] {
  if (imports.length === 0) return [];
  const wanted = new Set(imports.map((i) => i.stub));
  const out: _StubModule[] = [];
  for (const m of stubModules(programNames)) {
    if (!wanted.has(m.stub)) continue;
    const lines = ["const t = globalThis.__codemode__.tools;"];
    for (const [name, path] of Object.entries(m.exports)) {
      const access = path.split(".").map((p) => `[${JSON.stringify(p)}]`).join("");
      lines.push(`export const ${name} = t${access};`);
    }
    lines.push(m.stub === null ? "export default t;" : `export default ${m.stub};`);
    out.push({ stub: m.stub, source: lines.join("\n") });
  }
  return out;
}
