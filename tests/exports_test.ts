/**
 * The public surface: `deno.json` "exports" is what is public, and the core entry stays light.
 *
 * @module
 */

import assert from "node:assert/strict";

const REPO = new URL("..", import.meta.url);

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; isDynamic?: boolean }[];
}

/** Modules `entry` loads when imported: its static graph (dynamic imports left out). */
async function staticGraph(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const byName = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    let name = todo.pop()!;
    name = info.redirects[name] ?? name;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const dep of byName.get(name)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code?.specifier) todo.push(dep.code.specifier);
    }
  }
  return [...seen];
}

Deno.test("import { CodeMode } from the core entry loads no MCP, dax, AI SDK or CLI module", async () => {
  const loaded = await staticGraph("mod.ts");
  const heavy = loaded.filter((s) =>
    /\/src\/(mcp|cli|ai)\/|dax|@modelcontextprotocol|npm:\/?ai@|json-schema-to-typescript/.test(s)
  );
  assert.deepEqual(heavy, [], "the core entry's static graph");
  assert.ok(loaded.some((s) => s.endsWith("/src/code_mode.ts")));
});

Deno.test("every export in deno.json is a module that exists, and mod.ts is the main entry", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO)));
  const exports = config.exports as Record<string, string>;
  assert.equal(exports["."], "./mod.ts");
  for (const [name, path] of Object.entries(exports)) {
    const stat = await Deno.stat(new URL(path, REPO));
    assert.ok(stat.isFile, `${name} → ${path}`);
  }
  assert.deepEqual(
    Object.keys(exports).sort(),
    [".", "./ai", "./cli", "./mcp", "./mcp-server", "./tools"],
  );
});
