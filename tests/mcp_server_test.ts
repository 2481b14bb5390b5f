/**
 * `codemode serve` as a real process, driven by the official SDK client over stdio and Streamable
 * HTTP, in front of the real memory and filesystem servers from npm (`npx -y`).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type Progress,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { _alive, _descendants } from "../src/mcp/process_tree.ts";
import { _runResultText } from "../src/program_tool.ts";
import type { RunResult } from "../src/types.ts";

import { FIXTURE_FLAGS, MOD } from "./_fixtures/processes.ts";
import { until } from "./_fixtures/sandbox_watch.ts";
/** A downstream server (official SDK) whose `add_tool` adds a tool and sends list_changed. */
const CHANGING_SERVER = new URL("./_fixtures/changing_server.ts", import.meta.url).pathname;

interface Fixture extends AsyncDisposable {
  dir: string;
  config: string;
}

/** A temporary directory with three notes, a memory file path and an `mcpServers` config. */
async function fixture(extra: Record<string, unknown> = {}): Promise<Fixture> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "codemode_serve_" }));
  await Deno.mkdir(join(dir, "notes"));
  for (const [name, text] of [["alpha", "Alpha likes tea."], ["beta", "Beta likes coffee."]]) {
    await Deno.writeTextFile(join(dir, "notes", `${name}.txt`), text);
  }
  const config = join(dir, "mcp.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      mcpServers: {
        memory: {
          command: "npx",
          args: ["-y", "@modelcontextprotocol/server-memory"],
          env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") },
        },
        filesystem: {
          command: "npx",
          args: ["-y", "@modelcontextprotocol/server-filesystem", join(dir, "notes")],
        },
        ...extra,
      },
    }),
  );
  return {
    dir,
    config,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The program of the issue: memory writes, filesystem reads, a summary. */
function summaryProgram(notes: string): string {
  return `
const { content: listing } = await filesystem.list_directory({ path: ${JSON.stringify(notes)} });
const names = listing.split("\\n").filter((l) => l.startsWith("[FILE]")).map((l) => l.slice(7));
const files = await Promise.all(names.map(async (name) => ({
  name: name.replace(/\\.txt$/, ""),
  text: (await filesystem.read_text_file({ path: ${JSON.stringify(notes)} + "/" + name })).content,
})));
await memory.create_entities({
  entities: files.map((f) => ({ name: f.name, entityType: "note", observations: [f.text] })),
});
const graph = await memory.read_graph();
print(\`\${files.length} notes read, \${graph.entities.length} entities in memory\`);
for (const e of graph.entities) print(\`\${e.name}: \${e.observations.join("; ")}\`);
`;
}

function structured(result: CallToolResult): RunResult {
  assert.ok(result.structuredContent, "structuredContent is present");
  return result.structuredContent as unknown as RunResult;
}

function text(result: CallToolResult): string {
  const first = result.content[0];
  assert.equal(first?.type, "text");
  return (first as { text: string }).text;
}

/**
 * Records every `notifications/progress` the server sends, as it arrives on the wire. The SDK
 * client (1.32) drops a progress notification that arrives together with the response (it
 * dispatches notifications a microtask late, after the response retired the token:
 * modelcontextprotocol/typescript-sdk#2580), so `onprogress` alone would make the last one flaky.
 */
function tapProgress(
  transport: { onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void },
): Progress[] {
  const seen: Progress[] = [];
  const next = transport.onmessage!;
  transport.onmessage = (message, extra) => {
    if ("method" in message && message.method === "notifications/progress") {
      seen.push(message.params as Progress);
    }
    next(message, extra);
  };
  return seen;
}

/** The server process, everything it started, and a check that all of it is gone. */
async function processTree(pid: number): Promise<number[]> {
  return [pid, ...(await _descendants(pid))];
}

Deno.test("codemode serve over stdio: run_program with memory and filesystem, errors, progress, cancel, list_changed", async () => {
  await using fx = await fixture();
  const config = JSON.parse(await Deno.readTextFile(fx.config));
  // Through the project's import map and lockfile: the SDK's stripped environment for stdio
  // servers could not fetch a fresh resolution.
  config.mcpServers.changing = {
    command: Deno.execPath(),
    args: ["run", "-A", ...FIXTURE_FLAGS, CHANGING_SERVER],
  };
  await Deno.writeTextFile(fx.config, JSON.stringify(config));

  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", MOD, "serve", "--mcp", fx.config, "--root", fx.dir],
    // Learned result shapes go to a cache of this test's own.
    env: { ...getDefaultEnvironment(), CODEMODE_CACHE_DIR: join(fx.dir, "cache") },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array | string) => stderr += chunk.toString());
  const client = new Client({ name: "codemode-serve-test", version: "0.0.0" });
  const listChanged: number[] = [];
  client.setNotificationHandler(
    ToolListChangedNotificationSchema,
    () => void listChanged.push(Date.now()),
  );
  await client.connect(transport);
  const wire = tapProgress(transport);
  const pid = transport.pid!;
  try {
    // One tool whose description declares the downstream tools.
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ["run_program"]);
    const [tool] = tools;
    for (
      const declared of [
        "declare const memory",
        "create_entities(input:",
        "declare const filesystem",
        "read_text_file(input:",
        "list_directory(input:",
        "read_file(input:", // built-in
        "declare const changing", // the SDK fixture started (else the test below would wait)
      ]
    ) {
      assert.ok(tool.description?.includes(declared), `description declares ${declared}`);
    }
    assert.deepEqual(tool.inputSchema.required, ["program"]);
    assert.equal(tool.outputSchema?.type, "object");
    assert.ok(tool.outputSchema?.properties?.output, "outputSchema describes the RunResult");

    // One program: filesystem reads, memory writes, a summary.
    const notes = join(fx.dir, "notes");
    const ok = await client.callTool({
      name: "run_program",
      arguments: { program: summaryProgram(notes) },
    }) as CallToolResult;
    const summary = "2 notes read, 2 entities in memory\n" +
      "alpha: Alpha likes tea.\nbeta: Beta likes coffee.\n";
    assert.equal(ok.isError, undefined, text(ok));
    assert.equal(text(ok), summary);
    const result = structured(ok);
    assert.equal(result.ok, true);
    assert.equal(result.output, summary);
    assert.equal(result.calls, 5);
    assert.deepEqual(
      [...new Set(result.trace!.map((c) => c.tool))].sort(),
      [
        "filesystem.list_directory",
        "filesystem.read_text_file",
        "memory.create_entities",
        "memory.read_graph",
      ],
    );
    assert.ok(result.stats.toolResultBytes > 0);
    // The memory server really wrote its file.
    assert.match(await Deno.readTextFile(join(fx.dir, "memory.jsonl")), /Alpha likes tea/);

    // Failing programs: isError, the report after the output kept so far.
    const failures: [string, RegExp, string][] = [
      [
        `print("before"); await memory.read_graph(); throw new Error("boom");`,
        /^before\nruntime error at line 1, column \d+: Error: boom/,
        "before\n",
      ],
      [
        `print("x"); await filesystem.read_text_file({ path: "/etc/passwd" });`,
        /^x\ntool error.*filesystem\.read_text_file.*(denied|outside)/is,
        "x\n",
      ],
      [`const n: number = "text"; print(n);`, /^type error at line 1/, ""],
    ];
    for (const [program, report, output] of failures) {
      const failed = await client.callTool({
        name: "run_program",
        arguments: { program },
      }) as CallToolResult;
      assert.equal(failed.isError, true, program);
      assert.match(text(failed), report);
      const r = structured(failed);
      assert.equal(r.ok, false);
      assert.equal(r.output, output);
      assert.equal(text(failed), _runResultText(r));
      assert.doesNotMatch(text(failed), /warning/, "each finding once");
    }

    // Progress: one notification per completed tool call.
    wire.length = 0;
    const withProgress = await client.callTool(
      {
        name: "run_program",
        arguments: {
          program: `for (let i = 0; i < 3; i++) await memory.search_nodes({ query: "alpha" });
print("searched");`,
        },
      },
      undefined,
      { onprogress: () => {} },
    ) as CallToolResult;
    assert.equal(text(withProgress), "searched\n");
    assert.deepEqual(wire.map((p) => p.progress), [1, 2, 3]);
    for (const p of wire) assert.match(p.message!, /^memory\.search_nodes done in \d+ ms$/);

    // Cancellation: the run ends, the server stays and answers the next call.
    const abort = new AbortController();
    wire.length = 0;
    const cancelled = client.callTool(
      {
        name: "run_program",
        arguments: {
          program: `await memory.read_graph();
print("waiting");
await new Promise((resolve) => setTimeout(resolve, 600_000));
print("never");`,
        },
      },
      undefined,
      { signal: abort.signal, onprogress: () => {} },
    );
    await until(() => wire.length === 1);
    abort.abort(new Error("the user pressed stop"));
    await assert.rejects(cancelled, /the user pressed stop|abort/i);
    await until(() => /run_program: timeout error.*\(cancelled\)/.test(stderr));
    const after = await client.callTool({
      name: "run_program",
      arguments: { program: `print(1 + 1)` },
    }) as CallToolResult;
    assert.equal(text(after), "2\n");

    // A downstream server adds a tool: list_changed reaches the client, the description follows,
    // and shows the shape learned from add_tool's result (a second list_changed, either order).
    assert.ok(!tool.description?.includes("added_1"));
    assert.ok(!tool.description?.includes("* @returns seen:"));
    const adding = await client.callTool({
      name: "run_program",
      arguments: { program: `await changing.add_tool();` },
    }) as CallToolResult;
    assert.equal(adding.isError, undefined, text(adding));
    await until(() => listChanged.length > 0);
    let relisted = await client.listTools();
    await until(async () => {
      relisted = await client.listTools();
      const d = relisted.tools[0].description ?? "";
      return d.includes("added_1(") && d.includes('@returns seen: string — e.g. "add_tool"');
    });
    assert.ok(relisted.tools[0].description?.includes("added_1("), "the new tool is declared");
    const callsNew = await client.callTool({
      name: "run_program",
      arguments: { program: `print(await changing.added_1())` },
    }) as CallToolResult;
    assert.equal(text(callsNew), "added_1\n");
  } catch (err) {
    console.error(`codemode serve stderr:\n${stderr}`);
    throw err;
  } finally {
    const tree = await processTree(pid);
    await client.close();
    // Every process the server started (sandboxes, npx, node servers) is gone.
    await until(async () => (await _alive(tree)).length === 0);
  }
  // Nothing but protocol went to stdout: the SDK would have reported a parse error otherwise,
  // and the logs went to stderr.
  assert.match(stderr, /serving MCP on stdio/);
});

