/**
 * The `codemode` CLI: commands run in-process through `main(args, io)` with a capturing CliIo,
 * and as real `deno run mod.ts …` processes (exit codes, stdin, permissions, the seed demo).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CliIo } from "../src/cli/cli_io.ts";
import { main } from "../src/cli/main.ts";

const REPO = new URL("..", import.meta.url).pathname;
const MOD = join(REPO, "mod.ts");

const PROGRAMS: Record<string, string> = {
  "ok.ts": `const a = await read_file({ path: "a.txt" });
const b = await read_file({ path: "a.txt" });
print(a.trim(), b.length);
`,
  "fail.ts": `print("partial");\nthrow new Error("boom");\n`,
  "bad.ts": `const n: number = "text";\nprint(n);\n`,
  "syntax.ts": `print(1;\n`,
  "a.txt": "hello\n",
};

/** A temporary directory holding {@linkcode PROGRAMS}, removed on disposal. */
async function workdir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "codemode_cli_" });
  for (const [name, text] of Object.entries(PROGRAMS)) {
    await Deno.writeTextFile(join(path, name), text);
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

interface Captured extends CliIo {
  out: string;
  err: string;
}

function capture(cwd: string, stdin = ""): Captured {
  const io: Captured = {
    out: "",
    err: "",
    stdout: (text) => void (io.out += text),
    stderr: (text) => void (io.err += text),
    readStdin: () => Promise.resolve(new TextEncoder().encode(stdin)),
    stderrIsTerminal: false,
    cwd,
  };
  return io;
}

interface Case {
  args: string[];
  stdin?: string;
  code: number;
  stdout?: string | RegExp;
  stderr?: string | RegExp;
  check?: (out: string, err: string) => void;
}

function expect(actual: string, expected: string | RegExp | undefined, what: string): void {
  if (expected === undefined) return;
  if (typeof expected === "string") assert.equal(actual, expected, what);
  else assert.match(actual, expected, what);
}

const CASES: Record<string, Case> = {
  "run ok: only the program's output on stdout": {
    args: ["run", "ok.ts"],
    code: 0,
    stdout: "hello 6\n",
    stderr: "",
  },
  "run a failing program: report on stderr, partial output kept": {
    args: ["run", "fail.ts"],
    code: 1,
    stdout: "partial\n",
    stderr: "codemode: runtime error at line 2, column 7: Error: boom\n",
  },
  "run a type error: nothing runs": {
    args: ["run", "bad.ts"],
    code: 1,
    stdout: "",
    stderr: /^codemode: type error at line 1, column 7: .*not assignable to type 'number'/,
  },
  "run - reads the program from stdin": {
    args: ["run", "-"],
    stdin: `print("from stdin", (await read_file({ path: "a.txt" })).trim())`,
    code: 0,
    stdout: "from stdin hello\n",
  },
  "run --json prints the RunResult": {
    args: ["run", "--json", "ok.ts"],
    code: 0,
    stderr: "",
    check: (out) => {
      const r = JSON.parse(out);
      assert.deepEqual(Object.keys(r).sort(), ["calls", "ok", "output", "stats", "trace"]);
      assert.equal(r.ok, true);
      assert.equal(r.output, "hello 6\n");
      assert.equal(r.calls, 2);
      assert.deepEqual(Object.keys(r.stats).sort(), [
        "durationMs",
        "outputBytes",
        "toolResultBytes",
      ]);
      assert.deepEqual(r.trace.map((c: { tool: string }) => c.tool), ["read_file", "read_file"]);
    },
  },
  "run --json on failure keeps the error in the JSON": {
    args: ["run", "--json", "fail.ts"],
    code: 1,
    stderr: "",
    check: (out) => {
      const r = JSON.parse(out);
      assert.equal(r.ok, false);
      assert.equal(r.output, "partial\n");
      assert.deepEqual(r.error, { kind: "runtime", message: "Error: boom", line: 2, column: 7 });
    },
  },
  "run --trace prints each call to stderr": {
    args: ["run", "--trace", "ok.ts"],
    code: 0,
    stdout: "hello 6\n",
    check: (_, err) => {
      const lines = err.trimEnd().split("\n");
      assert.equal(lines[0], "codemode trace:");
      const calls = lines.filter((l) => / ok {3}read_file {2}in 16 B, out 9 B$/.test(l));
      assert.equal(calls.length, 2, err);
      assert.match(
        lines.at(-1)!,
        /^ {2}2 tool calls in [\d.]+ ms; tools returned 18 B, the program printed 8 B/,
      );
    },
  },
  "check a clean program": { args: ["check", "ok.ts"], code: 0, stdout: "", stderr: "" },
  "check a type error: line:col kind message": {
    args: ["check", "bad.ts"],
    code: 1,
    stdout: "1:7 type Type 'string' is not assignable to type 'number'.\n",
  },
  "check a syntax error": {
    args: ["check", "syntax.ts"],
    code: 1,
    stdout: /^1:\d+ syntax .+\n$/,
  },
  "check --json": {
    args: ["check", "--json", "bad.ts"],
    code: 1,
    check: (out) =>
      assert.deepEqual(JSON.parse(out), {
        ok: false,
        diagnostics: [{
          kind: "type",
          message: "Type 'string' is not assignable to type 'number'.",
          line: 1,
          column: 7,
        }],
      }),
  },
  "check --json clean": {
    args: ["check", "--json", "ok.ts"],
    code: 0,
    check: (out) => assert.deepEqual(JSON.parse(out), { ok: true, diagnostics: [] }),
  },
  "describe prints the description": {
    args: ["describe"],
    code: 0,
    stdout: /^# Answer by writing ONE TypeScript program\n[\s\S]*read_file\(input:/,
  },
  "describe --json: {description, tools: [{name, namespace, signature}]}": {
    args: ["describe", "--json", "--allow-run"],
    code: 0,
    check: (out) => {
      const d = JSON.parse(out);
      assert.deepEqual(Object.keys(d).sort(), ["description", "tools"]);
      assert.equal(typeof d.description, "string");
      for (const t of d.tools) {
        assert.deepEqual(Object.keys(t).sort(), ["name", "namespace", "signature"]);
      }
      assert.deepEqual(
        d.tools.map((t: { name: string }) => t.name),
        ["read_file", "list_files", "search_files", "bash"],
      );
      const bash = d.tools.find((t: { name: string }) => t.name === "bash");
      assert.equal(bash.namespace, null);
      assert.match(bash.signature, /^bash\(input: \{ command: string/);
    },
  },
  "tools lists one signature per line": {
    args: ["tools", "--allow-write"],
    code: 0,
    check: (out) =>
      assert.deepEqual(
        out.trimEnd().split("\n").map((l) => l.slice(0, l.indexOf("("))),
        ["read_file", "list_files", "search_files", "write_file", "edit_file"],
      ),
  },
  "no command: help, exit 2": { args: [], code: 2, stdout: /^codemode [\d.]+ — /, stderr: "" },
  "--version": { args: ["--version"], code: 0, stdout: /^codemode \d+\.\d+\.\d+\n$/ },
  "usage: unknown command": {
    args: ["frobnicate"],
    code: 2,
    stdout: "",
    stderr:
      /^codemode: unknown command "frobnicate"; use one of: run, check, describe, serve, tools\n$/,
  },
  "usage: unknown flag": {
    args: ["run", "--frobnicate", "ok.ts"],
    code: 2,
    stderr:
      /^codemode run: Unknown option '--frobnicate'.*\nRun "codemode run --help" for usage\.\n$/,
  },
  "usage: missing program file": {
    args: ["run", "nope.ts"],
    code: 2,
    stderr: /^codemode run: cannot read the program file "nope\.ts": /,
  },
  "usage: no program named": {
    args: ["check"],
    code: 2,
    stderr: /name a program file, or - to read the program from standard input/,
  },
  "usage: --timeout abc": {
    args: ["run", "--timeout", "abc", "ok.ts"],
    code: 2,
    stderr: /^codemode run: --timeout takes a positive whole number, got "abc"\n/,
  },
  "usage: --check maybe": {
    args: ["check", "--check", "maybe", "ok.ts"],
    code: 2,
    stderr: /--check takes error, warn or off, got "maybe"/,
  },
  "usage: --root that is not a directory": {
    args: ["run", "--root", "a.txt", "ok.ts"],
    code: 2,
    stderr: /--root .*a\.txt is not a directory/,
  },
  "usage: --mcp file missing": {
    args: ["tools", "--mcp", "missing.json"],
    code: 2,
    stderr: /^codemode tools: --mcp missing\.json: /,
  },
  "usage: serve --http abc": {
    args: ["serve", "--http", "abc"],
    code: 2,
    stdout: "",
    stderr: /--http takes a port number from 0 to 65535, got "abc"/,
  },
  "usage: serve with a program": {
    args: ["serve", "ok.ts"],
    code: 2,
    stdout: "",
    stderr: /serve takes no program/,
  },
};

for (const [name, c] of Object.entries(CASES)) {
  Deno.test(`main() ${name}`, async () => {
    await using dir = await workdir();
    const io = capture(dir.path, c.stdin);
    const code = await main(c.args, io);
    const context = `codemode ${c.args.join(" ")}\nstdout: ${io.out}\nstderr: ${io.err}`;
    assert.equal(code, c.code, context);
    expect(io.out, c.stdout, `stdout of ${context}`);
    expect(io.err, c.stderr, `stderr of ${context}`);
    c.check?.(io.out, io.err);
  });
}

Deno.test("main() --help on every command lists the flags and an example", async () => {
  await using dir = await workdir();
  const own: Record<string, string[]> = {
    run: ["--trace"],
    check: [],
    describe: ["--threshold"],
    serve: ["--http PORT"],
    tools: [],
  };
  for (const [command, flags] of Object.entries(own)) {
    for (const help of ["--help", "-h"]) {
      const io = capture(dir.path);
      assert.equal(await main([command, help], io), 0, `${command} ${help}`);
      assert.equal(io.err, "");
      assert.match(io.out, new RegExp(`^codemode ${command} — `));
      assert.match(io.out, new RegExp(`Usage: codemode ${command}`));
      for (
        const flag of [
          "Flags:",
          "--root DIR",
          "--mcp FILE",
          "--allow-run",
          "--timeout MS",
          ...flags,
        ]
      ) {
        assert.ok(io.out.includes(flag), `${command} --help lists ${flag}`);
      }
      assert.match(io.out, new RegExp(`Example:\\n  codemode ${command}`));
    }
  }
  const io = capture(dir.path);
  assert.equal(await main(["--help"], io), 0);
  for (const command of Object.keys(own)) assert.match(io.out, new RegExp(`\\n  ${command} `));
});

Deno.test("main() serve --http on a port in use says to pick another", async () => {
  await using dir = await workdir();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const io = capture(dir.path);
  assert.equal(await main(["serve", "--http", String(port)], io), 2);
  assert.equal(io.out, "");
  assert.match(io.err, new RegExp(`--http ${port}: the port is in use on 127\\.0\\.0\\.1`));
});

// ---------------------------------------------------------------------------------------------
// Real processes

async function codemode(
  args: string[],
  options: { cwd: string; stdin?: string; denoFlags?: string[] },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.denoFlags ?? ["-A"]), MOD, ...args],
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("deno run -A mod.ts: exit codes and streams of a real process", async () => {
  await using dir = await workdir();
  const cases: [string[], string | undefined, number, string, RegExp][] = [
    [["run", "ok.ts"], undefined, 0, "hello 6\n", /^$/],
    [["run", "fail.ts"], undefined, 1, "partial\n", /^codemode: runtime error at line 2/],
    [["run", "-"], `print(6 * 7)`, 0, "42\n", /^$/],
    [
      ["check", "bad.ts"],
      undefined,
      1,
      "1:7 type Type 'string' is not assignable to type 'number'.\n",
      /^$/,
    ],
    [
      ["run", "--timeout", "abc", "ok.ts"],
      undefined,
      2,
      "",
      /--timeout takes a positive whole number/,
    ],
    [["frobnicate"], undefined, 2, "", /unknown command "frobnicate"/],
  ];
  for (const [args, stdin, code, stdout, stderr] of cases) {
    const r = await codemode(args, { cwd: dir.path, stdin });
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, stdout, args.join(" "));
    assert.match(r.stderr, stderr, args.join(" "));
  }
});

Deno.test("deno run mod.ts without -A says to run it with deno run -A", async () => {
  await using dir = await workdir();
  const r = await codemode(["run", "ok.ts"], { cwd: dir.path, denoFlags: [] });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /lacks --allow-/);
  assert.match(r.stderr, /deno run -A jsr:@codemode\/cli run ok\.ts/);
  assert.doesNotMatch(r.stderr, /NotCapable|Uncaught/);
});

