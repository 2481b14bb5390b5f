/**
 * Hostile programs through the public API (`CodeMode` from mod.ts) and the CLI: every capability
 * a program might reach for, and crafted messages on the channel. Real sandbox processes, a real
 * TCP listener that must see no connection, real /proc checks that nothing outlives a run.
 *
 * Rows run with `check: "off"`: the type-check is not a security boundary (a model can cast to
 * `any`), so the sandbox itself must refuse. One row shows the check refusing `Deno` up front.
 */

import assert from "node:assert/strict";
import { CodeMode, type Limits, type RunOptions, type Tool } from "../mod.ts";
import {
  assertAnswers,
  assertNothingOutlives,
  assertOutcome,
  type Expect,
  runWatched,
  sandboxProcesses,
} from "./_fixtures/sandbox_watch.ts";

const POOL_SIZE = 2;
const LIMITS: Partial<Limits> = {
  timeoutMs: 3000,
  memoryMb: 128,
  toolTimeoutMs: 1500,
  maxArgumentBytes: 100_000,
};

interface Row {
  name: string;
  program: string;
  expect: Expect;
  /** Exact number of times each tool's handler may run (tools not named: zero). */
  toolCalls?: Record<string, number>;
  options?: RunOptions;
  /** Extra checks after the run. */
  after?: () => void | Promise<void>;
}

/** Tools that count their calls; `merge` deep-merges its input the naive way on purpose. */
function countingTools() {
  const counts: Record<string, number> = {};
  const state = { hangAborted: false };
  const hit = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);
  // deno-lint-ignore no-explicit-any -- a deliberately naive merge over arbitrary JSON
  const naiveMerge = (target: any, source: any): any => {
    for (const key in source) {
      const value = source[key];
      if (typeof value === "object" && value !== null) {
        if (typeof target[key] !== "object" && typeof target[key] !== "function") {
          target[key] = {};
        }
        naiveMerge(target[key], value);
      } else target[key] = value;
    }
    return target;
  };
  const object = { type: "object" };
  const tools: Tool[] = [
    {
      name: "echo",
      description: "Returns its input.",
      inputSchema: object,
      execute: (input) => (hit("echo"), input),
    },
    {
      name: "merge",
      description: "Deep-merges its input into a fresh object.",
      inputSchema: object,
      execute: (input) => (hit("merge"), naiveMerge({}, input), "merged"),
    },
    {
      name: "hang",
      description: "Never answers until aborted.",
      inputSchema: object,
      execute: (_input, context) => {
        hit("hang");
        return new Promise((_, reject) =>
          context.signal.addEventListener("abort", () => {
            state.hangAborted = true;
            reject(context.signal.reason);
          }, { once: true })
        );
      },
    },
    {
      name: "shout",
      description: "Fails with a message full of terminal escapes and CRLF.",
      inputSchema: object,
      execute: () => {
        hit("shout");
        throw new Error("\x1b[31mdisk\x1b[0m on fire\r\nsecond line\x07");
      },
    },
  ];
  return { tools, counts, state };
}

function assertPrototypesClean(where: string): void {
  // deno-lint-ignore no-explicit-any -- probing for a polluted prototype
  const probe = {} as any;
  assert.equal(probe.polluted, undefined, `${where}: the host's Object.prototype was polluted`);
  assert.equal(Object.hasOwn(Object.prototype, "polluted"), false, where);
  assert.equal(Object.hasOwn(Array.prototype, "polluted"), false, where);
}

/** Runs table rows as steps on one CodeMode, with every shared check. */
async function runRows(
  t: Deno.TestContext,
  codeMode: CodeMode,
  fixture: ReturnType<typeof countingTools>,
  rows: Row[],
): Promise<void> {
  for (const row of rows) {
    await t.step(row.name, async () => {
      for (const key of Object.keys(fixture.counts)) delete fixture.counts[key];
      fixture.state.hangAborted = false;
      const { result, pids } = await runWatched(codeMode, row.program, row.options);
      assertOutcome(row.name, result, row.expect);
      assert.deepEqual(
        fixture.counts,
        row.toolCalls ?? {},
        `${row.name}: tool handlers ran ${JSON.stringify(fixture.counts)}`,
      );
      assertPrototypesClean(row.name);
      await row.after?.();
      await assertNothingOutlives([codeMode], POOL_SIZE, pids);
      await assertAnswers(codeMode);
    });
  }
}

// ---- programs -------------------------------------------------------------------------------

