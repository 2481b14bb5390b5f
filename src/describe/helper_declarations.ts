/**
 * Declarations of the program-side helpers (`print`, `gatherLimited`, `searchTools`,
 * `describeTool`, `console`) and of `McpContent`, the blocks of an MCP tool's result.
 *
 * @module
 */

/** The searchTools result types and overloads (shared by the d.ts and the description). */
const SEARCH = `/** A tool found by searchTools, best match first. */
interface ToolMatch {
  /** How to call it: \`read_file\` or \`memory.create_entities\`. */
  name: string;
  /** Its namespace, or null for a global function. */
  namespace: string | null;
  /** "summary": first sentence; "full": the whole description. */
  description: string;
  /** "summary": one-line signature; "full": the declaration with JSDoc. */
  signature: string;
}
/** Options of searchTools. */
interface SearchToolsOptions {
  /** "name": names only; "summary": + first sentence and signature; "full": + full docs. Default "summary". */
  detail?: "name" | "summary" | "full";
  /** Most results returned. Default 10. */
  limit?: number;
}
/** Finds tools by what they do (words of names and descriptions), best match first. */
declare function searchTools(
  query: string,
  options: SearchToolsOptions & { detail: "name" },
): Promise<Pick<ToolMatch, "name" | "namespace">[]>;
declare function searchTools(
  query: string,
  options?: SearchToolsOptions & { detail?: "summary" | "full" },
): Promise<ToolMatch[]>;
declare function searchTools(
  query: string,
  options?: SearchToolsOptions,
): Promise<(Pick<ToolMatch, "name" | "namespace"> & Partial<ToolMatch>)[]>;
/** One tool by name (\`read_file\`, \`memory.create_entities\`): its whole description and declaration, with the shape of its results seen so far; rejects for an unknown name. */
declare function describeTool(name: string): Promise<ToolMatch>;`;

/**
 * What an MCP tool without an `outputSchema` gives besides text (`src/mcp/result.ts`), declared
 * wherever such a tool is.
 */
export const _MCP_CONTENT_DTS: string =
  `/** A content block of an MCP tool's result; images and audio are base64 in \`data\`. */
type McpContent =
  | { type: "text"; text: string }
  | { type: "image" | "audio"; data: string; mimeType: string }
  | { type: "resource"; resource: { uri: string; mimeType?: string; text?: string; blob?: string } }
  | { type: "resource_link"; uri: string; name: string; mimeType?: string; description?: string };`;

const HELPERS =
  `/** Appends the values to the output, space-separated, one line per call (non-strings formatted like Deno.inspect). Only printed output returns to you. */
declare function print(...values: unknown[]): void;
/** The tasks an argument of gatherLimited may hold. */
type GatherTasks<T> = Iterable<() => Promise<T>> | AsyncIterable<() => Promise<T>>;
/** Runs the task functions, at most \`limit\` (default 10) at a time; resolves to their results in task order, rejects with the first failure. */
declare function gatherLimited<T>(
  tasks: GatherTasks<T>,
  limit?: number,
  options?: { settle?: false },
): Promise<T[]>;
/** With \`{ settle: true }\`: never rejects; one \`{ status: "fulfilled", value }\` or \`{ status: "rejected", reason }\` per task, in order. */
declare function gatherLimited<T>(
  tasks: GatherTasks<T>,
  limit: number | undefined,
  options: { settle: true },
): Promise<PromiseSettledResult<T>[]>;
${SEARCH}`;

const CONSOLE = `/** Like print: every method appends its values to the output. */
declare const console: {
  log(...values: unknown[]): void;
  info(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
  debug(...values: unknown[]): void;
};`;

/** The helper declarations for the type-checker's global d.ts. */
export function _helperDeclarations(console: boolean): string {
  return console ? `${HELPERS}\n${CONSOLE}` : HELPERS;
}

/** One line each on the helpers, for the description the model reads. */
export const _HELPER_LINES: string = [
  "print(...values): void — appends a line to your output (non-strings formatted like Deno.inspect); console.log works too.",
  "gatherLimited(tasks: (() => Promise<T>)[], limit = 10): Promise<T[]> — runs at most `limit` at once, results in order, rejects on the first failure; pass `{ settle: true }` as 3rd argument for Promise.allSettled-style records.",
  'searchTools(query, { detail?: "name" | "summary" | "full", limit? = 10 }): Promise<{ name, namespace, description, signature }[]> — tools ranked by relevance to the words of `query`.',
  "describeTool(name): Promise<{ name, namespace, description, signature }> — one tool's whole description and declaration, with the shape of its results seen so far.",
].join("\n");
