/**
 * `codemode serve --http` as an operator runs it: a real server process, real HTTP, the official
 * SDK client where it fits and raw requests where the wire itself is the point (status codes,
 * SSE event ids, a dropped stream, `Last-Event-ID`).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { main } from "../src/cli/main.ts";
import type { RunResult } from "../src/types.ts";
import {
  allEvents,
  initializeRequest,
  messages,
  RawSession,
  runProgram,
  type SseEvent,
  sseEvents,
} from "./_fixtures/mcp_http.ts";
import { freePort, type Proc, startServe, startUpstream } from "./_fixtures/processes.ts";

function text(result: CallToolResult): string {
  const first = result.content[0];
  assert.equal(first?.type, "text");
  return (first as { text: string }).text;
}

async function client(url: string, headers?: Record<string, string>): Promise<Client> {
  const c = new Client({ name: "codemode-http-test", version: "0" });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : {}),
  );
  return c;
}

/** Runs `body` against a served process; on failure, prints the server's stderr. */
async function withServe(
  flags: string[],
  body: (url: string, proc: Proc) => Promise<void>,
  options: { env?: Record<string, string> } = {},
): Promise<void> {
  const { proc, url } = await startServe(flags, options);
  try {
    await body(url, proc);
  } catch (err) {
    console.error(`codemode serve stderr:\n${proc.stderr()}`);
    throw err;
  } finally {
    const status = await proc.stop();
    assert.equal(status.code, 0, proc.stderr());
  }
}

async function tempDir(): Promise<string> {
  return await Deno.realPath(await Deno.makeTempDir({ prefix: "codemode_http_" }));
}

// ---------------------------------------------------------------------------------------------
// Who may connect

