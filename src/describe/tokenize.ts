/**
 * Words for tool search: identifier splitting, stop words, a light stemmer and verb synonyms.
 *
 * @module
 */

const STOP = new Set(
  ("a an and are as at be by can do does for from how i in into is it its me my of on or over " +
    "that the them then this to use used using via was we which will with you your").split(" "),
);

/** Groups of words a query may use for the same thing (stemmed on first use). */
const SYNONYMS: string[][] = [
  ["get", "fetch", "retrieve", "read", "show", "view", "obtain", "load", "open", "lookup"],
  ["list", "enumerate", "browse", "all"],
  ["create", "add", "new", "make", "insert", "open", "register", "upload"],
  ["delete", "remove", "destroy", "drop", "erase", "purge", "trash"],
  ["update", "modify", "edit", "change", "patch", "set", "rename", "replace"],
  ["search", "find", "query", "lookup", "look", "locate", "match", "filter"],
  ["send", "post", "publish", "notify", "message", "email"],
  ["run", "execute", "start", "trigger", "invoke", "launch", "deploy"],
  ["stop", "cancel", "halt", "kill", "terminate", "abort"],
  ["file", "document", "doc"],
  ["user", "member", "person", "people", "account", "contact"],
  ["folder", "directory", "dir"],
  ["repo", "repository", "project"],
  ["download", "export", "save"],
  ["count", "number", "total", "size", "stat", "statistic", "metric"],
];

/** Splits text into lower-case stemmed words: `getUserByID`, `get-user`, `get_user` → get, user. */
export function _tokenize(text: string): string[] {
  const spaced = _splitCase(text).toLowerCase();
  const out: string[] = [];
  for (const word of spaced.split(/[^\p{L}\p{N}]+/u)) {
    if (word && !STOP.has(word)) out.push(_stem(word));
  }
  return out;
}

const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const LOWER_OR_DIGIT = /[\p{Ll}\p{N}]/u;

/**
 * Puts a space where a word starts inside an identifier: before an upper-case letter that follows
 * a lower-case letter or digit (`getUser`), and before the last capital of a run that a
 * lower-case letter follows (`HTMLParser` → `HTML Parser`). One pass over the code points: a
 * regular expression for the second rule (`(\p{Lu}+)(\p{Lu}\p{Ll})`) is quadratic on a long run
 * of capitals.
 */
export function _splitCase(text: string): string {
  const chars = Array.from(text);
  const upper = chars.map((c) => UPPER.test(c));
  let out = "";
  let run = 0; // capitals in a row, up to and including this one
  for (let k = 0; k < chars.length; k++) {
    run = upper[k] ? run + 1 : 0;
    const afterLowerOrDigit = k > 0 && !upper[k - 1] && LOWER_OR_DIGIT.test(chars[k - 1]);
    const lastCapitalOfRun = upper[k] && run >= 2 && k + 1 < chars.length &&
      LOWER.test(chars[k + 1]);
    if (upper[k] && (afterLowerOrDigit || lastCapitalOfRun)) out += " ";
    out += chars[k];
  }
  return out;
}

/** A light suffix stripper: plural, -ing, -ed and a final -e, so create/created/creating meet. */
export function _stem(word: string): string {
  let w = word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith("ies") && w.length > 4) w = w.slice(0, -3) + "y";
  else if (/(?:ss|x|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith("ing") && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith("ed") && w.length > 4) w = w.slice(0, -2);
  if (/([b-df-hj-kmnp-rtv-z])\1$/.test(w) && w.length > 3) w = w.slice(0, -1);
  if (w.endsWith("e") && w.length > 3) w = w.slice(0, -1);
  return w;
}

let synonymIndex: Map<string, string[]> | undefined;

/** Other stemmed words for the same thing as the stemmed `term` (empty when none). */
export function _synonyms(term: string): string[] {
  if (!synonymIndex) {
    synonymIndex = new Map();
    for (const group of SYNONYMS) {
      const stems = [...new Set(group.map(_stem))];
      for (const s of stems) {
        const others = stems.filter((o) => o !== s);
        synonymIndex.set(s, [...new Set([...(synonymIndex.get(s) ?? []), ...others])]);
      }
    }
  }
  return synonymIndex.get(term) ?? [];
}