Deno.test("codemode serve --http PORT: Streamable HTTP on 127.0.0.1 with sessions", async () => {
  await using fx = await fixture();
  const port = (() => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    return port;
  })();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, "serve", "--http", String(port), "--mcp", fx.config],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const stdout = new Response(child.stdout).text();
  const url = `http://127.0.0.1:${port}/mcp`;
  let tree: number[] = [];
  try {
    await until(() => stderr.includes(`MCP endpoint ${url}`) || stderr.includes("error"));
    assert.ok(stderr.includes(`MCP endpoint ${url}`), stderr);

    // Two clients, two sessions, one CodeMode behind them.
    const clients = [
      new Client({ name: "a", version: "0" }),
      new Client({ name: "b", version: "0" }),
    ];
    const transports = clients.map(() => new StreamableHTTPClientTransport(new URL(url)));
    await Promise.all(clients.map((c, i) => c.connect(transports[i])));
    const wire = tapProgress(transports[0]);
    tree = await processTree(child.pid);
    const { tools } = await clients[0].listTools();
    assert.deepEqual(tools.map((t) => t.name), ["run_program"]);
    assert.ok(tools[0].description?.includes("declare const memory"));

    const ok = await clients[0].callTool(
      { name: "run_program", arguments: { program: summaryProgram(join(fx.dir, "notes")) } },
      undefined,
      { onprogress: () => {} },
    ) as CallToolResult;
    assert.match(text(ok), /^2 notes read, 2 entities in memory\n/);
    assert.equal(structured(ok).calls, 5);
    assert.deepEqual(wire.map((p) => p.progress), [1, 2, 3, 4, 5]);

    // The other session sees the same memory server.
    const other = await clients[1].callTool({
      name: "run_program",
      arguments: { program: `print((await memory.read_graph()).entities.length)` },
    }) as CallToolResult;
    assert.equal(text(other), "2\n");

    // Requests that are not for this machine, or for no session, are refused.
    const refused: [RequestInit, number][] = [
      [{ method: "POST", headers: { origin: "https://evil.example" }, body: "{}" }, 403],
      [{ method: "GET", headers: { "mcp-session-id": "nope" } }, 404],
      [{ method: "GET" }, 400],
    ];
    for (const [init, status] of refused) {
      const response = await fetch(url, init);
      await response.body?.cancel();
      assert.equal(response.status, status, JSON.stringify(init));
    }
    // A page on another site reaching 127.0.0.1 through DNS rebinding sends its own Host.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode(
      "POST /mcp HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\n" +
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    ));
    const reply = await new Response(conn.readable).text();
    assert.match(reply, /^HTTP\/1\.1 403 /);
    const elsewhere = await fetch(`http://127.0.0.1:${port}/other`);
    await elsewhere.body?.cancel();
    assert.equal(elsewhere.status, 404);

    for (const t of transports) await t.terminateSession();
    for (const c of clients) await c.close();
    await until(() => (stderr.match(/session [\w-]+ closed/g) ?? []).length === 2);
  } catch (err) {
    console.error(`codemode serve stderr:\n${stderr}`);
    throw err;
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    assert.equal(await stdout, "", "nothing on stdout");
    assert.equal(status.code, 0, stderr);
    await until(async () => (await _alive(tree)).length === 0);
  }
});

