/**
 * The program front end with the real TypeScript compiler and the real @deno/graph: fences,
 * import elision, the import policy, the type check and positions in the LLM's coordinates
 * (syntax, type and runtime — compiled programs are executed here as data: URL modules).
 */

import assert from "node:assert/strict";
import {
  type CompiledProgram,
  type CompileOptions,
  type CompileOutcome,
  formatDiagnostic,
  ProgramCompiler,
} from "../src/program/compile.ts";
import { decodeProgram } from "../src/program/source_text.ts";
import { stubModules } from "../src/program/stub_modules.ts";
import { _SourceMap } from "../src/program/source_map.ts";
import { _closeNames, _editDistance } from "../src/program/similar_names.ts";

const DECLARATIONS = `
declare function print(...values: unknown[]): void;
declare function gatherLimited<T>(tasks: Iterable<() => Promise<T>>, limit?: number): Promise<T[]>;
/** Reads a text file. */
declare function read_file(input: { path: string; encoding?: "utf-8" }): Promise<string>;
declare function list_files(input: { path?: string }): Promise<string[]>;
declare function search_files(input: { pattern: string }): Promise<{ path: string; line: number }[]>;
declare function web_fetch(input: { url: string }): Promise<any>;
declare namespace memory {
  function create_entities(input: { names: string[] }): Promise<{ created: number }>;
}
`;
const TOOL_NAMES = [
  "read_file",
  "list_files",
  "search_files",
  "web_fetch",
  "memory.create_entities",
];
const OPTIONS: CompileOptions = { declarations: DECLARATIONS, toolNames: TOOL_NAMES };

// One compiler for the file, its process started before the first test (it lives as long as the
// test process; requests and replies each start and end within a test).
const compiler = new ProgramCompiler();
await compiler.warm(OPTIONS);

function compile(source: string, options: CompileOptions = {}): Promise<CompileOutcome> {
  return compiler.compile(source, { ...OPTIONS, ...options });
}

async function compiled(source: string, options: CompileOptions = {}): Promise<CompiledProgram> {
  const outcome = await compile(source, options);
  if (!outcome.ok) {
    assert.fail(
      `expected a program, got ${outcome.error.kind} ${outcome.error.line}:` +
        `${outcome.error.column} ${outcome.error.message}`,
    );
  }
  return outcome.program;
}

async function refused(source: string, options: CompileOptions = {}) {
  const outcome = await compile(source, options);
  if (outcome.ok) assert.fail(`expected an error, got a program:\n${outcome.program.js}`);
  return outcome;
}

// ---- a stand-in sandbox: globals, stub modules as data: URLs, __codemode_import__ ----------

const output: string[] = [];
const calls: string[] = [];
const g = globalThis as Record<string, unknown>;
g.print = (...values: unknown[]) => output.push(values.map(String).join(" "));
g.read_file = (
  input: { path: string },
) => (calls.push(`read_file ${input.path}`), Promise.resolve(`text of ${input.path}`));
g.list_files = () => (calls.push("list_files"), Promise.resolve(["a.txt", "b.txt"]));
g.search_files = () => Promise.resolve([]);
g.web_fetch = () => Promise.resolve("");
g.memory = {
  create_entities: (
    input: { names: string[] },
  ) => (calls.push("memory.create_entities"), Promise.resolve({ created: input.names.length })),
};

const dataUrl = (js: string) => "data:text/javascript," + encodeURIComponent(js);
const STUB_URLS = new Map<string | null, string>(
  stubModules(TOOL_NAMES).map((m) => {
    const names = Object.keys(m.exports);
    const lines = Object.entries(m.exports).map(([name, path]) =>
      `export const ${name} = globalThis.${path};`
    );
    lines.push(
      m.stub === null
        ? `export default { ${names.join(", ")} };`
        : `export default globalThis.${m.stub};`,
    );
    return [m.stub, dataUrl(lines.join("\n"))];
  }),
);
g.__codemode_import__ = (specifier: unknown) => {
  const s = String(specifier);
  if (s === "codemode:tools") return import(STUB_URLS.get(null)!);
  const stub = s.startsWith("codemode:tools/") ? STUB_URLS.get(s.slice(15)) : undefined;
  if (stub) return import(stub);
  return Promise.reject(new Error(`import of "${s}" is refused: use the tools`));
};

