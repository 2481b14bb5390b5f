/**
 * Glob patterns for the built-in tools, matched without backtracking.
 *
 * A glob compiles to a small automaton (one state per `*`, `?`, literal or set; `{a,b}` becomes
 * a fork, never an expansion) run as a Thompson simulation: every state that could be active is
 * followed at once, so a path costs at most (path length × pattern size) steps whatever the
 * pattern — `{,,,,}*{,,,,}*…` included, which froze a backtracking `RegExp` for hours. The sets
 * of states seen are cached as a small DFA, so a usual glob costs one map lookup per character.
 * The pattern's size and brace nesting are capped.
 *
 * `node:path`'s `matchesGlob` exists in Deno 2.9 but asks for environment access on first use
 * (`__MINIMATCH_TESTING_PLATFORM__`) and backtracks; hence this small matcher.
 *
 * @module
 */

/** The longest glob accepted, in characters. */
export const GLOB_MAX_CHARS = 1_000;
/** The deepest nesting of `{…}` accepted. */
export const GLOB_MAX_BRACE_DEPTH = 16;

/** A compiled glob. */
export interface Glob {
  /** The glob as given. */
  readonly source: string;
  /** Whether the whole of `path` (`/`-separated, relative) matches. */
  test(path: string): boolean;
}

const SLASH = 0x2f;
// State kinds. A consuming state reads one code point; the others only lead elsewhere.
const LITERAL = 0; // the code point `arg`
const SET = 1; // one of `sets[arg]`
const ONE = 2; // "?": any code point but "/"
const STAR = 3; // "*": stays on any code point but "/"; may leave at once
const ANY = 4; // "**" at the end: stays on anything; may leave at once
const DIRS = 5; // "**/": stays on anything, may leave after a "/" (a fork before it skips it)
const FORK = 6; // "{": leads to each alternative (`forks[arg]`)
const JUMP = 7; // the end of an alternative, or a "}": leads to `next`
const MATCH = 8;

/** Sets of states cached as DFA states, per glob; past this, steps are computed each time. */
const MAX_CACHED_STATES = 1_000;
const MAX_CACHED_STEPS = 20_000;

interface _Set {
  negate: boolean;
  /** Inclusive ranges: lo0, hi0, lo1, hi1, … */
  ranges: number[];
}

interface _DfaState {
  ids: number[];
  match: boolean;
  next: Map<number, _DfaState>;
}

/**
 * Compiles a glob over `/`-separated relative paths.
 *
 * - `*` matches any characters except `/`; `?` matches one character except `/`;
 * - `**` as a whole segment matches any number of segments (also none);
 * - `[abc]`, `[a-z]`, `[!abc]` match one character of (or not of) a set;
 * - `{ts,tsx}` matches one of the alternatives (alternatives may hold globs);
 * - `\x` matches `x` literally;
 * - a pattern without `/` matches the file name at any depth (`*.ts` finds `src/a/b.ts`),
 *   like ripgrep's `-g`; a pattern with `/` matches the whole relative path.
 *
 * Characters are code points. Throws a `SyntaxError` naming the pattern when a `[` or `{` is not
 * closed or a range is reversed, and a `RangeError` when it is longer than
 * {@linkcode GLOB_MAX_CHARS} or nests braces deeper than {@linkcode GLOB_MAX_BRACE_DEPTH}.
 *
 * @example Match TypeScript files under src
 * ```ts
 * import { compileGlob } from "./glob.ts";
 * compileGlob(["src", "**", "*.ts"].join("/")).test("src/a/b.ts"); // true
 * compileGlob("*.md").test("docs/intro.md"); // true
 * ```
 */
export function compileGlob(glob: string): Glob {
  if (typeof glob !== "string" || glob.length === 0) {
    throw new TypeError(
      `A glob must be a non-empty string, got ${
        String(JSON.stringify(glob)).slice(0, 100)
      }: pass e.g. "**/*.ts"`,
    );
  }
  if (glob.length > GLOB_MAX_CHARS) {
    throw new RangeError(
      `The glob "${_shown(glob)}" is ${glob.length} characters, over the ${GLOB_MAX_CHARS}-` +
        `character limit: use a shorter pattern (e.g. "*.{ts,md}"), or list in several calls`,
    );
  }
  return new _GlobMatcher(glob);
}

class _GlobMatcher implements Glob {
  readonly source: string;
  #kind: number[] = [];
  #arg: number[] = [];
  #next: number[] = [];
  #sets: _Set[] = [];
  #forks: number[][] = [];
  #start: _DfaState;
  #states = new Map<string, _DfaState>();
  #steps = 0;
  // The states, frozen into typed arrays once parsed.
  #kinds: Uint8Array;
  #args: Int32Array;
  #nexts: Int32Array;
  // Per step: which states were reached (a stamp, so nothing is cleared between steps), and
  // scratch space for the step.
  #seen: Uint32Array;
  #stamp = 0;
  #stack: Int32Array;
  #targets: Int32Array;
  #buffer: Int32Array;

