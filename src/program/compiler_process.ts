/**
 * One compiler process as the host sees it: how it is started (no permission but reading
 * TypeScript's library directory, a capped heap, an empty environment), the line channel, kill.
 * The host never loads TypeScript: it only resolves where the package is, to let the child read
 * its library files.
 *
 * @module
 */

import {
  type _ChildReply,
  _encodeLine,
  type _HostRequest,
  _LineReader,
  type _ReadyReply,
} from "./compiler_protocol.ts";

/** How a compiler process is started. */
export interface _CompilerSpawnOptions {
  /** Path of the `deno` executable. */
  denoPath: string;
  /** Heap limit of the process (V8's old space), in megabytes. */
  memoryMb: number;
  /** Directories the process may read, besides those resolved here (a library dir it reported). */
  extraReads?: readonly string[];
}

/** Environment variables the `deno` executable itself needs to find its caches and registries. */
const DENO_ENV = [
  "DENO_DIR",
  "HOME",
  "XDG_CACHE_HOME",
  "LOCALAPPDATA",
  "USERPROFILE",
  "NPM_CONFIG_REGISTRY",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
];

/** The file path of a resolved module specifier, if it resolves to a local file. */
function _resolvedPath(specifier: string): string | undefined {
  try {
    const url = new URL(import.meta.resolve(specifier));
    return url.protocol === "file:" ? decodeURIComponent(url.pathname) : undefined;
  } catch {
    return undefined;
  }
}

/** The directory part of a path. */
function _dirname(path: string): string {
  return path.replace(/[\\/][^\\/]*$/, "");
}

/** Where codemode's own deno.json is, when codemode runs from a local checkout. */
function _localConfig(): string | undefined {
  const config = new URL("../../deno.json", import.meta.url);
  if (config.protocol !== "file:") return undefined;
  try {
    return Deno.statSync(config).isFile ? decodeURIComponent(config.pathname) : undefined;
  } catch {
    return undefined;
  }
}

/** A value of a comma-separated permission flag, with commas in it escaped (doubled). */
function _flagValue(paths: readonly string[]): string {
  return paths.map((p) => p.replaceAll(",", ",,")).join(",");
}

let _resolution: { config?: string; importMap?: string; reads: string[] } | undefined;

/**
 * How the child finds TypeScript and `@deno/graph`: from a checkout, through codemode's own
 * deno.json and lockfile (never written: `--frozen`); otherwise (codemode loaded from JSR),
 * through an import map of what the host resolves them to. Resolved once per host process.
 */
function _packageResolution(): { config?: string; importMap?: string; reads: string[] } {
  if (_resolution) return _resolution;
  const typescript = _resolvedPath("typescript");
  const graph = _resolvedPath("@deno/graph");
  // TypeScript's own directory holds its library files; @deno/graph's holds its wasm.
  const reads = [typescript, graph].filter((p) => p !== undefined).map(_dirname);
  const config = _localConfig();
  if (config) return (_resolution = { config, reads });
  const imports: Record<string, string> = {};
  for (const specifier of ["typescript", "@deno/graph"]) {
    try {
      imports[specifier] = import.meta.resolve(specifier);
    } catch {
      // Left to the child, which then reports what it cannot load.
    }
  }
  const importMap = "data:application/json," + encodeURIComponent(JSON.stringify({ imports }));
  return (_resolution = { importMap, reads });
}

/** The directories a compiler process may read: the packages' own, and `extra`. */
export function _grantedReads(extra: readonly string[] = []): string[] {
  return [...new Set([..._packageResolution().reads, ...extra])];
}

/** The command line of a compiler process. */
export function _compilerCommand(
  options: _CompilerSpawnOptions,
): { cmd: string; args: string[]; env: Record<string, string> } {
  const resolution = _packageResolution();
  const child = new URL("./compiler_child.ts", import.meta.url);
  const reads = _grantedReads(options.extraReads);
  const args = [
    "run",
    "--no-prompt",
    "--quiet",
    ...(resolution.config
      ? [`--config=${resolution.config}`, "--frozen"]
      : ["--no-config", "--no-lock", `--import-map=${resolution.importMap}`]),
    ...(child.protocol === "file:" ? ["--no-remote"] : []),
    ...(reads.length > 0 ? [`--allow-read=${_flagValue(reads)}`] : []),
    `--v8-flags=--max-old-space-size=${options.memoryMb}`,
    child.href,
  ];
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of DENO_ENV) {
    try {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    } catch {
      // A host without environment access: deno falls back to its defaults.
    }
  }
  return { cmd: options.denoPath, args, env };
}

