/**
 * "Did you mean" suggestions: the candidates closest to a misspelt name.
 *
 * @module
 */

/**
 * Edit distance (insertions, deletions, substitutions) between two strings; with `max`, any
 * distance over it is answered as `max + 1` as soon as it is certain (a row with nothing at or
 * under `max`), so a far candidate costs little.
 */
export function _editDistance(a: string, b: string, max = Infinity): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Only cells within `max` of the diagonal can hold a distance at or under `max`.
  let previous = Array.from({ length: b.length + 1 }, (_, j) => (j <= max ? j : Infinity));
  let current = new Array<number>(b.length + 1).fill(Infinity);
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    current[from - 1] = from === 1 ? i : Infinity;
    let best = current[from - 1];
    for (let j = from; j <= to; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (current[j] < best) best = current[j];
    }
    if (to < b.length) current[to + 1] = Infinity;
    if (best > max) return max + 1;
    [previous, current] = [current, previous];
  }
  return Math.min(previous[b.length], max + 1);
}

/** Folded candidates, kept between calls: the names asked about repeat (a tool set's names). */
const folds = new Map<string, string>();
/** How many folded names are kept before the cache starts over. */
const MAX_FOLDS = 10_000;

/** Lower case, letters and digits only: how names are compared. */
const _foldText = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");

function _fold(s: string): string {
  let folded = folds.get(s);
  if (folded === undefined) {
    folded = _foldText(s);
    if (folds.size >= MAX_FOLDS) folds.clear();
    folds.set(s, folded);
  }
  return folded;
}

/** Buckets of the letter counts that bound an edit distance from below. */
const BUCKETS = 64;

/** `text`'s letters counted into {@linkcode BUCKETS} buckets (by code unit). */
function _letterCounts(text: string, into: Int32Array): Int32Array {
  into.fill(0);
  for (let i = 0; i < text.length; i++) into[text.charCodeAt(i) % BUCKETS]++;
  return into;
}

/**
 * A lower bound of the edit distance between two strings from their letter counts: an insertion
 * or deletion changes one count by one, a substitution two. Shared buckets only lower it.
 */
function _countsBound(a: Int32Array, b: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < BUCKETS; i++) sum += Math.abs(a[i] - b[i]);
  return Math.ceil(sum / 2);
}

/**
 * The candidates close to `name`, best first: the same letters ignoring case and separators,
 * one contains the other, or an edit distance of at most a third of the name's length (at least 2).
 */
export function _closeNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const folded = _foldText(name);
  const bound = Math.max(2, Math.floor(folded.length / 3));
  const counts = _letterCounts(folded, new Int32Array(BUCKETS));
  const scratch = new Int32Array(BUCKETS);
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of candidates) {
    const other = _fold(candidate);
    let score: number;
    if (other === folded) score = 0;
    else if (folded.length >= 3 && (other.includes(folded) || folded.includes(other))) {
      score = 1 + Math.abs(other.length - folded.length) / 100;
    } else {
      // Most candidates are far: their letters alone say so, without the distance table.
      if (_countsBound(counts, _letterCounts(other, scratch)) > bound) continue;
      const distance = _editDistance(folded, other, bound);
      if (distance > bound) continue;
      score = 1 + distance;
    }
    scored.push({ candidate, score });
  }
  scored.sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate));
  return scored.slice(0, limit).map((s) => s.candidate);
}