Deno.test("deno task demo prints the summary and a trace of three overlapping calls", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo"],
    cwd: REPO,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, err);
  const config = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const lines = out.trimEnd().split("\n");
  assert.ok(lines.length <= 10, `at most ten lines:\n${out}`);
  assert.match(lines[0], new RegExp(`^${config.name} ${config.version.replaceAll(".", "\\.")} — `));
  assert.equal(lines[1], `exports: ${Object.keys(config.exports).join(", ")}`);
  assert.equal(lines[2], `tasks: ${Object.keys(config.tasks).join(", ")}`);
  assert.match(out, /^README: \d+ lines; sections: /m);
  assert.match(out, /^commits: \d+ over \d+ days$/m);
  assert.match(out, /^latest: [0-9a-f]{7,} \d{4}-\d{2}-\d{2} /m);
  // The trace: three calls (two reads and bash), then the figures.
  const trace = err.slice(err.indexOf("codemode trace:"));
  const calls = trace.split("\n").filter((l) => /^ {2}\|.*\| .* ms \+ .* ms {2}ok {3}\w+/.test(l));
  assert.deepEqual(calls.map((l) => /ok {3}(\w+)/.exec(l)![1]), ["read_file", "read_file", "bash"]);
  assert.match(
    trace,
    /\n {2}3 tool calls in [\d.]+ ms; tools returned [\d.]+ K?B, the program printed/,
  );
});
