/**
 * The broker: code that runs in the main isolate of a sandbox child process.
 *
 * It is serialised with `Function.prototype.toString` and started as the child's `data:` main
 * module, so it must not refer to anything outside its own body. It holds the secret token,
 * starts the program's Worker with `permissions: "none"`, relays messages between the Worker
 * (structured clone) and the host (framed stdin/stdout), and re-serialises everything the
 * Worker sends with its own, untouched `JSON.stringify` so the program cannot shape a frame.
 *
 * @module
 */

/** Runs inside the child; `workerUrl` is the program Worker's `data:` module. */
export function _childRuntime(workerUrl: string): void {
  const MAGIC = new Uint8Array([0x00, 0x43, 0x4d, 0x01]);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const stdout = Deno.stdout;
  let token: Uint8Array | null = null;
  let queue: Uint8Array[] = [];
  let writing = false;
  let ended = false;
  let worker: Worker | null = null;

  function frame(body: string): Uint8Array {
    const bytes = encoder.encode(body);
    const out = new Uint8Array(24 + bytes.length);
    out.set(MAGIC, 0);
    out.set(token!, 4);
    new DataView(out.buffer).setUint32(20, bytes.length);
    out.set(bytes, 24);
    return out;
  }

  async function flush(): Promise<void> {
    writing = true;
    try {
      while (queue.length > 0) {
        const chunks = queue;
        queue = [];
        let size = 0;
        for (const c of chunks) size += c.length;
        const all = new Uint8Array(size);
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.length;
        }
        let written = 0;
        while (written < all.length) written += await stdout.write(all.subarray(written));
      }
    } catch {
      Deno.exit(3);
    } finally {
      writing = false;
    }
  }

  function send(message: unknown): void {
    if (token === null) return;
    queue.push(frame(JSON.stringify(message)));
    if (!writing) flush();
  }

  // Whitelists what the Worker may say; the Worker runs the program and is not trusted.
  function fromWorker(data: unknown): void {
    if (ended || typeof data !== "object" || data === null) return;
    const m = data as Record<string, unknown>;
    switch (m.t) {
      case "ready":
        send({ t: "ready" });
        return;
      case "out":
        send({ t: "out", s: String(m.s) });
        return;
      case "call":
        send({ t: "call", id: Number(m.id), tool: String(m.tool), a: String(m.a) });
        return;

      case "end": {
        ended = true;
        const e = m.error as Record<string, unknown> | undefined;
        send({
          t: "end",
          ok: m.ok === true,
          cut: Number(m.cut) || 0,
          error: e === undefined ? undefined : {
            name: String(e.name ?? "Error"),
            message: String(e.message ?? "").slice(0, 16_384),
            stack: e.stack === undefined ? undefined : String(e.stack).slice(0, 16_384),
            tool: e.tool === undefined ? undefined : String(e.tool),
            kind: e.kind === undefined ? undefined : String(e.kind),
          },
        });
        return;
      }
    }
  }

  function workerDied(message: string): void {
    if (ended) return;
    ended = true;
    send({ t: "end", ok: false, cut: 0, error: { name: "Error", message } });
  }

  function startWorker(): void {
    worker = new Worker(workerUrl, {
      type: "module",
      name: "codemode-program",
      // deno-lint-ignore no-explicit-any -- `deno` worker options are typed only under --unstable
      deno: { permissions: "none" } as any,
    } as WorkerOptions);
    worker.addEventListener("message", (e) => fromWorker((e as MessageEvent).data));
    worker.addEventListener(
      "messageerror",
      () => workerDied("a message from the program could not be read"),
    );
    worker.addEventListener("error", (e) => {
      e.preventDefault();
      const ev = e as ErrorEvent;
      workerDied(ev.message || "the program's sandbox stopped with an error");
    });
  }

  // Results that arrive together reach the Worker in one message.
  let results: unknown[] = [];
  function flushResults(): void {
    if (results.length === 0) return;
    worker?.postMessage(results.length === 1 ? results[0] : { t: "resv", r: results });
    results = [];
  }
  function fromHost(body: string): void {
    const m = JSON.parse(body) as { t: string; token?: number[] };
    if (m.t === "res") {
      results.push(m);
      return;
    }
    flushResults();
    if (m.t === "init") {
      token = new Uint8Array(m.token!);
      startWorker();
      return;
    }
    worker?.postMessage(m);
  }

  (async () => {
    // Chunks are joined only once a whole frame is there, so a large frame costs one copy.
    let chunks: Uint8Array[] = [];
    let total = 0;
    let need = 4;
    for await (const chunk of Deno.stdin.readable) {
      chunks.push(chunk);
      total += chunk.length;
      if (total < need) continue;
      const buffer = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        buffer.set(c, at);
        at += c.length;
      }
      let offset = 0;
      need = 4;
      while (buffer.length - offset >= 4) {
        const size = new DataView(buffer.buffer, offset).getUint32(0);
        if (buffer.length - offset < 4 + size) {
          need = 4 + size;
          break;
        }
        fromHost(decoder.decode(buffer.subarray(offset + 4, offset + 4 + size)));
        offset += 4 + size;
      }
      flushResults();
      chunks = offset < buffer.length ? [buffer.subarray(offset)] : [];
      total = buffer.length - offset;
    }
    // The host went away: nothing may outlive it.
    Deno.exit(0);
  })();
}
