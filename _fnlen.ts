import ts from "typescript";
const files = [...Deno.args];
for (const f of files) {
  const text = Deno.readTextFileSync(f);
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).body) {
      const body = (n as ts.FunctionLikeDeclaration).body!;
      const start = sf.getLineAndCharacterOfPosition(n.getStart()).line;
      const end = sf.getLineAndCharacterOfPosition(n.end).line;
      const lines = end - start + 1;
      if (lines > 100) {
        const name = (n as ts.FunctionDeclaration).name?.getText() ??
          (ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n)
            ? (n as any).name?.getText?.() ?? "constructor"
            : "(anon)");
        console.log(`${lines}\t${f}:${start + 1}\t${name}`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
