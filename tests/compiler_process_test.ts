/**
 * The front end in its compiler processes, against hostile programs: every stage runs under the
 * run's deadline in a process the host kills when it overruns; other runs keep compiling
 * meanwhile; the type checker reads no file but TypeScript's own library; messages reach the
 * caller clean. Real `deno` compiler processes, real TypeScript, real sandboxes.
 */

import assert from "node:assert/strict";
import { CodeMode, type RunError } from "../mod.ts";
import { ProgramCompiler } from "../src/program/compile.ts";
import { eventually, processAlive } from "./_fixtures/sandbox_watch.ts";
import { TEMPLATE_BOMB } from "./_fixtures/hostile_programs.ts";

const DECLARATIONS = "declare function print(...values: unknown[]): void;";

/** A 64 KB flat expression: TypeScript's transpile alone takes tens of seconds on it. */
const FLAT_EXPRESSION = "const a = 1;\nprint(" + "a+".repeat(32_000) + "a);\n";

/** Array literals nested 10,000 deep: TypeScript's parser runs out of stack. */
const DEEP_NESTING = "const x = " + "[".repeat(10_000) + "]".repeat(10_000) + ";\nprint(x);\n";

/** A secret global declaration file outside any root, for the reference rows. */
const SECRET_DIR = Deno.makeTempDirSync({ prefix: "codemode-secret-" });
const SECRET_FILE = `${SECRET_DIR}/secret.d.ts`;
Deno.writeTextFileSync(SECRET_FILE, `declare const LEAKED: "hunter2-top-secret";\n`);
globalThis.addEventListener("unload", () => Deno.removeSync(SECRET_DIR, { recursive: true }));

interface _Row {
  name: string;
  source: string;
  /** The error kind the run (and the check) must end with. */
  kind: RunError["kind"];
  /** What the message must say. */
  message: RegExp;
}