let runs = 0;
/** Runs a compiled program like the sandbox would; returns its output and mapped error position. */
async function run(program: CompiledProgram) {
  let js = program.js;
  for (const { start, end, stub } of [...program.imports].reverse()) {
    const url = STUB_URLS.get(stub);
    assert.ok(url, `no stub module ${stub}`);
    js = js.slice(0, start) + JSON.stringify(url) + js.slice(end);
  }
  output.length = 0;
  calls.length = 0;
  try {
    // A unique trailing comment: data: modules are cached by URL.
    await import(dataUrl(`${js}\n// run ${++runs}`));
    return { output: [...output], calls: [...calls] };
  } catch (error) {
    const frame = String((error as Error).stack).split("\n")
      .find((line) => line.includes("data:text/javascript,"));
    const m = frame?.match(/:(\d+):(\d+)\)?$/);
    assert.ok(m, `no program frame in ${(error as Error).stack}`);
    return {
      output: [...output],
      calls: [...calls],
      error: error as Error,
      at: program.mapPosition(Number(m[1]), Number(m[2])),
    };
  }
}

/** 1-based line and column of the first occurrence of `marker` in `text`. */
function position(text: string, marker: string, nth = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < nth; i++) index = text.indexOf(marker, index + 1);
  assert.ok(index >= 0, `marker ${marker} not in text`);
  const before = text.slice(0, index).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

// ---- 1. import elision by the TypeScript compiler ----------------------------------------

Deno.test("compile() drops imports whose bindings are never used as values", async () => {
  const source = `import fs from "node:fs"; import { z } from "npm:zod";\n` +
    `const text = await read_file({ path: "README.md" });\nprint(text);`;
  const program = await compiled(source);
  assert.doesNotMatch(program.js, /node:fs|npm:zod|import /);
  assert.deepEqual(program.imports, []);
  const result = await run(program);
  assert.deepEqual(result.output, ["text of README.md"]);
});

Deno.test("compile() drops type-only imports", async () => {
  const program = await compiled(
    `import type { Stats } from "node:fs";\nimport { type Schema, type Infer } from "npm:zod";\n` +
      `import { type read_file as R } from "codemode:tools";\n` +
      `export type { Dirent } from "node:fs";\n` +
      `let s: Stats | Schema | Infer | typeof R | undefined;\nprint(typeof s);`,
  );
  assert.doesNotMatch(program.js, /import|node:fs|zod/);
  assert.deepEqual((await run(program)).output, ["undefined"]);
});

Deno.test("compile() drops an import used only inside a string", async () => {
  const program = await compiled(
    `import fs from "node:fs";\nimport * as path from "node:path";\n` +
      'print("fs and path are only words here", `path ${1 + 1}`);',
  );
  assert.doesNotMatch(program.js, /node:/);
  assert.deepEqual((await run(program)).output, ["fs and path are only words here path 2"]);
});

Deno.test("compile() handles several imports on one line and keeps only the used binding", async () => {
  const source =
    `import { read_file, list_files } from "codemode:tools"; import fs from "node:fs"; import { z } from "npm:zod";\n` +
    `print(await read_file({ path: "a.txt" }));`;
  const program = await compiled(source);
  assert.match(program.js, /^import \{ read_file \} from "codemode:tools";$/m);
  assert.doesNotMatch(program.js, /list_files|node:fs|zod/);
  const result = await run(program);
  assert.deepEqual(result.output, ["text of a.txt"]);
  assert.deepEqual(result.calls, ["read_file a.txt"]);
});

Deno.test("compile() keeps a used star import of codemode:tools and drops an unused one of node:fs", async () => {
  const program = await compiled(
    `import * as tools from "codemode:tools";\nimport * as fs from "node:fs";\n` +
      `const files = await tools.list_files({});\nprint(files.join(","));`,
  );
  assert.doesNotMatch(program.js, /node:fs/);
  assert.deepEqual(program.imports.map((i) => i.stub), [null]);
  assert.deepEqual((await run(program)).output, ["a.txt,b.txt"]);
});

Deno.test("compile() keeps side-effect imports for the policy", async () => {
  const ok = await compiled(`import "codemode:tools";\nprint("ok");`);
  assert.deepEqual(ok.imports.map((i) => i.stub), [null]);
  const outcome = await refused(`print("before");\nimport "node:fs";`);
  assert.equal(outcome.error.kind, "import");
  assert.deepEqual([outcome.error.line, outcome.error.column], [2, 8]);
});

