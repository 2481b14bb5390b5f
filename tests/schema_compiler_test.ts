/**
 * Fail-closed input validation: every common draft compiles and checks, `format` and `pattern`
 * are checked in linear time, a schema that cannot be compiled is refused when the tool set is
 * built (or, from an MCP server, leaves only its own tool out), and no argument can make
 * validation throw or overflow the host's stack. Real runs through `mod.ts`, a real MCP server
 * written with the SDK, real child processes for the cold (CLI) path.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CodeMode, type Tool } from "../mod.ts";
import { builtinTools } from "../src/tools/mod.ts";
import { connectMcpServers } from "../src/mcp/mod.ts";
import { _ToolSet, INPUT_MAX_DEPTH } from "../src/tools/tool_set.ts";
import { _loadSchemaCompiler, SCHEMA_MAX_DEPTH } from "../src/tools/schema_compiler.ts";
import { okOutput } from "./_fixtures/sandbox_watch.ts";

const PROJECT_CONFIG = new URL("../deno.json", import.meta.url).pathname;

function tool(name: string, inputSchema: Tool["inputSchema"], execute: Tool["execute"] = (i) => i) {
  return { name, description: `The ${name} tool.`, inputSchema, execute } satisfies Tool;
}

/** Validates through a registry, as the session does. */
async function validator(schema: Tool["inputSchema"]): Promise<(input: unknown) => string | null> {
  const registry = new _ToolSet([tool("t", schema)]);
  await registry.ready();
  return (input) => registry.validate("t", input);
}

