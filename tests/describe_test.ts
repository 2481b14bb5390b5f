import assert from "node:assert/strict";
import { describeTools } from "../src/describe/describe_tools.ts";
import { _firstSentence, _shorten } from "../src/describe/jsdoc.ts";
import { _PATTERNS } from "../src/describe/patterns.ts";
import { schemaToTypeScript } from "../src/describe/schema_to_typescript.ts";
import { searchTools } from "../src/describe/search_tools.ts";
import { toolDeclarations } from "../src/describe/tool_declarations.ts";
import { builtinTools } from "../src/tools/builtin/mod.ts";
import type { JsonSchema, Tool } from "../src/types.ts";
import { asTools, listServerTools, npxUnavailable } from "./_fixtures/mcp_servers.ts";
import { PATTERN_TOOLS } from "./_fixtures/pattern_tools.ts";
import { syntheticTools } from "./_fixtures/synthetic_tools.ts";
import { typeCheck } from "./_fixtures/ts_check.ts";

const tool = (name: string, inputSchema: JsonSchema = { type: "object" }, extra = {}): Tool => ({
  name,
  description: `The ${name} tool.`,
  inputSchema,
  execute: () => null,
  ...extra,
});
const bytes = (s: string) => new TextEncoder().encode(s).length;
const obj = (properties: JsonSchema, required: string[] = []) => ({
  type: "object",
  properties,
  required,
});
const S = { type: "string" };
const N = { type: "number" };

