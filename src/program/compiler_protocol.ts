/**
 * The messages between the host and a compiler process (`compiler_child.ts`): one JSON object
 * per line on the child's stdin and stdout. The host asks for one compile at a time per process;
 * the child answers with at most one `program` and exactly one `end` per request, and says which
 * stage it has reached when a slow one starts, so a deadline can name it.
 *
 * @module
 */

import type { _StubImport, CheckMode } from "./program_shapes.ts";
import type { Diagnostic } from "../types.ts";

/**
 * A stage of the front end, as named in a timeout: waiting for a compiler process, starting one,
 * Markdown fences plus the TypeScript transpile, the import policy, the type check.
 */
export type _CompileStage = "queue" | "start" | "transpile" | "imports" | "check";

/** A compile request. `declarations` and `toolNames` are sent only when they change. */
export interface _CompileRequest {
  t: "compile";
  /** The request's number (unique per process). */
  id: number;
  /** The program as the LLM sent it. */
  source: string;
  /** The check mode (`warm` compiles a trivial program with the check on, for its side effects). */
  check: CheckMode;
  /** The tool declarations from now on, when they changed. */
  declarations?: string;
  /** The tool names from now on, when they changed. */
  toolNames?: string[];
  /** Also load the import policy's parser (a warm-up request). */
  warm?: boolean;
}

/** What the host sends. */
export type _HostRequest = _CompileRequest;

/** The child loaded TypeScript and waits for requests. */
export interface _ReadyReply {
  t: "ready";
  /** Directory of TypeScript's own `lib.*.d.ts` files, as the child's TypeScript sees it. */
  libDir: string;
}

/** The child has reached a stage that can take long. */
export interface _StageReply {
  t: "at";
  id: number;
  stage: _CompileStage;
}

/** The compiled program; the type check follows when `check` was not `"off"`. */
export interface _ProgramReply {
  t: "program";
  id: number;
  /** The emitted ES module. */
  js: string;
  /** Offsets of the surviving static imports' string literals in `js`, and the stub each names. */
  imports: _StubImport[];
  /** The source map's `mappings` (decoded on the host only when a position is needed). */
  mappings: string;
  /** Lines of the text as sent before the compiled code (a removed fence). */
  lineOffset: number;
}

/** How a request ended: a failure of `kind`, or (without `kind`) a pass with warnings. */
export interface _EndReply {
  t: "end";
  id: number;
  /** Set when the program is refused: the first diagnostic (if any) is the error. */
  kind?: "syntax" | "type" | "import" | "limit";
  /** A message for a failure that has no position (`limit`). */
  message?: string;
  /** Findings in the text as sent (1-based lines and columns). */
  diagnostics: Diagnostic[];
  /** The child's V8 heap in use after the request, in bytes (sampled: not on every reply). */
  heap?: number;
  /** The child's state may be damaged (the compiler threw): replace the process. */
  recycle?: boolean;
}

/** What the child sends. */
export type _ChildReply = _ReadyReply | _StageReply | _ProgramReply | _EndReply;

/** Encodes one message as a line of JSON. */
export function _encodeLine(message: _HostRequest | _ChildReply): Uint8Array {
  return _encoder.encode(JSON.stringify(message) + "\n");
}

const _encoder = new TextEncoder();

/**
 * Splits a byte stream into lines (the last one incomplete until its newline arrives). Linear:
 * each byte is looked at once, however the stream is cut into chunks.
 */
export class _LineReader {
  #chunks: Uint8Array[] = [];
  #decoder = new TextDecoder();

  /** Feeds a chunk; calls `onLine` with every complete line in it. */
  push(chunk: Uint8Array, onLine: (line: string) => void): void {
    let from = 0;
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, from)) {
      const part = chunk.subarray(from, at);
      from = at + 1;
      if (this.#chunks.length === 0) {
        onLine(this.#decoder.decode(part));
        continue;
      }
      this.#chunks.push(part);
      let size = 0;
      for (const c of this.#chunks) size += c.length;
      const whole = new Uint8Array(size);
      let offset = 0;
      for (const c of this.#chunks) {
        whole.set(c, offset);
        offset += c.length;
      }
      this.#chunks = [];
      onLine(this.#decoder.decode(whole));
    }
    if (from < chunk.length) this.#chunks.push(chunk.slice(from));
  }

  /** Bytes held for a line not yet ended. */
  get pending(): number {
    let size = 0;
    for (const c of this.#chunks) size += c.length;
    return size;
  }
}