const INTERNAL_CORE = `const core = (Deno as any)[(Deno as any).internal].core;`;
/**
 * The runtime deletes `Deno[Deno.internal]` before the program starts, so every probe that needs
 * Deno's raw ops fails at its first line. (The layers below — OS permissions, the frame token — are
 * tested without the runtime in tests/sandbox_test.ts.)
 */
const INTERNALS_GONE = {
  kind: "runtime",
  messageIncludes: "reading 'core'",
  outputIncludes: "before",
} as const;

/** A real `import()` compiled through Deno's internals, so the program rewrite never sees it. */
function internalImport(specifier: string): string {
  return `print("before");
${INTERNAL_CORE}
const [pending, thrown] = core.evalContext(${
    JSON.stringify(`import(${JSON.stringify(specifier)})`)
  }, "x:y");
if (thrown) throw thrown.thrown;
await pending;
print("imported");`;
}

/** Bytes that imitate the host channel: frames with a guessed token, and JSON lines. */
const FORGE_STDOUT = `print("before");
${INTERNAL_CORE}
const enc = new TextEncoder();
function frame(message: unknown): Uint8Array {
  const body = enc.encode(JSON.stringify(message));
  const out = new Uint8Array(24 + body.length);
  out.set([0x00, 0x43, 0x4d, 0x01]);
  out.set(crypto.getRandomValues(new Uint8Array(16)), 4);
  new DataView(out.buffer).setUint32(20, body.length);
  out.set(body, 24);
  return out;
}
for (let i = 0; i < 20; i++) {
  core.writeSync(1, frame({ t: "call", id: 9000 + i, tool: "echo", a: "{}" }));
  core.writeSync(1, frame({ t: "out", s: "FORGED" }));
  core.writeSync(1, frame({ t: "res", id: 1, ok: true, v: "FORGED" }));
  core.writeSync(1, enc.encode(JSON.stringify({ t: "call", id: 9100 + i, tool: "echo", a: "{}" }) + "\\n"));
  core.print(JSON.stringify({ t: "out", s: "FORGED" }) + "\\n");
  core.print(JSON.stringify({ t: "end", ok: true, cut: 0 }) + "\\n");
}
// A header with a guessed token and a giant length must not stall or break the reader.
const giant = new Uint8Array(24);
giant.set([0x00, 0x43, 0x4d, 0x01]);
new DataView(giant.buffer).setUint32(20, 0xffffffff);
core.writeSync(1, giant);
core.writeSync(1, frame({ t: "end", ok: true, cut: 0 }));
await new Promise((r) => setTimeout(r, 50));
print("done");`;

