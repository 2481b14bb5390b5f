/**
 * TypeScript to JavaScript with the TypeScript compiler itself: `ts.transpileModule` drops every
 * import whose bindings are never used as values (import elision) and every type-only import;
 * a `before` transformer turns `import(x)` into `__codemode_import__(x)`; an `after` transformer
 * only records which import and export-from declarations survived, with their source positions.
 * Runs in the compiler process (`compiler_child.ts`), never on the host.
 *
 * @module
 */

import ts from "typescript";
import { _SourceMap } from "./source_map.ts";
import { _lineStarts } from "./source_text.ts";

/** The global the sandbox defines to serve (or refuse) dynamic imports at run time. */
export const _DYNAMIC_IMPORT_FUNCTION = "__codemode_import__";

/**
 * Compiler options of the emit. ES2025 is the newest target below ESNext, so decorators are
 * lowered (V8 has no decorators yet) and everything else the sandbox's V8 runs stays as written.
 */
const EMIT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2025,
  module: ts.ModuleKind.ESNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  sourceMap: true,
  removeComments: true,
  newLine: ts.NewLineKind.LineFeed,
  verbatimModuleSyntax: false,
};

/** A name a surviving import or re-export takes from its module. */
export interface _ImportedName {
  /** The exported name (`default` for a default import). */
  name: string;
  /** Offset of the name in the program source. */
  start: number;
}

/** An import or export-from declaration that survived elision. */
export interface _ImportSite {
  /** The module specifier's value. */
  specifier: string;
  /** Offset of the specifier's string literal (quote included) in the program source. */
  start: number;
  /** Offset just after the literal's closing quote. */
  end: number;
  /** Named bindings still imported (or re-exported); empty for `* as ns`, `export *` and bare imports. */
  names: _ImportedName[];
}

/** What {@linkcode _transpile} returns. */
export interface _Transpiled {
  /** The emitted ES module, without the `sourceMappingURL` comment. */
  js: string;
  /** Generated → source mappings. */
  map: _SourceMap;
  /** The source map's `mappings` text that `map` was decoded from. */
  mappings: string;
  /** The parsed program source (for offset → line/column). */
  sourceFile: ts.SourceFile;
  /** Parse errors; when there are any, `js` must not run. */
  syntaxErrors: readonly ts.Diagnostic[];
  /** Import and export-from declarations left after elision, in source order. */
  imports: _ImportSite[];
}

function _rewriteDynamicImports(
  captured: { sourceFile?: ts.SourceFile },
): ts.TransformerFactory<ts.SourceFile> {
  return (context) => (sourceFile) => {
    captured.sourceFile = sourceFile;
    const text = sourceFile.text;
    if (!/\bimport\b/.test(text)) return sourceFile;
    const factory = context.factory;
    const visit = (node: ts.Node): ts.Node => {
      // Skip subtrees whose text cannot hold an `import(` call.
      const at = text.indexOf("import", node.pos);
      if (at < 0 || at >= node.end) return node;
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        return factory.updateCallExpression(
          node,
          factory.createIdentifier(_DYNAMIC_IMPORT_FUNCTION),
          node.typeArguments,
          ts.visitNodes(node.arguments, visit, ts.isExpression),
        );
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit, ts.isSourceFile);
  };
}

function _moduleExportName(name: ts.ModuleExportName): string {
  return ts.isIdentifier(name) ? ts.idText(name) : name.text;
}

function _collectSurvivors(
  captured: { sourceFile?: ts.SourceFile },
  out: _ImportSite[],
): ts.TransformerFactory<ts.SourceFile> {
  return () => (emitted) => {
    const source = captured.sourceFile;
    if (!source) return emitted;
    const at = (node: ts.Node): number => ts.getOriginalNode(node).getStart(source);
    for (const statement of emitted.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
      const original = ts.getOriginalNode(statement) as ts.ImportDeclaration | ts.ExportDeclaration;
      const literal = original.moduleSpecifier;
      if (!literal || !ts.isStringLiteral(literal)) continue;
      const names: _ImportedName[] = [];
      if (ts.isImportDeclaration(statement)) {
        const clause = statement.importClause;
        if (clause?.name) names.push({ name: "default", start: at(clause.name) });
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) {
          for (const element of bindings.elements) {
            const imported = element.propertyName ?? element.name;
            names.push({ name: _moduleExportName(imported), start: at(imported) });
          }
        }
      } else if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) {
          const exported = element.propertyName ?? element.name;
          names.push({ name: _moduleExportName(exported), start: at(exported) });
        }
      }
      out.push({
        specifier: literal.text,
        start: literal.getStart(source),
        end: literal.end,
        names,
      });
    }
    return emitted;
  };
}

const SOURCE_MAP_COMMENT = /\n?\/\/# sourceMappingURL=\S*\s*$/;

/** Compiles one program to JavaScript with TypeScript's own import elision and a source map. */
export function _transpile(code: string): _Transpiled {
  const captured: { sourceFile?: ts.SourceFile } = {};
  const imports: _ImportSite[] = [];
  const output = ts.transpileModule(code, {
    compilerOptions: EMIT_OPTIONS,
    fileName: "program.ts",
    reportDiagnostics: true,
    transformers: {
      before: [_rewriteDynamicImports(captured)],
      after: [_collectSurvivors(captured, imports)],
    },
  });
  const sourceFile = captured.sourceFile ??
    ts.createSourceFile("program.ts", code, ts.ScriptTarget.ES2025);
  const parsed = output.sourceMapText ? JSON.parse(output.sourceMapText).mappings : "";
  const mappings = typeof parsed === "string" ? parsed : "";
  return {
    js: output.outputText.replace(SOURCE_MAP_COMMENT, "\n"),
    map: _SourceMap.decode(mappings),
    mappings,
    sourceFile,
    syntaxErrors: (output.diagnostics ?? []).filter((d) =>
      d.category === ts.DiagnosticCategory.Error
    ),
    imports,
  };
}

/**
 * Offsets in `js` of each surviving import's string literal (quotes included), found through the
 * source map and checked against the text; falls back to parsing `js` when a literal is not
 * where the map says.
 */
export function _importOffsets(
  transpiled: _Transpiled,
): { start: number; end: number; specifier: string }[] {
  const { js, map, sourceFile, imports } = transpiled;
  if (imports.length === 0) return [];
  const jsStarts = _lineStarts(js);
  const found: { start: number; end: number; specifier: string }[] = [];
  for (const site of imports) {
    const literal = sourceFile.text.slice(site.start, site.end);
    const at = sourceFile.getLineAndCharacterOfPosition(site.start);
    const generated = map.toGenerated(at.line, at.character);
    const offset = generated ? jsStarts[generated.line] + generated.column : -1;
    if (!generated || !js.startsWith(literal, offset)) return _importOffsetsByParsing(js);
    found.push({ start: offset, end: offset + literal.length, specifier: site.specifier });
  }
  return found;
}

function _importOffsetsByParsing(js: string): { start: number; end: number; specifier: string }[] {
  const file = ts.createSourceFile(
    "program.js",
    js,
    ts.ScriptTarget.ES2025,
    false,
    ts.ScriptKind.JS,
  );
  const found: { start: number; end: number; specifier: string }[] = [];
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const literal = statement.moduleSpecifier;
    if (!literal || !ts.isStringLiteral(literal)) continue;
    found.push({ start: literal.getStart(file), end: literal.end, specifier: literal.text });
  }
  return found;
}