// schema → expected TypeScript (descriptions off unless the row is about them)
const SCHEMA_TABLE: [string, JsonSchema | boolean, string, Record<string, unknown>?][] = [
  ["string", S, "string"],
  ["integer is number", { type: "integer" }, "number"],
  ["boolean", { type: "boolean" }, "boolean"],
  ["null", { type: "null" }, "null"],
  ["type array", { type: ["string", "null"] }, "string | null"],
  ["type array of three", { type: ["string", "integer", "null"] }, "string | number | null"],
  ["nullable", { type: "string", nullable: true }, "string | null"],
  ["enum as literal union", { type: "string", enum: ["a", "b c"] }, '"a" | "b c"'],
  ["mixed enum", { enum: ["x", 1, true, null] }, '"x" | 1 | true | null'],
  ["nullable enum", { enum: ["a"], nullable: true }, '"a" | null'],
  ["const", { const: "fixed" }, '"fixed"'],
  ["object const", { const: { a: [1] } }, '{ "a": [1] }'],
  ["empty schema", {}, "unknown"],
  ["true schema", true, "unknown"],
  ["false schema", false, "never"],
  ["required and optional", obj({ a: S, b: N }, ["a"]), "{ a: string; b?: number }"],
  [
    "non-identifier names quoted",
    obj({ "content-type": S, "2x": N, $ok: S }, ["content-type"]),
    '{ "content-type": string; "2x"?: number; $ok?: string }',
  ],
  ["nested objects", obj({ a: obj({ b: S }, ["b"]) }, ["a"]), "{ a: { b: string } }"],
  ["object without properties", { type: "object" }, "Record<string, unknown>"],
  ["empty properties", obj({}), "{}"],
  ["closed empty object", { type: "object", additionalProperties: false }, "{}"],
  ["inferred object", { properties: { a: S } }, "{ a?: string }"],
  [
    "additionalProperties schema",
    { type: "object", additionalProperties: N },
    "Record<string, number>",
  ],
  [
    "additionalProperties with properties",
    { type: "object", properties: { a: S }, required: ["a"], additionalProperties: N },
    "{ a: string; [key: string]: number | string }",
  ],
  [
    "additionalProperties with optional properties",
    { type: "object", properties: { a: S }, additionalProperties: S },
    "{ a?: string; [key: string]: string | undefined }",
  ],
  [
    "additionalProperties true",
    { type: "object", properties: { a: S }, additionalProperties: true },
    "{ a?: string; [key: string]: unknown }",
  ],
  [
    "patternProperties",
    { type: "object", patternProperties: { "^x-": S } },
    "Record<string, string>",
  ],
  ["array", { type: "array", items: S }, "string[]"],
  [
    "array of unions",
    { type: "array", items: { type: ["string", "number"] } },
    "(string | number)[]",
  ],
  ["array without items", { type: "array" }, "unknown[]"],
  ["nullable array (type array)", { type: ["array", "null"], items: S }, "string[] | null"],
  ["prefixItems tuple", { type: "array", prefixItems: [S, N] }, "[string, number]"],
  ["tuple minItems", { prefixItems: [S, N], minItems: 1 }, "[string, number?]"],
  ["tuple with rest", { prefixItems: [S], items: N }, "[string, ...number[]]"],
  ["draft-04 tuple", { type: "array", items: [S, N], additionalItems: false }, "[string, number]"],
  ["anyOf", { anyOf: [S, N] }, "string | number"],
  [
    "oneOf of objects",
    { oneOf: [obj({ a: S }, ["a"]), obj({ b: N }, ["b"])] },
    "{ a: string } | { b: number }",
  ],
  ["allOf", { allOf: [obj({ a: S }, ["a"]), obj({ b: N })] }, "{ a: string } & { b?: number }"],
  [
    "object with required-only anyOf branches",
    { ...obj({ a: S, b: S }), anyOf: [{ required: ["a"] }, { required: ["b"] }] },
    "{ a?: string; b?: string }",
  ],
  [
    "object and oneOf variants",
    {
      ...obj({ id: S }, ["id"]),
      oneOf: [obj({ kind: { const: "a" } }, ["kind"]), obj({ kind: { const: "b" } }, ["kind"])],
    },
    '{ id: string } & ({ kind: "a" } | { kind: "b" })',
  ],
  ["anyOf with an open branch", { anyOf: [S, {}] }, "unknown"],
  ["$defs ref", { $ref: "#/$defs/Id", $defs: { Id: { type: "string" } } }, "string"],
  [
    "definitions ref in a property",
    { ...obj({ p: { $ref: "#/definitions/P" } }, ["p"]), definitions: { P: obj({ x: N }, ["x"]) } },
    "{ p: { x: number } }",
  ],
  ["escaped pointer", { $ref: "#/$defs/a~1b", $defs: { "a/b": N } }, "number"],
  ["remote ref", { $ref: "https://example.com/schema.json" }, "unknown"],
  ["missing ref", { $ref: "#/$defs/Nope" }, "unknown"],
  [
    "ref with sibling keywords",
    { $ref: "#/$defs/A", required: ["a"], $defs: { A: obj({ a: S }) } },
    "{ a?: string }",
  ],
  [
    "cycle through the root",
    obj({ name: S, children: { type: "array", items: { $ref: "#" } } }, ["name"]),
    "{ name: string; children?: unknown[] }",
  ],
  [
    "cycle through $defs",
    {
      $ref: "#/$defs/Node",
      $defs: { Node: obj({ value: N, next: { $ref: "#/$defs/Node" } }, ["value"]) },
    },
    "{ value: number; next?: unknown }",
  ],
  [
    "too deep",
    obj({ a: obj({ b: obj({ c: obj({ d: S }) }) }) }),
    "{ a?: { b?: unknown } }",
    { maxDepth: 2 },
  ],
  ["unknown type name", { type: "date" }, "unknown"],
  ["untyped as any", { type: "array" }, "any[]", { untyped: "any" }],
  [
    "descriptions as JSDoc",
    obj({ path: { type: "string", description: "Where */ it is" }, n: { ...N, default: 3 } }, [
      "path",
    ]),
    "{\n  /** Where *\\/ it is */\n  path: string;\n  /** Default: 3. */\n  n?: number;\n}",
    { descriptions: true },
  ],
  [
    "long descriptions shortened",
    obj({ a: { ...S, description: "First sentence here. " + "word ".repeat(60) } }),
    "{\n  /** First sentence here. word word word word word word word… */\n  a?: string;\n}",
    { descriptions: true, maxDescriptionChars: 60 },
  ],
  [
    "number bounds, exclusive bounds (draft 4 and 2020) and multipleOf",
    obj({
      a: { ...N, minimum: 1, maximum: 10_000, description: "Most results." },
      b: { ...N, exclusiveMinimum: 0, exclusiveMaximum: 1 },
      c: { ...N, minimum: 5, exclusiveMinimum: true, multipleOf: 5 },
    }),
    "{\n  /** Most results. Minimum: 1. Maximum: 10000. */\n  a?: number;\n" +
    "  /** Greater than 0. Less than 1. */\n  b?: number;\n" +
    "  /** Greater than 5. Multiple of 5. */\n  c?: number;\n}",
    { descriptions: true },
  ],
  [
    "lengths, items, pattern, format and default",
    obj({
      s: { ...S, minLength: 1, maxLength: 40, pattern: "^[a-z]+$", format: "email", default: "a" },
      l: {
        type: "array",
        items: { ...S, maxLength: 9 },
        minItems: 1,
        maxItems: 3,
        uniqueItems: true,
      },
    }),
    '{\n  /** Min length: 1. Max length: 40. Pattern: /^[a-z]+$/. Format: email. Default: "a". */\n' +
    "  s?: string;\n  /** Min items: 1. Max items: 3. Items unique. Each item: Max length: 9. */\n" +
    "  l?: string[];\n}",
    { descriptions: true },
  ],
  [
    "a constraint survives a description cut to its limit",
    obj({
      a: { ...N, maximum: 9, description: "A first sentence. " + "More words here. ".repeat(20) },
    }),
    "{\n  /** A first sentence. More words here. … Maximum: 9. */\n  a?: number;\n}",
    { descriptions: true, maxDescriptionChars: 40 },
  ],
  [
    "a default the description states is not repeated",
    obj({ a: { ...N, default: 100, description: "Most results. Default: 100." } }),
    "{\n  /** Most results. Default: 100. */\n  a?: number;\n}",
    { descriptions: true },
  ],
  [
    "long descriptions cut at a sentence",
    obj({ a: { ...S, description: "A first sentence that runs for a while. Then more words." } }),
    "{\n  /** A first sentence that runs for a while. … */\n  a?: string;\n}",
    { descriptions: true, maxDescriptionChars: 50 },
  ],
];

