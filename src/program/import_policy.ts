/**
 * The import policy: after elision, `@deno/graph` analyses what the JavaScript still imports.
 * Only the tool stub modules (`codemode:tools`, `codemode:tools/<tool>`) may remain; anything
 * else is refused before the program runs, with advice on what to use instead.
 *
 * @module
 */

import { builtinModules } from "node:module";
import { _closeNames } from "./similar_names.ts";
import type { _Position } from "./source_map.ts";
import { STUB_SPECIFIER, stubModules } from "./stub_modules.ts";
import type { _Transpiled } from "./transpile.ts";

/** The parts of `@deno/graph` used here (its npm package ships incomplete type declarations). */
interface _DenoGraph {
  init(): Promise<void>;
  parseModule(
    specifier: string,
    content: string,
    options: { resolve(specifier: string, referrer: string): string },
  ): _GraphModule;
}

/** A parsed module: a wasm-backed object that must be freed. */
interface _GraphModule {
  readonly dependencies: Record<string, _GraphDependency> | undefined;
  free(): void;
}

interface _GraphDependency {
  code?: { span?: { start: { line: number; character: number } } };
  isDynamic?: boolean;
}

let _graph: Promise<_DenoGraph> | undefined;

/** Loads and initialises `@deno/graph` (its wasm) once per process. */
export function _loadGraph(): Promise<_DenoGraph> {
  _graph ??= import("@deno/graph").then(async (module) => {
    const graph = module as unknown as _DenoGraph;
    await graph.init();
    return graph;
  }).catch((error) => {
    _graph = undefined;
    throw error;
  });
  return _graph;
}

/** A refused import, at a position in the program source (0-based). */
export interface _ImportFinding {
  /** What is refused and what to use instead. */
  message: string;
  /** 0-based line and column in the program source. */
  at: _Position;
}

/** Dependencies `@deno/graph` finds in the emitted JavaScript: static code imports only. */
function _graphImports(
  graph: _DenoGraph,
  js: string,
): { specifier: string; line: number; character: number }[] | undefined {
  let module: _GraphModule;
  try {
    module = graph.parseModule("file:///codemode/program.js", js, {
      resolve(specifier, referrer) {
        if (specifier.startsWith("codemode:")) return specifier;
        try {
          return new URL(specifier, referrer).href;
        } catch {
          return `codemode-unresolved:${encodeURIComponent(specifier)}`;
        }
      },
    });
  } catch {
    // The npm build of @deno/graph has a 2022 parser: newer syntax (import attributes) fails.
    return undefined;
  }
  try {
    const found: { specifier: string; line: number; character: number }[] = [];
    for (const [specifier, dependency] of Object.entries(module.dependencies ?? {})) {
      if (!dependency.code || dependency.isDynamic) continue;
      const start = dependency.code.span?.start ?? { line: 0, character: 0 };
      found.push({ specifier, line: start.line, character: start.character });
    }
    return found;
  } finally {
    module.free();
  }
}

/** Converts a column counted in code points (as @deno/graph reports) to UTF-16 units. */
function _utf16Column(lineText: string, codePoints: number): number {
  let units = 0;
  for (let n = 0; n < codePoints && units < lineText.length; n++) {
    units += (lineText.codePointAt(units) ?? 0) > 0xffff ? 2 : 1;
  }
  return units;
}

const NODE_BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, "")));
const FILE_MODULES = /^(fs|fs\/promises|readline|readline\/promises)$/;
const NETWORK_MODULES =
  /^(http|https|http2|net|tls|dgram|dns|dns\/promises|undici|node-fetch|axios|ws|_http_\w+)$/;
const PROCESS_MODULES =
  /^(child_process|worker_threads|cluster|process|os|v8|vm|inspector|module|wasi|repl)$/;

/** The tools (by program name) whose own name is one of `wanted`. */
function _toolsNamed(toolNames: readonly string[], wanted: string[]): string[] {
  return toolNames.filter((n) => wanted.includes(n.slice(n.lastIndexOf(".") + 1)));
}