for (const via of ["--token-file", "CODEMODE_TOKEN"] as const) {
  Deno.test(`serve --http with ${via}: 401 without the token or with a wrong one, served with it`, async () => {
    const dir = await tempDir();
    const token = "t0k3n-" + crypto.randomUUID();
    const file = join(dir, "token");
    await Deno.writeTextFile(file, token + "\n");
    const flags = via === "--token-file" ? ["--token-file", file] : [];
    const env: Record<string, string> = via === "CODEMODE_TOKEN" ? { CODEMODE_TOKEN: token } : {};
    try {
      await withServe(flags, async (url, proc) => {
        assert.match(proc.stderr(), /bearer token required/);
        const initialize = initializeRequest("x");
        const cases: [string, Record<string, string>, RegExp][] = [
          ["no token", {}, /^Bearer realm="codemode"$/],
          ["a wrong token", { authorization: "Bearer nope" }, /error="invalid_token"/],
          ["another scheme", { authorization: `Basic ${btoa("a:" + token)}` }, /^Bearer/],
        ];
        for (const [what, headers, challenge] of cases) {
          const response = await fetch(url, {
            method: "POST",
            headers: {
              ...headers,
              "content-type": "application/json",
              accept: "application/json, text/event-stream",
            },
            body: initialize,
          });
          const body = await response.json();
          assert.equal(response.status, 401, what);
          assert.match(response.headers.get("www-authenticate") ?? "", challenge, what);
          assert.match(body.error.message, /Authorization: Bearer|bearer token/, what);
        }
        // Every request needs it, not only the first: a session id alone is not enough.
        const c = await client(url, { Authorization: `Bearer ${token}` });
        const session = (c.transport as StreamableHTTPClientTransport).sessionId!;
        const stolen = await fetch(url, {
          method: "POST",
          headers: {
            "mcp-session-id": session,
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
        });
        await stolen.body?.cancel();
        assert.equal(stolen.status, 401);
        const result = await c.callTool({
          name: "run_program",
          arguments: { program: "print(6 * 7)" },
        }) as CallToolResult;
        assert.equal(text(result), "42\n");
        await c.close();
      }, { env });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("serve refuses --host beyond loopback without a token, and HTTP flags without --http", async () => {
  const saved = Deno.env.get("CODEMODE_TOKEN");
  Deno.env.delete("CODEMODE_TOKEN");
  try {
    const cases: [string[], RegExp][] = [
      [
        ["--http", "0", "--host", "0.0.0.0"],
        /--host 0\.0\.0\.0 serves beyond this machine, so clients must authenticate: set a token with --token-file FILE or CODEMODE_TOKEN/,
      ],
      [["--host", "127.0.0.1"], /--host only apply to --http; add --http PORT/],
      [
        ["--http", "0", "--token-file", "/nonexistent/token"],
        /--token-file \/nonexistent\/token: cannot read it/,
      ],
      [
        ["--http", "0", "--max-sessions", "0"],
        /--max-sessions takes a whole number of at least 1, got "0"/,
      ],
      [["--max-runs", "two"], /--max-runs takes a whole number of at least 1, got "two"/],
    ];
    for (const [flags, message] of cases) {
      let err = "";
      const io = {
        stdout: () => {},
        stderr: (t: string) => void (err += t),
        readStdin: () => Promise.resolve(new Uint8Array()),
        stderrIsTerminal: false,
        cwd: Deno.cwd(),
      };
      assert.equal(await main(["serve", ...flags], io), 2, flags.join(" "));
      assert.match(err, message);
    }
  } finally {
    if (saved !== undefined) Deno.env.set("CODEMODE_TOKEN", saved);
  }
});

// ---------------------------------------------------------------------------------------------
// Capacity

Deno.test("serve --max-runs 3: 12 concurrent runs all succeed, never more than 3 at once", async () => {
  const dir = await tempDir();
  const upstreamPort = freePort();
  const upstream = await startUpstream(upstreamPort);
  const config = join(dir, "mcp.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({ mcpServers: { fixture: { url: `http://127.0.0.1:${upstreamPort}/mcp` } } }),
  );
  try {
    await withServe(["--mcp", config, "--max-runs", "3"], async (url, proc) => {
      assert.match(proc.stderr(), /at most 3 runs at once, 12 waiting/);
      const c = await client(url);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          c.callTool({
            name: "run_program",
            arguments: {
              program:
                `const r = JSON.parse(await fixture.hold({ ms: 600 }) as string);\nprint(${i}, r.held);`,
            },
          }) as Promise<CallToolResult>),
      );
      assert.deepEqual(results.map(text), results.map((_, i) => `${i} 600\n`));
      // The tool side counted the holds running at once.
      const stats = await (await fetch(`http://127.0.0.1:${upstreamPort}/stats`)).json();
      assert.equal(stats.current, 0);
      assert.ok(stats.peak >= 1 && stats.peak <= 3, `at most 3 holds at once, saw ${stats.peak}`);
      await c.close();
    });
  } finally {
    await upstream.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --max-runs 1 --max-queue 0: a call past the queue gets a busy error result at once", async () => {
  await withServe(["--max-runs", "1", "--max-queue", "0"], async (url, proc) => {
    const c = await client(url);
    const started = Promise.withResolvers<void>();
    const abort = new AbortController();
    const holding = c.callTool(
      {
        name: "run_program",
        arguments: {
          program:
            `await list_files({ pattern: "*.none" }); await new Promise((r) => setTimeout(r, 600_000));`,
        },
      },
      undefined,
      { signal: abort.signal, onprogress: () => started.resolve() },
    );
    holding.catch(() => {});
    await started.promise; // its one tool call completed: it holds the only slot
    const busy = await c.callTool({
      name: "run_program",
      arguments: { program: "print(1)" },
    }) as CallToolResult;
    assert.equal(busy.isError, true);
    assert.match(
      text(busy),
      /^limit error: codemode is busy: 1 programs are running and 0 are waiting.*retry/,
    );
    const result = busy.structuredContent as unknown as RunResult;
    assert.equal(result.error?.kind, "limit");
    assert.equal(result.calls, 0);
    // Cancelling the first frees the slot.
    abort.abort(new Error("stop"));
    await assert.rejects(holding);
    await proc.waitFor(/run_program: timeout error.*\(cancelled\)/);
    const after = await c.callTool({
      name: "run_program",
      arguments: { program: "print(2)" },
    }) as CallToolResult;
    assert.equal(text(after), "2\n");
    await c.close();
  });
});

Deno.test("serve --max-sessions 2 --session-idle-ms: the third session is refused; an idle one is closed and gets 404", async () => {
  // Each session opens its GET stream right after initialize, so neither is ever idle until its
  // stream is closed; the idle clock then runs only for the session meant to expire. 3 s leaves
  // a busy machine ample time between a session's initialize and its stream.
  await withServe(["--max-sessions", "2", "--session-idle-ms", "3000"], async (url, proc) => {
    const a = await RawSession.open(url, { stream: true });
    const b = await RawSession.open(url, { stream: true });
    assert.equal(a.stream?.response.status, 200);
    assert.equal(b.stream?.response.status, 200);
    const refused = await RawSession.open(url).then(() => null, (e: Error) => e);
    assert.match(
      String(refused),
      /initialize answered 503: .*Too many sessions: this server holds at most 2/,
    );
    // Session a goes quiet: it is closed after 3 s without a request or stream.
    a.stream!.abort.abort();
    await a.stream!.response.body?.cancel().catch(() => {});
    await proc.waitFor(
      new RegExp(`session ${a.id} idle for 3000 ms \\(--session-idle-ms\\): closing`),
    );
    await proc.waitFor(new RegExp(`session ${a.id} closed`));
    const gone = await a.post({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const body = await gone.json();
    assert.equal(gone.status, 404);
    assert.match(body.error.message, /Session not found.*initialize a new session/);
    // Its place is free again.
    const c = await RawSession.open(url, { stream: true });
    assert.equal(await c.delete(), 200);
    c.stream!.abort.abort();
    await c.stream!.response.body?.cancel().catch(() => {});
    // Session b, streaming all along, was never idle.
    const listed = await b.post({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    assert.equal(listed.status, 200);
    assert.equal(messages(await allEvents(listed))[0].id, 2);
    b.stream!.abort.abort();
    await b.stream!.response.body?.cancel().catch(() => {});
  });
});

// ---------------------------------------------------------------------------------------------
// The protocol over HTTP

Deno.test("serve --http answers malformed tools/call params with -32602, an unknown tool with an error result", async () => {
  await withServe([], async (url) => {
    const s = await RawSession.open(url);
    const cases: [unknown, RegExp][] = [
      [
        { jsonrpc: "2.0", id: 1, method: "tools/call" },
        /^Invalid params for tools\/call: params are missing/,
      ],
      [
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { arguments: {} } },
        /^Invalid params for tools\/call: params\.name: /,
      ],
    ];
    for (const [request, message] of cases) {
      const response = await s.post(request);
      const [answer] = messages(await allEvents(response)) as {
        error: { code: number; message: string };
      }[];
      assert.equal(answer.error.code, -32602, JSON.stringify(request));
      assert.match(answer.error.message, message);
      assert.doesNotMatch(answer.error.message, /"code":|invalid_type/, "no schema dump");
    }
    // As the SDK's McpServer does: a tool error the model can read.
    const unknown = await s.post({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "nope", arguments: {} },
    });
    const [answer] = messages(await allEvents(unknown)) as { result: CallToolResult }[];
    assert.equal(answer.result.isError, true);
    assert.equal(text(answer.result), 'Unknown tool "nope": this server has one tool, run_program');
    assert.equal(await s.delete(), 200);
  });
});

Deno.test("serve --http: SSE events carry ids; a dropped stream is resumed with Last-Event-ID and the finished run's result arrives", async () => {
  const dir = await tempDir();
  try {
    await withServe(["--root", dir], async (url, proc) => {
      const s = await RawSession.open(url);
      // The program waits until the file "go" exists, so the stream can be dropped first.
      const program = `
        for (;;) {
          try { await read_file({ path: "go" }); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
        }
        print("done after the drop");`;
      const dropping = new AbortController();
      const response = await s.post(runProgram(1, program), { signal: dropping.signal });
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const events = sseEvents(response.body!);
      const priming = (await events.next()).value as SseEvent;
      assert.match(priming.id ?? "", /^\d+$/, "the first event carries an id");
      dropping.abort(); // the client's connection goes away mid-run
      await events.return(undefined).catch(() => {});
      await Deno.writeTextFile(join(dir, "go"), "");
      await proc.waitFor(/run_program: ok/);
      // Resumed: what followed the priming event, the result, then the stream ends.
      const resumed = await s.get(priming.id);
      assert.equal(resumed.status, 200);
      const replayed = await allEvents(resumed);
      assert.ok(replayed.every((e) => e.id !== undefined), "every event has an id");
      const [answer] = messages(replayed) as { id: number; result: CallToolResult }[];
      assert.equal(answer.id, 1);
      assert.equal(text(answer.result), "done after the drop\n");
      assert.equal(await s.delete(), 200);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --http: a batch's stream resumed after its first answer still brings the others", async () => {
  const dir = await tempDir();
  try {
    await withServe(["--root", dir], async (url, proc) => {
      const s = await RawSession.open(url);
      const waits = `
        for (;;) {
          try { await read_file({ path: "go" }); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
        }
        print("second");`;
      const dropping = new AbortController();
      const response = await s.post([runProgram(1, `print("first");`), runProgram(2, waits)], {
        signal: dropping.signal,
      });
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const events = sseEvents(response.body!);
      let first: SseEvent | undefined;
      for await (const event of events) {
        if ((messages([event])[0] as { id?: number } | undefined)?.id === 1) {
          first = event;
          break;
        }
      }
      assert.ok(first?.id, "the first answer came with an event id");
      dropping.abort(); // the connection goes away with the second run still waiting
      await events.return(undefined).catch(() => {});
      // Resumed while the second run waits: the stream must stay open for it. Until the server
      // has seen the dropped connection, the stream still counts as taken (409): asked again.
      let resumed = await s.get(first.id);
      for (let i = 0; i < 200 && resumed.status === 409; i++) {
        await resumed.body?.cancel();
        await new Promise((r) => setTimeout(r, 50));
        resumed = await s.get(first.id);
      }
      assert.equal(resumed.status, 200);
      await Deno.writeTextFile(join(dir, "go"), "");
      const answers = messages(await allEvents(resumed)) as {
        id: number;
        result: CallToolResult;
      }[];
      const second = answers.find((m) => m.id === 2);
      assert.ok(
        second,
        `the second answer arrived on the resumed stream: ${JSON.stringify(answers)}`,
      );
      assert.equal(text(second.result), "second\n");
      await proc.waitFor(/run_program: ok[\s\S]*run_program: ok/);
      assert.equal(await s.delete(), 200);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --http: after notifications/cancelled the request's SSE stream ends, and resuming it gets 204", async () => {
  await withServe([], async (url, proc) => {
    const s = await RawSession.open(url);
    const response = await s.post(runProgram(
      5,
      `await list_files({ pattern: "*.none" }); await new Promise((r) => setTimeout(r, 600_000));`,
      "p5",
    ));
    const seen: SseEvent[] = [];
    const events = sseEvents(response.body!);
    for (;;) {
      const { value } = await events.next();
      seen.push(value as SseEvent);
      if ((value as SseEvent).data.includes("notifications/progress")) break;
    }
    const cancel = await s.post({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 5, reason: "the user pressed stop" },
    });
    await cancel.body?.cancel();
    assert.equal(cancel.status, 202);
    // The stream ends (no response is sent for a cancelled request).
    for (let e = await events.next(); !e.done; e = await events.next()) seen.push(e.value);
    assert.ok(!messages(seen).some((m) => m.id === 5), "no response to the cancelled request");
    await proc.waitFor(/run_program: timeout error.*\(cancelled\)/);
    const resumed = await s.get(seen[seen.length - 1].id);
    await resumed.body?.cancel();
    assert.equal(resumed.status, 204);
    assert.equal(await s.delete(), 200);
  });
});