// ---- 2. tool stub modules -------------------------------------------------------------------

Deno.test("compile() accepts every form of stub import and the program runs", async () => {
  const source = [
    `import { read_file as rf } from "codemode:tools";`,
    `import list from "codemode:tools/list_files";`,
    `import { read_file } from "codemode:tools/read_file";`,
    `import memory, { create_entities } from "codemode:tools/memory";`,
    `import tools from "codemode:tools";`,
    `const made = await memory.create_entities({ names: ["a", "b"] });`,
    `const again = await create_entities({ names: ["c"] });`,
    `print(await rf({ path: "x" }), (await list({})).length, await read_file({ path: "y" }),`,
    `  made.created, again.created, typeof tools.web_fetch);`,
  ].join("\n");
  const program = await compiled(source);
  assert.deepEqual(program.imports.map((i) => i.stub), [
    null,
    "list_files",
    "read_file",
    "memory",
    null,
  ]);
  for (const { start, end } of program.imports) {
    assert.match(program.js.slice(start, end), /^"codemode:tools.*"$/);
  }
  assert.deepEqual((await run(program)).output, ["text of x 2 text of y 2 1 function"]);
});

Deno.test("compile() refuses a stub import of a tool that does not exist and names close ones", async () => {
  const cases: [string, RegExp, [number, number]][] = [
    [
      `import x from "codemode:tools/raed_file";\nprint(x);`,
      /did you mean "codemode:tools\/read_file"/,
      [1, 15],
    ],
    [
      `import { raed_file } from "codemode:tools";\nprint(raed_file);`,
      /no export "raed_file"; did you mean read_file/,
      [1, 10],
    ],
    [`import { list_file as l } from "codemode:tools";\nprint(l);`, /did you mean list_files/, [
      1,
      10,
    ]],
    [
      `import { create_entities } from "codemode:tools";\nprint(create_entities);`,
      /import \{ create_entities \} from "codemode:tools\/memory"/,
      [1, 10],
    ],
    [
      `import m from "codemode:tools/create_entities";\nprint(m);`,
      /namespace: import it from "codemode:tools\/memory"/,
      [1, 15],
    ],
    [`import { print } from "codemode:tools";\nprint(1);`, /print is a global/, [1, 10]],
    [`export { raed_file } from "codemode:tools";`, /did you mean read_file/, [1, 10]],
    [`import x from "codemode:other";\nprint(x);`, /only codemode modules are "codemode:tools"/, [
      1,
      15,
    ]],
  ];
  for (const [source, message, [line, column]] of cases) {
    const { error } = await refused(source);
    assert.equal(error.kind, "import", source);
    assert.match(error.message, message, source);
    assert.deepEqual([error.line, error.column], [line, column], source);
  }
});

Deno.test("stubModules() lists codemode:tools, each tool and each namespace", () => {
  assert.deepEqual(stubModules(["read_file", "memory.create_entities", "memory.read_graph"]), [
    {
      specifier: "codemode:tools",
      stub: null,
      exports: { read_file: "read_file", memory: "memory" },
    },
    {
      specifier: "codemode:tools/read_file",
      stub: "read_file",
      exports: { read_file: "read_file" },
    },
    {
      specifier: "codemode:tools/memory",
      stub: "memory",
      exports: {
        memory: "memory",
        create_entities: "memory.create_entities",
        read_graph: "memory.read_graph",
      },
    },
  ]);
});

// ---- 3. the import policy ---------------------------------------------------------------------