function capabilityRows(port: number, scratch: string): Row[] {
  const local = `http://127.0.0.1:${port}`;
  const netDenied = /net access to 127\.0\.0\.1/;
  const importRow = (name: string, specifier: string): Row[] => [
    {
      name: `static import of ${name} is refused by policy`,
      program: `import x from ${JSON.stringify(specifier)};\nprint(x);`,
      expect: { kind: "import", messageIncludes: "Cannot import" },
    },
    {
      name: `import() of ${name} is refused at run time`,
      program: `print("before");\nconst m = await import(${JSON.stringify(specifier)});\nprint(m);`,
      expect: { kind: "import", messageIncludes: "is not allowed", outputIncludes: "before" },
    },
  ];
  return [
    {
      name: "reading a file",
      program: `print("before");\nprint(await Deno.readTextFile("/etc/passwd"));`,
      expect: {
        kind: "runtime",
        messageIncludes: /read access to \/etc\/passwd.*Use the tools/,
        outputIncludes: "before",
      },
    },
    {
      name: "reading a file synchronously",
      program: `print("before");\nprint(Deno.readFileSync(${
        JSON.stringify(`${Deno.cwd()}/deno.json`)
      }));`,
      expect: { kind: "runtime", messageIncludes: "read access", outputIncludes: "before" },
    },
    {
      name: "writing a file",
      program: `print("before");\nawait Deno.writeTextFile(${
        JSON.stringify(`${scratch}/pwned.txt`)
      }, "x");`,
      expect: { kind: "runtime", messageIncludes: "write access", outputIncludes: "before" },
      after: () => assert.throws(() => Deno.statSync(`${scratch}/pwned.txt`), Deno.errors.NotFound),
    },
    {
      name: "Deno.env.get",
      program: `print("before");\nprint(Deno.env.get("HOME"));`,
      expect: { kind: "runtime", messageIncludes: "env access", outputIncludes: "before" },
    },
    {
      name: "Deno.env.toObject",
      program: `print("before");\nprint(Deno.env.toObject());`,
      expect: { kind: "runtime", messageIncludes: "env access", outputIncludes: "before" },
    },
    {
      name: "Deno.Command output",
      program:
        `print("before");\nprint(await new Deno.Command("/bin/sh", { args: ["-c", "echo pwned"] }).output());`,
      expect: {
        kind: "runtime",
        messageIncludes: "run access to /bin/sh",
        outputIncludes: "before",
      },
    },
    {
      name: "Deno.Command spawn",
      program: `print("before");\nnew Deno.Command("/usr/bin/env").spawn();`,
      expect: { kind: "runtime", messageIncludes: "run access", outputIncludes: "before" },
    },
    {
      name: "FFI through Deno.dlopen",
      program:
        `print("before");\nDeno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });`,
      expect: { kind: "runtime", messageIncludes: "ffi access", outputIncludes: "before" },
    },
    {
      name: "fetch to a local listener",
      program: `print("before");\nawait fetch(${JSON.stringify(`${local}/`)});`,
      expect: { kind: "runtime", messageIncludes: netDenied, outputIncludes: "before" },
    },
    {
      name: "fetch to a CDN host",
      program: `print("before");\nawait fetch("https://esm.sh/lodash");`,
      expect: {
        kind: "runtime",
        messageIncludes: "net access to esm.sh",
        outputIncludes: "before",
      },
    },
    {
      name: "WebSocket to a local listener",
      program: `print("before");
const ws = new WebSocket(${JSON.stringify(`ws://127.0.0.1:${port}/`)});
await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error("ws failed")); });`,
      expect: { kind: "runtime", messageIncludes: netDenied, outputIncludes: "before" },
    },
    {
      name: "Deno.connect to a local listener",
      program: `print("before");\nawait Deno.connect({ hostname: "127.0.0.1", port: ${port} });`,
      expect: { kind: "runtime", messageIncludes: netDenied, outputIncludes: "before" },
    },
    {
      name: "Deno.listen",
      program: `print("before");\nDeno.listen({ hostname: "127.0.0.1", port: 0 });`,
      expect: { kind: "runtime", messageIncludes: "net access", outputIncludes: "before" },
    },
    {
      name: "Deno.permissions.request is denied and grants nothing",
      program: `for (const name of ["read", "write", "net", "env", "run", "ffi", "sys"] as const) {
  print(name, (await Deno.permissions.request({ name } as Deno.PermissionDescriptor)).state);
}
print(await Deno.readTextFile("/etc/hostname"));`,
      expect: { kind: "runtime", messageIncludes: "read access", outputIncludes: "read denied\n" },
    },
    {
      name: "a nested Worker asking for permissions",
      program: `print("before");
new Worker("data:text/javascript,postMessage(Deno.readTextFileSync('/etc/passwd'))", {
  type: "module",
  deno: { permissions: "inherit" },
} as WorkerOptions);`,
      expect: {
        kind: "runtime",
        messageIncludes: "Worker is not available",
        outputIncludes: "before",
      },
    },
    {
      name: "a nested Worker asking for read access",
      program: `print("before");
