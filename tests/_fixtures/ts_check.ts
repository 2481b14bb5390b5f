/**
 * Type-checks in-memory files with the real TypeScript compiler (strict, lib es2022, every
 * non-declaration file a module so top-level await works), for tests and benches.
 *
 * @module
 */

import ts from "typescript";

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ["lib.es2022.d.ts"],
  types: [],
  noEmit: true,
  skipLibCheck: false,
};

const libCache = new Map<string, ts.SourceFile>();

/**
 * Compiles `files` (name → text; names ending in `.d.ts` are declarations) and returns every
 * diagnostic as `file:line:col message`, empty when all type-check.
 */
export function typeCheck(files: Record<string, string>): string[] {
  const base = ts.createCompilerHost(OPTIONS);
  const host: ts.CompilerHost = {
    ...base,
    fileExists: (name) => name in files || base.fileExists(name),
    readFile: (name) => files[name] ?? base.readFile(name),
    getSourceFile(name, version) {
      if (name in files) return ts.createSourceFile(name, files[name], version, true);
      let lib = libCache.get(name);
      if (!lib) {
        lib = base.getSourceFile(name, version);
        if (lib) libCache.set(name, lib);
      }
      return lib;
    },
    writeFile: () => {},
  };
  const program = ts.createProgram(Object.keys(files), OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return text;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}:${line + 1}:${character + 1} ${text}`;
  });
}
