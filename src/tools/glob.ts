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

import {
  _ANY,
  _DIRS,
  _FORK,
  _globAutomaton,
  type _GlobSet,
  _inSet,
  _JUMP,
  _LITERAL,
  _MATCH,
  _ONE,
  _SET,
  _shownGlob,
  _SLASH,
  _STAR,
  GLOB_MAX_BRACE_DEPTH,
} from "./glob_automaton.ts";

export { GLOB_MAX_BRACE_DEPTH };

/** The longest glob accepted, in characters. */
export const GLOB_MAX_CHARS = 1_000;

/** A compiled glob. */
export interface Glob {
  /** The glob as given. */
  readonly source: string;
  /** Whether the whole of `path` (`/`-separated, relative) matches. */
  test(path: string): boolean;
}

/** Sets of states cached as DFA states, per glob; past this, steps are computed each time. */
const MAX_CACHED_STATES = 1_000;
const MAX_CACHED_STEPS = 20_000;

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
      `The glob "${_shownGlob(glob)}" is ${glob.length} characters, over the ${GLOB_MAX_CHARS}-` +
        `character limit: use a shorter pattern (e.g. "*.{ts,md}"), or list in several calls`,
    );
  }
  return new _GlobMatcher(glob);
}

class _GlobMatcher implements Glob {
  readonly source: string;
  #kinds: Uint8Array;
  #args: Int32Array;
  #nexts: Int32Array;
  #sets: _GlobSet[];
  #forks: number[][];
  #start: _DfaState;
  #states = new Map<string, _DfaState>();
  #steps = 0;
  // Per step: which states were reached (a stamp, so nothing is cleared between steps), and
  // scratch space for the step.
  #seen: Uint32Array;
  #stamp = 0;
  #stack: Int32Array;
  #targets: Int32Array;
  #buffer: Int32Array;

  constructor(glob: string) {
    this.source = glob;
    const automaton = _globAutomaton(glob);
    this.#kinds = automaton.kinds;
    this.#args = automaton.args;
    this.#nexts = automaton.nexts;
    this.#sets = automaton.sets;
    this.#forks = automaton.forks;
    const size = this.#kinds.length;
    this.#seen = new Uint32Array(size);
    this.#stack = new Int32Array(size);
    this.#targets = new Int32Array(2 * size);
    this.#buffer = new Int32Array(size);
    const length = this.#closure([automaton.start], 1, this.#buffer);
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

  /** The states reached from `ids` without reading anything: consuming ones and _MATCH. */
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
      if (kind === _FORK) {
        for (const alt of this.#forks[this.#args[id]]) {
          if (seen[alt] !== stamp) (seen[alt] = stamp, stack[sp++] = alt);
        }
      } else if (kind === _JUMP) follow = nexts[id];
      else {
        out[length++] = id;
        if (kind === _STAR || kind === _ANY) follow = nexts[id];
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
        case _LITERAL:
          if (cp === args[id]) targets[n++] = nexts[id];
          break;
        case _SET:
          if (_inSet(this.#sets[args[id]], cp)) targets[n++] = nexts[id];
          break;
        case _ONE:
          if (cp !== _SLASH) targets[n++] = nexts[id];
          break;
        case _STAR:
          if (cp !== _SLASH) targets[n++] = id;
          break;
        case _ANY:
          targets[n++] = id;
          break;
        case _DIRS:
          targets[n++] = id;
          if (cp === _SLASH) targets[n++] = nexts[id];
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
      const match = ids.some((id) => this.#kinds[id] === _MATCH);
      state = { ids, match, next: new Map() };
      if (this.#states.size < MAX_CACHED_STATES) this.#states.set(key, state);
    }
    return state;
  }

  /** The rest of `path` from `from`, without the cache (it is full): plain set stepping. */
  #simulate(ids: number[], path: string, from: number): boolean {
    let current = new Int32Array(this.#kinds.length);
    let next = new Int32Array(this.#kinds.length);
    current.set(ids);
    let count = ids.length;
    for (let i = from; i < path.length && count > 0; i++) {
      const cp = path.codePointAt(i)!;
      count = this.#step(current, count, cp, next);
      [current, next] = [next, current];
      if (cp > 0xffff) i++;
    }
    for (let k = 0; k < count; k++) if (this.#kinds[current[k]] === _MATCH) return true;
    return false;
  }
}