const W = (globalThis as any).Worker;
new W("data:text/javascript,1", { type: "module", deno: { permissions: { read: true } } });`,
      expect: {
        kind: "runtime",
        messageIncludes: "Worker is not available",
        outputIncludes: "before",
      },
    },
    ...importRow("a local file", "./mod.ts"),
    ...importRow("an absolute file URL", "file:///etc/passwd"),
    ...importRow("http://127.0.0.1", `${local}/x.js`),
    ...importRow("npm:", "npm:lodash@4"),
    ...importRow("jsr:", "jsr:@std/path"),
    ...importRow("data:", "data:text/javascript,export default 1"),
    ...importRow("esm.sh", "https://esm.sh/lodash"),
    ...importRow("cdn.jsdelivr.net", "https://cdn.jsdelivr.net/npm/lodash/+esm"),
    {
      name: "import() of a computed URL is refused at run time",
      program: `print("before");\nconst u = [${
        JSON.stringify(local)
      }, "x.js"].join("/");\nawait import(u);`,
      expect: { kind: "import", messageIncludes: "is not allowed", outputIncludes: "before" },
    },
    {
      name: "Deno internals are gone: no real import() of http://127.0.0.1",
      program: internalImport(`${local}/x.js`),
      expect: INTERNALS_GONE,
    },
    {
      name: "Deno internals are gone: no real import() of a local file",
      program: internalImport("file:///etc/passwd"),
      expect: INTERNALS_GONE,
    },
    {
      name: "Deno internals are gone: no real import() of npm:",
      program: internalImport("npm:lodash"),
      expect: INTERNALS_GONE,
    },
    {
      name: "Deno internals are gone: no real import() of esm.sh",
      program: internalImport("https://esm.sh/lodash"),
      expect: INTERNALS_GONE,
    },
    {
      name: "Deno.stdin.read",
      program: `print("before");\nawait Deno.stdin.read(new Uint8Array(16));`,
      expect: {
        kind: "runtime",
        messageIncludes: "Deno.stdin is not available",
        outputIncludes: "before",
      },
    },
    {
      name: "Deno internals are gone: no raw read of the process's stdin",
      program:
        `print("before");\n${INTERNAL_CORE}\nconst n = await core.read(0, new Uint8Array(64));\nprint("read", n);`,
      expect: { ...INTERNALS_GONE, outputExcludes: "read" },
    },
    // Deno 2's Node-compatible global: its stdio and built-in modules (node:vm evaluates strings
    // despite the eval ban, node:fs writes to the process's file descriptors).
    ...[
      `process.stdout.write("x")`,
      `process.getBuiltinModule("node:vm").runInThisContext("1 + 41")`,
      `process.getBuiltinModule("node:fs").writeSync(1, "x")`,
      `process.env.HOME`,
    ].map((probe): Row => ({
      name: `process: ${probe}`,
      program: `print("before");\n${probe};`,
      expect: {
        kind: "runtime",
        messageIncludes: /process\.\w+ is not available in codemode programs.*use the tools/,
        outputIncludes: "before",
      },
    })),
    {
      name: "Deno.stdout.write",
      program: `print("before");\nawait Deno.stdout.write(new TextEncoder().encode("x"));`,
      expect: {
        kind: "runtime",
        messageIncludes: "Deno.stdout is not available",
        outputIncludes: "before",
      },
    },
    {
      name: "Deno internals are gone: no raw stdout bytes imitating the host channel",
      program: FORGE_STDOUT,
      expect: { ...INTERNALS_GONE, outputExcludes: "FORGED" },
    },
    {
      name: "Deno.kill of its own process with SIGKILL",
      program: `print("before");\nDeno.kill(Deno.pid, "SIGKILL");\nawait new Promise(() => {});`,
      expect: { kind: "runtime", messageIncludes: "called Deno.kill()", outputIncludes: "before" },
    },
    {
      name: "Deno.kill of its own process with SIGTERM",
      program: `print("before");\nDeno.kill(Deno.pid, "SIGTERM");\nawait new Promise(() => {});`,
      expect: { kind: "runtime", messageIncludes: "called Deno.kill()", outputIncludes: "before" },
    },
    {
      name: "Deno.kill of another process",
      program: `print("before");\nDeno.kill(Deno.ppid, "SIGKILL");`,
      expect: { kind: "runtime", messageIncludes: "called Deno.kill()", outputIncludes: "before" },
    },
    {
      name: "a SIGTERM listener does not keep the sandbox alive",
      program: `print("before");
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) Deno.addSignalListener(s, () => print("caught", s));
await new Promise(() => {});`,
      expect: { kind: "timeout", outputIncludes: "before", outputExcludes: "caught" },
      options: { limits: { timeoutMs: 1500 } },
    },
    {
      name: "a SIGKILL listener",
      program: `print("before");\nDeno.addSignalListener("SIGKILL", () => {});`,
      expect: { kind: "runtime", messageIncludes: "SIGKILL", outputIncludes: "before" },
    },
    {
      name: "Deno.exit mid tool call",
      program:
        `print("before");\nhang({});\nawait new Promise((r) => setTimeout(r, 50));\nDeno.exit(0);`,
      expect: { kind: "runtime", messageIncludes: "Deno.exit()", outputIncludes: "before" },
      toolCalls: { hang: 1 },
    },
    {
      name: "self.close() mid tool call",
      program:
        `print("before");\nhang({});\nawait new Promise((r) => setTimeout(r, 50));\nself.close();`,
      expect: { kind: "runtime", messageIncludes: "close()", outputIncludes: "before" },
      toolCalls: { hang: 1 },
    },
    {
      name: "eval",
      program: `print("before");\nprint(eval("1 + 1"));`,
      expect: {
        kind: "runtime",
        messageIncludes: "eval() and new Function() are not available",
        outputIncludes: "before",
      },
    },
    {
      name: "new Function",
      program: `print("before");\nprint(new Function("return 1")());`,
      expect: {
        kind: "runtime",
        messageIncludes: "eval() and new Function() are not available",
        outputIncludes: "before",
      },
    },
    {
      name: "the AsyncFunction constructor",
      program: `print("before");
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
await AsyncFunction("return 1")();`,
      expect: {
        kind: "runtime",
        messageIncludes: "eval() and new Function() are not available",
        outputIncludes: "before",
      },
    },
    {
      name: "the type-check refuses Deno before anything runs",
      program: `print(await Deno.readTextFile("/etc/passwd"));`,
      expect: { kind: "type", messageIncludes: "Deno" },
      options: { check: "error" },
    },
  ];
}

/** Rows whose program speaks the channel's language directly. */
function channelRows(): Row[] {
  const nested = (inner: string, depth: number) =>
    `let s = ${JSON.stringify(inner)};\nfor (let i = 0; i < ${depth}; i++) s = '{"a":' + s + '}';`;
  return [
    {
      name: "a forged call to an unknown tool gets a clear refusal, nothing runs",
      program: `print("before");
