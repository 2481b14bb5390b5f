/**
 * The automaton a glob compiles to (`glob.ts` runs it): one state per `*`, `?`, literal or set,
 * a fork per `{` and a jump per alternative's end — braces are never expanded, so the automaton
 * has at most a few states per character of the glob.
 *
 * @module
 */

/** The deepest nesting of `{…}` accepted. */
export const GLOB_MAX_BRACE_DEPTH = 16;

export const _SLASH = 0x2f;
// State kinds. A consuming state reads one code point; the others only lead elsewhere.
/** The code point `arg`. */
export const _LITERAL = 0;
/** One of `sets[arg]`. */
export const _SET = 1;
/** "?": any code point but "/". */
export const _ONE = 2;
/** "*": stays on any code point but "/"; may leave at once. */
export const _STAR = 3;
/** "**" at the end: stays on anything; may leave at once. */
export const _ANY = 4;
/** "**\/": stays on anything, may leave after a "/" (a fork before it skips it). */
export const _DIRS = 5;
/** "{": leads to each alternative (`forks[arg]`). */
export const _FORK = 6;
/** The end of an alternative, or a "}": leads to `next`. */
export const _JUMP = 7;
export const _MATCH = 8;

/** A `[…]` set. */
export interface _GlobSet {
  negate: boolean;
  /** Inclusive ranges: lo0, hi0, lo1, hi1, … */
  ranges: number[];
}

/** The states of a glob, by id: kind, argument and the state that follows. */
export interface _GlobAutomaton {
  kinds: Uint8Array;
  args: Int32Array;
  nexts: Int32Array;
  sets: _GlobSet[];
  forks: number[][];
  /** The first state. */
  start: number;
}

/**
 * Builds the automaton of `glob` (a leading `./` dropped; a glob without `/` matches at any
 * depth). Throws a `SyntaxError` naming the glob when a `[` or `{` is not closed or a range is
 * reversed, and a `RangeError` when braces nest deeper than {@linkcode GLOB_MAX_BRACE_DEPTH}.
 */
export function _globAutomaton(glob: string): _GlobAutomaton {
  let pattern = glob;
  while (pattern.startsWith("./")) pattern = pattern.slice(2);
  let end = pattern.length;
  while (end > 0 && pattern[end - 1] === "/") end--;
  const builder = new _Builder();
  const start = builder.parse(pattern, glob, !pattern.slice(0, end).includes("/"));
  return {
    kinds: Uint8Array.from(builder.kind),
    args: Int32Array.from(builder.arg),
    nexts: Int32Array.from(builder.next),
    sets: builder.sets,
    forks: builder.forks,
    start,
  };
}

class _Builder {
  kind: number[] = [];
  arg: number[] = [];
  next: number[] = [];
  sets: _GlobSet[] = [];
  forks: number[][] = [];

  /** Adds a state; returns its id. `next` is filled in when what follows is known. */
  add(kind: number, arg: number): number {
    this.kind.push(kind);
    this.arg.push(arg);
    this.next.push(-1);
    return this.kind.length - 1;
  }

