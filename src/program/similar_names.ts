/**
 * "Did you mean" suggestions: the candidates closest to a misspelt name.
 *
 * @module
 */

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function _editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  let current = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length];
}

const _fold = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");

/**
 * The candidates close to `name`, best first: the same letters ignoring case and separators,
 * one contains the other, or an edit distance of at most a third of the name's length (at least 2).
 */
export function _closeNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const folded = _fold(name);
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of candidates) {
    const other = _fold(candidate);
    let score: number;
    if (other === folded) score = 0;
    else if (folded.length >= 3 && (other.includes(folded) || folded.includes(other))) {
      score = 1 + Math.abs(other.length - folded.length) / 100;
    } else {
      const distance = _editDistance(folded, other);
      if (distance > Math.max(2, Math.floor(folded.length / 3))) continue;
      score = 1 + distance;
    }
    scored.push({ candidate, score });
  }
  scored.sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate));
  return scored.slice(0, limit).map((s) => s.candidate);
}