postMessage({ t: "call", id: 1, tool: "no_such_tool", a: "{}" });
try { await echo({ real: true }); } catch (e) { print((e as Error).message); }`,
      expect: { kind: "ok", outputIncludes: 'there is no tool "no_such_tool"' },
    },
    {
      name: "forged calls to Object.prototype names run nothing on the host",
      // Forged ids far from the runtime's own; the program reads the host's replies itself.
      program: `const names = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"];
const replies: string[] = [];
self.addEventListener("message", (e) => {
  const d = (e as MessageEvent).data;
  for (const r of d?.t === "resv" ? d.r : [d]) {
    if (r?.t === "res" && r.id >= 1_000_000) replies.push(r.ok ? "answered" : r.e);
  }
});
names.forEach((tool, i) => postMessage({ t: "call", id: 1_000_000 + i, tool, a: '{"x":1}' }));
print("echo still works:", await echo({ x: 2 }));
while (replies.length < names.length) await new Promise((r) => setTimeout(r, 5));
print(replies.sort().join("\\n"));`,
      expect: {
        kind: "ok",
        outputIncludes: 'there is no tool "constructor"\nthere is no tool "hasOwnProperty"',
        outputExcludes: "answered",
      },
      toolCalls: { echo: 1 },
    },
    {
      name: "__proto__ in arguments is refused",
      program: `print("before");\nawait merge(JSON.parse('{"__proto__": {"polluted": 1}}'));`,
      expect: { kind: "tool", messageIncludes: '"__proto__"', outputIncludes: "before" },
    },
    {
      name: "constructor.prototype in arguments is refused before a naive merge sees it",
      program:
        `print("before");\nawait merge(JSON.parse('{"constructor": {"prototype": {"polluted": 1}}}'));`,
      expect: {
        kind: "tool",
        messageIncludes: '"constructor.prototype"',
        outputIncludes: "before",
      },
    },
    {
      name: "__proto__ nested 200 deep is refused",
      program: `print("before");\n${
        nested('{"__proto__": {"polluted": 1}}', 200)
      }\nawait merge(JSON.parse(s));`,
      expect: { kind: "tool", messageIncludes: '"__proto__"', outputIncludes: "before" },
    },
    {
      name: "constructor.prototype nested 200 deep is refused",
      program: `print("before");
${nested('{"constructor": {"prototype": {"polluted": 1}}}', 200)}
await merge(JSON.parse(s));`,
      expect: {
        kind: "tool",
        messageIncludes: '"constructor.prototype"',
        outputIncludes: "before",
      },
    },
    {
      name: "constructor.prototype in a forged message does not reach the handler",
      program: `print("before");
postMessage({ t: "call", id: 77, tool: "merge", a: '{"constructor":{"prototype":{"polluted":1}}}' });
postMessage({ t: "call", id: 78, tool: "merge", a: '[{"__proto__":{"polluted":1}}]' });
print(await echo({ after: true }));`,
      expect: { kind: "ok", outputIncludes: "after: true" },
      toolCalls: { echo: 1 },
    },
    {
      name: "a polluted prototype inside the sandbox stays there",
      program: `(Object.prototype as any).polluted = 1;