for (const [label, schema, expected, options] of SCHEMA_TABLE) {
  Deno.test(`schemaToTypeScript() renders ${label}`, () => {
    assert.equal(schemaToTypeScript(schema, { descriptions: false, ...options }), expected);
  });
}

Deno.test("schemaToTypeScript() output of every table row compiles", () => {
  const decls = SCHEMA_TABLE.map(([, schema, , options], i) =>
    `export type T${i} = ${schemaToTypeScript(schema, { descriptions: false, ...options })};`
  );
  assert.deepEqual(typeCheck({ "/types.ts": decls.join("\n") }), []);
});

Deno.test("schemaToTypeScript() never throws on hostile schemas", () => {
  const self: Record<string, unknown> = { type: "object" };
  self.properties = { me: self };
  const wide: Record<string, unknown> = { $defs: {} };
  for (let i = 0; i < 30; i++) {
    (wide.$defs as Record<string, unknown>)[`D${i}`] = {
      anyOf: [{ $ref: `#/$defs/D${i + 1}` }, obj({ x: { $ref: `#/$defs/D${i + 1}` } })],
    };
  }
  wide.$ref = "#/$defs/D0";
  const hostile: unknown[] = [
    self,
    wide,
    { type: 42 },
    { properties: "nope" },
    { required: "a", properties: { a: S } },
    { enum: [] },
    { items: null },
    { $ref: "#/%E0%A4%A" },
    { anyOf: "x" },
  ];
  for (const schema of hostile) {
    const out = schemaToTypeScript(schema as JsonSchema);
    assert.equal(typeof out, "string");
    assert.deepEqual(typeCheck({ "/t.ts": `export type T = ${out};` }), [], out.slice(0, 200));
  }
});

