/**
 * Turning what the sandbox reports into a {@linkcode RunError} a model can act on.
 *
 * @module
 */

import type { _WireError } from "../sandbox/protocol.ts";
import type { RunError, RunErrorKind } from "../types.ts";

/**
 * Characters a terminal acts on or that reorder the text around them: C0 controls but tab and
 * newline (carriage return included), DEL, C1 controls (U+0080–U+009F, among them the 8-bit CSI
 * and OSC), and the bidi marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F,
 * U+202A–U+202E, U+2066–U+2069). One character class, so the whole replace is linear.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE_CHARS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Strips terminal escapes (7- and 8-bit), control characters and bidi controls, folds CRLF, and
 * caps the length. The text is cut before any pattern runs and every pattern is linear, so a
 * hostile message of any size costs the host next to nothing.
 */
export function _cleanText(text: string, max = 4000): string {
  const head = text.length > max * 2 ? text.slice(0, max * 2) : text;
  const dropped = text.length - head.length;
  const escapes =
    // deno-lint-ignore no-control-regex -- removing terminal escapes is the point
    /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g;
  const clean = head.replace(escapes, "").replace(/\r\n?/g, "\n").replace(UNSAFE_CHARS, "")
    .trim();
  const more = Math.max(0, clean.length - max) + dropped;
  return more > 0 ? `${clean.slice(0, max)}… (${more} more characters)` : clean;
}

/**
 * Makes text safe to show on a terminal while keeping all of it: every character
 * {@linkcode _cleanText} would remove is shown as a visible escape instead (`\x1b`, `\x9b`,
 * `\u202e`), and newlines and tabs are kept. Linear; for program output, which scripts may pipe,
 * use it only when the stream is a terminal.
 */
export function _escapeForTerminal(text: string): string {
  return text.replace(UNSAFE_CHARS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

const MEMORY_MESSAGE =
  /Array buffer allocation failed|WebAssembly\.Memory|Out of memory|allocation failed|Invalid typed array length: \d{9,}/i;

/** Maps `<program>:line:col` in a stack to the program's own coordinates. */
export function _programPosition(
  stack: string | undefined,
  mapPosition: (line: number, column: number) => { line: number; column: number } | undefined,
): { line: number; column: number } | undefined {
  if (!stack) return undefined;
  const m = /<program>:(\d+):(\d+)/.exec(stack);
  if (!m) return undefined;
  return mapPosition(Number(m[1]), Number(m[2]));
}

/** Classifies an error the program ended with. */
export function _errorFromWire(
  e: _WireError,
  mapPosition: (line: number, column: number) => { line: number; column: number } | undefined,
  toolNames: readonly string[],
): RunError {
  const position = _programPosition(e.stack, mapPosition);
  const message = _cleanText(e.message);
  // The program sets `name` too: it reaches a terminal, so it is cleaned like the message.
  e = { ...e, name: _cleanText(e.name, 200).replace(/\s+/g, " ") };
  let kind: RunErrorKind = "runtime";
  let text = `${e.name}: ${message}`;
  if (e.kind === "tool") {
    kind = "tool";
    text = `${message} (uncaught: wrap the call in try/catch to recover)`;
  } else if (e.kind === "import") {
    kind = "import";
    text = message;
  } else if (e.kind === "limit") {
    kind = "limit";
    text = message;
  } else if (MEMORY_MESSAGE.test(message)) {
    kind = "memory";
    text = `${e.name}: ${message}: the program ran out of memory; process data in smaller pieces`;
  } else if (e.name === "NotCapable" || /Requires \w+ access/.test(message)) {
    const what = /Requires (\w+) access(?: to "?([^",]*)"?)?/.exec(message);
    const tools = toolNames.length ? ` (${toolNames.slice(0, 12).join(", ")})` : "";
    text = `${e.name}: the program tried to use ${what?.[1] ?? "a system"} access${
      what?.[2] ? ` to ${what[2]}` : ""
    }, which codemode programs do not have: there are no files, network, environment or processes in the sandbox. Use the tools instead${tools}.`;
  } else if (e.name === "EvalError") {
    text =
      `${e.name}: eval() and new Function() are not available in codemode programs; write the code directly`;
  }
  const out: RunError = { kind, message: text };
  if (position) {
    out.line = position.line;
    out.column = position.column;
  }
  if (kind === "tool" && e.tool) out.tool = _cleanText(e.tool, 200).replace(/\s+/g, " ");
  return out;
}

/** Formats a run error for a person or a model: `kind error at line:col: message`. */
export function formatRunError(error: RunError): string {
  const at = error.line !== undefined ? ` at line ${error.line}, column ${error.column ?? 1}` : "";
  return `${error.kind} error${at}: ${error.message}`;
}