const HOSTILE: _Row[] = [
  {
    name: "a 64 KB long flat expression",
    source: FLAT_EXPRESSION,
    kind: "timeout",
    message: /^compiling \(TypeScript transpile\) did not finish within 3000 ms.*split long/,
  },
  {
    name: "pathological template-literal types",
    source: TEMPLATE_BOMB,
    kind: "timeout",
    message: /^the type check did not finish within 3000 ms.*simplify the types/,
  },
  {
    name: "a long line that opens like a fence",
    source: "```" + "a".repeat(500_000) + "`\nprint(1);\n",
    kind: "type",
    message: /not callable/,
  },
  {
    name: "/// <reference path> to /etc/passwd",
    source: '/// <reference path="/etc/passwd" />\nprint(1);\n',
    kind: "import",
    message: /^Triple-slash references are not allowed.*remove the reference/,
  },
  {
    name: "/// <reference path> to a .d.ts outside any root",
    source: `/// <reference path="${SECRET_FILE}" />\nconst n: number = LEAKED;\nprint(n);\n`,
    kind: "import",
    message: /^Triple-slash references are not allowed/,
  },
  {
    name: "/// <reference types>, <reference lib> and no-default-lib",
    source: '/// <reference no-default-lib="true" />\n/// <reference types="node" />\n' +
      '/// <reference lib="dom" />\nprint(1);\n',
    kind: "import",
    message: /^Triple-slash references are not allowed.*\n\(2 more: 2:1 import .*3:1 import/s,
  },
  {
    name: "array literals nested 10,000 deep",
    source: DEEP_NESTING,
    kind: "syntax",
    message: /nests too deeply for the TypeScript parser/,
  },
];

/** Runs `task` and measures it; deadlines are what these rows check, so each is timed. */
async function timed<T>(task: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await task();
  return { value, ms: performance.now() - started };
}

// A hostile row must end within its timeout plus this. Generous on purpose: the kill, the
// sandbox's own end and a busy 2-core machine all add to it; it proves a deadline, not a speed.
const SLACK_MS = 2_000;
const TIMEOUT_MS = 3_000;

Deno.test("run() and check() end every hostile program within its timeout with the right kind", async () => {
  await using runner = new CodeMode();
  await using checker = new CodeMode({ limits: { timeoutMs: TIMEOUT_MS } });
  for (const row of HOSTILE) {
    // A warm compiler first (one a previous row's kill may be replacing), so the row's own
    // deadline is spent on the row and not on starting a process on a busy machine.
    assert.equal((await runner.run("print(0)")).output, "0\n");
    assert.ok((await checker.check("print(0)")).ok);
    const run = await timed(() => runner.run(row.source, { limits: { timeoutMs: TIMEOUT_MS } }));
    assert.equal(run.value.error?.kind, row.kind, `${row.name}: ${run.value.error?.message}`);
    assert.match(run.value.error!.message, row.message, row.name);
    assert.ok(run.ms < TIMEOUT_MS + SLACK_MS, `${row.name}: run took ${run.ms} ms`);
    assert.equal(run.value.output, "", `${row.name}: nothing ran`);
    const check = await timed(() => checker.check(row.source));
    assert.equal(check.value.error?.kind, row.kind, `${row.name}: ${check.value.error?.message}`);
    assert.match(check.value.error!.message, row.message, row.name);
    assert.ok(check.ms < TIMEOUT_MS + SLACK_MS, `${row.name}: check took ${check.ms} ms`);
  }
});

Deno.test("a huge but legal program (500 KB of data) is compiled, checked and run", async () => {
  // ~1.2 s to compile and check on the dev machine; the limit leaves room for a busy one.
  await using cm = new CodeMode({ limits: { timeoutMs: 20_000 } });
  const source = "const rows = [\n" +
    Array.from({ length: 12_000 }, (_, i) => `  { id: ${i}, name: "row ${i}", tags: ["a"] },`)
      .join("\n") +
    "\n];\nprint(rows.filter((r) => r.id % 7 === 0).length);\n";
  assert.ok(source.length > 500_000);
  const result = await cm.run(source);
  assert.equal(result.output, "1715\n", JSON.stringify(result.error));
  assert.deepEqual(await cm.check(source), { ok: true, diagnostics: [] });
});

Deno.test("the type checker leaks nothing about files: no secret text, no existence oracle", async () => {
  await using compiler = new ProgramCompiler();
  const missing = `${SECRET_DIR}/no-such-file.d.ts`;
  const outcomes = [];
  for (const path of [SECRET_FILE, missing, "/etc/passwd", "/etc/no-such-file"]) {
    for (
      const source of [
        `/// <reference path="${path}" />\nprint(1);`,
        `import type { X } from "${path}";\nconst y: X = 1;\nprint(y);`,
        `type T = typeof import("${path}");\nconst t: T | undefined = undefined;\nprint(t);`,
        `const n: number = LEAKED;\nprint(n);`,
      ]
    ) {
      const outcome = await compiler.compile(source, { declarations: DECLARATIONS });
      const text = JSON.stringify(outcome).replaceAll(path, "<path>");
      assert.doesNotMatch(text, /hunter2|root:x:0/, source);
      outcomes.push(text);
    }
  }
  // The same answer whether the file exists or not.
  const perPath = outcomes.length / 4;
  for (let i = 1; i < 4; i++) {
    assert.deepEqual(outcomes.slice(i * perPath, (i + 1) * perPath), outcomes.slice(0, perPath));
  }
  assert.match(outcomes[3], /Cannot find name 'LEAKED'/);
});

Deno.test("a bystander's print(1) answers, through another CodeMode and the same one, while a hostile check runs", async () => {
  await using hostile = new CodeMode();
  await using other = new CodeMode();
  // The hostile run gets a long timeout so it is surely still running when the bystanders end
  // (a cold compiler process may take seconds on a busy machine); the test cancels it after.
  const cancel = new AbortController();
  let hostileDone = false;
  const hostileRun = hostile.run(TEMPLATE_BOMB, {
    signal: cancel.signal,
    limits: { timeoutMs: 120_000 },
  }).finally(() => hostileDone = true);
  const [same, another] = await Promise.all([hostile.run("print(1)"), other.run("print(1)")]);
  assert.equal(same.output, "1\n", JSON.stringify(same.error));
  assert.equal(another.output, "1\n", JSON.stringify(another.error));
  assert.equal(hostileDone, false, "the hostile run ended before the bystanders");
  cancel.abort(new Error("the bystanders have answered"));
  const ended = await hostileRun;
  assert.equal(ended.error?.kind, "timeout");
  assert.match(ended.error!.message, /cancelled.*bystanders have answered/);
});

Deno.test("a compile that overruns is killed with its process, and a warm replacement serves the next", async () => {
  await using compiler = new ProgramCompiler();
  const options = { declarations: DECLARATIONS };
  await compiler.warm(options);
  const [first] = compiler.pids;
  const outcome = await compiler.compile(TEMPLATE_BOMB, { ...options, timeoutMs: 1_000 });
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.kind, "timeout");
  assert.equal(outcome.stage, "check");
  assert.match(outcome.error.message, /^the type check did not finish within 1000 ms/);
  const next = await compiler.compile("print(1);", options);
  assert.ok(next.ok, JSON.stringify(next));
  // Killed, it leaves /proc a moment later (a 1 GB heap takes a while to tear down when busy).
  assert.ok(await eventually(() => !processAlive(first)), "the overrunning process was killed");
  assert.equal(compiler.pids.includes(first), false);
});