/** How a compiler process ended. */
export interface _CompilerExit {
  /** Its exit status. */
  status: Deno.CommandStatus;
  /** The tail of what it wrote on stderr. */
  stderr: string;
  /** Whether the host killed it. */
  killed: boolean;
}

/**
 * A started compiler process. `ready` resolves once TypeScript is loaded; `send` hands it one
 * request and the replies go to that request's listener until its `end`. stdout is read only while
 * a reply is awaited, and the process holds the host's event loop only then.
 */
export class _CompilerProcess {
  readonly ready: Promise<_ReadyReply>;
  readonly exited: Promise<_CompilerExit>;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #lines = new _LineReader();
  #listener: ((reply: _ChildReply) => void) | undefined;
  #onReady: (reply: _ReadyReply) => void;
  #waitingReady = true;
  #reading = false;
  #killed = false;
  #done = false;

  /**
   * Spawns the process. Throws what `Deno.Command.spawn` throws (no `deno`, too many processes).
   */
  constructor(options: _CompilerSpawnOptions) {
    const { cmd, args, env } = _compilerCommand(options);
    const child = new Deno.Command(cmd, {
      args,
      cwd: "/",
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env,
    }).spawn();
    this.#child = child;
    const writer = child.stdin.getWriter();
    this.#writer = writer;
    const reader = child.stdout.getReader();
    this.#reader = reader;
    const { promise: ready, resolve, reject } = Promise.withResolvers<_ReadyReply>();
    ready.catch(() => {});
    this.ready = ready;
    this.#onReady = resolve;
    this.exited = (async () => {
      // Read as it comes: a child that fills the stderr pipe must not block until it is killed.
      const [status, stderr] = await Promise.all([child.status, _tail(child.stderr)]);
      this.#done = true;
      reject(
        new Error(
          `the compiler process exited before it was ready (exit code ${status.code}${
            status.signal ? `, ${status.signal}` : ""
          }): ${stderr.trim().slice(-500) || "no output"}`,
        ),
      );
      await writer.close().catch(() => {});
      // stdout is read only while a reply is awaited: let go of what is left of it.
      await reader.cancel().catch(() => {});
      return { status, stderr, killed: this.#killed };
    })();
    this.#read();
  }

  /** Process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has ended or was told to. */
  get gone(): boolean {
    return this.#killed || this.#done;
  }

  /** Sends one request; `listener` gets every reply until (and with) its `end`. */
  send(request: _HostRequest, listener: (reply: _ChildReply) => void): void {
    if (this.gone) return;
    this.#listener = listener;
    this.#child.ref();
    this.#writer.write(_encodeLine(request)).catch(() => {});
    this.#read();
  }

  /** Reads stdout while a reply is awaited (the ready message, or a request's replies). */
  async #read(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      while ((this.#waitingReady || this.#listener) && !this.#done) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#lines.push(value, (line) => this.#onLine(line));
      }
    } catch {
      // The process is gone; `exited` reports it.
    } finally {
      this.#reading = false;
    }
  }

  #onLine(line: string): void {
    let reply: _ChildReply;
    try {
      reply = JSON.parse(line);
    } catch {
      return; // not a reply (nothing else writes to stdout, but a stray line is no reply)
    }
    if (typeof reply !== "object" || reply === null) return;
    if (reply.t === "ready" && this.#waitingReady) {
      this.#waitingReady = false;
      if (!this.#listener) this.#child.unref();
      this.#onReady(reply);
      return;
    }
    const listener = this.#listener;
    if (!listener) return;
    if (reply.t === "end") {
      this.#listener = undefined;
      this.#child.unref();
    }
    listener(reply);
  }

  /** Ends the process at once (SIGKILL). Safe to call more than once. */
  kill(): void {
    this.#listener = undefined;
    if (this.gone) return;
    this.#killed = true;
    // Whoever waits for `exited` now keeps the event loop alive until the process is gone.
    this.#child.ref();
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** The last 8 KB of a stream, read to its end. */
async function _tail(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  try {
    for await (const chunk of stream) {
      text = (text + decoder.decode(chunk, { stream: true })).slice(-8192);
    }
  } catch {
    // What was read is kept.
  }
  return text;
}
