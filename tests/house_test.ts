/**
 * House rules that a change can break without any other test noticing (see CONTRIBUTING.md).
 *
 * @module
 */

import assert from "node:assert/strict";
import ts from "typescript";

/** The longest a function in src/ may be, in lines, nested functions included. */
const MAX_LINES = 200;
/** The longest a function's own statements may be, in lines, nested functions left out. */
const MAX_OWN_LINES = 120;

const srcDir = new URL("../src/", import.meta.url);

function* sourceFiles(dir: URL): Generator<URL> {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory) yield* sourceFiles(new URL(`${entry.name}/`, dir));
    else if (entry.name.endsWith(".ts")) yield new URL(entry.name, dir);
  }
}

interface Length {
  where: string;
  lines: number;
  own: number;
}

/** Every function with a body in `file`, with its length and the length of its own statements. */
function functionLengths(file: URL): Length[] {
  const path = file.pathname.slice(srcDir.pathname.length);
  const source = ts.createSourceFile(
    path,
    Deno.readTextFileSync(file),
    ts.ScriptTarget.Latest,
    true,
  );
  const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const span = (n: ts.FunctionLikeDeclaration) => line(n.body!.end) - line(n.getStart()) + 1;
  const hasBody = (n: ts.Node): n is ts.FunctionLikeDeclaration =>
    ts.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).body !== undefined;
  const found: Length[] = [];
  const visit = (node: ts.Node): void => {
    if (hasBody(node)) {
      let nested = 0;
      const inner = (m: ts.Node): void => {
        if (hasBody(m)) nested += span(m);
        else ts.forEachChild(m, inner);
      };
      ts.forEachChild(node.body!, inner);
      const lines = span(node);
      found.push({ where: `src/${path}:${line(node.getStart()) + 1}`, lines, own: lines - nested });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

Deno.test("no function in src/ is over 200 lines or 120 lines of its own statements", () => {
  const lengths = [...sourceFiles(srcDir)].flatMap(functionLengths);
  assert.ok(lengths.length > 100, `only ${lengths.length} functions found: is src/ there?`);
  const long = lengths.filter((f) => f.lines > MAX_LINES || f.own > MAX_OWN_LINES);
  assert.deepEqual(
    long.map((f) => `${f.where}: ${f.lines} lines, ${f.own} of its own`),
    [],
    "split these into named parts (serialised code: self-contained functions, as in worker_*.ts)",
  );
});
