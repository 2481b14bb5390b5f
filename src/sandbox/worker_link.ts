/**
 * Linking a program in its Worker: each stub module the host generated becomes a blob URL, and
 * each surviving import's specifier in the program is replaced by its stub's URL, so the program
 * loads as one blob module whose only imports are the tools.
 *
 * Serialised with `Function.prototype.toString` into the program Worker's module (see
 * `child_source.ts`), so it must not refer to anything outside its own body.
 *
 * @module
 */

import type { _RunMessage } from "./protocol.ts";

/** The program's module URL, or the stub a surviving import names but the host did not send. */
export function _linkProgram(m: _RunMessage): { url: string } | { missing: string | null } {
  const blob = (source: string) =>
    URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const stubUrls = new Map<string | null, string>();
  for (const s of m.stubs) stubUrls.set(s.stub, blob(s.source));
  let js = m.js;
  // From the last import to the first, so the earlier offsets stay right.
  for (const imp of [...m.imports].sort((a, b) => b.start - a.start)) {
    const url = stubUrls.get(imp.stub);
    if (url === undefined) return { missing: imp.stub };
    js = js.slice(0, imp.start) + JSON.stringify(url) + js.slice(imp.end);
  }
  return { url: blob(js) };
}