(Array.prototype as any).polluted = 1;
print(await echo({ x: [1] }));`,
      expect: { kind: "ok", outputIncludes: "x: [ 1 ]" },
      toolCalls: { echo: 1 },
    },
    {
      name: "cyclic arguments",
      program: `print("before");\nconst o: any = { name: "loop" };\no.self = o;\nawait echo(o);`,
      expect: {
        kind: "tool",
        messageIncludes: /echo: arguments refer to themselves \(a circular structure\)/,
        outputIncludes: "before",
      },
    },
    {
      name: "a sparse array of length 2**32-1",
      program:
        `print("before");\nconst a: unknown[] = [];\na.length = 2 ** 32 - 1;\nawait echo({ a });`,
      expect: {
        kind: ["tool", "memory"],
        messageIncludes: /JSON data|memory/,
        outputIncludes: "before",
      },
    },
    {
      name: "a huge string argument",
      program: `print("before");\nawait echo({ s: "x".repeat(500_000) });`,
      expect: {
        kind: "tool",
        messageIncludes: /over the 100000-byte limit/,
        outputIncludes: "before",
      },
    },
    {
      name: "a huge buffer argument",
      program: `print("before");\nawait echo({ b: new Uint8Array(200_000) });`,
      expect: {
        kind: "tool",
        messageIncludes: /over the 100000-byte limit/,
        outputIncludes: "before",
      },
    },
    {
      name: "a huge forged argument string",
      program: `print("before");
postMessage({ t: "call", id: 1, tool: "echo", a: JSON.stringify({ s: "x".repeat(500_000) }) });
try { await echo({}); } catch (e) { print((e as Error).message); }`,
      expect: { kind: "ok", outputIncludes: "over the 100000-byte limit" },
    },
    {
      // Values cross as structured clones, across a process: shared memory and ports cannot.
      name: "SharedArrayBuffer and MessagePort values as arguments",
      program: `const { port1 } = new MessageChannel();
try {
  await echo({ shared: new SharedArrayBuffer(8) });
} catch (e) {
  print((e as Error).message);
}
try {
  await echo({ port: port1 });
} catch (e) {
  print((e as Error).message);
}
port1.close();`,
      expect: { kind: "ok", outputIncludes: "could not be cloned" },
      toolCalls: {},
    },
    {
      name: "SharedArrayBuffer and MessagePort in forged messages",
      program: `const shared = new SharedArrayBuffer(8);
const { port1, port2 } = new MessageChannel();
postMessage({ t: "call", id: 500, tool: "echo", a: shared });
postMessage({ t: "out", s: port1 }, [port1]);
postMessage({ t: "call", id: port2, tool: "echo", a: "{}" }, [port2]);
print(await echo({ real: 1 }));`,
      expect: { kind: "ok", outputIncludes: "{ real: 1 }" },
      toolCalls: { echo: 1 },
    },
    {
      name: "duplicate call ids run the tool once",
      program: `postMessage({ t: "call", id: 1, tool: "echo", a: '{"forged":1}' });
postMessage({ t: "call", id: 1, tool: "echo", a: '{"forged":2}' });
print(await echo({ real: true }));`,
      expect: { kind: "ok", outputIncludes: "forged: 1" },
      toolCalls: { echo: 1 },
    },
    {
      name: "ids that are not safe integers are ignored",
      program: `for (const id of [1.5, NaN, 2 ** 60, Infinity, "x", {}]) {
  postMessage({ t: "call", id, tool: "echo", a: "{}" });
}
print(await echo({ real: true }));`,
      expect: { kind: "ok", outputIncludes: "real: true" },
      toolCalls: { echo: 1 },
    },
    {
      name: "ANSI and CRLF in a thrown error come back as clean text",
      program:
        `print("before");\nthrow new Error("\\x1b[31mred\\x1b[0m alert\\r\\nline two\\x07\\x1b]0;title\\x07");`,
      expect: { kind: "runtime", messageIncludes: "red alert\nline two", outputIncludes: "before" },
    },
    {
      name: "ANSI and CRLF in a tool's error reach the program and the result clean",
      program: `print("before");
try { await shout({}); } catch (e) { print(JSON.stringify((e as Error).message)); }
await shout({});`,
      expect: {
        kind: "tool",
        messageIncludes: "shout: disk on fire\nsecond line",
        outputIncludes: '"shout: disk on fire\\nsecond line"',
      },
      toolCalls: { shout: 2 },
    },
    {
      name: "calls waiting for a slot cannot park unbounded arguments on the host",
      program: `const big = "x".repeat(99_000);
