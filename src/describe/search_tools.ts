/**
 * Tool search: BM25 over tool names, namespaces, descriptions and parameter names.
 *
 * @module
 */

import type { Tool } from "../types.ts";
import { _firstSentence, _shorten } from "./jsdoc.ts";
import { _toolSignature } from "./tool_declarations.ts";
import { _toolEntries, type _ToolEntry } from "../tools/tool_entries.ts";
import { _synonyms, _tokenize } from "./tokenize.ts";

/**
 * Options for {@linkcode searchTools}.
 *
 * @example Full declarations of the best three
 * ```ts
 * import { searchTools, type SearchToolsOptions } from "@codemode/cli";
 * const options: SearchToolsOptions = { detail: "full", limit: 3 };
 * searchTools([], "send email", options); // []
 * ```
 */
export interface SearchToolsOptions {
  /**
   * How much of each tool to return: `"name"` gives `name` and `namespace`; `"summary"` adds the
   * first sentence of the description and a one-line signature; `"full"` the whole description
   * and the declaration with JSDoc.
   * @default {"summary"}
   */
  detail?: "name" | "summary" | "full";
  /**
   * Most results returned.
   * @default {10}
   */
  limit?: number;
}

/**
 * One search result, best first; `description` and `signature` are absent for `"name"`.
 *
 * @example Print signatures
 * ```ts
 * import type { ToolMatch } from "@codemode/cli";
 * const show = (matches: ToolMatch[]) => matches.map((m) => m.signature ?? m.name).join("\n");
 * ```
 */
export interface ToolMatch {
  /** How the program calls the tool: `read_file` or `memory.create_entities`. */
  name: string;
  /** The tool's namespace, or null for a global function. */
  namespace: string | null;
  /** First sentence (`"summary"`) or the whole description (`"full"`). */
  description?: string;
  /** One-line signature (`"summary"`) or the declaration with JSDoc (`"full"`). */
  signature?: string;
}

interface Index {
  length: number;
  entries: _ToolEntry[];
  /** term → the tools holding it (ascending) and its field-weighted frequency in each. */
  postings: Map<string, { doc: number; tf: number }[]>;
  /** Per tool: BM25's length normalisation, `K1 * (1 - B + B * length / average)`. */
  norms: number[];
  /** term → number of tools holding it. */
  df: Map<string, number>;
  names: Map<string, number>; // lower-case name/path/member → entry index
  /** Longer terms by prefix, built on first use (see {@linkcode _prefixIndex}). */
  prefixes?: _PrefixIndex;
}

/**
 * Terms that extend a prefix, in index order: for prefixes of 3 to {@linkcode PREFIX_CHARS}
 * characters the first {@linkcode PREFIX_TERMS}; for longer words, every term longer than
 * PREFIX_CHARS by its first PREFIX_CHARS characters (each term is in one such list).
 */
interface _PrefixIndex {
  short: Map<string, string[]>;
  long: Map<string, string[]>;
}

/** Field weights: words of a name say more than words of a description. */
const WEIGHT = { member: 3, namespace: 1.5, description: 1, parameters: 0.5 };
const K1 = 1.2;
const B = 0.75;
const cache = new WeakMap<readonly Tool[], Index>();

/** The longest query searched, in characters: a query is a few words, not a document. */
export const SEARCH_QUERY_MAX_CHARS = 1_000;
/** Distinct words of a query that count; the rest are ignored. */
export const SEARCH_QUERY_MAX_WORDS = 32;
/** Longer terms a query word also matches as a prefix. */
const PREFIX_TERMS = 5;
const PREFIX_CHARS = 8;

