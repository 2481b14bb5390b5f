/**
 * What a compile comes to: the compiled program, or the error and the findings, with every
 * message cleaned (it may echo the program's text) and written the same way — the first finding
 * and a count of the others, a timeout naming the stage that overran.
 *
 * @module
 */

import { _cleanText } from "../run/run_errors.ts";
import type { Diagnostic, RunError } from "../types.ts";
import type { _JobFailure } from "./compiler_pool.ts";
import type { _CompileStage, _EndReply, _ProgramReply } from "./compiler_protocol.ts";
import type { _StubImport } from "./program_shapes.ts";
import { _SourceMap } from "./source_map.ts";

/**
 * A stage of the front end, as a timeout names it: `queue` (every compiler process busy),
 * `start` (a compiler process starting), `transpile` (Markdown fences and the TypeScript
 * transpile), `imports` (the import policy), `check` (the type check).
 */
export type CompileStage = _CompileStage;

/**
 * A program ready for the sandbox.
 *
 * @example Splice stub module URLs into the imports
 * ```ts
 * import type { CompiledProgram } from "./compile.ts";
 * function link(program: CompiledProgram, url: (stub: string | null) => string): string {
 *   let js = program.js;
 *   for (const { start, end, stub } of [...program.imports].reverse()) {
 *     js = js.slice(0, start) + JSON.stringify(url(stub)) + js.slice(end);
 *   }
 *   return js;
 * }
 * ```
 */
export interface CompiledProgram {
  /**
   * ES module JavaScript (top-level await allowed). Its only static imports are
   * `codemode:tools` and `codemode:tools/<name>`; every dynamic `import(x)` has become
   * `__codemode_import__(x)`, which the sandbox defines.
   */
  js: string;
  /**
   * Every static import or export-from specifier in `js`: offsets of the string literal
   * including its quotes, and the stub it names (`null` for `codemode:tools`, else the name
   * after `codemode:tools/`). In ascending order.
   */
  imports: _StubImport[];
  /**
   * Maps a 1-based line and column of `js` to the 1-based line and column in the text as sent
   * (lines of the fenced text when it was fenced); undefined where `js` has no source (helpers
   * the compiler added).
   */
  mapPosition(line: number, column: number): { line: number; column: number } | undefined;
}

/**
 * The result of {@linkcode ProgramCompiler.compile}: a program, or why there is none.
 *
 * @example Report an outcome
 * ```ts
 * import type { CompileOutcome } from "./compile.ts";
 * const report = (o: CompileOutcome): string =>
 *   o.ok ? `ok, ${o.diagnostics.length} warnings` : `${o.error.kind} at ${o.error.line}: ${o.error.message}`;
 * ```
 */
export type CompileOutcome =
  | { ok: true; program: CompiledProgram; diagnostics: Diagnostic[] }
  | {
    ok: false;
    error: RunError;
    diagnostics: Diagnostic[];
    /** For a timeout: the stage that overran. */
    stage?: CompileStage;
  };

/** Findings listed in an error message besides the first. */
const MORE_IN_MESSAGE = 9;
/** Findings returned at most. */
const MAX_DIAGNOSTICS = 50;
/** Longest diagnostic message kept (the rest is cut with a note). */
const MAX_MESSAGE_CHARS = 2000;

/** How messages name each stage, and what to do when it overruns. */
const STAGES: Record<
  CompileStage,
  { what: string; during: string; late: string; stopped: string; advice: string }
> = {
  queue: {
    what: "waiting for a compiler process",
    during: "while it waited for a free compiler process",
    late: "no compiler process was free",
    stopped: "the program was not compiled",
    advice: "every compiler process was busy with other programs; send it again",
  },
  start: {
    what: "starting the compiler process",
    during: "while a compiler process started",
    late: "the compiler process did not start",
    stopped: "the program was not compiled",
    advice: "a cold start on a busy machine; send it again, or allow more time",
  },
  transpile: {
    what: "compiling (TypeScript transpile)",
    during: "while compiling (TypeScript transpile)",
    late: "compiling (TypeScript transpile) did not finish",
    stopped: "was stopped",
    advice: "split long expressions and big literals into smaller statements, and let the tools " +
      "fetch data instead of pasting it into the program",
  },
  imports: {
    what: "checking imports (the import policy)",
    during: "while checking imports (the import policy)",
    late: "checking imports (the import policy) did not finish",
    stopped: "was stopped",
    advice: "import less: the tools are globals, call them directly",
  },
  check: {
    what: "the type check",
    during: "during the type check",
    late: "the type check did not finish",
    stopped: "was stopped",
    advice: "simplify the types (fewer recursive, conditional or template-literal types), or run " +
      'with the check "off"',
  },
};

/**
 * Formats a diagnostic as one line: `line:column kind message`.
 *
 * @param diagnostic The finding.
 * @returns The line (no trailing newline).
 *
 * @example Print diagnostics like `codemode check`
 * ```ts
 * import { formatDiagnostic } from "./compile.ts";
 * formatDiagnostic({ kind: "type", message: "Cannot find name 'x'.", line: 3, column: 7 });
 * // "3:7 type Cannot find name 'x'."
 * ```
 */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  return `${diagnostic.line}:${diagnostic.column} ${diagnostic.kind} ${
    _oneLine(diagnostic.message)
  }`;
}

/** Joins the lines of `text` with single spaces (a line break and the blanks around it). Linear. */
function _oneLine(text: string): string {
  if (!text.includes("\n")) return text;
  const parts: string[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed !== "") parts.push(trimmed);
  }
  const lead = /^\s/.test(text) ? " " : "", trail = /\s$/.test(text) ? " " : "";
  return lead + parts.join(" ") + trail;
}