Deno.test("a process that served maxCompiles is replaced once its successor is warm", async () => {
  await using compiler = new ProgramCompiler({ maxCompiles: 2 });
  const options = { declarations: DECLARATIONS };
  await compiler.warm(options);
  const [first] = compiler.pids;
  // The warm-up and this compile make two: the process retires, and a successor starts.
  assert.ok((await compiler.compile("print(1);", options)).ok);
  // Compiles go on meanwhile (to the retiring process until the successor is warm). Polled like
  // the sandbox watch does, generously: a cold successor takes seconds on a busy machine.
  for (let i = 0; i < 400 && compiler.pids.includes(first); i++) {
    assert.ok((await compiler.compile(`print(${i});`, options)).ok);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(compiler.pids.includes(first), false, "the first process was not replaced");
  // Killed, it leaves /proc a moment later (polled generously, like the sandbox watch).
  assert.ok(await eventually(() => !processAlive(first)), "the retired process was not killed");
  assert.ok((await compiler.compile("print(2);", options)).ok);
});

Deno.test("stage() resolves before the type check ends, and its signal names the stage it stopped", async () => {
  await using compiler = new ProgramCompiler();
  const controller = new AbortController();
  const staged = await compiler.stage(TEMPLATE_BOMB, {
    declarations: DECLARATIONS,
    signal: controller.signal,
  });
  assert.ok(staged.ok && "check" in staged, "the program comes back with its check under way");
  assert.match(staged.program.js, /print\(1\)/);
  controller.abort(new DOMException("the run's deadline", "TimeoutError"));
  const checked = await staged.check();
  assert.ok(!checked.ok);
  assert.equal(checked.stage, "check");
  assert.match(checked.error.message, /^the type check did not finish before the deadline/);
  // An aborted signal stops a compile before it starts.
  const early = await compiler.compile("print(1)", { signal: AbortSignal.abort("no time left") });
  assert.ok(!early.ok);
  assert.equal(early.error.kind, "timeout");
  assert.match(
    early.error.message,
    /cancelled while it waited for a free compiler process: no time/,
  );
});

Deno.test("a compile that exhausts the compiler's heap is refused as limit, and the host lives", async () => {
  // 160 MB holds TypeScript and its library, not this program's types.
  await using compiler = new ProgramCompiler({ memoryMb: 160 });
  const options = { declarations: DECLARATIONS };
  const outcome = await compiler.compile(TEMPLATE_BOMB, { ...options, timeoutMs: 120_000 });
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.kind, "limit", outcome.error.message);
  assert.match(outcome.error.message, /too complex to compile: the type check needed more than/);
  assert.ok((await compiler.compile("print(1);", options)).ok, "a new process took over");
});

Deno.test("messages are cleaned of terminal escapes and control characters", async () => {
  await using compiler = new ProgramCompiler();
  const outcome = await compiler.compile(
    'import x from "\x1b]0;pwned\x07\x1b[31mred\x1b[0m\x00\x08";\nprint(x);',
    { declarations: DECLARATIONS },
  );
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.kind, "import");
  // deno-lint-ignore no-control-regex -- asserting that no control character is left
  const controls = /[\x00-\x08\x0b-\x1f\x7f]/;
  assert.doesNotMatch(outcome.error.message, controls);
  for (const d of outcome.diagnostics) assert.doesNotMatch(d.message, controls);
  assert.match(outcome.error.message, /Cannot import "red"/);
});

Deno.test("host memory stays bounded over repeated hostile programs", async () => {
  await using cm = new CodeMode();
  assert.equal((await cm.run("print(0)")).output, "0\n");
  const before = Deno.memoryUsage().rss;
  for (let i = 0; i < 20; i++) {
    // Alternately: a reference to a new path spelling (once cached forever on the host), and a
    // type check that overruns and is killed.
    const source = i % 2 === 0
      ? `/// <reference path="${SECRET_DIR}/${"x".repeat(i)}/a${i}.d.ts" />\nprint(${i});`
      : TEMPLATE_BOMB;
    const result = await cm.run(source, { limits: { timeoutMs: 1_000 } });
    assert.equal(result.error?.kind, i % 2 === 0 ? "import" : "timeout", result.error?.message);
  }
  const grown = Deno.memoryUsage().rss - before;
  assert.ok(grown < 300 * 1024 * 1024, `host RSS grew ${Math.round(grown / 1048576)} MB`);
});

Deno.test("close() leaves no compiler process, and compile() after it throws TypeError", async () => {
  const compiler = new ProgramCompiler();
  await compiler.warm();
  const pids = compiler.pids;
  assert.ok(pids.length > 0 && pids.every(processAlive));
  await compiler.close();
  for (const pid of pids) {
    assert.equal(processAlive(pid), false, `compiler ${pid} outlived close()`);
  }
  await assert.rejects(() => compiler.compile("print(1)"), TypeError);
});
