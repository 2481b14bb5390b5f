/**
 * The type-check service: a warm `ts.Program` over in-memory files (the program, the tool
 * declarations the LLM is shown, the stub module declarations and the sandbox's globals) with
 * the ECMAScript library parsed once per process and each new program built on the previous one.
 *
 * The checker sees nothing else. TypeScript's own library files are read from disk once, as a
 * fixed set (the libraries `LIBS` names and those they reference); the compiler host answers every
 * other path as missing without touching the disk, resolves no module and follows no
 * triple-slash reference (`noResolve`), so no program can make the checker read a file or learn
 * whether one exists. Runs in the compiler process (`compiler_child.ts`), never on the host.
 *
 * @module
 */

import ts from "typescript";
import { _SANDBOX_GLOBALS_DTS } from "./sandbox_globals.ts";
import { _stubDeclarations } from "./stub_modules.ts";

const LIB_DIR = ts.getDefaultLibFilePath({}).replace(/[\\/][^\\/]+$/, "");
/** ES2025 plus `using`: what the sandbox's V8 runs (no DOM, no Deno namespace). */
const LIBS = ["lib.es2025.d.ts", "lib.esnext.disposable.d.ts"];

const PROGRAM = "/codemode/program.ts";
const GLOBALS = "/codemode/sandbox_globals.d.ts";
const DECLARATIONS = "/codemode/tool_declarations.d.ts";
const STUBS = "/codemode/tool_modules.d.ts";

/**
 * Checker options: strict, but without the failures that are style rather than mistakes for a
 * one-off program (implicit `any` on untyped JSON and callbacks, `unknown` in `catch`).
 */
const CHECK_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noImplicitAny: false,
  useUnknownInCatchVariables: false,
  target: ts.ScriptTarget.ES2025,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: LIBS,
  types: [],
  noEmit: true,
  // Triple-slash references and imports add no file: the checker sees only its own files.
  noResolve: true,
  skipLibCheck: true,
  allowUnreachableCode: true,
  allowUnusedLabels: true,
};

/** "Cannot find module" and its variants (node: modules, missing declarations). */
const MODULE_NOT_FOUND = new Set([2307, 2591, 2792, 7016, 2875, 2732]);

/** Declaration files kept parsed per service (a few tool sets). */
const RECENT_FILES = 8;

/** TypeScript's library files, read once per process: path → parsed file. */
let _libFiles: Map<string, ts.SourceFile> | undefined;

/**
 * Reads the fixed library set: the files `LIBS` names and every library they reference, each
 * once. Nothing else is ever read.
 */
function _libraries(): Map<string, ts.SourceFile> {
  if (_libFiles) return _libFiles;
  const files = new Map<string, ts.SourceFile>();
  const pending = [...LIBS];
  while (pending.length > 0) {
    const name = pending.pop()!;
    const path = `${LIB_DIR}/${name}`;
    if (files.has(path)) continue;
    const text = ts.sys.readFile(path);
    if (text === undefined) {
      throw new Error(`TypeScript's library file ${name} could not be read from ${LIB_DIR}`);
    }
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.ES2025);
    files.set(path, file);
    for (const lib of file.libReferenceDirectives) {
      pending.push(`lib.${lib.fileName.toLowerCase()}.d.ts`);
    }
  }
  return (_libFiles = files);
}

/** The directory of TypeScript's library files. */
export const _LIB_DIR: string = LIB_DIR;

/** A checker finding in program coordinates (0-based). */
export interface _CheckFinding {
  /** TypeScript's diagnostic code. */
  code: number;
  /** `syntax` for grammar errors the checker finds (codes below 2000), else `type`. */
  kind: "syntax" | "type";
  /** The compiler's message, on one line. */
  message: string;
  /** 0-based line in the program source. */
  line: number;
  /** 0-based UTF-16 column in the program source. */
  column: number;
}

/** Collapses a diagnostic message chain onto one line. */
export function _flattenMessage(text: string | ts.DiagnosticMessageChain): string {
  return ts.flattenDiagnosticMessageText(text, "\n").split("\n").map((l) => l.trim())
    .filter((l) => l !== "").join(" ");
}

/** Messages that point at @types packages or tsconfig, rewritten for the sandbox. */
function _sandboxHint(
  code: number,
  name: string,
  toolNames: readonly string[],
): string | undefined {
  const missingName = code === 2304 || code === 2552;
  const web = toolNames.find((n) => /(^|\.)(web_fetch|fetch)$/.test(n));
  if (missingName && name === "fetch") {
    return web
      ? `Cannot find name 'fetch': the program has no network access; call the ${web} tool.`
      : "Cannot find name 'fetch': the program has no network access.";
  }
  if (!/^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u.test(name)) return undefined;
  if (
    [2580, 2591, 2592, 2582, 2593, 2583, 2584, 2867, 2868].includes(code) ||
    (missingName &&
      ["Deno", "process", "require", "Bun", "window", "document", "__dirname"].includes(name))
  ) {
    return `Cannot find name '${name}': the sandbox has no Node.js, Deno or browser APIs; ` +
      "use the tools and the standard globals.";
  }
  return undefined;
}