Deno.test("toolDeclarations() compiles with TypeScript 6 strict and declares helpers", () => {
  const dts = toolDeclarations(PATTERN_TOOLS);
  assert.doesNotMatch(dts, /^(import|export)\b/m);
  assert.match(
    dts,
    /declare function read_file\(input: \{ path: string \}\): Promise<\{ content: string \}>;/,
  );
  assert.match(dts, /declare const crm: \{/);
  assert.match(dts, /declare function print\(/);
  assert.match(dts, /declare function gatherLimited</);
  assert.match(dts, /declare function searchTools\(/);
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts }), []);
});

Deno.test("toolDeclarations() returns Promise<any> without an outputSchema", () => {
  const dts = toolDeclarations([tool("fetch_json", obj({ url: S }, ["url"]))]);
  assert.match(dts, /declare function fetch_json\(input: \{ url: string \}\): Promise<any>;/);
  const program =
    'const r = await fetch_json({ url: "x" });\nprint(r.items[0].name.toUpperCase());';
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": program }), []);
});

Deno.test("toolDeclarations() types an MCP tool without outputSchema by the conversion rule", () => {
  const dts = toolDeclarations([
    tool("everything.get_sum", obj({ a: N }, ["a"]), { mcpContent: true }),
    tool("everything.typed", obj({}), { mcpContent: true, outputSchema: obj({ t: N }, ["t"]) }),
  ]);
  assert.match(dts, /^type McpContent =$/m);
  assert.match(dts, /get_sum\(input: \{ a: number \}\): Promise<string \| McpContent\[\]>;/);
  assert.match(dts, /typed\(input\?: \{\}\): Promise<\{ t: number \}>;/);
  const narrowed = `
const r = await everything.get_sum({ a: 1 });
if (typeof r === "string") print(JSON.parse(r), r.toUpperCase());
else for (const c of r) {
  if (c.type === "image") print(c.mimeType, c.data.length);
  else if (c.type === "resource") print(c.resource.uri, c.resource.text ?? "");
  else if (c.type === "resource_link") print(c.name, c.uri);
  else if (c.type === "text") print(c.text);
}
print((await everything.typed()).t + 1);`;
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": narrowed }), []);
  // The type says what the rule says: without narrowing, string methods are refused.
  const unnarrowed = "print((await everything.get_sum({ a: 1 })).toUpperCase());";
  assert.notDeepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": unnarrowed }), []);
  // Without an MCP tool there is no McpContent.
  assert.doesNotMatch(toolDeclarations([tool("x")]), /McpContent/);
});

