/**
 * The program front end: from the text an LLM sent to a JavaScript module the sandbox can run.
 * Markdown fences are unwrapped, the TypeScript compiler drops unused and type-only imports, the
 * import policy refuses anything but the tool stub modules, and the program is type-checked
 * against the tool declarations — all before any tool runs. Every position reported (syntax,
 * import, type, and through {@linkcode CompiledProgram.mapPosition} runtime) is a line and
 * column of the text as sent.
 *
 * @module
 */

import type { Diagnostic, RunError } from "../types.ts";
import { _checkImports, _loadGraph } from "./import_policy.ts";
import { _prepareSource, _utf8Length } from "./source_text.ts";
import { STUB_SPECIFIER } from "./stub_modules.ts";
import { _flattenMessage, _TypeCheckService } from "./type_check.ts";
import { _importOffsets, _transpile, type _Transpiled } from "./transpile.ts";

export { decodeProgram } from "./source_text.ts";
export { type StubModule, stubModules } from "./stub_modules.ts";

/**
 * How to compile a program.
 *
 * @example Check against a tool declaration
 * ```ts
 * import type { CompileOptions } from "./compile.ts";
 * const options: CompileOptions = {
 *   declarations: "declare function read_file(input: { path: string }): Promise<string>;",
 *   toolNames: ["read_file"],
 * };
 * ```
 */
export interface CompileOptions {
  /**
   * Global-script d.ts declaring the tools and helpers (`print`, `gatherLimited`,
   * `searchTools`): the declarations the LLM is shown.
   * @default {""}
   */
  declarations?: string;
  /**
   * Program names of the tools: `read_file`, `memory.create_entities` (namespace.tool). Decides
   * which stub modules exist and what "did you mean" suggests.
   * @default {[]}
   */
  toolNames?: readonly string[];
  /**
   * `"error"` refuses a program with type errors, `"warn"` returns them as diagnostics of a
   * compiled program, `"off"` skips the type check (syntax and imports are always checked).
   * @default {"error"}
   */
  check?: "error" | "warn" | "off";
  /**
   * Largest source accepted, in UTF-8 bytes; a larger one is refused before compiling.
   * @default {1000000}
   */
  maxProgramBytes?: number;
}

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
  imports: { start: number; end: number; stub: string | null }[];
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
  | { ok: false; error: RunError; diagnostics: Diagnostic[] };

/**
 * A program that passed every stage but the type check, which `check()` runs (synchronously)
 * when the caller is ready: a run starts the sandbox first and checks while it starts.
 */
export interface StagedProgram {
  ok: true;
  program: CompiledProgram;
  /** Runs the type check and gives the final outcome, as `compile` would have. */
  check(): CompileOutcome;
}

