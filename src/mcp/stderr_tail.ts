/**
 * Keeping the last few kilobytes of a server's stderr for error messages.
 *
 * @module
 */

/**
 * A bounded buffer of the end of a text stream.
 *
 * @example Keep the tail of a stream
 * ```ts
 * import { _StderrTail } from "./stderr_tail.ts";
 * const tail = new _StderrTail(8);
 * tail.push(new TextEncoder().encode("0123456789"));
 * tail.text(); // "23456789"
 * ```
 */
export class _StderrTail {
  #max: number;
  #text = "";
  #decoder = new TextDecoder();

  /** @param max Characters kept. */
  constructor(max = 4096) {
    this.#max = max;
  }

  /** Appends a chunk (bytes or text). */
  push(chunk: Uint8Array | string): void {
    this.#text += typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (this.#text.length > this.#max) this.#text = this.#text.slice(-this.#max);
  }

  /** Forgets what was kept (a restarted server starts a new tail). */
  clear(): void {
    this.#text = "";
  }

  /** The kept text, trimmed. */
  text(): string {
    return this.#text.trim();
  }

  /** `"; its stderr ends with: …"` for an error message, or `""` when there was none. */
  suffix(): string {
    const t = this.text();
    return t ? `; its stderr ends with:\n${t}` : "";
  }
}