/** A warm checker for one tool set at a time (declarations are swapped in when they change). */
export class _TypeCheckService {
  #program: ts.SourceFile | undefined;
  #files = new Map<string, ts.SourceFile>();
  #stubsFor: string | undefined;
  #previous: ts.Program | undefined;
  #host: ts.CompilerHost;

  constructor() {
    const libraries = _libraries();
    this.#host = {
      getSourceFile: (fileName) =>
        fileName === PROGRAM ? this.#program : this.#files.get(fileName) ?? libraries.get(fileName),
      getDefaultLibFileName: () => `${LIB_DIR}/${LIBS[0]}`,
      getDefaultLibLocation: () => LIB_DIR,
      writeFile: () => {},
      getCurrentDirectory: () => "/codemode",
      getCanonicalFileName: (fileName) => fileName,
      useCaseSensitiveFileNames: () => true,
      getNewLine: () => "\n",
      // Only the files above exist; nothing is looked up on disk.
      fileExists: (fileName) =>
        fileName === PROGRAM || this.#files.has(fileName) || libraries.has(fileName),
      readFile: (fileName) => this.#files.get(fileName)?.text ?? libraries.get(fileName)?.text,
      directoryExists: (name) => name === "/codemode" || name === LIB_DIR,
      getDirectories: () => [],
      realpath: (fileName) => fileName,
      // Nothing resolves: `codemode:tools` modules are ambient declarations.
      resolveModuleNameLiterals: (literals) => literals.map(() => ({ resolvedModule: undefined })),
      resolveTypeReferenceDirectiveReferences: (references) =>
        references.map(() => ({ resolvedTypeReferenceDirective: undefined })),
    };
    this.#setFile(GLOBALS, _SANDBOX_GLOBALS_DTS);
  }

  /** Recently used declaration files by name and text: alternating tool sets stay parsed. */
  #recent = new Map<string, ts.SourceFile>();

  #setFile(fileName: string, text: string): void {
    if (this.#files.get(fileName)?.text === text) return;
    const key = `${fileName}\0${text}`;
    let file = this.#recent.get(key);
    if (file) this.#recent.delete(key);
    else file = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2025);
    this.#recent.set(key, file);
    if (this.#recent.size > RECENT_FILES) this.#recent.delete(this.#recent.keys().next().value!);
    this.#files.set(fileName, file);
  }

  /**
   * Type-checks `code` against the declarations; returns the errors in the program, except those
   * inside import declarations (the import policy owns module resolution and stub names).
   */
  check(code: string, declarations: string, toolNames: readonly string[]): _CheckFinding[] {
    this.#setFile(DECLARATIONS, declarations);
    const stubsKey = toolNames.join("\n");
    if (this.#stubsFor !== stubsKey) {
      this.#setFile(STUBS, _stubDeclarations(toolNames));
      this.#stubsFor = stubsKey;
    }
    this.#program = ts.createSourceFile(PROGRAM, code, {
      languageVersion: ts.ScriptTarget.ES2025,
      setExternalModuleIndicator: (file) => {
        // moduleDetection "force": every program is a module (top-level await, local scope).
        (file as { externalModuleIndicator?: unknown }).externalModuleIndicator = true;
      },
    });
    const program = ts.createProgram({
      rootNames: [PROGRAM, GLOBALS, DECLARATIONS, STUBS],
      options: CHECK_OPTIONS,
      host: this.#host,
      oldProgram: this.#previous,
    });
    this.#previous = program;
    const file = program.getSourceFile(PROGRAM);
    if (!file) return [];
    const importRanges = file.statements
      .filter((s) => ts.isImportDeclaration(s) || (ts.isExportDeclaration(s) && s.moduleSpecifier))
      .map((s) => [s.getStart(file), s.end] as const);
    const findings: _CheckFinding[] = [];
    for (const diagnostic of program.getSemanticDiagnostics(file)) {
      if (diagnostic.category !== ts.DiagnosticCategory.Error) continue;
      const start = diagnostic.start ?? 0;
      if (importRanges.some(([from, to]) => start >= from && start < to)) continue;
      const { line, character } = file.getLineAndCharacterOfPosition(start);
      const name = file.text.slice(start, start + (diagnostic.length ?? 0));
      // A module that does not resolve in `import("x")` or `typeof import("x")`: refused at run
      // time (a dynamic import can be caught) or type-only, never a type error.
      if (MODULE_NOT_FOUND.has(diagnostic.code) && /^["'`]/.test(name)) continue;
      findings.push({
        code: diagnostic.code,
        kind: diagnostic.code < 2000 ? "syntax" : "type",
        message: _sandboxHint(diagnostic.code, name, toolNames) ??
          _flattenMessage(diagnostic.messageText),
        line,
        column: character,
      });
    }
    return findings;
  }

  /** Drops the warm program (the library cache stays for the process). */
  clear(): void {
    this.#previous = undefined;
    this.#program = undefined;
    this.#recent.clear();
  }
}