  constructor(glob: string) {
    this.source = glob;
    let pattern = glob;
    while (pattern.startsWith("./")) pattern = pattern.slice(2);
    let end = pattern.length;
    while (end > 0 && pattern[end - 1] === "/") end--;
    const anyDepth = !pattern.slice(0, end).includes("/");
    const start = this.#parse(pattern, glob, anyDepth);
    const size = this.#kind.length;
    this.#kinds = Uint8Array.from(this.#kind);
    this.#args = Int32Array.from(this.#arg);
    this.#nexts = Int32Array.from(this.#next);
    this.#seen = new Uint32Array(size);
    this.#stack = new Int32Array(size);
    this.#targets = new Int32Array(2 * size);
    this.#buffer = new Int32Array(size);
    const length = this.#closure([start], 1, this.#buffer);
    this.#start = this.#state(Array.from(this.#buffer.subarray(0, length)).sort((a, b) => a - b));
  }

  test(path: string): boolean {
    let state = this.#start;
    for (let i = 0; i < path.length; i++) {
      const cp = path.codePointAt(i)!;
      const next = state.next.get(cp);
      if (next === undefined && this.#full()) return this.#simulate(state.ids, path, i);
      state = next ?? this.#advance(state, cp);
      if (state.ids.length === 0) return false;
      if (cp > 0xffff) i++;
    }
    return state.match;
  }

  /** Adds a state; returns its id. `next` is filled in when what follows is known. */
  #add(kind: number, arg: number): number {
    this.#kind.push(kind);
    this.#arg.push(arg);
    this.#next.push(-1);
    return this.#kind.length - 1;
  }