Deno.test("toolDeclarations() of the built-in tools states their limits (search_files' maxResults maximum)", () => {
  const dts = toolDeclarations(builtinTools({ root: Deno.cwd() }));
  assert.match(
    dts,
    /\/\*\* Most matches to return; getting exactly this many means there may be more\. Default: 100\. Minimum: 1\. Maximum: 10000\. \*\/\n {2}maxResults\?: number;/,
  );
  // list_files' pattern is not cut mid-sentence: its last sentence and default are there.
  assert.match(
    dts,
    /with "\/" the whole path \("src\/\*\*\\\/\*\.ts"\)\. Default: all files\. \*\//,
  );
  assert.doesNotMatch(dts, /[^.!?\s]… \*\//, "no description cut mid-sentence");
});

Deno.test("_shorten() cuts only at sentence ends, and whole sentences stay whole", () => {
  const table: [string, number, string][] = [
    ["Short enough.", 50, "Short enough."],
    ["One. Two is longer. Three.", 12, "One. …"],
    ["One. Two is longer. Three.", 22, "One. Two is longer. …"],
    ["Use e.g. a glob or i.e. a path. Then more.", 35, "Use e.g. a glob or i.e. a path. …"],
    [
      "A first sentence longer than the limit. Next.",
      15,
      "A first sentence longer than the limit. …",
    ],
    ["Version 1.2 is out. More text follows here.", 25, "Version 1.2 is out. …"],
    ["no sentence ends here at all " + "x ".repeat(40), 20, "no sentence ends…"],
  ];
  for (const [text, max, expected] of table) assert.equal(_shorten(text, max), expected, text);
  assert.equal(
    _firstSentence("Read a file, e.g. README.md. Then stop.", 100),
    "Read a file, e.g. README.md.",
  );
});

Deno.test("toolDeclarations() makes the input optional when nothing is required", () => {
  const dts = toolDeclarations([tool("ping", obj({})), tool("echo", obj({ m: S }, ["m"]))]);
  assert.match(dts, /declare function ping\(input\?: \{\}\)/);
  assert.match(dts, /declare function echo\(input: \{ m: string \}\)/);
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": "await ping();" }), []);
  assert.equal(typeCheck({ "/tools.d.ts": dts, "/p.ts": "await echo();" }).length, 1);
});

Deno.test("toolDeclarations() sanitizes names and quotes property names", () => {
  const dts = toolDeclarations([
    tool("server-everything.get-sum", obj({ "first-number": N }, ["first-number"])),
    tool("delete", obj({})),
  ]);
  assert.match(dts, /declare const server_everything: \{/);
  assert.match(dts, /get_sum\(input: \{ "first-number": number \}\)/);
  assert.match(dts, /declare function delete_\(/);
  const program = 'await server_everything.get_sum({ "first-number": 1 });\nawait delete_();';
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": program }), []);
});

Deno.test("toolDeclarations() lets programs import tools from codemode:tools", () => {
  const dts = toolDeclarations(PATTERN_TOOLS);
  const program = [
    'import { read_file, crm } from "codemode:tools";',
    'import notify from "codemode:tools/notify";',
    'import { get_doc } from "codemode:tools/get_doc";',
    'import crm2, { get_user } from "codemode:tools/crm";',
    'const f = await read_file({ path: "a" });',
    'const u = await get_user({ id: "1" });',
    "await notify({ to: u.email, text: f.content });",
    'print((await get_doc({ id: "d" })).title, crm === crm2);',
  ].join("\n");
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": program }), []);
});

Deno.test("toolDeclarations() type-check catches wrong calls", () => {
  const dts = toolDeclarations(PATTERN_TOOLS);
  for (
    const program of [
      "await crm.get_user({ id: 1 });",
      'await crm.get_user({ id: "1", extra: true });',
      'await get_doc({ id: "d" }).then((d) => d.missing);',
      "await nonexistent_tool({});",
      "await searchTools(42);",
      "await gatherLimited([1, 2]);",
    ]
  ) {
    assert.notDeepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": program }), [], program);
  }
});

Deno.test("toolDeclarations() helper types fit their documented use", () => {
  const dts = toolDeclarations(PATTERN_TOOLS);
  const program = `
const names = await searchTools("user", { detail: "name" });
const n: string = names[0].name;
const full = await searchTools("user", { detail: "full", limit: 3 });
const s: string = full[0].signature;
const d = "summary" as "name" | "summary" | "full";
const any = await searchTools("user", { detail: d });
const ok: number[] = await gatherLimited([1, 2].map((i) => async () => i * 2), 2);
const settled = await gatherLimited([() => get_doc({ id: "a" })], undefined, { settle: true });
if (settled[0].status === "fulfilled") print(settled[0].value.title);
console.log(n, s, any[0].signature ?? "", ok);`;
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": program }), []);
  assert.doesNotMatch(toolDeclarations(PATTERN_TOOLS, { console: false }), /declare const console/);
  assert.doesNotMatch(toolDeclarations(PATTERN_TOOLS, { modules: false }), /declare module/);
});

const COLLISIONS: [string, string[], RegExp][] = [
  [
    "two names that sanitize alike",
    ["get-sum", "get_sum"],
    /"get-sum" and "get_sum" both become `get_sum`/,
  ],
  ["the same name twice", ["echo", "echo"], /"echo" and "echo" both become `echo`/],
  ["namespaced members alike", ["m.a-b", "m.a_b"], /"m.a-b" and "m.a_b" both become `m.a_b`/],
  ["a helper name", ["print"], /"print" collides with the helper `print`/],
  [
    "a helper name as namespace",
    ["searchTools.x"],
    /"searchTools.x" \(namespace `searchTools`\) collides with the helper/,
  ],
  [
    "a tool and a namespace",
    ["memory.read", "memory"],
    /"memory" collides with the namespace `memory` of tool "memory.read"/,
  ],
  [
    "a namespace and a tool",
    ["memory", "memory.read"],
    /"memory.read" \(namespace `memory`\) collides with tool "memory"/,
  ],
  ["a JavaScript global", ["JSON"], /"JSON" would shadow the JavaScript global `JSON`/],
];

for (const [label, names, message] of COLLISIONS) {
  Deno.test(`toolDeclarations() refuses ${label}`, () => {
    const tools = names.map((n) => tool(n));
    assert.throws(() => toolDeclarations(tools), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, message);
      assert.match(e.message, /rename/);
      return true;
    });
    assert.throws(() => describeTools(tools), TypeError);
  });
}

Deno.test("describeTools() pattern examples each type-check against the example tools", () => {
  const dts = toolDeclarations(PATTERN_TOOLS);
  assert.equal(_PATTERNS.length, 8);
  const { description } = describeTools([]);
  for (const [i, pattern] of _PATTERNS.entries()) {
    assert.ok(description.includes(`// ${i + 1}. ${pattern.title}\n${pattern.code}`));
    assert.deepEqual(typeCheck({ "/tools.d.ts": dts, [`/pattern${i + 1}.ts`]: pattern.code }), []);
  }
});

Deno.test("describeTools() names the eight patterns", () => {
  const titles = _PATTERNS.map((p) => p.title.split(":")[0]);
  assert.deepEqual(titles, [
    "Sequential chain",
    "Fan-out/fan-in",
    "DAG",
    "Conditional branch",
    "Pagination",
    "Error recovery",
    "Data transformation",
    "Controlled concurrency",
  ]);
  assert.match(_PATTERNS[7].code, /gatherLimited/);
  assert.match(_PATTERNS[4].code, /while \(cursor && all\.length < /);
  assert.match(_PATTERNS[5].code, /catch/);
});

Deno.test("describeTools() marks optional properties", () => {
  const { description, tools } = describeTools([
    tool("search", obj({ query: { ...S, description: "Words" }, limit: N }, ["query"])),
  ]);
  assert.ok(description.includes("/** Words */\n  query: string;\n  limit?: number;"));
  assert.deepEqual(tools, [{
    name: "search",
    namespace: null,
    signature: "search(input: { query: string; limit?: number }): Promise<any>",
  }]);
});

Deno.test("describeTools() explains how to write a program and states the limits", () => {
  const { description } = describeTools([], { limits: { timeoutMs: 5_000, maxToolCalls: 7 } });
  for (
    const needle of [
      "ONE TypeScript program",
      "Top-level `await`",
      "Only what you print comes back",
      "catch it",
      "5 s, 7 tool calls",
      "print(...values)",
      "gatherLimited(",
      "searchTools(query",
      "describeTool(name)",
      "Results: a declared type is exact",
      "`McpContent[]`",
      "JSON stays text",
    ]
  ) assert.ok(description.includes(needle), needle);
  assert.throws(() => describeTools([], { limits: { timeoutMs: -1 } }), RangeError);
  assert.throws(() => describeTools([], { threshold: -1 }), RangeError);
});

Deno.test("describeTools() base text with the eight patterns stays within 1,200 tokens", () => {
  const size = bytes(describeTools([]).description);
  assert.ok(size / 4 <= 1_200, `base text is ${size} bytes (~${Math.round(size / 4)} tokens)`);
});

Deno.test("describeTools() declares every tool up to the threshold", () => {
  const tools = syntheticTools(40).map((s) => s.tool);
  const { description, tools: listed } = describeTools(tools);
  assert.equal(listed.length, 40);
  for (const t of listed) {
    const member = t.name.slice(t.name.indexOf(".") + 1);
    assert.ok(description.includes(`  ${member}(input`), t.name);
  }
  assert.doesNotMatch(description, /not declared here/);
});

Deno.test("describeTools() lists namespaces and points to searchTools above the threshold", () => {
  const tools = syntheticTools(1_000).map((s) => s.tool);
  const { description, tools: listed } = describeTools(tools);
  assert.equal(listed.length, 1_000);
  assert.ok(listed.every((t) => t.signature.startsWith(`${t.name}(input`)));
  assert.match(description, /1000 in 25 namespaces/);
  assert.match(description, /^- github \(\d+\): issue, /m);
  assert.match(description, /searchTools\("merge pull request", \{ detail: "full"/);
  assert.doesNotMatch(description, /declare (function|const)/);
  assert.ok(bytes(description) <= 8_192, `${bytes(description)} bytes for 1,000 tools`);
  // The threshold is an option.
  assert.match(
    describeTools(tools.slice(0, 10), { threshold: 5 }).description,
    /not declared here/,
  );
});

Deno.test("describeTools() above the threshold declares McpContent once for MCP tools, within 8 KB", () => {
  const tools = syntheticTools(1_000).map((s) => ({ ...s.tool, mcpContent: true }));
  const { description } = describeTools(tools);
  assert.equal(description.match(/^type McpContent =$/gm)?.length, 1);
  assert.ok(bytes(description) <= 8_192, `${bytes(description)} bytes for 1,000 MCP tools`);
  assert.doesNotMatch(
    describeTools(tools.slice(0, 50).map((t) => ({ ...t, mcpContent: false }))).description,
    /type McpContent/,
  );
});

Deno.test("describeTools() stays within 8 KB with many small namespaces and global tools", () => {
  const tools = Array.from(
    { length: 1_000 },
    (_, i) => tool(i % 2 ? `server${i % 400}.tool_number_${i}` : `global_tool_${i}`, obj({ q: S })),
  );
  const { description } = describeTools(tools);
  assert.ok(bytes(description) <= 8_192, `${bytes(description)} bytes`);
  assert.match(description, /^- global functions \(500\): global_tool_0, /m);
  assert.match(description, /…and \d+ more namespaces \(\d+ tools\): use searchTools/);
});

Deno.test("toolDeclarations() of 1,000 synthetic tools compiles, shown in the description or not", () => {
  const tools = syntheticTools(1_000).map((s) => s.tool);
  const dts = toolDeclarations(tools);
  const program =
    'const p = await github.merge_pull_request({ repo: "r", pull_request_id: "1" });\n' +
    'const l = await stripe.list_invoices({ account: "a", limit: 5 });\nprint(p, l);';
  assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": program }), []);
  assert.notDeepEqual(
    typeCheck({ "/tools.d.ts": dts, "/p.ts": "await github.merge_pull_request({});" }),
    [],
  );
});

Deno.test("searchTools() finds the tool a query names in the top 5 of 1,000 synthetic tools", () => {
  const synthetic = syntheticTools(1_000);
  const tools = synthetic.map((s) => s.tool);
  const misses = synthetic.filter(({ tool, query }) =>
    !searchTools(tools, query, { detail: "name", limit: 5 }).some((m) => m.name === tool.name)
  );
  assert.ok(
    misses.length <= 10,
    `missed ${misses.length}: ${misses.slice(0, 5).map((m) => m.query)}`,
  );
});

Deno.test("searchTools() ranks paraphrased purposes in the top 5", () => {
  const tools = syntheticTools(1_000).map((s) => s.tool);
  const table: [string, string][] = [
    ["merge a pull request", "github.merge_pull_request"],
    ["refund a shopify order", "shopify.refund_order"],
    ["scale kubernetes deployment replicas", "k8s.scale_deployment"],
    ["send an email", "gmail.send_message"],
    ["post a message to a slack channel", "slack.send_message"],
    ["cancel stripe subscription", "stripe.cancel_subscription"],
    ["acknowledge a pagerduty incident", "pagerduty.acknowledge_incident"],
    ["upload file to google drive", "drive.upload_file"],
    ["get pod logs", "k8s.logs_pod"],
    ["restart a docker container", "docker.restart_container"],
    ["find jira issues", "jira.search_issues"],
    ["schedule a calendar event", "calendar.create_event"],
    ["resolve sentry issue", "sentry.resolve_issue"],
    ["text message via twilio", "twilio.send_sms"],
    ["remove an s3 object", "s3.delete_object"],
    ["list repository branches", "github.list_branches"],
    ["github.create_issue", "github.create_issue"],
    ["createIssue github", "github.create_issue"],
  ];
  for (const [query, want] of table) {
    const found = searchTools(tools, query, { detail: "name", limit: 5 }).map((m) => m.name);
    assert.ok(found.includes(want), `${query} → ${found.join(", ")}`);
  }
});

Deno.test("searchTools() detail levels shape the results", () => {
  const tools = [...PATTERN_TOOLS];
  const [name] = searchTools(tools, "user", { detail: "name" });
  assert.deepEqual(name, { name: "crm.get_user", namespace: "crm" });
  const [summary] = searchTools(tools, "user");
  assert.deepEqual(summary, {
    name: "crm.get_user",
    namespace: "crm",
    description: "Get a user by ID.",
    signature:
      "crm.get_user(input: { id: string }): Promise<{ id: string; name: string; email: string; vip: boolean }>",
  });
  const [full] = searchTools(tools, "orders page", { detail: "full" });
  assert.equal(full.name, "crm.list_orders");
  assert.match(
    full.signature!,
    /^\/\*\* List a user's orders, one page at a time\. \*\/\ncrm\.list_orders\(input: \{\n/,
  );
  assert.match(full.signature!, /\/\*\* From the previous page \*\//);
});

Deno.test("searchTools() limits, lists everything for an empty query and refuses bad options", () => {
  const tools = syntheticTools(100).map((s) => s.tool);
  assert.equal(searchTools(tools, "github", { limit: 3 }).length, 3);
  assert.deepEqual(
    searchTools(tools, "", { detail: "name", limit: 2 }).map((m) => m.name),
    [tools[0].name, tools[1].name],
  );
  assert.deepEqual(searchTools(tools, "zzzz qqqq"), []);
  assert.throws(() => searchTools(tools, "x", { limit: 0 }), RangeError);
  assert.throws(() => searchTools(tools, "x", { detail: "all" as "name" }), TypeError);
  assert.throws(() => searchTools(tools, 42 as unknown as string), TypeError);
  assert.throws(() => searchTools(tools, "x", null as unknown as { limit: 1 }), TypeError);
});

Deno.test("searchTools() rebuilds its cached index when the array grows", () => {
  const tools = [tool("alpha_tool")];
  assert.equal(searchTools(tools, "beta").length, 0);
  tools.push(tool("beta_tool"));
  assert.equal(searchTools(tools, "beta", { detail: "name" })[0].name, "beta_tool");
});

const npx = await npxUnavailable();
Deno.test({
  name: "describeTools() of the real MCP servers everything, filesystem and memory compiles",
  ignore: npx !== null,
  async fn() {
    const lists = await listServerTools();
    for (const server of ["everything", "filesystem", "memory"]) {
      assert.ok(lists[server]?.length > 0, `${server} listed no tools`);
    }
    const tools = asTools(lists);
    const dts = toolDeclarations(tools);
    const program = [
      'const f = await filesystem.read_text_file({ path: "/tmp/x", head: 3 });',
      "const g = await memory.read_graph();",
      'const w = await everything.get_structured_content({ location: "Chicago" });',
      "const s = await everything.get_sum({ a: 1, b: 2 });",
      "print(f.content.length, g.entities.map((e) => e.name), w.temperature, s);",
    ].join("\n");
    assert.deepEqual(typeCheck({ "/tools.d.ts": dts, "/p.ts": program }), []);
    const { description, tools: listed } = describeTools(tools);
    assert.equal(listed.length, tools.length);
    assert.match(description, /declare const memory: \{/);
    assert.match(description, /get_annotated_message\(input: \{/);
    // The declarations block of the description compiles too (with the helpers).
    const block = description.slice(description.lastIndexOf("```ts\n") + 6, -5);
    assert.deepEqual(typeCheck({ "/tools.d.ts": block }), []);
  },
});
if (npx !== null) console.warn(`skipping the real MCP server test: ${npx}`);