/**
 * Finds the tools whose names and descriptions best match the words of `query` (BM25 over
 * identifier-split, stemmed words, with a few verb synonyms), best first. An empty query lists the
 * tools in order. The index is built once per tool array (cached in a WeakMap; pass a new array
 * when the tools change). The core answers a program's `searchTools(query, options)` with this.
 *
 * A query may be up to {@linkcode SEARCH_QUERY_MAX_CHARS} characters; of its distinct words the
 * first {@linkcode SEARCH_QUERY_MAX_WORDS} count. Each search costs time linear in the query and
 * in the number of tools, never their product.
 *
 * @example Find the tool that creates issues
 * ```ts
 * import { searchTools } from "@codemode/cli";
 * const tools = [
 *   { name: "github.create_issue", description: "Open a new issue.", inputSchema: {}, execute: () => 1 },
 *   { name: "github.list_commits", description: "List commits.", inputSchema: {}, execute: () => [] },
 * ];
 * searchTools(tools, "open an issue", { detail: "name" });
 * // [{ name: "github.create_issue", namespace: "github" }]
 * ```
 */
export function searchTools(
  tools: readonly Tool[],
  query: string,
  options: SearchToolsOptions = {},
): ToolMatch[] {
  if (typeof query !== "string") {
    throw new TypeError(`searchTools() query must be a string of words, got ${typeof query}`);
  }
  if (query.length > SEARCH_QUERY_MAX_CHARS) {
    throw new RangeError(
      `searchTools() query is ${query.length} characters, over the ${SEARCH_QUERY_MAX_CHARS}-` +
        `character limit: search with a few words that say what the tool does`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `searchTools() options must be an object like { detail, limit }, got ${options}`,
    );
  }
  const detail = options.detail ?? "summary";
  if (detail !== "name" && detail !== "summary" && detail !== "full") {
    throw new TypeError(
      `searchTools() detail must be "name", "summary" or "full", got ${JSON.stringify(detail)}`,
    );
  }
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`searchTools() limit must be a positive integer, got ${String(limit)}`);
  }
  const index = _index(tools);
  return _rank(index, query).slice(0, limit).map((i) => _match(index.entries[i], detail));
}

function _index(tools: readonly Tool[]): Index {
  // The entries are rebuilt when an element of the array changed, so the index follows them.
  const entries = _toolEntries(tools);
  const hit = cache.get(tools);
  if (hit && hit.entries === entries) return hit;
  const postings = new Map<string, { doc: number; tf: number }[]>();
  const lengths: number[] = [];
  const df = new Map<string, number>();
  const names = new Map<string, number>();
  for (const [i, entry] of entries.entries()) {
    const doc = new Map<string, number>();
    let length = 0;
    const add = (text: string, weight: number) => {
      for (const term of _tokenize(text)) {
        doc.set(term, (doc.get(term) ?? 0) + weight);
        length += weight;
      }
    };
    add(entry.member, WEIGHT.member);
    if (entry.namespace !== null) add(entry.namespace, WEIGHT.namespace);
    add(String(entry.tool.description ?? ""), WEIGHT.description);
    const props = (entry.tool.inputSchema as { properties?: unknown } | undefined)?.properties;
    if (typeof props === "object" && props !== null) {
      add(Object.keys(props).join(" "), WEIGHT.parameters);
    }
    for (const [term, tf] of doc) {
      df.set(term, (df.get(term) ?? 0) + 1);
      const list = postings.get(term);
      if (list === undefined) postings.set(term, [{ doc: i, tf }]);
      else list.push({ doc: i, tf });
    }
    lengths.push(length);
    for (const name of [entry.tool.name, entry.path, entry.member]) {
      const key = name.toLowerCase();
      if (!names.has(key)) names.set(key, i);
    }
  }
  const average = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length) || 1;
  const norms = lengths.map((length) => K1 * (1 - B + B * length / average));
  const index = { length: tools.length, entries, postings, norms, df, names };
  cache.set(tools, index);
  return index;
}

