/**
 * The MCP client against real servers from npm (`npx -y`), plus a small server written with the
 * official SDK for what the npm servers cannot show (pagination, name collisions, list_changed on
 * demand, a frozen process).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadMcpConfig, type McpConfig, parseMcpConfig } from "../src/mcp/config.ts";
import { _toolResultValue } from "../src/mcp/result.ts";
import { _alive, _descendants, _terminate } from "../src/mcp/process_tree.ts";
import { connectMcpServers, type McpServers, type McpTool } from "../src/mcp/servers.ts";
import type { ToolContext } from "../src/types.ts";
import { FIXTURE_FLAGS, freePort, type Proc, startUpstream } from "./_fixtures/processes.ts";
import { until } from "./_fixtures/sandbox_watch.ts";

const npx = (pkg: string, ...args: string[]) => ({ command: "npx", args: ["-y", pkg, ...args] });
const EVERYTHING = "@modelcontextprotocol/server-everything";
const FILESYSTEM = "@modelcontextprotocol/server-filesystem";
const MEMORY = "@modelcontextprotocol/server-memory";

function context(signal = new AbortController().signal, progress?: (m: string) => void) {
  const ctx: ToolContext = { signal, name: "test" };
  if (progress) ctx.progress = progress;
  return ctx;
}

function tool(servers: McpServers, name: string): McpTool {
  const found = servers.tools.find((t) => t.name === name);
  assert.ok(found, `tool ${name} among ${servers.tools.map((t) => t.name).join(", ")}`);
  return found;
}

function call(servers: McpServers, name: string, input: unknown = {}): Promise<unknown> {
  return Promise.resolve(tool(servers, name).execute(input, context()));
}

/** Every process of every stdio server: the started command and what it started. */
async function processTrees(servers: McpServers): Promise<number[]> {
  const pids: number[] = [];
  for (const s of servers.status()) {
    if (s.pid !== undefined) pids.push(s.pid, ...(await _descendants(s.pid)));
  }
  return pids;
}

