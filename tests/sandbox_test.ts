/**
 * The sandbox below `CodeMode`: the child's command line, the child → host frame reader, the
 * process pool, and a child that outlives nothing. Real `deno` child processes throughout.
 */

import assert from "node:assert/strict";
import { _SandboxPool } from "../src/sandbox/pool.ts";
import {
  _childMessage,
  _encodeHostFrame,
  _jsonDeeperThan,
  _MAGIC,
  _MAX_FRAME_BYTES,
  _TOKEN_BYTES,
} from "../src/sandbox/protocol.ts";
import { _FrameReader, _sandboxCommand } from "../src/sandbox/sandbox_process.ts";
import { processAlive as alive } from "./_fixtures/sandbox_watch.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function frame(token: Uint8Array, body: string | Uint8Array, size?: number): Uint8Array {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const out = new Uint8Array(24 + bytes.length);
  out.set(_MAGIC, 0);
  out.set(token, 4);
  new DataView(out.buffer).setUint32(20, size ?? bytes.length);
  out.set(bytes, 24);
  return out;
}

function join(...parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const TOKEN = crypto.getRandomValues(new Uint8Array(_TOKEN_BYTES));
const WRONG = TOKEN.map((b, i) => i === 7 ? b ^ 0xff : b);

Deno.test("_sandboxCommand() starts deno with no permissions, no prompt, no remote or npm imports", () => {
  const { cmd, args } = _sandboxCommand({ denoPath: "/opt/deno/bin/deno", memoryMb: 128 });
  const all = [cmd, ...args];
  assert.deepEqual(all.filter((a) => /^--allow|^-A$|^--unsafely/.test(a)), []);
  for (const flag of ["--no-prompt", "--no-remote", "--no-npm", "--no-config", "--no-lock"]) {
    assert.ok(args.includes(flag), `${flag} missing from ${args.join(" ")}`);
  }
  assert.ok(
    args.some((a) => a.startsWith("--v8-flags=") && a.includes("--max-old-space-size=128")),
  );
  assert.ok(args.at(-1)!.startsWith("data:text/javascript;base64,"), "the child's code is inline");
  const denoAt = all.indexOf("/opt/deno/bin/deno");
  assert.equal(all[denoAt + 1], "run");
  if (cmd !== "/opt/deno/bin/deno") {
    // Linux with prlimit: an OS cap on data (ArrayBuffer, wasm) on top of the heap limit.
    assert.match(cmd, /prlimit$/);
    assert.equal(args[0], `--data=${(1100 + 128) * 1024 * 1024}`);
    assert.equal(denoAt, 2);
  }
});

interface FrameCase {
  name: string;
  chunks: Uint8Array[];
  bodies: string[];
  stray?: number;
}

const ONE = frame(TOKEN, '{"t":"out","s":"one"}');
const TWO = frame(TOKEN, '{"t":"out","s":"two"}');
const FORGED = frame(WRONG, '{"t":"end","ok":true,"cut":0}');
const FORGED_HUGE = frame(WRONG, "{}", 0xffffffff);
const NOISE = join("hello\0\0", new Uint8Array([0x00, 0x43, 0x4d]), "\n");

function bytewise(bytes: Uint8Array): Uint8Array[] {
  return [...bytes].map((b) => new Uint8Array([b]));
}

const FRAME_CASES: FrameCase[] = [
  { name: "one frame", chunks: [ONE], bodies: ['{"t":"out","s":"one"}'], stray: 0 },
  {
    name: "two frames in one chunk",
    chunks: [join(ONE, TWO)],
    bodies: ['{"t":"out","s":"one"}', '{"t":"out","s":"two"}'],
    stray: 0,
  },
  {
    name: "stray bytes around and between frames (zero bytes and a partial magic included)",
    chunks: [join(NOISE, ONE, NOISE, TWO, NOISE)],
    bodies: ['{"t":"out","s":"one"}', '{"t":"out","s":"two"}'],
    stray: 2 * NOISE.length,
  },
  {
    name: "a forged frame with a wrong token",
    chunks: [join(FORGED, ONE)],
    bodies: ['{"t":"out","s":"one"}'],
    stray: FORGED.length,
  },
  {
    name: "a forged header claiming 4 GB",
    chunks: [join(FORGED_HUGE, ONE)],
    bodies: ['{"t":"out","s":"one"}'],
    stray: FORGED_HUGE.length,
  },
  {
    name: "the real magic with a truncated token before a real frame",
    chunks: [join(_MAGIC, TOKEN.subarray(0, 10), ONE)],
    bodies: ['{"t":"out","s":"one"}'],
    stray: 14,
  },
  {
    name: "everything split byte by byte",
    chunks: bytewise(join(NOISE, FORGED, ONE, NOISE, TWO)),
    bodies: ['{"t":"out","s":"one"}', '{"t":"out","s":"two"}'],
  },
  {
    name: "a frame split inside its header and its body",
    chunks: [
      ONE.subarray(0, 10),
      ONE.subarray(10, 30),
      join(ONE.subarray(30), TWO.subarray(0, 5)),
      TWO.subarray(5),
    ],
    bodies: ['{"t":"out","s":"one"}', '{"t":"out","s":"two"}'],
    stray: 0,
  },
  {
    name: "a long stray run with no frame, then a frame",
    chunks: [encoder.encode("x".repeat(5000)), new Uint8Array(100), ONE],
    bodies: ['{"t":"out","s":"one"}'],
    stray: 5100,
  },
];

Deno.test("_FrameReader passes only frames with the run's token and skips everything else", () => {
  for (const c of FRAME_CASES) {
    const reader = new _FrameReader(TOKEN);
    const bodies: string[] = [];
    for (const chunk of c.chunks) reader.push(chunk, (b) => bodies.push(decoder.decode(b)));
    assert.deepEqual(bodies, c.bodies, c.name);
    if (c.stray !== undefined) assert.equal(reader.strayBytes, c.stray, c.name);
  }
});

Deno.test("_FrameReader refuses a frame with the real token that claims more than the frame limit", () => {
  const reader = new _FrameReader(TOKEN);
  assert.throws(
    () => reader.push(frame(TOKEN, "{}", _MAX_FRAME_BYTES + 1), () => {}),
    (err: unknown) => err instanceof RangeError && /over the \d+-byte limit/.test(err.message),
  );
});

Deno.test("_jsonDeeperThan counts nesting outside strings only", () => {
  const rows: [string, number, boolean][] = [
    ['{"t":"out","s":"[[[[{{{{"}', 2, false],
    ['{"t":"end","ok":false,"error":{"name":"E","message":"]]]"}}', 2, false],
    ['{"t":"call","a":[[1]]}', 2, true],
    ['{"s":"\\"[[[\\\\"}', 1, false],
    ["[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]", 2, true],
    ["0", 0, false],
  ];
  for (const [json, max, deeper] of rows) {
    assert.equal(_jsonDeeperThan(encoder.encode(json), max), deeper, json);
  }
});

Deno.test("_childMessage admits the four message shapes with exactly their fields", () => {
  const rows: [unknown, unknown][] = [
    [{ t: "ready" }, { t: "ready" }],
    [{ t: "out", s: "hi" }, { t: "out", s: "hi" }],
    [{ t: "out", s: "", padding: "x".repeat(1000) }, null],
    [{ t: "end", ok: false, cut: 0, error: { message: "m", extra: 1 } }, null],
    [{ t: "out", s: 5 }, null],
    [{ t: "call", id: 3, tool: "echo", a: "{}" }, { t: "call", id: 3, tool: "echo", a: "{}" }],
    [{ t: "call", id: 1.5, tool: "echo", a: "{}" }, null],
    [{ t: "call", id: 2, tool: "echo", a: {} }, null],
    [{ t: "end", ok: true, cut: -4 }, { t: "end", ok: true, cut: 0 }],
    [
      { t: "end", ok: false, cut: 3, error: { name: { toString: "x" }, message: 7 } },
      {
        t: "end",
        ok: false,
        cut: 3,
        error: {
          name: "[object]",
          message: "7",
          stack: undefined,
          tool: undefined,
          kind: undefined,
        },
      },
    ],
    [{ t: "res" }, null],
    [[{ t: "ready" }], null],
    [0, null],
  ];
  for (const [input, expected] of rows) {
    assert.deepEqual(_childMessage(input), expected, JSON.stringify(input));
  }
});

Deno.test("_SandboxPool replaces taken processes, and close() kills idle ones", async () => {
  const pool = new _SandboxPool({ denoPath: Deno.execPath(), memoryMb: 64 }, 2);
  const seen = new Set<number>();
  try {
    pool.warm();
    const first = pool.pids;
    assert.equal(first.length, 2);
    first.forEach((pid) => seen.add(pid));

    const taken = await pool.take();
    assert.ok(first.includes(taken.pid), "take() hands out a pre-started process");
    // Its environment is cleared and its command line carries no permission.
    const cmdline = Deno.readTextFileSync(`/proc/${taken.pid}/cmdline`).split("\0");
    assert.ok(cmdline.includes("--no-prompt"), cmdline.join(" "));
    assert.deepEqual(cmdline.filter((a) => /^--allow|^-A$/.test(a)), []);
    const environ = Deno.readTextFileSync(`/proc/${taken.pid}/environ`).split("\0").filter(Boolean);
    assert.deepEqual(environ.map((e) => e.split("=")[0]).sort(), [
      "DENO_NO_UPDATE_CHECK",
      "NO_COLOR",
    ]);

    taken.kill();
    await taken.exited;
    assert.equal(alive(taken.pid), false);
    const after = pool.pids;
    assert.equal(after.length, 2, "a replacement started when the taken process ended");
    assert.ok(!after.includes(taken.pid));
    after.forEach((pid) => seen.add(pid));
    assert.equal(seen.size, 3);
  } finally {
    await pool.close();
  }
  for (const pid of seen) assert.equal(alive(pid), false, `sandbox ${pid} outlived close()`);
  assert.equal(pool.liveCount, 0);
  await assert.rejects(pool.take(), TypeError);
});

Deno.test("_SandboxPool of one starts the replacement as soon as its process is taken", async () => {
  const pool = new _SandboxPool({ denoPath: Deno.execPath(), memoryMb: 64 }, 1);
  try {
    const taken = await pool.take();
    assert.deepEqual(pool.pids.length, 2);
    const [spare] = pool.pids.filter((pid) => pid !== taken.pid);
    assert.ok(alive(spare));
    taken.kill();
    await taken.exited;
    assert.deepEqual(pool.pids, [spare]);
  } finally {
    await pool.close();
  }
  assert.equal(pool.liveCount, 0);
});

/** A sandbox child started by hand, so the test can close its stdin instead of killing it. */
async function withRawChild(
  body: (child: Deno.ChildProcess, writer: WritableStreamDefaultWriter<Uint8Array>, frames: {
    next(predicate: (m: Record<string, unknown>) => boolean): Promise<void>;
  }) => Promise<void>,
): Promise<Deno.CommandStatus> {
  const { cmd, args } = _sandboxCommand({ denoPath: Deno.execPath(), memoryMb: 64 });
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    clearEnv: true,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
  // Only a hang-breaker: if the child never exits, end the test instead of hanging it.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const messages: Record<string, unknown>[] = [];
  let changed = Promise.withResolvers<void>();
  const reading = (async () => {
    const reader = new _FrameReader(TOKEN);
    for await (const chunk of child.stdout) {
      reader.push(chunk, (b) => messages.push(JSON.parse(decoder.decode(b))));
      changed.resolve();
      changed = Promise.withResolvers<void>();
    }
    changed.resolve();
  })();
  const writer = child.stdin.getWriter();
  try {
    await writer.write(_encodeHostFrame({ t: "init", token: [...TOKEN] }));
    let exited = false;
    child.status.then(() => (exited = true));
    await body(child, writer, {
      async next(predicate) {
        while (!messages.some(predicate)) {
          if (exited) throw new Error(`the child exited early: ${JSON.stringify(messages)}`);
          await Promise.race([changed.promise, child.status]);
        }
      },
    });
    await writer.close();
    const status = await child.status;
    await reading;
    return status;
  } finally {
    clearTimeout(guard);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone: the expected case.
    }
    await child.status;
    await writer.close().catch(() => {});
    await reading.catch(() => {});
  }
}