Deno.test("compile() refuses every import but the stubs, with advice on what to use instead", async () => {
  const cases: [string, RegExp][] = [
    [
      `import fs from "node:fs";\nprint(fs.readFileSync("x"));`,
      /file tools read_file, list_files, search_files/,
    ],
    [
      `import { readFile } from "fs/promises";\nprint(await readFile("x"));`,
      /file tools read_file/,
    ],
    [`import http from "node:http";\nprint(http);`, /no network access; use the web_fetch tool/],
    [`import { spawn } from "node:child_process";\nprint(spawn);`, /cannot start processes/],
    [`import { join } from "node:path";\nprint(join("a", "b"));`, /paths are plain strings/],
    [
      `import { inspect } from "node:util";\nprint(inspect(1));`,
      /Node.js built-in modules are not available/,
    ],
    [
      `import { z } from "npm:zod";\nprint(z);`,
      /packages cannot be imported; use plain TypeScript or the tools/,
    ],
    [`import { join } from "jsr:@std/path";\nprint(join);`, /packages cannot be imported/],
    [`import _ from "lodash";\nprint(_);`, /packages cannot be imported/],
    [
      `import x from "https://deno.land/x/y/mod.ts";\nprint(x);`,
      /remote modules cannot be imported/,
    ],
    [
      `import helper from "./helper.ts";\nprint(helper);`,
      /local files cannot be imported as modules; read a file's text with read_file/,
    ],
    [
      `import data from "./data.json" with { type: "json" };\nprint(data);`,
      /local files cannot be imported/,
    ],
    [
      `import x from "data:text/javascript,export default 1";\nprint(x);`,
      /inline modules cannot be imported/,
    ],
    [`export * from "node:fs";`, /no file system access/],
    [`export { readFile } from "node:fs";`, /no file system access/],
  ];
  for (const [source, advice] of cases) {
    const { error, diagnostics } = await refused(source);
    assert.equal(error.kind, "import", source);
    assert.match(error.message, advice, source);
    assert.match(error.message, /Tools are globals/, source);
    assert.equal(error.line, 1, source);
    assert.equal(diagnostics[0].kind, "import", source);
  }
});

Deno.test("compile() reports the import's position in the text as sent, after removed lines", async () => {
  const source = 'Here is the program:\n\n```ts\nimport { z } from "npm:zod";\n' +
    "const n: number = 1;\n  import { readFileSync } from 'node:fs';\nprint(readFileSync, n);\n```\n";
  const { error } = await refused(source);
  assert.equal(error.kind, "import");
  assert.deepEqual({ line: error.line, column: error.column }, position(source, "'node:fs'"));
});

Deno.test("compile() lists every refused import in diagnostics", async () => {
  const { error, diagnostics } = await refused(
    `import a from "npm:a";\nimport b from "node:os";\nprint(a, b);`,
  );
  assert.deepEqual(diagnostics.map((d) => [d.kind, d.line]), [["import", 1], ["import", 2]]);
  assert.match(error.message, /1 more: 2:15 import Cannot import "node:os"/);
});

