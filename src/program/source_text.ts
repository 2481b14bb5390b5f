/**
 * The program text as the LLM sent it: UTF-8 decoding, the size cap, Markdown fences and the
 * empty program. Everything here keeps whole lines, so a line of the prepared code is a line of
 * the text as sent, shifted by a fixed offset, and columns are unchanged.
 *
 * @module
 */

/**
 * Decodes a program's bytes as UTF-8, refusing invalid bytes instead of replacing them (the CLI
 * reads files and stdin through this). A leading byte-order mark is dropped.
 *
 * @param bytes The raw program.
 * @returns The program text.
 * @throws {TypeError} When `bytes` is not valid UTF-8; the message gives the byte offset and line.
 *
 * @example Decode a file for `codemode check`
 * ```ts
 * import { decodeProgram } from "./source_text.ts";
 * const text = decodeProgram(new TextEncoder().encode('print("hi")'));
 * console.log(text); // print("hi")
 * ```
 */
export function decodeProgram(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const at = _firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    throw new TypeError(
      `The program is not valid UTF-8 text (invalid byte 0x${
        (bytes[at] ?? 0).toString(16).padStart(2, "0")
      } at byte ${at}, line ${line}): save it as UTF-8 and send it again`,
    );
  }
}

/** Offset of the first byte that breaks UTF-8 (`bytes.length` when the text is truncated). */
function _firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const [need, min] = b < 0x80
      ? [0, 0]
      : b >= 0xc2 && b <= 0xdf
      ? [1, 0x80]
      : b >= 0xe0 && b <= 0xef
      ? [2, 0x800]
      : b >= 0xf0 && b <= 0xf4
      ? [3, 0x10000]
      : [-1, 0];
    if (need < 0) return i;
    let cp = need === 0 ? b : b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return i;
}

/**
 * Start offsets of every line, with the line terminators TypeScript and V8 use
 * (`\n`, `\r\n`, `\r`, U+2028, U+2029).
 */
export function _lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d) {
      if (text.charCodeAt(i + 1) === 0x0a) i++;
      starts.push(i + 1);
    } else if (c === 0x0a || c === 0x2028 || c === 0x2029) {
      starts.push(i + 1);
    }
  }
  return starts;
}

/** UTF-8 length of `text` in bytes. */
export function _utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** The code to compile, and where its first line sits in the text as sent. */
export interface _PreparedSource {
  /** The program proper: whole lines of the text as sent. */
  code: string;
  /** Lines of the text as sent before `code` (0 unless a fence was removed). */
  lineOffset: number;
}

/** Why the text cannot be compiled at all. */
export interface _SourceProblem {
  /** What is wrong and what to send instead. */
  message: string;
  /** 1-based line in the text as sent. */
  line: number;
}

/** Info strings of a fence that holds the program. */
const CODE_FENCE_INFO = new Set([
  "",
  "ts",
  "typescript",
  "js",
  "javascript",
  "mts",
  "mjs",
  "tsx",
  "jsx",
]);

interface _Fence {
  /** Line of the opening fence (0-based). */
  open: number;
  /** Line of the closing fence, or the line count when the block is not closed. */
  close: number;
  /** The info string, lower-cased (`ts`, `typescript`, ...). */
  info: string;
}

/** A fence line: its marker (three or more backticks or tildes) and what follows it. */
interface _FenceLine {
  /** The marker character: a backtick or a tilde. */
  char: string;
  /** How many marker characters open or close the fence. */
  length: number;
  /** The rest of the line after the marker. */
  rest: string;
}

/**
 * Reads a line that could open or close a fence: at most three spaces or tabs, then three or
 * more backticks or tildes. One pass over the line, no regular expression (a backtracking
 * pattern here was quadratic on a long line that starts like a fence).
 */
function _fenceLine(line: string): _FenceLine | undefined {
  let i = 0;
  while (i < 3 && (line[i] === " " || line[i] === "\t")) i++;
  const char = line[i];
  if (char !== "`" && char !== "~") return undefined;
  const start = i;
  while (line[i] === char) i++;
  if (i - start < 3) return undefined;
  return { char, length: i - start, rest: line.slice(i) };
}

/** Whether `text` is only spaces and tabs. */
function _blank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== " " && text[i] !== "\t") return false;
  }
  return true;
}

/** The info string of an opening fence (its first word), or undefined when `line` opens none. */
function _openFence(fence: _FenceLine): string | undefined {
  // No backtick may follow the marker (so an inline ``` `code` ``` span is not a fence).
  if (fence.rest.includes("`")) return undefined;
  let i = 0;
  while (fence.rest[i] === " " || fence.rest[i] === "\t") i++;
  let end = i;
  while (end < fence.rest.length && !/\s/.test(fence.rest[end])) end++;
  return fence.rest.slice(i, end);
}

/** Finds the Markdown fenced blocks that hold code (by their info string), in one pass. */
function _codeFences(lines: string[]): _Fence[] {
  const fences: _Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const opening = _fenceLine(lines[i]);
    const info = opening && _openFence(opening);
    if (opening === undefined || info === undefined) continue;
    let close = lines.length;
    for (let j = i + 1; j < lines.length; j++) {
      const closing = _fenceLine(lines[j]);
      if (
        closing && closing.char === opening.char && closing.length >= opening.length &&
        _blank(closing.rest)
      ) {
        close = j;
        break;
      }
    }
    const lower = info.toLowerCase();
    if (CODE_FENCE_INFO.has(lower)) fences.push({ open: i, close, info: lower });
    i = close;
  }
  return fences;
}

/**
 * Prepares the text as sent for compiling: drops a byte-order mark and unwraps a Markdown
 * fenced block. A text whose first non-blank line opens a fence is unwrapped; a text with prose
 * around a single fenced block is unwrapped only when `parsesAsIs` says the whole text is not a
 * valid program (so a program that prints Markdown is left alone).
 */
export function _prepareSource(
  source: string,
  parsesAsIs: (text: string) => boolean,
): _PreparedSource | _SourceProblem {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  if (!text.includes("```") && !text.includes("~~~")) return _nonEmpty(text, 0);
  const starts = _lineStarts(text);
  const lines = starts.map((s, i) => _withoutTerminator(text.slice(s, starts[i + 1])));
  const fences = _codeFences(lines);
  if (fences.length === 0) return _nonEmpty(text, 0);
  const firstLine = lines.findIndex((l) => l.trim() !== "");
  const startsFenced = fences[0].open === firstLine;
  if (!startsFenced && parsesAsIs(text)) return _nonEmpty(text, 0);
  if (fences.length > 1) {
    return {
      message: `The message holds ${fences.length} fenced code blocks (lines ${
        fences.map((f) => f.open + 1).join(", ")
      }): send one program, as plain code or as a single \`\`\`ts block`,
      line: fences[1].open + 1,
    };
  }
  const { open, close } = fences[0];
  const from = open + 1 < starts.length ? starts[open + 1] : text.length;
  const to = close < starts.length ? starts[close] : text.length;
  return _nonEmpty(text.slice(from, to), open + 1);
}

/** A line without its line terminator (`\n`, `\r\n`, `\r`, U+2028, U+2029). */
function _withoutTerminator(line: string): string {
  let end = line.length;
  while (end > 0 && "\r\n\u2028\u2029".includes(line[end - 1])) end--;
  return line.slice(0, end);
}

function _nonEmpty(code: string, lineOffset: number): _PreparedSource | _SourceProblem {
  if (code.trim() === "") {
    return {
      message:
        "The program is empty: send TypeScript statements that call the tools and print what you need",
      line: lineOffset + 1,
    };
  }
  return { code, lineOffset };
}