const calls = Array.from({ length: 400 }, (_, i) =>
  hang({ s: big + i }).then(() => "answered", (e) => (e as Error).message));
print(await Promise.race(calls.slice(1)));
throw new Error("done");`,
      options: { limits: { maxConcurrentCalls: 1 } },
      expect: {
        kind: "runtime",
        messageIncludes: "done",
        outputIncludes: "too many calls are waiting with large arguments",
      },
      toolCalls: { hang: 1 },
    },
    {
      name:
        "a ready message or an unknown field during a run is dropped, and a flood of them ends it",
      program: `print("before");
postMessage({ t: "ready" });
postMessage({ t: "out", s: "hidden", pad: 1 });
print("after");
for (;;) postMessage({ t: "out", s: "", pad: "x".repeat(10_000) });`,
      expect: {
        kind: "runtime",
        messageIncludes: /message channel/,
        outputIncludes: "before\nafter\n",
      },
    },
    {
      name: "a species hook on Uint8Array sees none of the channel's buffers",
      program: `const seen: number[] = [];
class Spy extends Uint8Array {
  constructor(...a: any[]) {
    super(...(a as []));
    seen.push(this.length);
  }
}
Object.defineProperty(Uint8Array.prototype, "constructor", { value: { [Symbol.species]: Spy } });
Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "length", {
  get() { seen.push(-1); return 0; },
});
print("a line");
await echo({ real: 1 });
print("a second line");
print(seen.length === 0 ? "no buffer seen" : "seen " + seen.join(","));`,
      expect: { kind: "ok", outputIncludes: "a line\na second line\nno buffer seen" },
      toolCalls: { echo: 1 },
    },
    {
      name: "a 24 MB junk message is refused unread",
      program:
        `print("before");\npostMessage({ t: "junk", p: new Array(8_000_000).fill([]) });\nawait echo({});`,
      expect: { kind: "runtime", messageIncludes: /message channel.*over the \d+-byte limit/ },
    },
    {
      name: "a deeply nested message is refused before it is parsed",
      program: `print("before");
let a: unknown = [];
for (let i = 0; i < 1000; i++) a = [a];
postMessage({ t: "out", s: a });
await echo({});`,
      expect: { kind: "runtime", messageIncludes: /message channel.*nested deeper/ },
    },
    {
      name: "an error name with line breaks and escapes reaches the result on one clean line",
      program:
        'const e = new Error("boom");\ne.name = "\\x1b]0;T\\x07\\x1b[2JFAKE\\r\\nok: true";\nthrow e;',
      // deno-lint-ignore no-control-regex -- no escape or line break may survive
      expect: { kind: "runtime", messageIncludes: /^[^\n\r\x1b\x07]*FAKE ok: true: boom$/ },
    },
    {
      // Cleaning used to be quadratic in unterminated escapes: 160,000 of them froze the host
      // for a minute. A slow clean would stall this step, the host and every other run.
      name: "a megabyte of unterminated terminal escapes in an error and a forged tool name",
      program: `print("before");
