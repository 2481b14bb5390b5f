/**
 * The front end proper, as the compiler process runs it: Markdown fences, the TypeScript
 * transpile with import elision, triple-slash references refused, the import policy, then the
 * type check against the tool declarations. It answers one request with the messages of
 * `compiler_protocol.ts`; positions are lines and columns of the text as sent.
 *
 * This module loads TypeScript: only `compiler_child.ts` imports it, never the host.
 *
 * @module
 */

import ts from "typescript";
import type { Diagnostic } from "../types.ts";
import type { _ChildReply, _CompileRequest, _EndReply } from "./compiler_protocol.ts";
import { _checkImports, _loadGraph } from "./import_policy.ts";
import { _prepareSource } from "./source_text.ts";
import { STUB_SPECIFIER } from "./stub_modules.ts";
import { _importOffsets, _transpile, type _Transpiled } from "./transpile.ts";
import { _flattenMessage, _TypeCheckService } from "./type_check.ts";

/** A closing or self-closing JSX tag on a line. */
const JSX_TAG = /<\/[A-Za-z][\w.-]*>|<[A-Za-z][\w.-]*(\s[^<>]*)?\/>/;
/** Is there anything in `js` that could be a static import or export-from? */
const MAYBE_STATIC_IMPORT = /\bimport\s*["'{*\w]|\bfrom\s*["']/;
/** V8's message when the compiler's recursion ran out of stack. */
const STACK_OVERFLOW = /Maximum call stack size exceeded/;

/** The heap is reported after every this many requests... */
const HEAP_SAMPLE_EVERY = 16;
/** ...and after any request that took longer than this. */
const HEAP_SAMPLE_AFTER_MS = 50;

/** What to send back for one request. */
export type _Emit = (reply: _ChildReply) => void;

/** Where to place a 0-based line and column of the compiled code in the text as sent. */
type _At = (line: number, column: number) => { line: number; column: number };

/**
 * One compiler process's front end: the current tool set, a warm type checker, and the import
 * policy's parser once loaded.
 */
export class _FrontEnd {
  #checker: _TypeCheckService | undefined;
  #declarations = "";
  #toolNames: string[] = [];
  #graph: ReturnType<typeof _loadGraph> | undefined;
  #served = 0;

  /** Answers one request: at most one `program` message, then exactly one `end`. */
  async handle(request: _CompileRequest, emit: _Emit): Promise<void> {
    const { id } = request;
    if (request.declarations !== undefined) this.#declarations = request.declarations;
    if (request.toolNames !== undefined) this.#toolNames = request.toolNames;
    const started = performance.now();
    const end = (reply: Omit<_EndReply, "t" | "id" | "heap">) => {
      // Reading the heap costs a read of /proc: done every few requests and after a long one.
      const sample = ++this.#served % HEAP_SAMPLE_EVERY === 0 ||
        performance.now() - started > HEAP_SAMPLE_AFTER_MS;
      emit({ t: "end", id, ...(sample ? { heap: Deno.memoryUsage().heapUsed } : {}), ...reply });
    };
    let transpiled: _Transpiled;
    let lineOffset: number;
    try {
      // The text as sent may be tried first (it holds a fence but does not open with one): kept,
      // so the text that is used is never transpiled twice.
      let tried: { text: string; result: _Transpiled } | undefined;
      const prepared = _prepareSource(request.source, (text) => {
        tried = { text, result: _transpile(text) };
        return tried.result.syntaxErrors.length === 0;
      });
      if ("message" in prepared) {
        end({
          kind: "syntax",
          diagnostics: [{
            kind: "syntax",
            message: prepared.message,
            line: prepared.line,
            column: 1,
          }],
        });
        return;
      }
      lineOffset = prepared.lineOffset;
      transpiled = tried?.text === prepared.code ? tried.result : _transpile(prepared.code);
    } catch (error) {
      end(_thrown(error, "transpile"));
      return;
    }
    const at: _At = (line, column) => ({ line: line + 1 + lineOffset, column: column + 1 });
    const refused = _syntaxFindings(transpiled, at) ?? _referenceFindings(transpiled, at) ??
      _emptyFinding(transpiled, at);
    if (refused) {
      end(refused);
      return;
    }

    if (MAYBE_STATIC_IMPORT.test(transpiled.js)) {
      emit({ t: "at", id, stage: "imports" });
      try {
        // @deno/graph (a wasm module, ~150 ms to load) is loaded the first time a program has imports.
        const findings = _checkImports(await this.#loadGraph(), transpiled, this.#toolNames);
        if (findings.length > 0) {
          end({
            kind: "import",
            diagnostics: findings.map((f) => ({
              kind: "import",
              message: f.message,
              ...at(f.at.line, f.at.column),
            })),
          });
          return;
        }
      } catch (error) {
        end(_thrown(error, "imports"));
        return;
      }
    }

    emit({
      t: "program",
      id,
      js: transpiled.js,
      imports: _importOffsets(transpiled).map(({ start, end, specifier }) => ({
        start,
        end,
        stub: specifier === STUB_SPECIFIER ? null : specifier.slice(STUB_SPECIFIER.length + 1),
      })),
      mappings: transpiled.mappings,
      lineOffset,
    });
    if (request.check === "off") {
      end({ diagnostics: [] });
    } else {
      end(this.#check(transpiled.sourceFile.text, request.check, at));
    }
    if (request.warm) this.#loadGraph().catch(() => {});
  }

  /** The import policy's parser, or undefined when it cannot be loaded in this process. */
  #loadGraph(): Promise<Awaited<ReturnType<typeof _loadGraph>> | undefined> {
    this.#graph ??= _loadGraph();
    return this.#graph.catch(() => undefined);
  }

  #check(code: string, mode: "error" | "warn", at: _At): Omit<_EndReply, "t" | "id" | "heap"> {
    const diagnostics: Diagnostic[] = [];
    try {
      this.#checker ??= new _TypeCheckService();
      for (const f of this.#checker.check(code, this.#declarations, this.#toolNames)) {
        diagnostics.push({ kind: f.kind, message: f.message, ...at(f.line, f.column) });
      }
    } catch (error) {
      // A throw may leave the warm program half-built: start the next check from scratch.
      this.#checker?.clear();
      return _thrown(error, "check");
    }
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
    return mode === "error" && diagnostics.length > 0
      ? { kind: diagnostics[0].kind, diagnostics }
      : { diagnostics };
  }
}

/** Parse errors (with a hint for JSX). */
function _syntaxFindings(
  transpiled: _Transpiled,
  at: _At,
): Omit<_EndReply, "t" | "id" | "heap"> | undefined {
  const { sourceFile } = transpiled;
  if (transpiled.syntaxErrors.length > 0) {
    const lines = sourceFile.text.split(/\r\n|[\n\r\u2028\u2029]/);
    return {
      kind: "syntax",
      diagnostics: transpiled.syntaxErrors.map((d) => {
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
    };
  }
  return undefined;
}

/** A program with nothing but comments. */
function _emptyFinding(
  transpiled: _Transpiled,
  at: _At,
): Omit<_EndReply, "t" | "id" | "heap"> | undefined {
  if (transpiled.sourceFile.statements.length > 0) return undefined;
  return {
    kind: "syntax",
    diagnostics: [{
      kind: "syntax",
      message: "The program has no statements (only comments): send TypeScript statements " +
        "that call the tools and print what you need",
      ...at(0, 0),
    }],
  };
}

/** A triple-slash reference directive, and the attribute it starts with (`path`, `lib`, ...). */
const REFERENCE = /^\/\/\/\s*<reference\s+([A-Za-z-]*)/;

/**
 * Every `/// <reference ...>` directive (`path`, `types`, `lib`, `no-default-lib`), refused:
 * TypeScript reads them from the comments that lead the file, and so does this.
 */
function _referenceFindings(
  transpiled: _Transpiled,
  at: _At,
): Omit<_EndReply, "t" | "id" | "heap"> | undefined {
  const file = transpiled.sourceFile;
  const diagnostics: Diagnostic[] = [];
  for (const range of ts.getLeadingCommentRanges(file.text, 0) ?? []) {
    const directive = REFERENCE.exec(
      file.text.slice(range.pos, Math.min(range.end, range.pos + 200)),
    );
    if (!directive) continue;
    const { line, character } = file.getLineAndCharacterOfPosition(range.pos);
    diagnostics.push({
      kind: "import",
      message:
        `Triple-slash references are not allowed (\`/// <reference ${
          directive[1] || "..."
        }=...>\`): the tools and the standard library are declared already, and a program can ` +
        "read no file; remove the reference.",
      ...at(line, character),
    });
  }
  return diagnostics.length > 0 ? { kind: "import", diagnostics } : undefined;
}

/** What the compiler throwing at `stage` becomes (and the process is replaced after it). */
function _thrown(
  error: unknown,
  stage: "transpile" | "imports" | "check",
): Omit<_EndReply, "t" | "id" | "heap"> {
  const reason = error instanceof Error ? error.message : String(error);
  if (STACK_OVERFLOW.test(reason)) {
    if (stage === "check") {
      return {
        kind: "limit",
        message: "The program nests too deeply for the type checker (it ran out of stack): " +
          "flatten the deepest nesting — build deep data in a loop, split long chains of calls " +
          "or operators into statements, and simplify recursive types",
        diagnostics: [],
        recycle: true,
      };
    }
    return {
      kind: "syntax",
      diagnostics: [{
        kind: "syntax",
        message: "The program nests too deeply for the TypeScript parser (it ran out of stack): " +
          "flatten the deepest nesting — build deep arrays or objects in a loop, and split long " +
          "chains of calls or operators into separate statements",
        line: 1,
        column: 1,
      }],
      recycle: true,
    };
  }
  return {
    kind: "syntax",
    diagnostics: [{
      kind: "syntax",
      message: `The TypeScript compiler failed on this program (${reason.split("\n")[0]}): ` +
        "rewrite the construct near the error in plainer TypeScript",
      line: 1,
      column: 1,
    }],
    recycle: true,
  };
}
