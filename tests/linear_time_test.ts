/**
 * What the host does on its own thread with program-controlled text stays linear: globs
 * (`list_files`, `search_files`), the HTML reducer behind `web_fetch`, `searchTools`' scoring and
 * identifier splitting. Each hostile input goes through a real `CodeMode.run` with the built-in
 * tools, so a regression shows as a run that does not end within its own timeout (the bound here
 * is that timeout + 2 s, never a speed goal), besides the exact answers checked directly.
 */

import assert from "node:assert/strict";
import { CodeMode, searchTools, type Tool } from "../mod.ts";
import { builtinTools } from "../src/tools/mod.ts";
import { compileGlob, GLOB_MAX_BRACE_DEPTH, GLOB_MAX_CHARS } from "../src/tools/glob.ts";
import { htmlToText } from "../src/tools/html_text.ts";
import { _splitCase, _tokenize } from "../src/describe/tokenize.ts";
import { SEARCH_QUERY_MAX_CHARS } from "../src/describe/search_tools.ts";
import { syntheticTools } from "./_fixtures/synthetic_tools.ts";
import { okOutput } from "./_fixtures/sandbox_watch.ts";

/** Generous: every run here does linear work; the old code took minutes to hours. */
const TIMEOUT_MS = 30_000;

/** Runs `program` and checks it ended within its timeout + 2 s (the only timing bound). */
async function runWithin(cm: CodeMode, program: string) {
  const started = performance.now();
  const result = await cm.run(program);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < TIMEOUT_MS + 2_000, `the run took ${Math.round(elapsed)} ms`);
  return result;
}

/** A root with names that make a glob's automaton work: long, of few letters, nested. */
async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "codemode_linear_" }));
  try {
    let seed = 7;
    const letter = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 16) % 2 ? "a" : "b";
    for (const dir of ["", "src/", "src/deep/er/"]) {
      await Deno.mkdir(`${root}/${dir}`, { recursive: true });
      for (let i = 0; i < 60; i++) {
        const name = Array.from({ length: 200 }, letter).join("");
        await Deno.writeTextFile(`${root}/${dir}${name}.txt`, "needle\n");
      }
    }
    await Deno.writeTextFile(`${root}/src/x.ts`, "needle\n");
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("hostile globs end with a result or a clear error, through list_files and search_files", async () => {
  await withRoot(async (root) => {
    await using cm = new CodeMode({
      tools: builtinTools({ root }),
      limits: { timeoutMs: TIMEOUT_MS },
      check: "off",
    });
    // The 130-byte program that held the host for hours with a backtracking RegExp.
    const payload = `print(await list_files({ pattern: "${"{,,,,,,,,,,,,}*".repeat(6)}x" }))`;
    assert.ok(payload.length <= 131);
    const payloadRun = await runWithin(cm, payload);
    assert.equal(okOutput(payloadRun), "{ files: [], truncated: false }\n");

    const table: [string, string][] = [
      ["{,,,,,,,,,,,,}*".repeat(66), "181"], // empty alternatives, up to the size cap
      ["*a" + "?".repeat(20) + "[bc]", "0"], // a pattern whose DFA would explode (no name ends in b or c)
      ["*{a,b}".repeat(150) + "*", "180"], // long alternations of stars
      ["**/" + "*a".repeat(300), "0"],
      ["src/**/*.{ts,tsx}", "1"],
    ];
    for (const [glob, count] of table) {
      const result = await runWithin(
        cm,
        `const g = ${JSON.stringify(glob)};
        const listed = await list_files({ pattern: g, limit: 10_000 });
        const found = await search_files({ pattern: "needle", glob: g, maxResults: 10_000 });
        print(listed.files.length, found.length);`,
      );
      assert.equal(okOutput(result), `${count} ${count}\n`, glob.slice(0, 40));
    }

    const refused: [string, RegExp][] = [
      ["*".repeat(GLOB_MAX_CHARS + 1), /over the 1000-character limit: use a shorter pattern/],
      ["{".repeat(GLOB_MAX_BRACE_DEPTH + 1) + "}".repeat(GLOB_MAX_BRACE_DEPTH + 1), /deeper than/],
      ["src/[z-a]", /reversed range "z-a"/],
    ];
    for (const [glob, message] of refused) {
      const result = await runWithin(
        cm,
        `try { await list_files({ pattern: ${
          JSON.stringify(glob)
        } }); } catch (e) { print(e.message); }
        try { await search_files({ pattern: "x", glob: ${
          JSON.stringify(glob)
        } }); } catch (e) { print(e.message); }`,
      );
      const [listError, searchError] = okOutput(result).trim().split("\n");
      assert.match(listError, /^list_files: (list_files: )?The glob /);
      assert.match(listError, message);
      assert.match(searchError, /^search_files: (search_files: )?The glob /);
      assert.match(searchError, message);
    }
  });
});