/** Why a specifier is refused and what to use instead; undefined when it is a stub module. */
function _advice(specifier: string, toolNames: readonly string[]): string | undefined {
  if (specifier === STUB_SPECIFIER) return undefined;
  if (specifier.startsWith(`${STUB_SPECIFIER}/`)) {
    const name = specifier.slice(STUB_SPECIFIER.length + 1);
    const stubs = stubModules(toolNames).slice(1).map((m) => m.stub as string);
    if (stubs.includes(name)) return undefined;
    const owner = toolNames.find((n) => n.endsWith(`.${name}`) || n === name.replace("/", "."));
    const close = _closeNames(name, stubs);
    const hint = owner
      ? `; "${name.replace(/.*[/.]/, "")}" is in a namespace: import it from "${STUB_SPECIFIER}/${
        owner.slice(0, owner.indexOf("."))
      }"`
      : close.length > 0
      ? `; did you mean ${close.map((c) => `"${STUB_SPECIFIER}/${c}"`).join(", ")}?`
      : stubs.length > 0
      ? `; the tool modules are ${
        stubs.slice(0, 12).map((s) => `"${STUB_SPECIFIER}/${s}"`).join(", ")
      }${stubs.length > 12 ? ", ..." : ""}`
      : "; this session has no tools";
    return `there is no tool "${name}"${hint}`;
  }
  if (specifier.startsWith("codemode:")) {
    return `the only codemode modules are "${STUB_SPECIFIER}" and "${STUB_SPECIFIER}/<tool>"`;
  }
  const bare = specifier.replace(/^node:/, "");
  if (specifier.startsWith("node:") || NODE_BUILTINS.has(bare)) {
    if (FILE_MODULES.test(bare)) {
      const files = _toolsNamed(toolNames, ["read_file", "list_files", "search_files"]);
      return files.length > 0
        ? `the program has no file system access; use the file tools ${files.join(", ")}`
        : "the program has no file system access and this session has no file tools";
    }
    if (NETWORK_MODULES.test(bare)) return _networkAdvice(toolNames);
    if (PROCESS_MODULES.test(bare)) {
      return "the program cannot start processes or read the environment; use the tools";
    }
    if (/^path(\/|$)/.test(bare)) {
      return "paths are plain strings: join them with template literals, e.g. `${dir}/${name}`";
    }
    return "Node.js built-in modules are not available; use plain TypeScript and the standard " +
      "globals (URL, TextEncoder, structuredClone, crypto.randomUUID, ...)";
  }
  if (NETWORK_MODULES.test(specifier)) return _networkAdvice(toolNames);
  if (/^(\.{0,2}\/|file:)/.test(specifier)) {
    const read = _toolsNamed(toolNames, ["read_file"]);
    return "local files cannot be imported as modules" +
      (read.length > 0 ? `; read a file's text with ${read[0]}` : "");
  }
  if (/^(data|blob):/.test(specifier)) {
    return "inline modules cannot be imported; write the code in the program itself";
  }
  if (/^https?:/.test(specifier)) {
    return "remote modules cannot be imported; use plain TypeScript or the tools";
  }
  return "packages cannot be imported; use plain TypeScript or the tools";
}

function _networkAdvice(toolNames: readonly string[]): string {
  const web = _toolsNamed(toolNames, ["web_fetch", "fetch", "http_get"]);
  return web.length > 0
    ? `the program has no network access; use the ${web[0]} tool`
    : "the program has no network access and this session has no web tool";
}

const GLOBAL_HELPERS = new Set(["print", "gatherLimited", "searchTools", "console"]);

/** Checks the names a surviving stub import takes against the stub's exports. */
function _nameFindings(
  transpiled: _Transpiled,
  toolNames: readonly string[],
  findings: _ImportFinding[],
): void {
  const exports = new Map(stubModules(toolNames).map((m) => [m.specifier, m.exports]));
  for (const site of transpiled.imports) {
    const available = exports.get(site.specifier);
    if (!available) continue;
    for (const { name, start } of site.names) {
      if (name === "default" || Object.hasOwn(available, name)) continue;
      const owner = toolNames.find((n) => n.endsWith(`.${name}`));
      const close = _closeNames(name, Object.keys(available));
      const hint = GLOBAL_HELPERS.has(name)
        ? `; ${name} is a global: use it without importing`
        : owner
        ? `; it is in a namespace: import { ${name} } from "${STUB_SPECIFIER}/${
          owner.slice(0, owner.indexOf("."))
        }"`
        : close.length > 0
        ? `; did you mean ${close.join(", ")}?`
        : "";
      findings.push({
        message: `"${site.specifier}" has no export "${name}"${hint}`,
        at: _toPosition(transpiled, start),
      });
    }
  }
}

function _toPosition(transpiled: _Transpiled, offset: number): _Position {
  const { line, character } = transpiled.sourceFile.getLineAndCharacterOfPosition(offset);
  return { line, column: character };
}

/**
 * Applies the import policy to a transpiled program: every static import left after elision
 * must name a stub module, and every name imported from a stub must exist. Positions come from
 * the surviving declarations; a specifier only `@deno/graph` saw is placed through the source map.
 * Without `graph` (it could not be loaded) only the surviving declarations are checked; the
 * sandbox refuses any other import when it runs.
 */
export function _checkImports(
  graph: _DenoGraph | undefined,
  transpiled: _Transpiled,
  toolNames: readonly string[],
): _ImportFinding[] {
  const located = new Map<string, _Position | undefined>();
  for (const site of transpiled.imports) {
    if (!located.has(site.specifier)) {
      located.set(site.specifier, _toPosition(transpiled, site.start));
    }
  }
  const jsLines = transpiled.js.split("\n");
  for (const dependency of (graph && _graphImports(graph, transpiled.js)) ?? []) {
    if (located.has(dependency.specifier)) continue;
    const column = _utf16Column(jsLines[dependency.line] ?? "", dependency.character);
    located.set(dependency.specifier, transpiled.map.toSource(dependency.line, column));
  }
  const findings: _ImportFinding[] = [];
  for (const [specifier, at] of located) {
    const advice = _advice(specifier, toolNames);
    if (advice === undefined) continue;
    const example = toolNames.length > 0 ? ` (\`await ${toolNames[0]}({...})\`)` : "";
    findings.push({
      message: `Cannot import "${specifier}": ${advice}${/[.?!]$/.test(advice) ? "" : "."} ` +
        `Tools are globals: call them directly${example} or import them from "${STUB_SPECIFIER}".`,
      at: at ?? { line: 0, column: 0 },
    });
  }
  _nameFindings(transpiled, toolNames, findings);
  return findings.sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
}