/** Indices of matching tools, best first (ties keep tool order). */
function _rank(index: Index, query: string): number[] {
  const words = [...new Set(_tokenize(query))].slice(0, SEARCH_QUERY_MAX_WORDS);
  if (words.length === 0) return index.entries.map((_, i) => i);
  // Query terms with weights: the words themselves, then synonyms and prefixes of longer words.
  const terms = new Map<string, { weight: number; word: number }>();
  const want = (term: string, weight: number, word: number) => {
    if (!index.df.has(term)) return;
    const seen = terms.get(term);
    if (!seen || seen.weight < weight) terms.set(term, { weight, word });
  };
  words.forEach((w, i) => {
    want(w, 1, i);
    for (const s of _synonyms(w)) want(s, 0.5, i);
    if (w.length >= 3) { for (const term of _extending(index, w)) want(term, 0.4, i); }
  });
  const n = index.entries.length;
  // Each query term adds to the tools holding it, in the order of `terms` (so every tool's sum
  // adds up in the same order as term by term per tool); `matched` has a bit per query word.
  const score = new Float64Array(n);
  const matched = new Uint32Array(n);
  const touched: number[] = [];
  for (const [term, { weight, word }] of terms) {
    const df = index.df.get(term) ?? 0;
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    for (const { doc, tf } of index.postings.get(term) ?? []) {
      if (matched[doc] === 0) touched.push(doc);
      score[doc] += weight * idf * (tf * (K1 + 1)) / (tf + index.norms[doc]);
      matched[doc] |= 1 << word;
    }
  }
  const scores: { i: number; score: number }[] = [];
  for (const i of touched) {
    if (score[i] <= 0) continue;
    // Prefer tools that match more of the query's words.
    scores.push({ i, score: score[i] * (0.5 + 0.5 * _bits(matched[i]) / words.length) });
  }
  const exact = index.names.get(query.trim().toLowerCase());
  if (exact !== undefined) {
    const top = scores.find((s) => s.i === exact);
    if (top) top.score += 1e6;
    else scores.push({ i: exact, score: 1e6 });
  }
  scores.sort((a, b) => b.score - a.score || a.i - b.i);
  return scores.map((s) => s.i);
}

function _bits(mask: number): number {
  let count = 0;
  for (let m = mask >>> 0; m !== 0; m &= m - 1) count++;
  return count;
}

/**
 * The first {@linkcode PREFIX_TERMS} terms of the index (in index order) longer than `word` that
 * start with it: a map lookup rather than a scan of every term.
 */
function _extending(index: Index, word: string): string[] {
  const prefixes = index.prefixes ??= _prefixIndex(index.df.keys());
  if (word.length <= PREFIX_CHARS) return prefixes.short.get(word) ?? [];
  const out: string[] = [];
  for (const term of prefixes.long.get(word.slice(0, PREFIX_CHARS)) ?? []) {
    if (term.length > word.length && term.startsWith(word)) out.push(term);
    if (out.length === PREFIX_TERMS) break;
  }
  return out;
}

function _prefixIndex(terms: Iterable<string>): _PrefixIndex {
  const short = new Map<string, string[]>();
  const long = new Map<string, string[]>();
  for (const term of terms) {
    for (let k = 3; k < term.length && k <= PREFIX_CHARS; k++) {
      const prefix = term.slice(0, k);
      const list = short.get(prefix);
      if (list === undefined) short.set(prefix, [term]);
      else if (list.length < PREFIX_TERMS) list.push(term);
    }
    if (term.length > PREFIX_CHARS) {
      const prefix = term.slice(0, PREFIX_CHARS);
      const list = long.get(prefix);
      if (list === undefined) long.set(prefix, [term]);
      else list.push(term);
    }
  }
  return { short, long };
}

/** One tool as a search result at `detail` (`"full"`: with the shape of its results seen so far). */
export function _match(entry: _ToolEntry, detail: "name" | "summary" | "full"): ToolMatch {
  const match: ToolMatch = { name: entry.path, namespace: entry.namespace };
  const description = String(entry.tool.description ?? "");
  if (detail === "summary") {
    match.description = _firstSentence(description, 160);
    match.signature = _toolSignature(entry, "line");
  } else if (detail === "full") {
    match.description = _shorten(description, 4_000);
    match.signature = _toolSignature(entry, "doc", "", entry.path);
  }
  return match;
}