Deno.test("compileGlob() answers like the documented rules on braces, sets and code points", () => {
  const table: [string, string, boolean][] = [
    ["{,,,}*{,,}x", "abx", true],
    ["{,,,}*{,,}x", "ab", false],
    ["{a,{b,c}d}e", "cde", true],
    ["{a,{b,c}d}e", "be", false],
    ["x{,a}y", "xy", true],
    ["[a-c-e]", "-", true],
    ["[a-c-e]", "d", false],
    ["[]]", "]", true],
    ["[!/]", "/", false],
    ["a/**/b", "a/b", true],
    ["a/**/b", "a/x/y/b", true],
    ["**/x", "x", true],
    ["?", "😀", true],
    ["*😀?", "x😀y", true],
    ["{src/**/*.ts,*.md}", "docs/x.md", false],
    ["{src/**/*.ts,*.md}", "src/a/b.ts", true],
  ];
  for (const [glob, path, expected] of table) {
    assert.equal(compileGlob(glob).test(path), expected, `${glob} vs ${path}`);
  }
});

/** Serves `pages` on 127.0.0.1 for the duration of `fn`. */
async function withPages(
  pages: Record<string, string>,
  fn: (host: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const page = pages[new URL(request.url).pathname];
    return page === undefined
      ? new Response("missing", { status: 404 })
      : new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
  });
  try {
    await fn(`127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("web_fetch reduces hostile 150 KB pages to text within the run's timeout", async () => {
  const pages: Record<string, string> = {
    "/pre": "<pre>" + "\n".repeat(150_000) + "x</pre>",
    "/pre-runs": "<pre>" + "\n\n\n\n\n\n\n\n\n\nx".repeat(15_000) + "</pre>",
    "/lt": "<".repeat(150_000),
    "/name": "<" + "a".repeat(150_000),
    "/li": "<li>".repeat(37_500),
    "/script": "<script>" + "</script ".repeat(16_000),
    "/entities": "&#".repeat(75_000),
  };
  await withPages(pages, async (host) => {
    const root = await Deno.makeTempDir({ prefix: "codemode_fetch_" });
    try {
      await using cm = new CodeMode({
        tools: builtinTools({ root, allowNet: [host] }),
        limits: { timeoutMs: TIMEOUT_MS },
        check: "off",
      });
      const result = await runWithin(
        cm,
        `for (const path of ${JSON.stringify(Object.keys(pages))}) {
          const page = await web_fetch({ url: "http://${host}" + path });
          print(path, page.status, page.text.length);
        }`,
      );
      assert.deepEqual(okOutput(result).trim().split("\n"), [
        "/pre 200 1",
        "/pre-runs 200 164990",
        "/lt 200 150000",
        "/name 200 0",
        "/li 200 112498",
        "/script 200 0",
        "/entities 200 150000",
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
});

Deno.test("htmlToText() keeps <pre> line breaks and stray '<' exactly", () => {
  const table: [string, string][] = [
    ["<pre>a\n\n\nb\n\n</pre>after", "a\n\n\nb\n\nafter"],
    ["<p>1 < 2</p>", "1 < 2"],
    ["x <<y", "x <"], // "<y" opens a tag that never closes
    ["<pre>\n\n\n</pre><p>t</p>", "t"],
    ["a<", "a<"],
  ];
  for (const [html, text] of table) assert.equal(htmlToText(html), text, JSON.stringify(html));
});

Deno.test("searchTools refuses a 600 KB query at 400 tools and answers normal ones, in a run", async () => {
  const tools: Tool[] = syntheticTools(400).map((s) => s.tool);
  await using cm = new CodeMode({ tools, limits: { timeoutMs: TIMEOUT_MS }, check: "off" });
  const result = await runWithin(
    cm,
    `const words = "merge pull request list issues send message ".repeat(14_000).slice(0, 600_000);
    try { await searchTools(words); } catch (e) { print(e.message); }
    const long = words.slice(0, ${SEARCH_QUERY_MAX_CHARS});
    print((await searchTools(long, { detail: "name", limit: 3 })).length);
    print((await searchTools("merge pull request", { detail: "name", limit: 1 }))[0].name);`,
  );
  assert.deepEqual(okOutput(result).trim().split("\n"), [
    "searchTools: searchTools() query is 600000 characters, over the 1000-character limit: " +
    "search with a few words that say what the tool does",
    "3",
    "github.merge_pull_request",
  ]);
});

Deno.test("searchTools() builds its index over a tool with 200,000 capitals in a row", () => {
  const capitals = "A".repeat(200_000);
  const tools: Tool[] = [
    { name: "shouty", description: capitals, inputSchema: {}, execute: () => 1 },
    { name: "get_user", description: "Get a user.", inputSchema: {}, execute: () => 1 },
  ];
  assert.deepEqual(searchTools(tools, "user", { detail: "name" }), [
    { name: "get_user", namespace: null },
  ]);
  assert.equal(_tokenize(capitals).length, 1);
});

Deno.test("_splitCase() puts word breaks where the identifier rules say", () => {
  const table: [string, string][] = [
    ["getUserByID", "get User By ID"],
    ["HTMLParser", "HTML Parser"],
    ["parseHTML5Doc", "parse HTML5 Doc"],
    ["x2Y", "x2 Y"],
    ["ÉcoleNormale", "École Normale"],
    ["AAAAb", "AAA Ab"],
    ["", ""],
  ];
  for (const [text, spaced] of table) assert.equal(_splitCase(text), spaced, text);
});