Deno.test("validate() compiles and checks every common draft, choosing by $schema", async () => {
  const D4 = "http://json-schema.org/draft-04/schema#";
  const D6 = "http://json-schema.org/draft-06/schema#";
  const D7 = "http://json-schema.org/draft-07/schema#";
  const D2019 = "https://json-schema.org/draft/2019-09/schema";
  const D2020 = "https://json-schema.org/draft/2020-12/schema";
  const table: [string, Tool["inputSchema"], unknown[], [unknown, RegExp][]][] = [
    [
      "draft-04 boolean exclusiveMinimum and id",
      {
        $schema: D4,
        id: "http://example.com/n",
        type: "object",
        properties: { n: { type: "number", minimum: 5, exclusiveMinimum: true } },
      },
      [{ n: 5.5 }],
      [[{ n: 5 }, /"n" must be > 5/]],
    ],
    [
      "draft-04 guessed from a boolean exclusiveMaximum",
      {
        type: "number",
        maximum: 5,
        exclusiveMaximum: true,
      },
      [4],
      [[5, /must be < 5/]],
    ],
    ["draft-06 numeric exclusiveMinimum", { $schema: D6, type: "number", exclusiveMinimum: 5 }, [
      6,
    ], [[5, /must be > 5/]]],
    [
      "draft-07 if/then",
      {
        $schema: D7,
        if: { type: "string" },
        then: { minLength: 2 },
      },
      ["ab", 1],
      [["a", /fewer than 2 characters/]],
    ],
    [
      "draft-07 written with https and no #",
      {
        $schema: "https://json-schema.org/draft-07/schema",
        type: "string",
      },
      ["x"],
      [[1, /must be string/]],
    ],
    [
      "2019-09 unevaluatedProperties",
      {
        $schema: D2019,
        type: "object",
        properties: { a: {} },
        unevaluatedProperties: false,
      },
      [{ a: 1 }],
      [[{ a: 1, b: 2 }, /unevaluated properties/]],
    ],
    [
      "2020-12 prefixItems and $defs",
      {
        $schema: D2020,
        type: "array",
        prefixItems: [{ $ref: "#/$defs/name" }],
        items: false,
        $defs: { name: { type: "string" } },
      },
      [["x"]],
      [[["x", 1], /more than 1 items/], [[1], /"0" must be string/]],
    ],
    [
      "2020-12 guessed from prefixItems",
      {
        type: "array",
        prefixItems: [{ type: "string" }],
        items: false,
      },
      [["x"]],
      [[["x", 1], /more than 1 items/]],
    ],
    ["a (?i) pattern", { type: "string", pattern: "(?i)^abc$" }, ["ABC", "abc"], [[
      "abd",
      /must match pattern/,
    ]]],
    [
      "\\u escapes and a lookbehind (linear in RE2JS)",
      {
        type: "string",
        pattern: "^caf\\u00e9$|(?<!x)y$",
      },
      ["café", "ay"],
      [["xy", /must match pattern/]],
    ],
    [
      "patternProperties with (?i)",
      {
        type: "object",
        patternProperties: { "(?i)^x-": { type: "number" } },
      },
      [{ "X-a": 1 }],
      [[{ "x-a": "s" }, /"x-a" must be number/]],
    ],
    ["format email", { type: "string", format: "email" }, ["a@example.com"], [[
      "not an address",
      /must match format "email"/,
    ]]],
    ["format date-time", { type: "string", format: "date-time" }, ["2024-05-06T07:08:09Z"], [[
      "2024-13-40",
      /must match format "date-time"/,
    ]]],
    ["an unknown format is ignored", { type: "string", format: "flux-capacitor" }, ["x"], []],
    ["uniqueItems compares values, not key order", { type: "array", uniqueItems: true }, [[
      { a: 1 },
      { a: 2 },
    ]], [[[{ a: 1, b: 2 }, { b: 2, a: 1 }], /duplicate items \(items ## 0 and 1/]]],
  ];
  for (const [label, schema, good, bad] of table) {
    const check = await validator(schema);
    for (const input of good) {
      assert.equal(check(input), null, `${label}: ${JSON.stringify(input)}`);
    }
    for (const [input, complaint] of bad) {
      assert.match(check(input) ?? "(accepted)", complaint, `${label}: ${JSON.stringify(input)}`);
    }
  }
});

Deno.test("two tools may declare the same $id, and a tool set may be built many times", async () => {
  await _loadSchemaCompiler();
  for (let i = 0; i < 1_200; i++) {
    const registry = new _ToolSet([
      tool("a", { $id: "https://example.com/input", type: "string" }),
      tool("b", { $id: "https://example.com/input", type: "number" }),
    ]);
    assert.equal(registry.validate("a", "x"), null);
    assert.match(registry.validate("b", "x")!, /must be number/);
  }
});

Deno.test("a schema that cannot be compiled is refused when the tool set is built, naming the tool", async () => {
  const table: [Tool["inputSchema"], RegExp][] = [
    [{ $ref: "https://example.com/schema.json" }, /refers outside the schema.*never fetched/],
    [{ type: "object", properties: { a: { $ref: "#/$defs/missing" } } }, /points to nothing/],
    [{ type: "string", pattern: "(?=a)a" }, /lookaheads cannot be matched in linear time/],
    [{ type: "string", pattern: "(a)\\1" }, /backreferences cannot be matched in linear time/],
    [{ type: "string", pattern: "(unclosed" }, /cannot be compiled/],
    [{ patternProperties: { "(?!x)": { type: "string" } } }, /lookaheads/],
    [{ $schema: "http://json-schema.org/draft-03/schema#" }, /not a draft this host knows/],
    [{ $schema: 7 } as unknown as Tool["inputSchema"], /not a draft this host knows/],
    [{ type: "strng" }, /not a valid draft-07 schema/],
    [
      JSON.parse('{"not":'.repeat(SCHEMA_MAX_DEPTH + 1) + "{}" + "}".repeat(SCHEMA_MAX_DEPTH + 1)),
      /nests deeper than/,
    ],
  ];
  for (const [schema, problem] of table) {
    const bad = tool("broken_tool", schema);
    assert.throws(
      () => new CodeMode({ tools: [tool("fine", { type: "object" }), bad] }),
      (error: Error) => {
        assert.ok(error instanceof TypeError, `${error}`);
        assert.match(error.message, /^Tool "broken_tool": its inputSchema cannot be compiled/);
        assert.match(error.message, problem);
        return true;
      },
      JSON.stringify(schema).slice(0, 80),
    );
    await using cm = new CodeMode({ tools: [tool("fine", { type: "object" })] });
    assert.throws(() => cm.setTools([bad]), /Tool "broken_tool"/);
    assert.deepEqual(cm.tools.map((t) => t.name), ["fine"], "the old tool set stays");
  }
});

Deno.test("every built-in tool's schemas compile under the fail-closed rules", async () => {
  const compiler = await _loadSchemaCompiler();
  const tools = builtinTools({
    root: ".",
    allowWrite: true,
    allowRun: true,
    allowNet: ["example.com"],
  });
  assert.equal(tools.length, 7);
  for (const t of tools) {
    compiler.compile(t.inputSchema);
    if (t.outputSchema) compiler.compile(t.outputSchema);
  }
});

Deno.test("hostile arguments: a deep argument, backtracking bait for patterns and formats", async () => {
  const seen: unknown[] = [];
  const echo = tool("echo", { type: "object" }, (input) => (seen.push(input), "echoed"));
  const shaped = tool("shaped", {
    type: "object",
    properties: {
      p: { type: "string", pattern: "^(a+)+$" },
      q: { type: "string", pattern: "^(a|a)*$" },
      email: { type: "string", format: "email" },
      url: { type: "string", format: "url" },
      uri: { type: "string", format: "uri" },
      items: { type: "array", uniqueItems: true },
    },
  });
  const timeoutMs = 30_000; // generous: every check here is linear, the old ones took hours
  await using cm = new CodeMode({ tools: [echo, shaped], limits: { timeoutMs } });
  const started = performance.now();
  const result = await cm.run(`
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    try { await echo(deep as any); } catch (e) { print((e as Error).message); }
    const bait = "a".repeat(200_000) + "!";
    for (const input of [
      { p: bait }, { q: bait }, { email: "a".repeat(200_000) + "@" + "a-".repeat(50_000) },
      { url: "http://" + ":".repeat(200_000) }, { uri: "a:" + "%".repeat(200_000) },
      { items: Array.from({ length: 30_000 }, (_, i) => ({ n: i % 29_999 })) },
    ]) {
      try { await shaped(input); } catch (e) { print((e as Error).message.slice(0, 60)); }
    }
    print(await echo({ after: true }));
  `);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < timeoutMs + 2_000, `the run took ${elapsed} ms`);
  assert.deepEqual(okOutput(result).split("\n"), [
    `echo: invalid input: nested deeper than ${INPUT_MAX_DEPTH} levels; send flatter data`,
    'shaped: invalid input: "p" must match pattern "^(a+)+$"',
    'shaped: invalid input: "q" must match pattern "^(a|a)*$"',
    'shaped: invalid input: "email" must match format "email"',
    'shaped: invalid input: "url" must match format "url"',
    'shaped: invalid input: "uri" must match format "uri"',
    'shaped: invalid input: "items" must NOT have duplicate items',
    "echoed",
    "",
  ]);
  assert.deepEqual(seen, [{ after: true }], "no refused input reached the tool");
});

// A server written with the SDK: one good tool, two whose schemas cannot be compiled.
const BAD_SCHEMA_SERVER = `
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
const tools = [
  { name: "good", description: "Works.", inputSchema: { type: "object", properties: { n: { type: "number" } } } },
  { name: "remote_ref", description: "Refers to a remote schema.", inputSchema: { type: "object", properties: { x: { $ref: "https://example.com/x.json" } } } },
  { name: "lookahead", description: "A pattern RE2 cannot run.", inputSchema: { type: "object", properties: { s: { type: "string", pattern: "^(?!x)" } } } },
];
const server = new Server({ name: "bad-schemas", version: "1.0.0" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, (request) => ({
  content: [{ type: "text", text: request.params.name + " " + JSON.stringify(request.params.arguments) }],
}));
await server.connect(new StdioServerTransport());
`;

Deno.test("an MCP server with one bad schema keeps its other tools, with a warning per bad one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "codemode_bad_schema_" });
  try {
    const file = join(dir, "server.js");
    await Deno.writeTextFile(file, BAD_SCHEMA_SERVER);
    // --config: the child resolves the SDK through the project's import map and lockfile.
    const args = ["run", "-A", "--quiet", "--config", PROJECT_CONFIG, file];
    await using servers = await connectMcpServers({
      mcpServers: { fixture: { command: Deno.execPath(), args } },
    });
    assert.deepEqual(servers.tools.map((t) => t.name), ["fixture.good"]);
    const [status] = servers.status();
    assert.equal(status.state, "connected");
    assert.equal(status.tools, 1);
    assert.equal(status.warnings.length, 2, status.warnings.join("\n"));
    assert.match(status.warnings[0], /^tool "remote_ref" was left out: .*never fetched/);
    assert.match(status.warnings[1], /^tool "lookahead" was left out: .*lookaheads/);
    await using cm = new CodeMode({ tools: servers.tools });
    const result = await cm.run(`
      print(await fixture.good({ n: 1 }));
      try { await fixture.good({ n: "one" } as any); } catch (e) { print((e as Error).message); }
    `);
    assert.equal(
      okOutput(result),
      'good {"n":1}\nfixture.good: invalid input: "n" must be number\n',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `code` in a fresh `deno` (nothing loaded yet, like the CLI), returns its stdout lines. */
async function fresh(code: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", PROJECT_CONFIG, code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000), // generous: a cold deno that starts sandboxes
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return new TextDecoder().decode(out.stdout).trim().split("\n");
}

Deno.test("the CLI path loads the schema checker only when a run calls a tool", async () => {
  const src = new URL("../src/", import.meta.url).href;
  const lines = await fresh(`
    import { CodeMode } from "${src}code_mode.ts";
    import { builtinTools } from "${src}tools/builtin/mod.ts";
    import { _loadedSchemaCompiler } from "${src}tools/schema_compiler.ts";
    await using cm = new CodeMode({ tools: builtinTools({ root: "." }), check: "off" });
    const quiet = await cm.run("print(1)");
    console.log(quiet.output.trim(), _loadedSchemaCompiler() === undefined);
    const calling = await cm.run('print((await list_files({ pattern: "deno.json" })).files)');
    console.log(calling.output.trim(), _loadedSchemaCompiler() !== undefined);
  `);
  assert.deepEqual(lines, ["1 true", '[ "deno.json" ] true']);
});

Deno.test("a registry built before the checker loaded refuses a bad schema on every call", async () => {
  const src = new URL("../src/", import.meta.url).href;
  const lines = await fresh(`
    import { _ToolSet } from "${src}tools/tool_set.ts";
    const t = (name, inputSchema) => ({ name, description: "", inputSchema, execute: () => 1 });
    const registry = new _ToolSet([t("ok", { type: "number" }), t("bad", { $ref: "x.json" })]);
    console.log(registry.isReady);
    await registry.ready();
    console.log(registry.isReady, registry.validate("ok", 1), registry.validate("ok", "x"));
    console.log(registry.validate("bad", 1));
  `);
  assert.equal(lines[0], "false");
  assert.equal(lines[1], "true null input must be number");
  assert.match(
    lines[2],
    /^Tool "bad": its inputSchema cannot be compiled.*the tool was not called$/,
  );
});