  /**
   * Builds the states for `pattern` (after a "**\/" when `anyDepth`) and returns the first one.
   * Each piece's loose ends (states whose `next` is unset) are linked to the following piece.
   */
  #parse(pattern: string, original: string, anyDepth: boolean): number {
    const fail = (what: string): never => {
      throw new SyntaxError(
        `The glob "${_shown(original)}" has ${what}: close it, or escape it with a backslash to ` +
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
      for (const e of ends) this.#linkTo(e, id);
      if (entry < 0) entry = id;
      ends = [id];
    };
    // "**/": a fork that either skips the loop or enters it; both lead on to what follows.
    const dirs = () => {
      this.#forks.push([]);
      const fork = this.#add(FORK, this.#forks.length - 1);
      link(fork);
      const loop = this.#add(DIRS, 0);
      this.#forks[this.#forks.length - 1].push(loop);
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
          if (j === pattern.length) link(this.#add(ANY, 0));
          else dirs();
          i = j === pattern.length ? j : j + 1;
        } else {
          link(this.#add(STAR, 0));
          i = j;
        }
        continue;
      }
      if (ch === "?") link(this.#add(ONE, 0));
      else if (ch === "\\") {
        if (i + 1 >= pattern.length) fail("a trailing backslash");
        const cp = pattern.codePointAt(i + 1)!;
        link(this.#add(LITERAL, cp));
        i += cp > 0xffff ? 2 : 1;
      } else if (ch === "[") {
        const { set, close } = _parseSet(pattern, i, original, fail);
        this.#sets.push(set);
        link(this.#add(SET, this.#sets.length - 1));
        i = close;
      } else if (ch === "{") {
        if (open.length >= GLOB_MAX_BRACE_DEPTH) {
          throw new RangeError(
            `The glob "${_shown(original)}" nests "{" deeper than ${GLOB_MAX_BRACE_DEPTH} ` +
              `levels: flatten the alternatives`,
          );
        }
        this.#forks.push([]);
        const fork = this.#add(FORK, this.#forks.length - 1);
        link(fork);
        open.push({ fork, done: [] });
      } else if (ch === "," && open.length > 0) {
        const top = open[open.length - 1];
        top.done.push(...this.#closeAlternative(top.fork, ends));
        ends = [top.fork];
      } else if (ch === "}" && open.length > 0) {
        const top = open.pop()!;
        const loose = [...top.done, ...this.#closeAlternative(top.fork, ends)];
        const join = this.#add(JUMP, 0);
        for (const e of loose) this.#linkTo(e, join);
        ends = [join];
      } else {
        const cp = pattern.codePointAt(i)!;
        link(this.#add(LITERAL, cp));
        if (cp > 0xffff) i++;
      }
      i++;
    }
    if (open.length > 0) fail(`an unclosed "{"`);
    const match = this.#add(MATCH, 0);
    for (const e of ends) this.#linkTo(e, match);
    return entry < 0 ? match : entry;
  }

  /** Ends one alternative of `fork`: an empty one leads straight on. Returns its loose ends. */
  #closeAlternative(fork: number, ends: number[]): number[] {
    const alternatives = this.#forks[this.#arg[fork]];
    if (ends.length === 1 && ends[0] === fork) {
      const empty = this.#add(JUMP, 0);
      alternatives.push(empty);
      return [empty];
    }
    return ends;
  }

  #linkTo(from: number, to: number): void {
    if (this.#kind[from] === FORK) {
      // The first state of an alternative: the fork leads to it.
      const alternatives = this.#forks[this.#arg[from]];
      if (!alternatives.includes(to)) alternatives.push(to);
    } else if (this.#next[from] < 0) this.#next[from] = to;
  }

  /** The states reached from `ids` without reading anything: consuming ones and MATCH. */
  #closure(ids: ArrayLike<number>, count: number, out: Int32Array): number {
    const stamp = ++this.#stamp;
    const seen = this.#seen;
    const stack = this.#stack;
    const kinds = this.#kinds;
    const nexts = this.#nexts;
    let sp = 0;
    let length = 0;
    for (let k = 0; k < count; k++) {
      const id = ids[k];
      if (seen[id] !== stamp) (seen[id] = stamp, stack[sp++] = id);
    }
    while (sp > 0) {
      const id = stack[--sp];
      const kind = kinds[id];
      let follow = -1;
      if (kind === FORK) {
        for (const alt of this.#forks[this.#args[id]]) {
          if (seen[alt] !== stamp) (seen[alt] = stamp, stack[sp++] = alt);
        }
      } else if (kind === JUMP) follow = nexts[id];
      else {
        out[length++] = id;
        if (kind === STAR || kind === ANY) follow = nexts[id];
      }
      if (follow >= 0 && seen[follow] !== stamp) (seen[follow] = stamp, stack[sp++] = follow);
    }
    return length;
  }

  /** The states after reading `cp` in states `ids`, closed, into `out`; returns how many. */
  #step(ids: ArrayLike<number>, count: number, cp: number, out: Int32Array): number {
    const targets = this.#targets;
    const kinds = this.#kinds;
    const nexts = this.#nexts;
    const args = this.#args;
    let n = 0;
    for (let k = 0; k < count; k++) {
      const id = ids[k];
      switch (kinds[id]) {
        case LITERAL:
          if (cp === args[id]) targets[n++] = nexts[id];
          break;
        case SET:
          if (_inSet(this.#sets[args[id]], cp)) targets[n++] = nexts[id];
          break;
        case ONE:
          if (cp !== SLASH) targets[n++] = nexts[id];
          break;
        case STAR:
          if (cp !== SLASH) targets[n++] = id;
          break;
        case ANY:
          targets[n++] = id;
          break;
        case DIRS:
          targets[n++] = id;
          if (cp === SLASH) targets[n++] = nexts[id];
          break;
      }
    }
    return this.#closure(targets, n, out);
  }

  /** One step from a cached state, cached in turn while the cache has room. */
  #advance(state: _DfaState, cp: number): _DfaState {
    const length = this.#step(state.ids, state.ids.length, cp, this.#buffer);
    const next = this.#state(Array.from(this.#buffer.subarray(0, length)).sort((a, b) => a - b));
    if (this.#steps < MAX_CACHED_STEPS) {
      state.next.set(cp, next);
      this.#steps++;
    }
    return next;
  }

  #full(): boolean {
    return this.#states.size >= MAX_CACHED_STATES || this.#steps >= MAX_CACHED_STEPS;
  }

  #state(ids: number[]): _DfaState {
    const key = ids.join(",");
    let state = this.#states.get(key);
    if (state === undefined) {
      const match = ids.some((id) => this.#kinds[id] === MATCH);
      state = { ids, match, next: new Map() };
      if (this.#states.size < MAX_CACHED_STATES) this.#states.set(key, state);
    }
    return state;
  }

  /** The rest of `path` from `from`, without the cache (it is full): plain set stepping. */
  #simulate(ids: number[], path: string, from: number): boolean {
    let current = new Int32Array(this.#kind.length);
    let next = new Int32Array(this.#kind.length);
    current.set(ids);
    let count = ids.length;
    for (let i = from; i < path.length && count > 0; i++) {
      const cp = path.codePointAt(i)!;
      count = this.#step(current, count, cp, next);
      [current, next] = [next, current];
      if (cp > 0xffff) i++;
    }
    for (let k = 0; k < count; k++) if (this.#kinds[current[k]] === MATCH) return true;
    return false;
  }
}

/** Parses `[…]` at `open`; returns the set and the index of its `]`. */
function _parseSet(
  pattern: string,
  open: number,
  original: string,
  fail: (what: string) => never,
): { set: _Set; close: number } {
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
          `The glob "${_shown(original)}" has the reversed range "${String.fromCodePoint(lo)}-${
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

function _inSet(set: _Set, cp: number): boolean {
  if (set.negate && cp === SLASH) return false;
  let inside = false;
  for (let k = 0; k < set.ranges.length; k += 2) {
    if (cp >= set.ranges[k] && cp <= set.ranges[k + 1]) {
      inside = true;
      break;
    }
  }
  return inside !== set.negate;
}

function _shown(glob: string): string {
  return glob.length > 100 ? `${glob.slice(0, 100)}…` : glob;
}
