/**
 * The sandbox below `CodeMode`: the process's command line, the chunk and record readers, the
 * message checks, the value codec, the pool, slots shared by runs of one tenant, and a process
 * that outlives nothing. Real `deno` child processes throughout.
 */

import assert from "node:assert/strict";
import v8 from "node:v8";
import { _ChunkReader, _RecordStream } from "../src/sandbox/chunk_reader.ts";
import { _SandboxPool } from "../src/sandbox/pool.ts";
import {
  _childMessage,
  _jsonDeeperThan,
  type _RunMessage,
  _WIRE,
} from "../src/sandbox/protocol.ts";
import { _dataLimitBytes } from "../src/sandbox/data_limit.ts";
import { _sandboxCommand, _SandboxProcess } from "../src/sandbox/sandbox_process.ts";
import type { _SandboxSlot, _SlotEnd } from "../src/sandbox/sandbox_slot.ts";
import { _isPlainJson } from "../src/sandbox/value_codec.ts";
import { processAlive as alive, workerThreads } from "./_fixtures/sandbox_watch.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A child → host chunk for `slot` carrying `payload`. */
function chunk(token: Uint8Array, slot: number, payload: string | Uint8Array, size?: number) {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const out = new Uint8Array(_WIRE.chunkHeaderBytes + bytes.length);
  out.set(_WIRE.magic, 0);
  out.set(token, 4);
  const view = new DataView(out.buffer);
  view.setUint16(20, slot);
  view.setUint16(22, size ?? bytes.length);
  out.set(bytes, _WIRE.chunkHeaderBytes);
  return out;
}