function statusOf(servers: McpServers, name: string) {
  const s = servers.status().find((x) => x.name === name);
  assert.ok(s, `status of ${name}`);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Configuration

Deno.test("parseMcpConfig() accepts stdio and HTTP servers and drops disabled ones", () => {
  const config = parseMcpConfig({
    mcpServers: {
      files: { command: "npx", args: ["-y", "x"], env: { A: "1" }, cwd: "/tmp", autoApprove: [] },
      remote: { type: "http", url: "http://127.0.0.1:3001/mcp", headers: { Authorization: "B" } },
      off: { command: "nothing", disabled: true },
    },
  });
  assert.deepEqual(config, {
    mcpServers: {
      files: { command: "npx", args: ["-y", "x"], env: { A: "1" }, cwd: "/tmp" },
      remote: { url: "http://127.0.0.1:3001/mcp", headers: { Authorization: "B" } },
    },
  });
  assert.deepEqual(parseMcpConfig({ servers: { s: { command: "c" } } }), {
    mcpServers: { s: { command: "c" } },
  });
});

Deno.test("parseMcpConfig() names the server and the field that is wrong", () => {
  const cases: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [{}, /needs an "mcpServers" object.*missing/],
    [{ mcpServers: { a: "npx" } }, /server "a" must be an object/],
    [{ mcpServers: { a: {} } }, /server "a" has neither "command" nor "url"/],
    [{ mcpServers: { a: { command: "x", url: "http://h" } } }, /server "a" has both/],
    [{ mcpServers: { a: { command: "" } } }, /server "a": "command" must be a non-empty string/],
    [{ mcpServers: { a: { command: "x", args: "-y" } } }, /server "a": "args" must be an array/],
    [{ mcpServers: { a: { command: "x", args: ["-y", 3] } } }, /"args".*number 3 at index 1/],
    [
      { mcpServers: { a: { command: "x", env: { N: 1 } } } },
      /server "a": "env.N" must be a string/,
    ],
    [{ mcpServers: { a: { command: "x", cwd: 5 } } }, /server "a": "cwd" must be a directory/],
    [{ mcpServers: { a: { url: "nope" } } }, /server "a": "url" "nope" is not a valid URL/],
    [{ mcpServers: { a: { url: "ftp://h" } } }, /server "a": "url" must be http: or https:/],
    [{ mcpServers: { a: { url: "http://h", headers: [] } } }, /server "a": "headers" must be/],
    [{ mcpServers: { a: { type: "sse", url: "http://h" } } }, /server "a": the "sse" transport/],
    [{ mcpServers: { a: { type: "ws", url: "http://h" } } }, /server "a": unknown "type" "ws"/],
    [{ mcpServers: { a: { type: "stdio", url: "http://h" } } }, /"type" is "stdio" but/],
    [{ mcpServers: { "a-b": { command: "x" }, a_b: { command: "y" } } }, /"a-b" and "a_b"/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseMcpConfig(input), (e: Error) => {
      assert.ok(e instanceof TypeError, `TypeError for ${JSON.stringify(input)}`);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("loadMcpConfig() resolves a relative cwd and names the file on errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "codemode_mcp_config_" });
  try {
    const file = join(dir, "mcp.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ mcpServers: { s: { command: "c", cwd: "w" } } }),
    );
    assert.deepEqual(await loadMcpConfig(file), {
      mcpServers: { s: { command: "c", cwd: join(dir, "w") } },
    });
    await Deno.writeTextFile(file, "{ nope");
    await assert.rejects(loadMcpConfig(file), (e: Error) => {
      assert.ok(e instanceof SyntaxError);
      assert.match(e.message, /mcp\.json" is not valid JSON/);
      return true;
    });
    await Deno.writeTextFile(file, JSON.stringify({ mcpServers: { s: { command: 1 } } }));
    await assert.rejects(loadMcpConfig(file), /server "s": "command".*mcp\.json/);
    await assert.rejects(loadMcpConfig(join(dir, "missing.json")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Result conversion

Deno.test("_toolResultValue() converts each kind of tools/call result", () => {
  const image = { type: "image", data: "iVBO", mimeType: "image/png" } as const;
  const cases: [string, Parameters<typeof _toolResultValue>[0], boolean, unknown][] = [
    [
      "a declared outputSchema gives structuredContent",
      {
        content: [{ type: "text", text: "x" }],
        structuredContent: { a: 1 },
      },
      true,
      { a: 1 },
    ],
    [
      "without an outputSchema, structuredContent is not the value",
      {
        content: [{ type: "text", text: '{"a":1}' }],
        structuredContent: { a: 1 },
      },
      false,
      '{"a":1}',
    ],
    [
      "undeclared structuredContent without content: its JSON text",
      {
        content: [],
        structuredContent: { a: 1 },
      },
      false,
      '{"a":1}',
    ],
    [
      "JSON text stays text",
      {
        content: [{ type: "text", text: ' {"a":[1,2]}\n' }],
      },
      false,
      ' {"a":[1,2]}\n',
    ],
    ["a number stays text", { content: [{ type: "text", text: "42" }] }, false, "42"],
    [
      "plain text stays text",
      { content: [{ type: "text", text: "The sum is 3." }] },
      false,
      "The sum is 3.",
    ],
    [
      "text parts are joined by newlines",
      {
        content: [{ type: "text", text: "a" }, { type: "text", text: "b" }],
      },
      false,
      "a\nb",
    ],
    [
      "images are kept as content blocks",
      {
        content: [{ type: "text", text: "here:" }, image],
      },
      false,
      [{ type: "text", text: "here:" }, image],
    ],
    ["no content is an empty string", { content: [] }, false, ""],
    ["a 2024-10-07 toolResult as text", { toolResult: { a: 1 } } as never, false, '{"a":1}'],
  ];
  for (const [what, result, structured, expected] of cases) {
    assert.deepEqual(_toolResultValue(result, "s", "t", structured), expected, what);
  }
  assert.throws(
    () => _toolResultValue({ content: [{ type: "text", text: "boom" }], isError: true }, "s", "t"),
    { message: 'MCP server "s": tool "t" failed: boom' },
  );
  assert.throws(
    () => _toolResultValue({ content: [], isError: true }, "s", "t"),
    /"s": tool "t" failed: the server reported an error without a message/,
  );
});

// ---------------------------------------------------------------------------------------------
// Real servers from npm

Deno.test("connectMcpServers() offers and calls the tools of everything, filesystem and memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "codemode_mcp_" });
  await Deno.mkdir(join(dir, "files"));
  await Deno.writeTextFile(join(dir, "files", "notes.txt"), "hello from a file\n");
  Deno.env.set("CODEMODE_TEST_PARENT_ONLY", "secret");
  const config: McpConfig = {
    mcpServers: {
      everything: { ...npx(EVERYTHING), env: { CODEMODE_TEST_VAR: "42" } },
      "server-filesystem": npx(FILESYSTEM, join(dir, "files")),
      memory: { ...npx(MEMORY), env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") } },
      missing: { command: "codemode-no-such-command" },
      exits: { ...npx(FILESYSTEM, join(dir, "no-such-dir")), cwd: dir },
    },
  };
  const servers = await connectMcpServers(config);
  let pids: number[] = [];
  try {
    // Listing: original names, schemas carried.
    const names = servers.tools.map((t) => t.name);
    for (
      const n of [
        "everything.get-sum",
        "everything.get-structured-content",
        "server-filesystem.read_text_file",
        "memory.create_entities",
      ]
    ) assert.ok(names.includes(n), `${n} listed`);
    const structured = tool(servers, "everything.get-structured-content");
    assert.equal(structured.server, "everything");
    assert.equal(structured.tool, "get-structured-content");
    assert.equal(structured.inputSchema.type, "object");
    assert.ok(structured.outputSchema, "outputSchema carried");
    assert.ok(structured.description.length > 0);

    // Status: the working servers connected; the failing ones say why.
    assert.deepEqual(
      servers.status().map((s) => [s.name, s.state]),
      [
        ["everything", "connected"],
        ["server-filesystem", "connected"],
        ["memory", "connected"],
        ["missing", "failed"],
        ["exits", "failed"],
      ],
    );
    assert.match(statusOf(servers, "missing").error!, /"codemode-no-such-command" was not found/);
    assert.match(statusOf(servers, "exits").error!, /exited.*\n.*accessible/s, "stderr tail");

    // Results.
    assert.deepEqual(
      await call(servers, "everything.get-structured-content", { location: "Chicago" }),
      {
        temperature: 36,
        conditions: "Light rain / drizzle",
        humidity: 82,
      },
    );
    assert.equal(
      await call(servers, "everything.get-sum", { a: 2, b: 3 }),
      "The sum of 2 and 3 is 5.",
    );
    const envText = await call(servers, "everything.get-env");
    assert.equal(typeof envText, "string", "JSON text stays a string");
    const env = JSON.parse(envText as string) as Record<string, string>;
    assert.equal(env.CODEMODE_TEST_VAR, "42", "env passed");
    assert.ok(env.PATH, "safe default env");
    assert.equal(env.CODEMODE_TEST_PARENT_ONLY, undefined, "parent env not inherited");
    const image = await call(servers, "everything.get-tiny-image") as { type: string }[];
    assert.ok(image.some((c) => c.type === "image"), "image kept as an object");
    assert.deepEqual(
      await call(servers, "server-filesystem.read_text_file", {
        path: join(dir, "files", "notes.txt"),
      }),
      { content: "hello from a file\n" },
    );
    await assert.rejects(
      call(servers, "server-filesystem.read_text_file", { path: "/etc/hostname" }),
      /^Error: MCP server "server-filesystem": tool "read_text_file" failed: Access denied/,
    );
    await call(servers, "memory.create_entities", {
      entities: [{ name: "codemode", entityType: "project", observations: ["runs programs"] }],
    });
    assert.deepEqual(await call(servers, "memory.read_graph"), {
      entities: [{ name: "codemode", entityType: "project", observations: ["runs programs"] }],
      relations: [],
    });
    // A task-only tool runs through the SDK's task API.
    assert.match(
      await call(servers, "everything.simulate-research-query", { topic: "MCP" }) as string,
      /Research Report: MCP/,
    );
    pids = await processTrees(servers);
    assert.ok(pids.length >= 3, `process trees: ${pids}`);
  } finally {
    await servers.close();
    Deno.env.delete("CODEMODE_TEST_PARENT_ONLY");
  }
  assert.deepEqual(await _alive(pids), [], "no server process survives close()");
  assert.ok(servers.status().every((s) => s.state === "closed"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a killed server fails its call with its name, and the next call restarts it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "codemode_mcp_kill_" });
  const changes: number[] = [];
  await using servers = await connectMcpServers({
    mcpServers: {
      memory: { ...npx(MEMORY), env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") } },
      everything: npx(EVERYTHING),
      later: npx(FILESYSTEM, join(dir, "later")),
    },
  }, { onToolsChanged: (t) => changes.push(t.length) });
  await call(servers, "memory.create_entities", {
    entities: [{ name: "kept", entityType: "note", observations: ["survives a restart"] }],
  });
  const before = await processTrees(servers);

  // A call in flight when its server dies fails with the server's name.
  const started = Promise.withResolvers<void>();
  const inFlight = Promise.resolve(
    tool(servers, "everything.trigger-long-running-operation")
      .execute({ duration: 600, steps: 6000 }, context(undefined, () => started.resolve())),
  );
  inFlight.catch(() => {});
  await started.promise;
  for (const pid of before) Deno.kill(pid, "SIGKILL");
  await assert.rejects(
    inFlight,
    /MCP server "everything": tool "trigger-long-running-operation" failed: the server closed the connection during the call/,
  );
  await until(() => statusOf(servers, "memory").state === "disconnected");
  assert.match(statusOf(servers, "memory").error!, /closed the connection/);

  // The next call starts it again (the memory file outlives the process).
  assert.deepEqual(await call(servers, "memory.read_graph"), {
    entities: [{ name: "kept", entityType: "note", observations: ["survives a restart"] }],
    relations: [],
  });
  const after = statusOf(servers, "memory");
  assert.equal(after.state, "connected");
  assert.ok(after.pid !== undefined && !before.includes(after.pid), "a new process");
  assert.equal(
    await call(servers, "everything.get-sum", { a: 1, b: 2 }),
    "The sum of 1 and 2 is 3.",
  );
  assert.deepEqual(changes, [], "same tools after restarts");

  // A server that could not start comes up with reconnect() once its cause is fixed.
  assert.equal(statusOf(servers, "later").state, "failed");
  assert.ok(!servers.tools.some((t) => t.server === "later"));
  await Deno.mkdir(join(dir, "later"));
  await servers.reconnect();
  assert.equal(statusOf(servers, "later").state, "connected");
  assert.ok(servers.tools.some((t) => t.name === "later.list_directory"));
  assert.equal(changes.length, 1);
  await servers.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a call is cancelled by its signal and times out with the server's name", async () => {
  await using servers = await connectMcpServers(
    { mcpServers: { everything: npx(EVERYTHING) } },
    { callTimeoutMs: 1_500 },
  );
  const long = tool(servers, "everything.trigger-long-running-operation");
  // Cancelled after the first progress report.
  const ac = new AbortController();
  const progress: string[] = [];
  await assert.rejects(
    Promise.resolve(long.execute(
      { duration: 60, steps: 600 },
      context(ac.signal, (m) => (progress.push(m), ac.abort())),
    )),
    /MCP server "everything": tool "trigger-long-running-operation" was cancelled/,
  );
  assert.deepEqual(progress, ["1/600"]);
  // Without progress (10 s for one step), the per-call timeout ends it.
  await assert.rejects(
    Promise.resolve(long.execute({ duration: 10, steps: 1 }, context())),
    /MCP server "everything": tool "trigger-long-running-operation" did not answer within 1500 ms/,
  );
  // The server still answers pings, so it is kept.
  assert.equal(
    await call(servers, "everything.get-sum", { a: 1, b: 1 }),
    "The sum of 1 and 1 is 2.",
  );
  assert.equal(statusOf(servers, "everything").state, "connected");
});

Deno.test("connectMcpServers() reaches a Streamable HTTP server by url", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const child = new Deno.Command("npx", {
    args: ["-y", EVERYTHING, "streamableHttp"],
    env: { PORT: String(port) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const listening = Promise.withResolvers<void>();
  const drained = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      log += chunk;
      if (log.includes("listening on port")) listening.resolve();
    }
    listening.reject(new Error(`the HTTP server exited: ${log}`));
  })();
  try {
    await listening.promise;
    await using servers = await connectMcpServers({
      mcpServers: {
        web: { url: `http://127.0.0.1:${port}/mcp`, headers: { "X-Codemode-Test": "1" } },
      },
    });
    assert.equal(statusOf(servers, "web").transport, "http");
    assert.deepEqual(await call(servers, "web.get-structured-content", { location: "New York" }), {
      temperature: 33,
      conditions: "Cloudy",
      humidity: 82,
    });
    await assert.rejects(
      call(servers, "web.echo", { message: 1 }),
      /^Error: MCP server "web": tool "echo" failed: .*Input validation error/,
    );
    // The server goes away: calls fail with its name (the broken GET stream may already have
    // shown that it is gone, or the call finds out).
    await _terminate([child.pid, ...(await _descendants(child.pid))], 2_000);
    await assert.rejects(
      call(servers, "web.get-sum", { a: 1, b: 2 }),
      /^Error: MCP server "web": tool "get-sum" (failed: lost the connection|is unavailable: failed to start)/,
    );
    await until(() => ["disconnected", "failed"].includes(statusOf(servers, "web").state));
    await assert.rejects(
      call(servers, "web.get-sum", { a: 1, b: 2 }),
      /^Error: MCP server "web": tool "get-sum" is unavailable: failed to start/,
    );
  } finally {
    await _terminate([child.pid, ...(await _descendants(child.pid))], 2_000);
    await child.status;
    await drained;
  }
});

Deno.test("an HTTP server killed mid-call fails that call at once; a restarted one is reached without a session error", async () => {
  const port = freePort();
  const url = `http://127.0.0.1:${port}/mcp`;
  let upstream: Proc = await startUpstream(port);
  try {
    await using servers = await connectMcpServers(
      { mcpServers: { web: { url } } },
      { callTimeoutMs: 60_000 },
    );
    const first = await call(servers, "web.pid");

    // Killed while a call is in flight: the call fails as soon as the stream breaks, not at the
    // 60 s callTimeoutMs. The issue asks for 2 s; noticing takes a ping to a closed port.
    const holding = Promise.withResolvers<void>();
    const inFlight = Promise.resolve(
      tool(servers, "web.hold").execute(
        { ms: 600_000 },
        context(undefined, () => holding.resolve()),
      ),
    );
    inFlight.catch(() => {});
    await holding.promise;
    await upstream.stop(true);
    const killedAt = performance.now();
    await assert.rejects(
      inFlight,
      /^Error: MCP server "web": tool "hold" failed: the server closed the connection during the call/,
    );
    const noticedMs = performance.now() - killedAt;
    assert.ok(noticedMs < 2_000, `the call failed ${noticedMs.toFixed(0)} ms after the kill`);

    // Back on the same port: the next call works.
    upstream = await startUpstream(port);
    const second = await call(servers, "web.pid");
    assert.notEqual(second, first);

    // Restarted while idle (the server offers no GET stream, so nothing tells the client): the
    // first call meets "No valid session ID", starts a new session and succeeds.
    await upstream.stop(true);
    upstream = await startUpstream(port);
    const third = await call(servers, "web.pid");
    assert.notEqual(third, second);
    assert.equal(statusOf(servers, "web").state, "connected");
  } catch (err) {
    console.error(`upstream stderr:\n${upstream.stderr()}`);
    throw err;
  } finally {
    await upstream.stop();
  }
});

Deno.test("connectMcpServers() rejects when every server fails, naming each", async () => {
  await assert.rejects(
    connectMcpServers({
      mcpServers: {
        a: { command: "codemode-no-such-command" },
        b: { url: "http://127.0.0.1:9/mcp" },
      },
    }),
    (e: Error) => {
      assert.match(e.message, /No MCP server could be started/);
      assert.match(e.message, /- a: failed to start: command "codemode-no-such-command"/);
      assert.match(e.message, /- b: failed to start: /);
      return true;
    },
  );
  const none = await connectMcpServers({ mcpServers: {} });
  assert.deepEqual(none.tools, []);
  await none.close();
});

// ---------------------------------------------------------------------------------------------
// A server written with the official SDK, for what the npm servers do not do on demand.

/** The SDK fixture, run through the project's import map and lockfile (see processes.ts). */
const PAGING_SERVER = new URL("./_fixtures/paging_server.ts", import.meta.url).pathname;

Deno.test("pagination, colliding names, list_changed and a frozen server (SDK fixture)", async () => {
  const changes: string[][] = [];
  await using servers = await connectMcpServers(
    {
      mcpServers: {
        fixture: {
          command: Deno.execPath(),
          args: ["run", "-A", ...FIXTURE_FLAGS, PAGING_SERVER],
        },
      },
    },
    { callTimeoutMs: 1_000, onToolsChanged: (t) => changes.push(t.map((x) => x.tool)) },
  );
  // Both pages listed; "get_sum" collides with "get-sum" and is left out with a warning.
  assert.deepEqual(servers.tools.map((t) => t.name), [
    "fixture.get-sum",
    "fixture.echo",
    "fixture.add-tool",
    "fixture.hang",
    "fixture.freeze",
  ]);
  assert.match(
    statusOf(servers, "fixture").warnings.join(),
    /"get-sum" and "get_sum" both become "get_sum"/,
  );

  // list_changed: the tool set is re-listed and listeners hear of it.
  const heard: number[] = [];
  const stop = servers.onToolsChanged((t) => heard.push(t.length));
  await call(servers, "fixture.add-tool");
  await until(() => changes.length === 1);
  assert.deepEqual(changes[0].slice(-1), ["added-1"]);
  assert.deepEqual(heard, [6]);
  stop();
  assert.match(await call(servers, "fixture.added-1") as string, /^added-1 \d+$/);

  // A hung call times out; the server still answers pings, so it stays.
  await assert.rejects(call(servers, "fixture.hang"), /"fixture": tool "hang" did not answer/);
  assert.equal(statusOf(servers, "fixture").state, "connected");

  // A frozen process misses the ping too: it is ended, and the next call starts a new one.
  const pid = statusOf(servers, "fixture").pid!;
  await assert.rejects(call(servers, "fixture.freeze"), /"fixture": tool "freeze" did not answer/);
  await until(() => statusOf(servers, "fixture").state === "disconnected");
  assert.match(statusOf(servers, "fixture").error!, /stopped answering/);
  await until(async () => (await _alive([pid])).length === 0);
  const answer = await call(servers, "fixture.echo") as string;
  assert.match(answer, /^echo \d+$/);
  assert.notEqual(answer, `echo ${pid}`);
  // The new process has no added tool: the change is reported.
  await until(() => changes.length === 2);
  assert.ok(!changes[1].includes("added-1"));
  await servers.close();
});