Deno.test("compile() rewrites every dynamic import() for the sandbox to serve or refuse at run time", async () => {
  const program = await compiled(
    'const name = "fs";\nconst a = import(`node:${name}`);\nconst b = import("codemode:tools");\n' +
      "a.catch(() => {});\nprint(typeof (await b).read_file);",
  );
  assert.doesNotMatch(program.js, /\bimport\(/);
  assert.equal(program.js.match(/__codemode_import__\(/g)?.length, 2);
  assert.deepEqual(program.imports, []);
  assert.deepEqual((await run(program)).output, ["function"]);
});

Deno.test("compile() lets a try { await import() } fallback run its catch branch", async () => {
  const source = [
    `let parse: (s: string) => unknown;`,
    `try {`,
    `  const yaml = await import("npm:yaml");`,
    `  parse = yaml.parse;`,
    `} catch (error) {`,
    `  print("fallback:", error.message);`,
    `  parse = JSON.parse;`,
    `}`,
    `print(JSON.stringify(parse('{"a":1}')));`,
  ].join("\n");
  const outcome = await compile(source);
  assert.ok(outcome.ok, !outcome.ok ? outcome.error.message : "");
  assert.deepEqual(outcome.diagnostics, []);
  const result = await run(outcome.program);
  assert.equal(result.error, undefined);
  assert.deepEqual(result.output, [
    'fallback: import of "npm:yaml" is refused: use the tools',
    '{"a":1}',
  ]);
});

// ---- 4. the type check --------------------------------------------------------------------------

Deno.test("compile() reports type errors with line, column and the compiler's message before any tool runs", async () => {
  const cases: [string, RegExp, [number, number]][] = [
    [
      `print(await raed_file({ path: "x" }));`,
      /Cannot find name 'raed_file'. Did you mean 'read_file'\?/,
      [1, 13],
    ],
    [`const t = await read_file({});\nprint(t);`, /Property 'path' is missing/, [1, 27]],
    [`print(await read_file({ path: 42 }));`, /Type 'number' is not assignable to type 'string'/, [
      1,
      25,
    ]],
    [
      `print(await read_file({ pth: "x" }));`,
      /'pth' does not exist in type .* Did you mean to write 'path'\?/,
      [1, 25],
    ],
    [
      `const r = await memory.create_entities({ names: "a" });\nprint(r.created);`,
      /not assignable to type 'string\[\]'/,
      [1, 42],
    ],
    [
      `const n: number = await read_file({ path: "x" });\nprint(n);`,
      /Type 'string' is not assignable to type 'number'/,
      [1, 7],
    ],
    [`const s: string = undefined;\nprint(s);`, /Type 'undefined' is not assignable/, [1, 7]],
  ];
  for (const [source, message, [line, column]] of cases) {
    const { error } = await refused(source);
    assert.equal(error.kind, "type", source);
    assert.match(error.message, message, source);
    assert.deepEqual([error.line, error.column], [line, column], source);
  }
});

Deno.test("compile() is pragmatic: untyped JSON, callbacks and catch variables pass", async () => {
  await compiled([
    `const data = JSON.parse(await read_file({ path: "x.json" }));`,
    `print(data.items.map(function (item) { return item.name; }));`,
    `const results = await gatherLimited([1, 2].map((n) => () => read_file({ path: String(n) })), 2);`,
    `const grouped = Object.groupBy(results, (r) => r.length > 3 ? "long" : "short");`,
    `print(grouped, new Set([1]).union(new Set([2])), [3, 1].toSorted());`,
    `try { await web_fetch({ url: "https://example.com" }); } catch (e) { print(e.message); }`,
    `let unused = 1;`,
    `function f(a, b) { return a + b; }`,
    `print(f(1, 2));`,
  ].join("\n"));
});

Deno.test("compile() declares the sandbox's globals and not Deno, fetch or Node", async () => {
  await compiled([
    `console.log(1); console.info(2); console.warn(3); console.error(4); console.debug(5);`,
    `const t = setTimeout(() => {}, 1); clearTimeout(t);`,
    `const i = setInterval(() => {}, 1000); clearInterval(i);`,
    `queueMicrotask(() => {});`,
    `const u = new URL("https://x.dev/a?b=1"); print(u.searchParams.get("b"), [...new URLSearchParams("a=1")]);`,
    `print(new TextDecoder().decode(new TextEncoder().encode("é")), atob(btoa("x")));`,
    `const c = new AbortController(); c.signal.addEventListener("abort", () => {}); c.abort();`,
    `print(structuredClone({ a: 1 }), performance.now(), crypto.randomUUID(), AbortSignal.timeout(5));`,
    `{ using _r = { [Symbol.dispose]() {} }; }`,
  ].join("\n"));
  const { error, diagnostics } = await refused(
    `const a = await fetch("https://x");\nDeno.readTextFile("x");\nprocess.exit(1);\nrequire("fs");`,
  );
  assert.equal(error.kind, "type");
  assert.match(
    error.message,
    /'fetch': the program has no network access; call the web_fetch tool/,
  );
  assert.deepEqual(diagnostics.map((d) => d.line), [1, 2, 3, 4]);
  assert.match(diagnostics[1].message, /'Deno': the sandbox has no Node.js, Deno or browser APIs/);
});

Deno.test('compile() with check: "warn" returns type errors as diagnostics, "off" skips them', async () => {
  const source = `const n: number = "x";\nprint(n);`;
  const warned = await compile(source, { check: "warn" });
  assert.ok(warned.ok);
  assert.deepEqual(warned.diagnostics.map(formatDiagnostic), [
    "1:7 type Type 'string' is not assignable to type 'number'.",
  ]);
  const off = await compile(source, { check: "off" });
  assert.ok(off.ok);
  assert.deepEqual(off.diagnostics, []);
  // Syntax and import errors block whatever the mode.
  assert.equal((await refused(`import "node:fs";`, { check: "off" })).error.kind, "import");
  assert.equal((await refused(`print(;`, { check: "warn" })).error.kind, "syntax");
});

Deno.test("compile() checks stub imports against the tool declarations", async () => {
  const { error } = await refused(
    `import { read_file } from "codemode:tools/read_file";\nprint(await read_file({ path: 1 }));`,
  );
  assert.equal(error.kind, "type");
  assert.deepEqual([error.line, error.column], [2, 25]);
});

Deno.test("compile() keeps unresolved but unused imports out of the type check", async () => {
  const outcome = await compile(
    `import fs from "node:fs";\nimport { raed_file } from "codemode:tools";\nimport x from "codemode:tools/nope";\nprint(1);`,
  );
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.diagnostics, []);
});

Deno.test("compile() swaps in new declarations and tool names", async () => {
  await using local = new ProgramCompiler();
  const options = {
    declarations: "declare function add(input: { a: number; b: number }): Promise<number>;",
    toolNames: ["add"],
  };
  assert.ok((await local.compile(`const s: number = await add({ a: 1, b: 2 });`, options)).ok);
  const before = await local.compile(
    `import { add } from "codemode:tools";\nawait add({ a: 1, b: 2 });`,
    OPTIONS,
  );
  assert.equal(before.ok ? "" : before.error.kind, "import");
  const renamed = await local.compile(`await add({ a: 1, b: 2 });`, {
    declarations: "declare function sum(input: { a: number; b: number }): Promise<number>;",
    toolNames: ["sum"],
  });
  assert.equal(renamed.ok ? "" : renamed.error.message, "Cannot find name 'add'.");
});

// ---- 5. positions in the text as sent -----------------------------------------------------

const REMOVED_IMPORTS =
  `import fs from "node:fs";\nimport { z } from "npm:zod"; import type { T } from "x";\n`;

Deno.test("compile() places syntax errors on line 1, the last line and after removed imports", async () => {
  const cases: [string, string][] = [
    [`const = 5;\nprint(1);`, "="],
    [`print(1);\nprint(2);\nconst x = (1 + ;`, " ;"],
    [REMOVED_IMPORTS + `const a: number = 1;\nconst b = [1, 2;\nprint(a, b);`, ";\nprint"],
    ["```ts\n" + REMOVED_IMPORTS + 'const a = 1;\nlet s = "unterminated;\n```', '"unterminated'],
  ];
  for (const [source, marker] of cases) {
    const { error } = await refused(source);
    assert.equal(error.kind, "syntax", source);
    const expected = position(source, marker);
    if (marker === " ;") expected.column += 1;
    if (marker === '"unterminated') expected.column += '"unterminated;'.length; // end of the string
    assert.deepEqual({ line: error.line, column: error.column }, expected, source);
  }
});

Deno.test("compile() places type errors on line 1, the last line and after removed imports", async () => {
  const cases: [string, string][] = [
    [`raed_file({ path: "x" });\nprint(1);`, "raed_file"],
    [`print(1);\nprint(2);\nconst n: number = "x";`, "n:"],
    [REMOVED_IMPORTS + `const a: number = 1;  const s: string = a;\nprint(s);`, "s:"],
    [
      "Sure!\n\n```typescript\n" + REMOVED_IMPORTS +
      "print(await read_file({ path: 1 }));\n```\nDone.",
      "path: 1",
    ],
  ];
  for (const [source, marker] of cases) {
    const { error } = await refused(source);
    assert.equal(error.kind, "type", source);
    assert.deepEqual({ line: error.line, column: error.column }, position(source, marker), source);
  }
});

Deno.test("mapPosition() maps runtime errors on line 1, the last line and after removed imports", async () => {
  const cases: [string, string][] = [
    [`throw new Error("first line");\nprint(1);`, "new Error"],
    [
      `print(1);\nconst n: number = 2;\nprint(n); const o: { x: number } | null = JSON.parse("null"); print(o!.x);`,
      "x);",
    ],
    [
      REMOVED_IMPORTS + `const a: number = 1;    const b: string = "b"; throw new Error(b + a);`,
      "new Error",
    ],
    [
      REMOVED_IMPORTS +
      `function fail(reason: string): never {\n  throw new TypeError(reason);\n}\n` +
      `const list: string[] = await list_files({});\nfail(list.join());`,
      "new TypeError",
    ],
    [
      "```ts\n" + REMOVED_IMPORTS + `import { read_file } from "codemode:tools";\n` +
      `const text: string = await read_file({ path: "x" });\nprint(text); missing_function(text);\n\`\`\``,
      "missing_function",
    ],
  ];
  cases.push(
    [
      REMOVED_IMPORTS + `const config = {\n  a: 1,\n\n  b: [1,\n      2],\n};\n` +
      `const items = [1, 2, 3]\n  .map((n: number) => n * config.a)\n  .filter((n) => {\n` +
      `    if (n > 2) throw new RangeError("too big " + n);\n    return true;\n  });\nprint(items);`,
      "new RangeError",
    ],
    [
      "import fs from 'node:fs';\r\nconst t: string = `a${1}`;\r\n\r\nconst o: any = null; print(t, o.field);\r\n",
      "field",
    ],
  );
  for (const [source, marker] of cases) {
    const program = await compiled(source, { check: "off" });
    const result = await run(program);
    assert.ok(result.error, `no runtime error for ${source}`);
    assert.deepEqual(result.at, position(source, marker), source);
  }
});

Deno.test("mapPosition() returns undefined for code the compiler added", async () => {
  const program = await compiled(
    `function tag<T>(value: T, _context: unknown): T { return value; }\n@tag class A {}\nprint(new A());`,
  );
  const first = program.js.split("\n")[0];
  assert.match(first, /__esDecorate|__runInitializers/);
  assert.equal(program.mapPosition(1, 1), undefined);
  assert.deepEqual((await run(program)).output, ["[object Object]"]);
});

// ---- bad input ----------------------------------------------------------------------------------

Deno.test("compile() unwraps a Markdown-fenced program", async () => {
  const cases = [
    "```ts\nprint(1);\n```",
    "```typescript\nprint(1);\n```\n",
    "```\nprint(1);\n```",
    "  ~~~ts\nprint(1);\n  ~~~",
    "Here you go:\n```ts\nprint(1);\n```\nThis prints 1.",
    "```ts\nprint(1);\n", // the closing fence cut off
    "\n\n```TS\r\nprint(1);\r\n```\r\n",
    "````ts\n/*\n```\n*/\nprint(1);\n````", // a shorter marker does not close the block
    "~~~ ts title\nprint(1);\n~~~", // the info string's first word counts
  ];
  for (const source of cases) {
    const program = await compiled(source);
    assert.deepEqual((await run(program)).output, ["1"], source);
  }
});

Deno.test("compile() reads a long line that starts like a fence in one pass, as no fence", async () => {
  // A backtick after the marker: no fence, so the whole text is the program (a tagged template).
  const line = "```" + "a".repeat(200_000) + "`";
  const outcome = await compile(`${line}\nprint(1);`);
  assert.equal(outcome.ok ? "compiled" : outcome.error.kind, "type");
  assert.equal(outcome.ok ? 0 : outcome.error.line, 1);
});

Deno.test("compile() leaves a valid program with fence lines in a comment alone", async () => {
  const source = "/* Usage:\n```ts\nx\n```\n*/\nprint(2);";
  assert.deepEqual((await run(await compiled(source))).output, ["2"]);
});

Deno.test("compile() refuses several fenced blocks", async () => {
  const { error } = await refused("```ts\nprint(1);\n```\nand\n```ts\nprint(2);\n```");
  assert.equal(error.kind, "syntax");
  assert.match(error.message, /2 fenced code blocks/);
  assert.equal(error.line, 5);
});

Deno.test("compile() refuses an empty program with a clear error", async () => {
  for (const source of ["", "  \n\t\n", "```ts\n```", "// only a comment\n/* and another */"]) {
    const { error } = await refused(source);
    assert.equal(error.kind, "syntax", JSON.stringify(source));
    assert.match(error.message, /empty|no statements/, JSON.stringify(source));
  }
});

Deno.test("compile() refuses a program over maxProgramBytes before compiling", async () => {
  const big = `print("${"é".repeat(600_000)}");`;
  const { error, diagnostics } = await refused(big);
  assert.equal(error.kind, "limit");
  assert.match(error.message, /1200010 bytes, over the 1000000-byte limit/);
  assert.deepEqual(diagnostics, []);
  assert.equal((await refused(`print(1);`, { maxProgramBytes: 5 })).error.kind, "limit");
});

Deno.test("decodeProgram() refuses invalid UTF-8 with a clear error", () => {
  const bytes = new Uint8Array([
    ...new TextEncoder().encode("print(1);\nprint('"),
    0xff,
    0x27,
    0x29,
  ]);
  assert.throws(
    () => decodeProgram(bytes),
    (e: Error) =>
      e instanceof TypeError && /not valid UTF-8.*0xff at byte 17, line 2/.test(e.message),
  );
  assert.throws(() => decodeProgram(new Uint8Array([0x70, 0xe2, 0x82])), /byte 1, line 1/);
  assert.equal(decodeProgram(new Uint8Array([0xef, 0xbb, 0xbf, 0x70, 0xc3, 0xa9])), "pé");
});

Deno.test("compile() answers JSX, decorators, exports and broken syntax without crashing", async () => {
  const jsx = await refused(`const a = <div>hi</div>;\nprint(a);`);
  assert.equal(jsx.error.kind, "syntax");
  assert.match(jsx.error.message, /JSX is not supported/);
  const exported = await compiled(
    `export const answer = 42;\nexport default function f() { return 1; }\nexport { answer as a };\nprint(answer, f());`,
  );
  assert.deepEqual((await run(exported)).output, ["42 1"]);
  const decorated = await compiled(
    `function logged<T>(value: T, _c: ClassMethodDecoratorContext): T { return value; }\n` +
      `class A { @logged m() { return 7; } }\nprint(new A().m());`,
  );
  assert.deepEqual((await run(decorated)).output, ["7"]);
  for (
    const source of [
      `print("unterminated);`,
      "print(`x${);",
      `}}}`,
      `import`,
      `import x = require("node:fs");\nprint(x);`,
      `export = 5;`,
      `@@@`,
      "\u0000\u0001",
      `class { }`,
      `enum E { A = "a" }\nnamespace N { export const x = 1; }\nprint(E.A, N.x);`,
    ]
  ) {
    const outcome = await compile(source);
    if (!outcome.ok) {
      assert.ok(["syntax", "type", "import"].includes(outcome.error.kind), source);
      assert.ok(outcome.error.line! >= 1 && outcome.error.column! >= 1, source);
    }
  }
});

Deno.test("compile() refuses bad options with built-in errors", async () => {
  await assert.rejects(() => compile(1 as unknown as string), TypeError);
  await assert.rejects(() => compile("print(1)", { check: "on" as "off" }), TypeError);
  await assert.rejects(() => compile("print(1)", { maxProgramBytes: 0 }), RangeError);
});

// ---- pieces -------------------------------------------------------------------------------------

Deno.test("formatDiagnostic() writes line:column kind message on one line", () => {
  assert.equal(
    formatDiagnostic({ kind: "import", message: "Cannot import.\nUse tools.", line: 3, column: 9 }),
    "3:9 import Cannot import. Use tools.",
  );
});

Deno.test("_SourceMap.decode() reads Base64 VLQ mappings", () => {
  // Hand-encoded: line 0 → [0→(0,0)], [4→(0,10)]; line 1 → [2→(3,1)], [6 unmapped].
  const map = _SourceMap.decode("AAAA,IAAU;EAGT,I");
  assert.deepEqual(map.toSource(0, 0), { line: 0, column: 0 });
  assert.deepEqual(map.toSource(0, 5), { line: 0, column: 11 });
  assert.deepEqual(map.toSource(1, 2), { line: 3, column: 1 });
  assert.deepEqual(map.toSource(1, 3), { line: 3, column: 2 });
  assert.equal(map.toSource(1, 7), undefined);
  assert.equal(map.toSource(1, 0), undefined);
  assert.deepEqual(map.toGenerated(3, 1), { line: 1, column: 2 });
  assert.throws(() => _SourceMap.decode("A!"), SyntaxError);
});

Deno.test("_closeNames() suggests close names best first", () => {
  const names = ["read_file", "list_files", "search_files", "web_fetch"];
  assert.deepEqual(_closeNames("raed_file", names), ["read_file"]);
  assert.deepEqual(_closeNames("ReadFile", names), ["read_file"]);
  assert.deepEqual(_closeNames("files", names), ["list_files", "search_files"]);
  assert.deepEqual(_closeNames("zzz", names), []);
});

Deno.test("_editDistance() with a bound answers the distance, or bound + 1 past it", () => {
  const rows: [string, string, number][] = [
    ["kitten", "sitting", 3],
    ["", "abc", 3],
    ["flaw", "lawn", 2],
    ["abc", "abc", 0],
    ["aaaaaaaa", "bbbbbbbbbbbb", 12],
  ];
  for (const [a, b, distance] of rows) {
    assert.equal(_editDistance(a, b), distance, `${a} ~ ${b}`);
    for (const max of [0, 1, 2, 3, 5]) {
      assert.equal(
        _editDistance(a, b, max),
        distance <= max ? distance : max + 1,
        `${a} ~ ${b} ≤ ${max}`,
      );
    }
  }
});

Deno.test("warm() prepares the compiler", async () => {
  await using local = new ProgramCompiler();
  await local.warm(OPTIONS);
  assert.equal(local.pids.length, 1, "one compiler process, started by warm()");
  assert.ok((await local.compile(`print(1);`, OPTIONS)).ok);
});
