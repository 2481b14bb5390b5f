/**
 * The server side of MCP over stdio (newline-delimited JSON-RPC), answering malformed input the
 * way the Streamable HTTP transport answers a malformed POST body: a JSON-RPC batch (an array) is
 * dispatched message by message, a line that is not JSON gets -32700, an oversized line -32600.
 * (The SDK's stdio transport drops arrays and bad lines without a word.)
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  ErrorCode,
  isInitializeRequest,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type MessageExtraInfo,
} from "@modelcontextprotocol/sdk/types.js";

/** The most messages one batch may hold (the SDK's HTTP transport's `MAX_BATCH_SIZE`). */
const MAX_BATCH_SIZE = 100;
/** The longest line read, in characters (as the SDK HTTP transport caps a body at 4 MiB). */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** The messages of one line, or the error to answer it with. */
export type _LineVerdict =
  | { messages: JSONRPCMessage[] }
  | { error: { code: number; message: string } };

/**
 * Reads one line of input as HTTP reads a POST body: JSON, one message or a batch of at most
 * 100, every element a JSON-RPC message, an `initialize` only on its own.
 *
 * @example A batch of two pings
 * ```ts
 * import { _parseLine } from "./stdio_transport.ts";
 * _parseLine('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]');
 * // { messages: [ …two requests… ] }
 * ```
 */
export function _parseLine(line: string): _LineVerdict {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { error: { code: ErrorCode.ParseError, message: "Parse error: Invalid JSON" } };
  }
  const batch = Array.isArray(raw);
  const items: unknown[] = batch ? raw as unknown[] : [raw];
  if (batch && items.length === 0) {
    return { error: { code: ErrorCode.InvalidRequest, message: "Invalid Request: empty batch" } };
  }
  if (items.length > MAX_BATCH_SIZE) {
    return {
      error: {
        code: ErrorCode.InvalidRequest,
        message: `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`,
      },
    };
  }
  const messages: JSONRPCMessage[] = [];
  for (const item of items) {
    const parsed = JSONRPCMessageSchema.safeParse(item);
    if (!parsed.success) {
      return {
        error: { code: ErrorCode.ParseError, message: "Parse error: Invalid JSON-RPC message" },
      };
    }
    messages.push(parsed.data);
  }
  if (messages.length > 1 && messages.some(isInitializeRequest)) {
    return {
      error: {
        code: ErrorCode.InvalidRequest,
        message: "Invalid Request: Only one initialization request is allowed",
      },
    };
  }
  return { messages };
}

/**
 * MCP over this process's stdin and stdout (or the given streams).
 *
 * @example Serve over stdio
 * ```ts ignore
 * await server.connect(new _StdioServerTransport());
 * ```
 */
export class _StdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  #input: ReadableStream<Uint8Array>;
  #output: { write(bytes: Uint8Array): Promise<number> };
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  #writing: Promise<void> = Promise.resolve();
  #encoder = new TextEncoder();
  #closed = false;

  /**
   * @param input Where messages arrive (default: stdin).
   * @param output Where messages go (default: stdout).
   */
  constructor(
    input: ReadableStream<Uint8Array> = Deno.stdin.readable,
    output: { write(bytes: Uint8Array): Promise<number> } = Deno.stdout,
  ) {
    this.#input = input;
    this.#output = output;
  }

  start(): Promise<void> {
    if (this.#reader) throw new Error("the stdio transport is already started");
    this.#reader = this.#input.getReader();
    this.#read(this.#reader).catch((err) => this.onerror?.(err as Error)).finally(() =>
      this.close()
    );
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the stdio transport is closed"));
    const bytes = this.#encoder.encode(JSON.stringify(message) + "\n");
    const next = this.#writing.then(() => this.#writeAll(bytes));
    this.#writing = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reader?.cancel().catch(() => {});
    await this.#writing;
    this.onclose?.();
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.#output.write(bytes.subarray(offset));
  }

  /** Splits the input into lines, looking at each byte once (a line may come in many chunks). */
  async #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let parts: string[] = [];
    let size = 0;
    let skipping = false; // inside a line over the cap: drop it up to its newline
    while (!this.#closed) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        const piece = text.slice(start, nl);
        start = nl + 1;
        if (skipping) {
          skipping = false;
          continue;
        }
        parts.push(piece);
        const line = parts.join("");
        parts = [];
        size = 0;
        this.#line(line);
      }
      if (skipping || start === text.length) continue;
      parts.push(text.slice(start));
      size += text.length - start;
      if (size > MAX_LINE_CHARS) {
        skipping = true;
        parts = [];
        size = 0;
        this.#answerError({
          code: ErrorCode.InvalidRequest,
          message: `Invalid Request: a message must not exceed ${MAX_LINE_CHARS} characters`,
        });
      }
    }
  }

  #line(line: string): void {
    if (line.trim() === "") return;
    const verdict = _parseLine(line);
    if ("error" in verdict) {
      this.#answerError(verdict.error);
      return;
    }
    for (const message of verdict.messages) this.onmessage?.(message);
  }

  #answerError(error: { code: number; message: string }): void {
    this.send({ jsonrpc: "2.0", id: null, error } as unknown as JSONRPCMessage).catch(() => {});
  }
}