export function _failure(kind: RunError["kind"], diagnostics: Diagnostic[]): CompileOutcome {
  const [first, ...rest] = diagnostics;
  let message = first.message;
  if (rest.length > 0) {
    message += `\n(${rest.length} more: ${
      rest.slice(0, MORE_IN_MESSAGE).map(formatDiagnostic).join("; ")
    }${rest.length > MORE_IN_MESSAGE ? "; ..." : ""})`;
  }
  return {
    ok: false,
    error: { kind, message, line: first.line, column: first.column },
    diagnostics: diagnostics.slice(0, MAX_DIAGNOSTICS),
  };
}

/** The outcome of a compile's end: the child's diagnostics, cleaned, as a failure or a pass. */
export function _outcome(reply: _EndReply, program: CompiledProgram | undefined): CompileOutcome {
  // The child is codemode's own code, but what it sends is read as data: shapes are checked.
  const found = Array.isArray(reply.diagnostics) ? reply.diagnostics : [];
  const diagnostics: Diagnostic[] = found.slice(0, MAX_DIAGNOSTICS + MORE_IN_MESSAGE).map((d) => ({
    kind: d?.kind === "type" || d?.kind === "import" ? d.kind : "syntax",
    message: _cleanText(String(d?.message), MAX_MESSAGE_CHARS),
    line: _position(d?.line),
    column: _position(d?.column),
  }));
  if (reply.kind === undefined && program) {
    return { ok: true, program, diagnostics: diagnostics.slice(0, MAX_DIAGNOSTICS) };
  }
  const kind = reply.kind === "syntax" || reply.kind === "type" || reply.kind === "import" ||
      reply.kind === "limit"
    ? reply.kind
    : "runtime";
  if (reply.kind === undefined || diagnostics.length === 0) {
    const message = typeof reply.message === "string"
      ? reply.message
      : "the compiler gave no verdict on this program; send it again";
    return {
      ok: false,
      error: { kind, message: _cleanText(message, MAX_MESSAGE_CHARS) },
      diagnostics,
    };
  }
  return _failure(kind, diagnostics);
}

/** A 1-based line or column from the child (1 when it is not a positive integer). */
function _position(value: unknown): number {
  return Number.isSafeInteger(value) && (value as number) > 0 ? value as number : 1;
}

/** The program the sandbox runs, from the child's reply; the source map is decoded on demand. */
export function _program(reply: _ProgramReply): CompiledProgram {
  let map: _SourceMap | undefined;
  const lineOffset = Number.isSafeInteger(reply.lineOffset) ? reply.lineOffset : 0;
  const mappings = typeof reply.mappings === "string" ? reply.mappings : "";
  return {
    js: String(reply.js),
    imports: Array.isArray(reply.imports) ? reply.imports : [],
    mapPosition(line: number, column: number) {
      try {
        map ??= _SourceMap.decode(mappings);
      } catch {
        return undefined; // not a source map TypeScript wrote: no position rather than a throw
      }
      const found = map.toSource(line - 1, column - 1);
      return found && { line: found.line + 1 + lineOffset, column: found.column + 1 };
    },
  };
}

/**
 * The error of a front-end stage that did not finish in time: names the stage and says what to
 * do (a run's session uses it too, when its deadline passes during the type check).
 */
export function _stageTimeout(stage: CompileStage, timeoutMs?: number): RunError {
  const { late, stopped, advice } = STAGES[stage];
  const within = timeoutMs === undefined ? "before the deadline" : `within ${timeoutMs} ms`;
  const and = stopped === "was stopped" ? " and was stopped" : `, so ${stopped}`;
  return { kind: "timeout", message: `${late} ${within}${and}: ${advice}` };
}

/** The outcome when the deadline or the caller stopped a compile at `stage`. */
export function _stopped(
  stage: CompileStage,
  reason: unknown,
  timeoutMs: number | undefined,
): CompileOutcome {
  const timedOut = reason === undefined ||
    (reason instanceof DOMException && reason.name === "TimeoutError");
  const error: RunError = timedOut ? _stageTimeout(stage, timeoutMs) : {
    kind: "timeout",
    message: `the run was cancelled ${STAGES[stage].during}: ${_cleanText(String(reason), 500)}`,
  };
  return { ok: false, error, diagnostics: [], stage };
}

/** The outcome when a compile's process died or none could be started. */
export function _lost(failure: _JobFailure, stage: CompileStage, memoryMb: number): CompileOutcome {
  const { what, during } = STAGES[stage];
  const detail = _cleanText(failure.detail, 500);
  const error: RunError = failure.reason === "memory"
    ? {
      kind: "limit",
      message: `The program is too complex to compile: ${what} needed more than the compiler's ` +
        `${memoryMb} MB of memory and was stopped; simplify its types or split it into smaller ` +
        "programs",
    }
    : failure.reason === "closed"
    ? {
      kind: "runtime",
      message: `the compiler was closed ${during} (its CodeMode is closing): nothing ran`,
    }
    : failure.reason === "crashed"
    ? {
      kind: "runtime",
      message: `the compiler process ended unexpectedly ${during} (${detail}); send the ` +
        "program again",
    }
    : {
      kind: "runtime",
      message: `could not compile the program: ${detail}; check that "deno" runs on this machine`,
    };
  return { ok: false, error, diagnostics: [], stage };
}
