/**
 * Short JSDoc comments and description shortening for generated declarations.
 *
 * @module
 */

/**
 * Collapses whitespace and cuts `text` to at most `max` characters: at the last sentence end
 * that fits, else at the last word boundary, marked with `…`.
 */
export function _shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const head = flat.slice(0, max);
  const sentence = head.search(/[.!?](?=\s[^.!?]*$)/);
  if (sentence >= max * 0.5) return head.slice(0, sentence + 1);
  const space = head.lastIndexOf(" ");
  return (space > max * 0.5 ? head.slice(0, space) : head.slice(0, max - 1)).trimEnd() + "…";
}

/** The first sentence of `text` (at most `max` characters). */
export function _firstSentence(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const end = flat.search(/[.!?](\s|$)/);
  return _shorten(end >= 0 ? flat.slice(0, end + 1) : flat, max);
}

/**
 * A one-line JSDoc comment (`/** text *\/`) for `text`, shortened to `max` characters, or `""`
 * when there is nothing to say. A `*\/` inside the text cannot end the comment early.
 */
export function _jsDoc(text: string, max: number): string {
  const short = _shorten(text, max).replaceAll("*/", "*\\/");
  return short ? `/** ${short} */` : "";
}
