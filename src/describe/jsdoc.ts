/**
 * Short JSDoc comments and description shortening for generated declarations.
 *
 * @module
 */

/**
 * A sentence end: `.`, `!` or `?` before white space and something that can start a sentence
 * (not a lower-case letter: `e.g. a glob` goes on), and not the end of a common abbreviation.
 */
const SENTENCE_END = /(?<!\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|[A-Za-z]))[.!?](?=\s+[^\s\p{Ll}])/gu;

/** Past this many times `max`, a text with no sentence end is cut between words after all. */
const HARD_CAP = 3;

/** The end offsets of the sentences in `text` (after the `.`), up to `limit` characters. */
function _sentenceEnds(text: string, limit: number): number[] {
  const ends: number[] = [];
  // A few characters past the limit, for the look-ahead (white space is already collapsed).
  for (const m of text.slice(0, limit + 3).matchAll(SENTENCE_END)) {
    if (m.index < limit) ends.push(m.index + 1);
  }
  return ends;
}

/**
 * Collapses whitespace and shortens `text` to whole sentences within `max` characters, marked
 * with ` …`. A first sentence longer than `max` is kept whole up to three times `max`; only past
 * that (text without sentence ends) is it cut at a word boundary, marked with `…`.
 */
export function _shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const ends = _sentenceEnds(flat, max * HARD_CAP);
  const within = ends.filter((e) => e <= max).at(-1);
  const cut = within ?? ends[0];
  if (cut !== undefined) return `${flat.slice(0, cut)} …`;
  const head = flat.slice(0, max);
  const space = head.lastIndexOf(" ");
  return (space > max * 0.5 ? head.slice(0, space) : head.slice(0, max - 1)).trimEnd() + "…";
}

/** The first sentence of `text` (shortened like {@linkcode _shorten} when longer than `max`). */
export function _firstSentence(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const [end] = _sentenceEnds(flat, max * HARD_CAP);
  return _shorten(end === undefined ? flat : flat.slice(0, end), max);
}

/** `text` as a one-line JSDoc comment (`/** text *\/`), or `""` for no text; `*\/` is escaped. */
export function _comment(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim().replaceAll("*/", "*\\/");
  return flat ? `/** ${flat} */` : "";
}

/**
 * A one-line JSDoc comment (`/** text *\/`) for `text`, shortened to `max` characters, or `""`
 * when there is nothing to say. A `*\/` inside the text cannot end the comment early.
 */
export function _jsDoc(text: string, max: number): string {
  return _comment(_shorten(text, max));
}