Deno.test("a sandbox child whose parent closes its stdin exits by itself", async () => {
  const status = await withRawChild(async (_child, _writer, frames) => {
    await frames.next((m) => m.t === "ready");
  });
  assert.equal(status.success, true, JSON.stringify(status));
  assert.equal(status.signal, null);
});

Deno.test("a sandbox child exits when its host dies, even while its program spins", async () => {
  const host = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_fixtures/spinning_host.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = host.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const [pid] = JSON.parse(text.split("\n")[0]) as number[];
  assert.ok(alive(pid), "the sandbox was not running its program");
  host.kill("SIGKILL");
  await reader.cancel();
  await host.status;
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(pid), false, "the sandbox outlived its host");
});

Deno.test("below the compiler, a real import() in the sandbox still reaches nothing: permissions refuse it", async () => {
  // The compiler rewrites every import() and the runtime removes Deno's internals, so a program
  // cannot get here; raw JavaScript handed to the sandbox tests the layer beneath them.
  const { _runSession } = await import("../src/run/run_session.ts");
  const { _ToolRegistry } = await import("../src/tools/registry.ts");
  const { _resolveLimits } = await import("../src/limits.ts");
  let connections = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    connections++;
    return new Response("export default 1;", { headers: { "content-type": "text/javascript" } });
  });
  const local = `http://127.0.0.1:${server.addr.port}/x.js`;
  const pool = new _SandboxPool({ denoPath: Deno.execPath(), memoryMb: 128 }, 1);
  const cases: [string, RegExp][] = [
    [local, /net access|import access|Requires/],
    ["file:///etc/passwd", /read access/],
    ["npm:lodash", /--no-npm/],
    ["https://esm.sh/lodash", /import access to esm.sh|--no-remote/],
    ["node:child_process", /^(?!.*imported)/],
  ];
  try {
    for (const [specifier, expected] of cases) {
      const js = `print("before");\nconst m = await import(${JSON.stringify(specifier)});\n` +
        (specifier.startsWith("node:")
          ? `m.spawnSync("true");\nprint("imported");`
          : `print("imported");`);
      const result = await _runSession({
        sandbox: await pool.take(),
        program: { js, imports: [], mapPosition: (line, column) => ({ line, column }) },
        registry: new _ToolRegistry([]),
        limits: _resolveLimits({ timeoutMs: 10_000 }),
        helpers: {},
        startedAt: performance.now(),
      });
      assert.equal(result.ok, false, `${specifier}: ${result.output}`);
      assert.equal(result.output, "before\n", specifier);
      assert.match(result.error!.message, expected, `${specifier}: ${result.error!.message}`);
    }
    assert.equal(connections, 0, "the local listener was reached");
  } finally {
    await pool.close();
    await server.shutdown();
  }
});