/** A record of a slot's stream: `[u32 length][u8 kind][body]`. */
function record(body: string, kind: number = _WIRE.kindJson): Uint8Array {
  const bytes = encoder.encode(body);
  const out = new Uint8Array(_WIRE.recordHeaderBytes + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out[4] = kind;
  out.set(bytes, _WIRE.recordHeaderBytes);
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

const TOKEN = crypto.getRandomValues(new Uint8Array(_WIRE.tokenBytes));
const WRONG = TOKEN.map((b, i) => i === 7 ? b ^ 0xff : b);

Deno.test("_sandboxCommand() starts deno with no permissions, no prompt, no remote or npm imports", () => {
  const { cmd, args } = _sandboxCommand({
    denoPath: "/opt/deno/bin/deno",
    slots: 8,
    memoryMb: 128,
  });
  const all = [cmd, ...args];
  assert.deepEqual(all.filter((a) => /^--allow|^-A$|^--unsafely/.test(a)), []);
  for (const flag of ["--no-prompt", "--no-remote", "--no-npm", "--no-config", "--no-lock"]) {
    assert.ok(args.includes(flag), `${flag} missing from ${args.join(" ")}`);
  }
  assert.ok(args.some((a) => a.includes("--disallow-code-generation-from-strings")));
  assert.ok(args.at(-1)!.startsWith("data:text/javascript;base64,"), "the child's code is inline");
  // The command line is visible to every local user: it must hold no secret, and stay short.
  assert.ok(args.at(-1)!.length < 64 * 1024, `the main module is ${args.at(-1)!.length} bytes`);
  const denoAt = all.indexOf("/opt/deno/bin/deno");
  assert.equal(all[denoAt + 1], "run");
  if (cmd !== "/opt/deno/bin/deno") {
    // Linux with prlimit: an OS cap on data (heaps, ArrayBuffer, wasm) for the whole process.
    assert.match(cmd, /prlimit$/);
    assert.match(
      args[0],
      /^--data=\d+:\d+$/,
      "a soft limit that follows the Workers, a hard one for all",
    );
    assert.equal(denoAt, 2);
  }
});

interface ChunkCase {
  name: string;
  chunks: Uint8Array[];
  payloads: [number, string][];
  stray?: number;
}

const ONE = chunk(TOKEN, 3, "one");
const TWO = chunk(TOKEN, 5, "two");
const FORGED = chunk(WRONG, 3, "forged");
const FORGED_HUGE = chunk(WRONG, 3, "{}", 0xffff);
const NOISE = join("hello\0\0", new Uint8Array([0x00, 0x43, 0x4d]), "\n");

function bytewise(bytes: Uint8Array): Uint8Array[] {
  return [...bytes].map((b) => new Uint8Array([b]));
}

const CHUNK_CASES: ChunkCase[] = [
  { name: "one chunk", chunks: [ONE], payloads: [[3, "one"]], stray: 0 },
  {
    name: "two chunks of two slots in one read",
    chunks: [join(ONE, TWO)],
    payloads: [[3, "one"], [5, "two"]],
    stray: 0,
  },
  {
    name: "stray bytes around and between chunks (zero bytes and a partial magic included)",
    chunks: [join(NOISE, ONE, NOISE, TWO, NOISE)],
    payloads: [[3, "one"], [5, "two"]],
  },
  {
    name: "a forged chunk with a wrong token",
    chunks: [join(FORGED, ONE)],
    payloads: [[3, "one"]],
    stray: FORGED.length,
  },
  {
    name: "a forged header claiming more than a chunk holds",
    chunks: [join(FORGED_HUGE, ONE)],
    payloads: [[3, "one"]],
  },
  {
    name: "the real magic with a truncated token before a real chunk",
    chunks: [join(_WIRE.magic as number[] as unknown as Uint8Array, TOKEN.subarray(0, 10), ONE)],
    payloads: [[3, "one"]],
  },
  {
    name: "everything split byte by byte",
    chunks: bytewise(join(NOISE, FORGED, ONE, NOISE, TWO)),
    payloads: [[3, "one"], [5, "two"]],
  },
  {
    name: "a long stray run with no chunk, then a chunk",
    chunks: [encoder.encode("x".repeat(5000)), new Uint8Array(100), ONE],
    payloads: [[3, "one"]],
    stray: 5100,
  },
];

Deno.test("_ChunkReader passes only chunks with the process's token and skips everything else", () => {
  for (const c of CHUNK_CASES) {
    const reader = new _ChunkReader(TOKEN);
    const got: [number, string][] = [];
    for (const bytes of c.chunks) {
      reader.push(new Uint8Array(bytes), (slot, p) => got.push([slot, decoder.decode(p)]));
    }
    assert.deepEqual(got, c.payloads, c.name);
    if (c.stray !== undefined) assert.equal(reader.strayBytes, c.stray, c.name);
  }
});

Deno.test("_RecordStream rebuilds records split across chunks and refuses one over its limit", () => {
  const stream = new _RecordStream(1000);
  const all = join(record('{"t":"out","s":"a"}'), record("x".repeat(900)), record("{}"));
  const got: string[] = [];
  // Cut at every size from 1 to 64 bytes: records arrive whole, in order.
  for (let size = 1; size <= 64; size += 7) {
    got.length = 0;
    const s = new _RecordStream(1000);
    for (let at = 0; at < all.length; at += size) {
      s.push(all.subarray(at, at + size), (_kind, body) => got.push(decoder.decode(body)));
    }
    assert.deepEqual(got.map((g) => g.length), [19, 900, 2], `cut every ${size} bytes`);
  }
  assert.throws(
    () => stream.push(record("y".repeat(1001)), () => {}),
    (err: unknown) => err instanceof RangeError && /over the 1000-byte limit/.test(err.message),
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

Deno.test("_childMessage admits the runtime's message shapes with exactly their fields", () => {
  const rows: [unknown, unknown][] = [
    [{ t: "ready" }, { t: "ready" }],
    [{ t: "out", s: "hi" }, { t: "out", s: "hi" }],
    [{ t: "out", s: "", padding: "x".repeat(1000) }, null],
    [{ t: "end", ok: false, cut: 0, error: { message: "m", extra: 1 } }, null],
    [{ t: "out", s: 5 }, null],
    [{ t: "call", id: 3, tool: "echo", a: "{}" }, { t: "call", id: 3, tool: "echo", a: "{}" }],
    [{ t: "call", id: 3, tool: "echo", v: new Map() }, {
      t: "call",
      id: 3,
      tool: "echo",
      v: new Map(),
    }],
    [{ t: "call", id: 3, tool: "echo", a: "{}", v: 1 }, null],
    [{ t: "call", id: 1.5, tool: "echo", a: "{}" }, null],
    [{ t: "call", id: 2, tool: "echo", a: {} }, null],
    [{ t: "ack", n: 262144 }, { t: "ack", n: 262144 }],
    [{ t: "ack", n: -1 }, null],
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
    [new Map([["t", "ready"]]), null],
    [0, null],
  ];
  for (const [input, expected] of rows) {
    assert.deepEqual(_childMessage(input), expected, String(JSON.stringify(input)));
  }
});

Deno.test("_isPlainJson takes the JSON path only for values JSON gives back unchanged", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const rows: [string, unknown, boolean][] = [
    ["a string", "x", true],
    ["nested plain data", { a: [1, "b", null, true, { c: 2.5 }] }, true],
    ["a null-prototype object", Object.assign(Object.create(null), { a: 1 }), true],
    ["-0", -0, false],
    ["NaN", NaN, false],
    ["undefined in an object", { a: undefined }, false],
    ["a hole in an array", [1, , 3], false],
    ["a Uint8Array", new Uint8Array([1]), false],
    ["a Date", new Date(0), false],
    ["a Map", new Map(), false],
    ["a BigInt", 1n, false],
    ["an object with toJSON", { toJSON: () => 1 }, false],
    ["a class instance", new (class X {})(), false],
    ["a cycle (gives up at its budget)", cycle, false],
  ];
  for (const [name, value, plain] of rows) {
    assert.equal(_isPlainJson(value, 1000), plain, name);
  }
});

/** Runs raw JavaScript in a slot and resolves with its messages and how it ended. */
/** A `run` record for `js` with no tools or imports, small caps and a 64 MB heap. */
function runRecord(js: string, caps = 1000): _RunMessage {
  return {
    t: "run",
    js,
    imports: [],
    stubs: [],
    tools: [],
    maxOutputChars: caps,
    maxArgumentBytes: caps,
    memoryMb: 64,
  };
}

function runRaw(slot: _SandboxSlot, js: string): Promise<{ out: string; end?: _SlotEnd }> {
  const { promise, resolve } = Promise.withResolvers<{ out: string; end?: _SlotEnd }>();
  let out = "";
  slot.start({
    message(m) {
      if (m.t === "out") out += m.s;
      if (m.t === "end") resolve({ out });
    },
    ended: (end) => resolve({ out, end }),
  }, runRecord(js, 10_000));
  return promise;
}

Deno.test("_SandboxPool keeps Workers warm in one shared, permission-less process, and close() ends it", async () => {
  const pool = new _SandboxPool({
    denoPath: Deno.execPath(),
    slots: 4,
    memoryMb: 64,
    warm: 2,
    maxWarm: 2,
    idleMs: Infinity,
  });
  let pid = 0;
  try {
    pool.warm();
    assert.equal(pool.pids.length, 1, "one process for both warm Workers");
    [pid] = pool.pids;
    const a = await pool.take(64);
    const b = await pool.take(64);
    // Its environment is cleared and its command line carries no permission.
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    assert.ok(cmdline.includes("--no-prompt"), cmdline.join(" "));
    assert.deepEqual(cmdline.filter((x) => /^--allow|^-A$/.test(x)), []);
    const environ = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0").filter(Boolean);
    assert.deepEqual(environ.map((e) => e.split("=")[0]).sort(), [
      "DENO_NO_UPDATE_CHECK",
      "NO_COLOR",
    ]);
    assert.equal(Deno.realPathSync(`/proc/${pid}/cwd`), "/", "the sandbox starts in /");
    // Two runs at once, each in its own Worker of the same process, each with its own globals.
    const [ra, rb] = await Promise.all([
      runRaw(
        a,
        `globalThis.mine = "a"; await new Promise((r) => setTimeout(r, 50)); print(globalThis.mine);`,
      ),
      runRaw(b, `print(typeof globalThis.mine);`),
    ]);
    assert.deepEqual([ra.out, rb.out], ["a\n", "undefined\n"]);
    pool.release();
    pool.release();
    assert.deepEqual(pool.pids, [pid], "the process is kept for the next runs");
  } finally {
    await pool.close();
  }
  assert.equal(alive(pid), false, `sandbox ${pid} outlived close()`);
  await assert.rejects(pool.take(64), TypeError);
});

Deno.test("a slot is reused only after its Worker is gone; a stopped Worker that spins drains its process", async () => {
  const process = new _SandboxProcess({ denoPath: Deno.execPath(), slots: 2, memoryMb: 64 });
  try {
    await process.ready;
    // A Worker that ends by itself frees its slot: the next Worker gets a fresh, empty ring.
    const first = process.openSlot(64)!;
    await first.ready;
    const firstIndex = first.index;
    assert.deepEqual(await runRaw(first, `print("first")`), { out: "first\n" });
    while (process.busySlots > 0) await new Promise((r) => setTimeout(r, 10));
    const second = process.openSlot(64)!;
    assert.equal(second.index, firstIndex, "the freed slot is reused");
    await second.ready;
    assert.deepEqual(await runRaw(second, `print("second")`), { out: "second\n" });

    // A co-tenant keeps running while its neighbour spins and is stopped.
    while (process.busySlots > 0) await new Promise((r) => setTimeout(r, 10));
    const spinner = process.openSlot(64)!;
    const neighbour = process.openSlot(64)!;
    await Promise.all([spinner.ready, neighbour.ready]);
    neighbour.taken = true;
    spinner.taken = true;
    const ended = Promise.withResolvers<_SlotEnd>();
    spinner.start({
      message(m) {
        // Once it spins, stop it, as a run's deadline would.
        if (m.t === "out") spinner.stop();
      },
      ended: ended.resolve,
    }, runRecord(`print("spinning"); for (;;) {}`));
    assert.equal((await ended.promise).why, "stopped");
    // Its thread is still there, so the process takes no new run, yet the neighbour finishes.
    while (!process.draining) await new Promise((r) => setTimeout(r, 20));
    assert.equal(process.openSlot(64), undefined, "a draining process opens no slot");
    assert.ok(workerThreads(process.pid) >= 1);
    const done = await runRaw(
      neighbour,
      `await new Promise((r) => setTimeout(r, 50)); print("neighbour")`,
    );
    assert.equal(done.out, "neighbour\n");
    // With its last run over, the draining process ends.
    await process.exited;
  } finally {
    process.kill();
    await process.exited;
  }
});

Deno.test("Workers asked for before the process is up get the data limit for all of them", async () => {
  // The soft data limit is raised from the host as Workers start. Raised before the process had
  // exec'd past `prlimit`, it was overwritten by the initial one, and a burst of runs on a cold
  // pool lost a whole process ("Failed to reserve virtual memory for CodeRange"). Several
  // processes started at once make that window likely.
  const options = { denoPath: Deno.execPath(), slots: 6, memoryMb: 64 };
  const limited = _sandboxCommand(options).cmd.endsWith("prlimit");
  const processes = Array.from({ length: 4 }, () => new _SandboxProcess(options));
  try {
    const slots = processes.flatMap((p) =>
      Array.from({ length: options.slots }, () => p.openSlot(64)!)
    );
    await Promise.all(slots.map((s) => s.ready));
    for (const process of limited ? processes : []) {
      const limits = Deno.readTextFileSync(`/proc/${process.pid}/limits`);
      const soft = Number(/^Max data size\s+(\d+)/m.exec(limits)?.[1]);
      assert.ok(
        soft >= _dataLimitBytes(options.slots, options.memoryMb),
        `soft data limit ${soft} covers ${options.slots} Workers`,
      );
    }
    const outs = await Promise.all(slots.map((s, i) => {
      s.taken = true;
      return runRaw(s, `print(${i})`);
    }));
    assert.deepEqual(outs.map((o) => o.out), slots.map((_, i) => `${i}\n`));
  } finally {
    for (const process of processes) process.kill();
    await Promise.all(processes.map((p) => p.exited));
  }
});

Deno.test("a stopped run's unread results never reach the next run in its slot", async () => {
  const process = new _SandboxProcess({ denoPath: Deno.execPath(), slots: 1, memoryMb: 64 });
  try {
    await process.ready;
    const slot = process.openSlot(64)!;
    await slot.ready;
    const ended = Promise.withResolvers<void>();
    slot.start(
      { message() {}, ended: () => ended.resolve() },
      runRecord(`await new Promise(() => {});`),
    );
    // Answers to calls it never made, left in its ring when it is stopped.
    for (let id = 1; id <= 5; id++) {
      slot.sendResult(`{"t":"res","id":${id},"ok":true,"v":"secret"}`);
    }
    slot.stop();
    await ended.promise;
    while (process.busySlots > 0) await new Promise((r) => setTimeout(r, 10));
    const next = process.openSlot(64)!;
    await next.ready;
    const r = await runRaw(
      next,
      `let heard = 0; addEventListener("message", () => heard++);
await new Promise((r) => setTimeout(r, 100));
print("heard", heard);`,
    );
    assert.equal(r.out, "heard 0\n");
  } finally {
    process.kill();
    await process.exited;
  }
});

Deno.test("structured clones cross the channel both ways: the host reads what the runtime writes", () => {
  const value = { bytes: new Uint8Array([1, 2]), when: new Date(5), m: new Map([[1, 2]]), big: 3n };
  const back = v8.deserialize(v8.serialize({ t: "call", id: 1, tool: "x", v: value }));
  assert.deepEqual(_childMessage(back), { t: "call", id: 1, tool: "x", v: value });
});

/** A sandbox process started by hand, so the test can close its stdin instead of killing it. */
Deno.test("a sandbox process whose host closes its stdin exits by itself", async () => {
  const { cmd, args } = _sandboxCommand({ denoPath: Deno.execPath(), slots: 1, memoryMb: 64 });
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
    clearEnv: true,
  }).spawn();
  // Only a hang-breaker: if the child never exits, end the test instead of hanging it.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const writer = child.stdin.getWriter();
    const init = encoder.encode(
      JSON.stringify({ t: "init", token: [...TOKEN], slots: 1, worker: "" }),
    );
    const frame = new Uint8Array(_WIRE.frameHeaderBytes + init.length);
    new DataView(frame.buffer).setUint32(0, init.length);
    new DataView(frame.buffer).setUint16(4, _WIRE.controlSlot);
    frame.set(init, _WIRE.frameHeaderBytes);
    await writer.write(frame);
    // Wait for its hello, then hang up.
    const reader = new _ChunkReader(TOKEN);
    let hello = false;
    for await (const bytes of child.stderr) {
      reader.push(bytes, (slot) => (hello ||= slot === _WIRE.controlSlot));
      if (hello) break;
    }
    await writer.close();
    const status = await child.status;
    assert.equal(status.success, true, JSON.stringify(status));
  } finally {
    clearTimeout(guard);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone: the expected case.
    }
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
});

Deno.test("a sandbox process exits when its host dies, even while its program spins", async () => {
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
  const { _ToolSet } = await import("../src/tools/tool_set.ts");
  const { _resolveLimits } = await import("../src/limits.ts");
  let connections = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    connections++;
    return new Response("export default 1;", { headers: { "content-type": "text/javascript" } });
  });
  const local = `http://127.0.0.1:${server.addr.port}/x.js`;
  const pool = new _SandboxPool({
    denoPath: Deno.execPath(),
    slots: 4,
    memoryMb: 128,
    warm: 1,
    maxWarm: 1,
    idleMs: Infinity,
  });
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
        slot: await pool.take(128),
        program: { js, imports: [], mapPosition: (line, column) => ({ line, column }) },
        registry: new _ToolSet([]),
        limits: _resolveLimits({ timeoutMs: 10_000 }),
        helpers: {},
        startedAt: performance.now(),
      });
      pool.release();
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

Deno.test("a pool whose processes cannot start rejects take() with the reason; warm() never throws", async () => {
  const pool = new _SandboxPool({
    denoPath: "/nonexistent/deno",
    slots: 2,
    memoryMb: 64,
    warm: 1,
    maxWarm: 1,
    idleMs: Infinity,
  });
  try {
    pool.warm();
    await assert.rejects(pool.take(64), Error);
    assert.equal(pool.taken, 0, "a failed take is not counted as a run");
  } finally {
    await pool.close();
  }
});