/** `codemode serve` over stdio, spoken to line by line. */
async function rawStdio(lines: string[], expected: number): Promise<Record<string, unknown>[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, "serve"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  const answers: Record<string, unknown>[] = [];
  let pending = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (answers.length < expected) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve ended after ${answers.length} answers:\n${await stderr}`);
      pending += value;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        answers.push(JSON.parse(pending.slice(0, nl)));
        pending = pending.slice(nl + 1);
      }
    }
  } finally {
    await writer.close(); // stdin ends: the server stops
    await reader.cancel();
    assert.equal((await child.status).code, 0, await stderr);
  }
  return answers;
}

Deno.test("codemode serve over stdio answers batches, malformed params, a second initialize and bad JSON like HTTP", async () => {
  const init = (id: number) =>
    JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "initialize",
      params: {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "raw", version: "0" },
      },
    });
  const answers = await rawStdio([
    init(1),
    JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call" }),
    JSON.stringify([
      { jsonrpc: "2.0", id: 3, method: "ping" },
      { jsonrpc: "2.0", id: 4, method: "tools/list" },
    ]),
    "{ not json",
    init(5),
    JSON.stringify([]),
    JSON.stringify({
      jsonrpc: "2.0",
      id: 6,
      method: "tools/call",
      params: { name: "run_program" },
    }),
  ], 8);
  const byId = new Map(answers.map((a) => [a.id, a]));
  const error = (id: unknown) =>
    (byId.get(id) as { error: { code: number; message: string } }).error;
  assert.equal(
    (byId.get(1) as { result: { serverInfo: { name: string } } }).result.serverInfo.name,
    "codemode",
  );
  assert.deepEqual(error(2), {
    code: -32602,
    message: "Invalid params for tools/call: params are missing (send params { name, arguments })",
  });
  // The batch: each message answered on its own line, as HTTP answers each on the stream.
  assert.deepEqual((byId.get(3) as { result: unknown }).result, {});
  assert.equal(
    (byId.get(4) as { result: { tools: { name: string }[] } }).result.tools[0].name,
    "run_program",
  );
  assert.deepEqual(error(5), {
    code: -32600,
    message: "Invalid Request: Server already initialized",
  });
  const unnamed = answers.filter((a) => a.id === null).map((a) => (a as { error: unknown }).error);
  assert.deepEqual(unnamed, [
    { code: -32700, message: "Parse error: Invalid JSON" },
    { code: -32600, message: "Invalid Request: empty batch" },
  ]);
  // No program: a tool error the model can act on, not a protocol error.
  const noProgram = byId.get(6) as { result: CallToolResult };
  assert.equal(noProgram.result.isError, true);
  assert.match(text(noProgram.result), /run_program needs \{ program: string \}, got no program/);
});

Deno.test("_runResultText() reports a type error once, and warnings only when the run went on", () => {
  const stats = { durationMs: 1, toolResultBytes: 0, outputBytes: 0 };
  const diagnostic = {
    kind: "type" as const,
    message: "Type 'string' is not assignable to type 'number'.",
    line: 1,
    column: 7,
  };
  const failed = _runResultText({
    ok: false,
    output: "",
    error: { ...diagnostic },
    calls: 0,
    stats,
    diagnostics: [diagnostic],
  });
  assert.equal(
    failed,
    "type error at line 1, column 7: Type 'string' is not assignable to type 'number'.",
  );
  const warned = _runResultText({
    ok: true,
    output: "1\n",
    calls: 0,
    stats,
    diagnostics: [diagnostic],
  });
  assert.equal(warned, "1\nwarning 1:7 type Type 'string' is not assignable to type 'number'.");
});
