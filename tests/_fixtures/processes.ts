/**
 * Child processes for tests — `codemode serve --http`, fixture servers — whose stderr is kept,
 * that can be waited on for a line, and whose exit fails the wait with that stderr instead of
 * leaving the test hanging.
 */

import { _descendants, _terminate } from "../../src/mcp/process_tree.ts";

/** The repository's deno.json: fixtures resolve npm packages through its import map and lock. */
export const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
/**
 * `deno run` flags for a fixture script: the project's import map and lockfile, frozen, so that
 * a fixture never resolves anything afresh (an MCP client starts stdio servers with a stripped
 * environment, in which a fresh npm resolution could fail) and says so clearly if it would have
 * to.
 */
export const FIXTURE_FLAGS = ["--quiet", "--frozen", "--config", CONFIG];
/** The CLI entry. */
export const MOD = new URL("../../mod.ts", import.meta.url).pathname;

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it next). */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** A running child process. */
export interface Proc extends AsyncDisposable {
  /** Its process id. */
  pid: number;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects with the stderr if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves with its exit status. */
  status: Promise<Deno.CommandStatus>;
  /** Ends it and everything it started (SIGKILL with `hard`, else SIGTERM then SIGKILL). */
  stop(hard?: boolean): Promise<Deno.CommandStatus>;
}

/** Starts `deno <args>` with stdout ignored and stderr kept. */
export function startDeno(args: string[], options: { env?: Record<string, string> } = {}): Proc {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: options.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  let changed = Promise.withResolvers<void>();
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      changed.resolve();
      changed = Promise.withResolvers<void>();
    }
  })();
  const status = child.status.then(async (s) => {
    await reading;
    changed.resolve();
    return s;
  });
  let exited = false;
  status.then(() => exited = true);
  const proc: Proc = {
    pid: child.pid,
    stderr: () => text,
    status,
    async waitFor(pattern) {
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        if (exited) {
          throw new Error(`the process exited before printing ${pattern}; its stderr:\n${text}`);
        }
        await Promise.race([changed.promise, status]);
      }
    },
    async stop(hard = false) {
      if (!exited) {
        const tree = [child.pid, ...(await _descendants(child.pid))];
        if (hard) {
          for (const pid of tree) {
            try {
              Deno.kill(pid, "SIGKILL");
            } catch {
              // already gone
            }
          }
        } else {
          await _terminate(tree, 5_000);
        }
      }
      return await status;
    },
    async [Symbol.asyncDispose]() {
      await proc.stop();
    },
  };
  return proc;
}

/** Starts the HTTP MCP fixture (`http_upstream.ts`) on `port` and waits until it listens. */
export async function startUpstream(port: number): Promise<Proc> {
  const fixture = new URL("./http_upstream.ts", import.meta.url).pathname;
  const proc = startDeno(["run", "-A", ...FIXTURE_FLAGS, fixture, String(port)]);
  await proc.waitFor(/listening on \d+/);
  return proc;
}

/**
 * Starts `codemode serve --http PORT …` and waits for its endpoint line; resolves with the
 * process and the endpoint URL.
 */
export async function startServe(
  flags: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ proc: Proc; url: string }> {
  const port = freePort();
  const proc = startDeno(["run", "-A", MOD, "serve", "--http", String(port), ...flags], options);
  const [, url] = await proc.waitFor(/MCP endpoint (\S+) /);
  return { proc, url };
}