/** Findings listed in an error message besides the first. */
const MORE_IN_MESSAGE = 9;
/** Findings returned at most. */
const MAX_DIAGNOSTICS = 50;

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
    diagnostic.message.replace(/\s*\n\s*/g, " ")
  }`;
}

function _failure(kind: RunError["kind"], diagnostics: Diagnostic[]): CompileOutcome {
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

/** A closing or self-closing JSX tag on a line. */
const JSX_TAG = /<\/[A-Za-z][\w.-]*>|<[A-Za-z][\w.-]*(\s[^<>]*)?\/>/;
/** Is there anything in `js` that could be a static import or export-from? */
const MAYBE_STATIC_IMPORT = /\bimport\s*["'{*\w]|\bfrom\s*["']/;

/**
 * Compiles programs: keeps the TypeScript checker warm across calls (one compiler per tool set
 * is best; a changed `declarations` text is swapped in, reusing the parsed library).
 *
 * `compile` is async because the import policy's `@deno/graph` loads its wasm on first use;
 * after that a call does no asynchronous work.
 *
 * @example Compile and run-check a program
 * ```ts
 * import { ProgramCompiler } from "./compile.ts";
 * using compiler = new ProgramCompiler();
 * const outcome = await compiler.compile('import fs from "node:fs";\nprint(1 + 1);', {
 *   declarations: "declare function print(...values: unknown[]): void;",
 * });
 * if (outcome.ok) console.log(outcome.program.js); // print(1 + 1); — the unused import is gone
 * ```
 */
export class ProgramCompiler {
  #checker = new _TypeCheckService();

  /**
   * Compiles one program: fences, size, syntax, import policy and (unless `check` is `"off"`)
   * types. Bad programs give `{ ok: false, error }`, never an exception.
   *
   * @param source The program as the LLM sent it.
   * @param options Declarations, tool names, check mode and size cap.
   * @returns The compiled program, or the first error plus every diagnostic.
   * @throws {TypeError} When `source` is not a string or `check` is not a known mode.
   * @throws {RangeError} When `maxProgramBytes` is not a positive integer.
   */
  async compile(source: string, options: CompileOptions = {}): Promise<CompileOutcome> {
    const staged = await this.stage(source, options);
    return "check" in staged ? staged.check() : staged;
  }

  /**
   * `compile` with the type check left for later: every other stage runs now, and when `check`
   * is on, a passing program comes back with a `check()` that runs the type check and gives the
   * final outcome. With `check: "off"` (or a failure before the check) the outcome is final.
   *
   * @param source The program as the LLM sent it.
   * @param options Declarations, tool names, check mode and size cap.
   * @returns The final outcome, or the program with its pending type check.
   * @throws {TypeError} When `source` is not a string or `check` is not a known mode.
   * @throws {RangeError} When `maxProgramBytes` is not a positive integer.
   */
  async stage(
    source: string,
    options: CompileOptions = {},
  ): Promise<CompileOutcome | StagedProgram> {
    const {
      declarations = "",
      toolNames = [],
      check = "error",
      maxProgramBytes = 1_000_000,
    } = options;
    if (typeof source !== "string") {
      throw new TypeError(`The program source must be a string, got ${typeof source}`);
    }
    if (check !== "error" && check !== "warn" && check !== "off") {
      throw new TypeError(`check must be "error", "warn" or "off", got ${JSON.stringify(check)}`);
    }
    if (!Number.isInteger(maxProgramBytes) || maxProgramBytes <= 0) {
      throw new RangeError(`maxProgramBytes must be a positive integer, got ${maxProgramBytes}`);
    }
    if (source.length * 3 > maxProgramBytes) {
      const bytes = _utf8Length(source);
      if (bytes > maxProgramBytes) {
        return {
          ok: false,
          error: {
            kind: "limit",
            message: `The program is ${bytes} bytes, over the ${maxProgramBytes}-byte limit: ` +
              "send a shorter program (let the tools fetch data instead of pasting it in)",
          },
          diagnostics: [],
        };
      }
    }
    let transpiled: _Transpiled;
    let lineOffset: number;
    try {
      const prepared = _prepareSource(source, (text) => _transpile(text).syntaxErrors.length === 0);
      if ("message" in prepared) {
        return _failure("syntax", [{ ...prepared, kind: "syntax", column: 1 }]);
      }
      lineOffset = prepared.lineOffset;
      transpiled = _transpile(prepared.code);
    } catch (error) {
      return _compilerFailure(error);
    }
    const { sourceFile } = transpiled;
    const at = (line: number, column: number) => ({
      line: line + 1 + lineOffset,
      column: column + 1,
    });

    if (transpiled.syntaxErrors.length > 0) {
      const lines = sourceFile.text.split(/\r\n|[\n\r\u2028\u2029]/);
      return _failure(
        "syntax",
        transpiled.syntaxErrors.map((d) => {
          const p = sourceFile.getLineAndCharacterOfPosition(d.start ?? 0);
          const jsx = JSX_TAG.test(lines[p.line] ?? "")
            ? " (JSX is not supported in programs: build strings instead)"
            : "";
          return {
            kind: "syntax",
            message: _flattenMessage(d.messageText) + jsx,
            ...at(p.line, p.character),
          };
        }),
      );
    }
    if (sourceFile.statements.length === 0) {
      return _failure("syntax", [{
        kind: "syntax",
        message: "The program has no statements (only comments): send TypeScript statements " +
          "that call the tools and print what you need",
        ...at(0, 0),
      }]);
    }

    // @deno/graph (a wasm module, ~150 ms to load) is loaded the first time a program has imports.
    const findings = MAYBE_STATIC_IMPORT.test(transpiled.js)
      ? _checkImports(await _loadGraph(), transpiled, toolNames)
      : [];
    if (findings.length > 0) {
      return _failure(
        "import",
        findings.map((f) => ({
          kind: "import",
          message: f.message,
          ...at(f.at.line, f.at.column),
        })),
      );
    }

    const map = transpiled.map;
    const program: CompiledProgram = {
      js: transpiled.js,
      imports: _importOffsets(transpiled).map(({ start, end, specifier }) => ({
        start,
        end,
        stub: specifier === STUB_SPECIFIER ? null : specifier.slice(STUB_SPECIFIER.length + 1),
      })),
      mapPosition(line: number, column: number) {
        const found = map.toSource(line - 1, column - 1);
        return found && { line: found.line + 1 + lineOffset, column: found.column + 1 };
      },
    };
    if (check === "off") return { ok: true, program, diagnostics: [] };
    return {
      ok: true,
      program,
      check: () => {
        const diagnostics: Diagnostic[] = [];
        try {
          for (const f of this.#checker.check(sourceFile.text, declarations, toolNames)) {
            diagnostics.push({ kind: f.kind, message: f.message, ...at(f.line, f.column) });
          }
        } catch (error) {
          return _compilerFailure(error);
        }
        diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
        if (check === "error" && diagnostics.length > 0) {
          return _failure(diagnostics[0].kind, diagnostics);
        }
        return { ok: true, program, diagnostics: diagnostics.slice(0, MAX_DIAGNOSTICS) };
      },
    };
  }

  /**
   * Loads `@deno/graph` and parses the TypeScript library ahead of the first program, so the
   * first `compile` is fast. Optional; safe to call at start-up alongside other work.
   *
   * @param options The declarations and tool names the first programs will use.
   *
   * @example Warm up while the sandbox pool starts
   * ```ts
   * import { ProgramCompiler } from "./compile.ts";
   * using compiler = new ProgramCompiler();
   * await compiler.warm();
   * ```
   */
  async warm(options: Pick<CompileOptions, "declarations" | "toolNames"> = {}): Promise<void> {
    await _loadGraph();
    await this.compile("export {};", { ...options, check: "warn" });
  }

  /** Releases the warm checker (the parsed library stays cached for the process). */
  [Symbol.dispose](): void {
    this.#checker.clear();
  }
}

function _compilerFailure(error: unknown): CompileOutcome {
  const reason = error instanceof Error ? error.message : String(error);
  return _failure("syntax", [{
    kind: "syntax",
    message: `The TypeScript compiler failed on this program (${reason.split("\n")[0]}): ` +
      "rewrite the construct near the error in plainer TypeScript",
    line: 1,
    column: 1,
  }]);
}