postMessage({ t: "call", id: 1_000_000, tool: "\\x1b]".repeat(50_000), a: "{}" });
throw new Error("\\x1b]".repeat(600_000));`,
      expect: { kind: "runtime", messageIncludes: "more characters", outputIncludes: "before" },
    },
  ];
}

/** A loopback TCP listener that counts the connections it sees (none may come from a sandbox). */
function countingListener(): {
  port: number;
  readonly connections: number;
  close(): Promise<void>;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        connections++;
        conn.close();
      }
    } catch {
      // closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get connections() {
      return connections;
    },
    async close() {
      listener.close();
      await accepting;
    },
  };
}

// ---- the tests ------------------------------------------------------------------------------

Deno.test("hostile programs: every capability probe ends in a clear error and reaches nothing", async (t) => {
  const fixture = countingTools();
  const scratch = await Deno.makeTempDir({ prefix: "codemode_security_" });
  const listener = countingListener();
  const port = listener.port;
  const codeMode = new CodeMode({
    tools: fixture.tools,
    limits: LIMITS,
    check: "off",
    poolSize: POOL_SIZE,
  });
  try {
    codeMode.warmUp();
    await runRows(t, codeMode, fixture, capabilityRows(port, scratch));
    assert.equal(listener.connections, 0, "the listener saw a connection from a sandbox");
  } finally {
    await listener.close();
    await codeMode.close();
    await Deno.remove(scratch, { recursive: true });
  }
  assert.deepEqual(sandboxProcesses(), [], "sandbox processes outlived close()");
});

Deno.test("hostile programs: crafted channel messages are validated and never pollute the host", async (t) => {
  const fixture = countingTools();
  const codeMode = new CodeMode({
    tools: fixture.tools,
    limits: LIMITS,
    check: "off",
    poolSize: POOL_SIZE,
  });
  try {
    await runRows(t, codeMode, fixture, channelRows());
  } finally {
    await codeMode.close();
  }
  assertPrototypesClean("after the channel rows");
});

// ---- the CLI ---------------------------------------------------------------------------------

interface CliRow {
  name: string;
  program: string;
  args?: string[];
  code: number;
  stdout: string | RegExp;
  stderr?: RegExp;
}

async function cli(program: string, args: string[]): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../mod.ts", import.meta.url).pathname, "run", ...args, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(program));
  await writer.close();
  return await child.output();
}

Deno.test("hostile programs through the CLI: clear errors on stderr, exit 1, nothing left running", async (t) => {
  const listener = countingListener();
  const port = listener.port;
  const rows: CliRow[] = [
    {
      name: "reading a file",
      program: `print("before");\nprint(await Deno.readTextFile("/etc/passwd"));`,
      code: 1,
      stdout: "before\n",
      stderr: /runtime error at line 2.*read access to \/etc\/passwd/,
    },
    {
      name: "fetch to a local listener",
      program: `print("before");\nawait fetch("http://127.0.0.1:${port}/");`,
      code: 1,
      stdout: "before\n",
      stderr: /net access to 127\.0\.0\.1/,
    },
    {
      name: "a static npm: import",
      program: `import _ from "npm:lodash@4";\nprint(_);`,
      code: 1,
      stdout: "",
      stderr: /import error.*npm:lodash/,
    },
    {
      name: "stdout bytes imitating the host channel (Deno internals are gone)",
      program: FORGE_STDOUT,
      code: 1,
      stdout: "before\n",
      stderr: /reading 'core'/,
    },
    {
      name: "a busy loop",
      program: `print("before");\nwhile (true) {}`,
      args: ["--timeout", "1500"],
      code: 1,
      stdout: "before\n",
      stderr: /timeout error.*1500 ms/,
    },
    {
      name: "Deno.exit",
      program: `print("before");\nDeno.exit(0);`,
      code: 1,
      stdout: "before\n",
      stderr: /Deno\.exit\(\)/,
    },
  ];
  try {
    for (const row of rows) {
      await t.step(row.name, async () => {
        const out = await cli(row.program, [
          "--no-check",
          "--memory",
          "128",
          ...(row.args ?? ["--timeout", "5000"]),
        ]);
        const stdout = new TextDecoder().decode(out.stdout);
        const stderr = new TextDecoder().decode(out.stderr);
        const where = `${row.name}: code ${out.code}, stdout ${JSON.stringify(stdout)}, stderr ${
          JSON.stringify(stderr)
        }`;
        assert.equal(out.code, row.code, where);
        if (typeof row.stdout === "string") assert.equal(stdout, row.stdout, where);
        else assert.match(stdout, row.stdout, where);
        if (row.stderr) assert.match(stderr, row.stderr, where);
        // deno-lint-ignore no-control-regex -- the report must be plain text
        assert.doesNotMatch(stderr, /\x1b/, where);
        for (let i = 0; i < 100 && sandboxProcesses().length > 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(sandboxProcesses(), [], `${row.name}: sandboxes outlived the CLI`);
      });
    }
    await t.step("a CLI killed mid-run leaves no sandbox behind", async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../mod.ts", import.meta.url).pathname,
          "run",
          "--no-check",
          "--timeout",
          "60000",
          "-",
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(`print("before");\nwhile (true) {}`));
      await writer.close();
      const reader = child.stdout.getReader();
      const first = await reader.read();
      assert.equal(new TextDecoder().decode(first.value), "before\n");
      const orphans = sandboxProcesses().filter((p) => p !== child.pid);
      assert.ok(orphans.length > 0, "the CLI's sandbox was not seen while it ran");
      child.kill("SIGKILL");
      await reader.cancel();
      await child.status;
      for (let i = 0; i < 100 && sandboxProcesses().length > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(sandboxProcesses(), [], "the killed CLI's sandbox is still running");
    });
    assert.equal(listener.connections, 0, "the listener saw a connection from a sandbox");
  } finally {
    await listener.close();
  }
});