  /**
   * Builds the states for `pattern` (after a "**\/" when `anyDepth`) and returns the first one.
   * Each piece's loose ends (states whose `next` is unset) are linked to the following piece.
   */
  parse(pattern: string, original: string, anyDepth: boolean): number {
    const fail = (what: string): never => {
      throw new SyntaxError(
        `The glob "${
          _shownGlob(original)
        }" has ${what}: close it, or escape it with a backslash to ` +
          `match it literally`,
      );
    };
    let entry = -1;
    // Loose ends of what was built so far, waiting for the next state (a fork: its next
    // alternative starts here).
    let ends: number[] = [];
    // Open braces: the fork and the loose ends of the alternatives already closed by ",".
    const open: { fork: number; done: number[] }[] = [];
    const link = (id: number) => {
      for (const e of ends) this.linkTo(e, id);
      if (entry < 0) entry = id;
      ends = [id];
    };
    // "**/": a fork that either skips the loop or enters it; both lead on to what follows.
    const dirs = () => {
      this.forks.push([]);
      const fork = this.add(_FORK, this.forks.length - 1);
      link(fork);
      const loop = this.add(_DIRS, 0);
      this.forks[this.forks.length - 1].push(loop);
      ends = [fork, loop];
    };
    if (anyDepth) dirs();
    let i = 0;
    while (i < pattern.length) {
      const ch = pattern[i];
      if (ch === "*") {
        let j = i;
        while (pattern[j] === "*") j++;
        const segmentStart = i === 0 || pattern[i - 1] === "/";
        const segmentEnd = j === pattern.length || pattern[j] === "/";
        if (j - i >= 2 && segmentStart && segmentEnd) {
          // "**" at the end: anything; "**/": zero or more whole segments.
          if (j === pattern.length) link(this.add(_ANY, 0));
          else dirs();
          i = j === pattern.length ? j : j + 1;
        } else {
          link(this.add(_STAR, 0));
          i = j;
        }
        continue;
      }
      if (ch === "?") link(this.add(_ONE, 0));
      else if (ch === "\\") {
        if (i + 1 >= pattern.length) fail("a trailing backslash");
        const cp = pattern.codePointAt(i + 1)!;
        link(this.add(_LITERAL, cp));
        i += cp > 0xffff ? 2 : 1;
      } else if (ch === "[") {
        const { set, close } = _parseSet(pattern, i, original, fail);
        this.sets.push(set);
        link(this.add(_SET, this.sets.length - 1));
        i = close;
      } else if (ch === "{") {
        if (open.length >= GLOB_MAX_BRACE_DEPTH) {
          throw new RangeError(
            `The glob "${_shownGlob(original)}" nests "{" deeper than ${GLOB_MAX_BRACE_DEPTH} ` +
              `levels: flatten the alternatives`,
          );
        }
        this.forks.push([]);
        const fork = this.add(_FORK, this.forks.length - 1);
        link(fork);
        open.push({ fork, done: [] });
      } else if (ch === "," && open.length > 0) {
        const top = open[open.length - 1];
        top.done.push(...this.closeAlternative(top.fork, ends));
        ends = [top.fork];
      } else if (ch === "}" && open.length > 0) {
        const top = open.pop()!;
        const loose = [...top.done, ...this.closeAlternative(top.fork, ends)];
        const join = this.add(_JUMP, 0);
        for (const e of loose) this.linkTo(e, join);
        ends = [join];
      } else {
        const cp = pattern.codePointAt(i)!;
        link(this.add(_LITERAL, cp));
        if (cp > 0xffff) i++;
      }
      i++;
    }
    if (open.length > 0) fail(`an unclosed "{"`);
    const match = this.add(_MATCH, 0);
    for (const e of ends) this.linkTo(e, match);
    return entry < 0 ? match : entry;
  }

  /** Ends one alternative of `fork`: an empty one leads straight on. Returns its loose ends. */
  closeAlternative(fork: number, ends: number[]): number[] {
    const alternatives = this.forks[this.arg[fork]];
    if (ends.length === 1 && ends[0] === fork) {
      const empty = this.add(_JUMP, 0);
      alternatives.push(empty);
      return [empty];
    }
    return ends;
  }

  linkTo(from: number, to: number): void {
    if (this.kind[from] === _FORK) {
      // The first state of an alternative: the fork leads to it.
      const alternatives = this.forks[this.arg[from]];
      if (!alternatives.includes(to)) alternatives.push(to);
    } else if (this.next[from] < 0) this.next[from] = to;
  }
}

/** Parses `[…]` at `open`; returns the set and the index of its `]`. */
function _parseSet(
  pattern: string,
  open: number,
  original: string,
  fail: (what: string) => never,
): { set: _GlobSet; close: number } {
  let j = open + 1;
  let negate = false;
  if (pattern[j] === "!" || pattern[j] === "^") (negate = true, j++);
  const chars: number[] = [];
  const ranges: number[] = [];
  const read = (): number => {
    if (pattern[j] === "\\" && j + 1 < pattern.length) j++;
    const cp = pattern.codePointAt(j)!;
    j += cp > 0xffff ? 2 : 1;
    return cp;
  };
  let firstChar = true;
  while (j < pattern.length && (pattern[j] !== "]" || firstChar)) {
    firstChar = false;
    const lo = read();
    if (pattern[j] === "-" && j + 1 < pattern.length && pattern[j + 1] !== "]") {
      j++;
      const hi = read();
      if (hi < lo) {
        throw new SyntaxError(
          `The glob "${_shownGlob(original)}" has the reversed range "${String.fromCodePoint(lo)}-${
            String.fromCodePoint(hi)
          }": write the lower character first`,
        );
      }
      ranges.push(lo, hi);
    } else chars.push(lo);
  }
  if (j >= pattern.length) fail(`an unclosed "[" at position ${open + 1}`);
  for (const c of chars) ranges.push(c, c);
  return { set: { negate, ranges }, close: j };
}

export function _inSet(set: _GlobSet, cp: number): boolean {
  if (set.negate && cp === _SLASH) return false;
  let inside = false;
  for (let k = 0; k < set.ranges.length; k += 2) {
    if (cp >= set.ranges[k] && cp <= set.ranges[k + 1]) {
      inside = true;
      break;
    }
  }
  return inside !== set.negate;
}

/** A glob as shown in an error: cut at 100 characters. */
export function _shownGlob(glob: string): string {
  return glob.length > 100 ? `${glob.slice(0, 100)}…` : glob;
}
