/**
 * Learning the shapes of tool results: for each tool without an `outputSchema`, the type of
 * results seen so far (merged across calls) and a short example, shown in its declaration's JSDoc
 * as `@returns seen: …` — documentation only, so a shape that is wrong next time never refuses a
 * program. Shapes persist in a cache (`shape_cache.ts`), keyed by tool name and a hash of its
 * description and input schema, so the next session starts knowing them.
 *
 * The hook is each tool's `execute`, wrapped when the tool set is built: a sampled result (the
 * first few per tool and process, then one in {@linkcode EVERY}) is looked at in a microtask after
 * it is delivered, with a bounded walk; a synchronous tool stays synchronous.
 *
 * @module
 */

import type { Tool, ToolContext } from "../types.ts";
import { _mergeShapes, type _Shape, _shapeOf } from "./result_shape.ts";
import {
  type _CachedShape,
  _defaultCacheDir,
  _MAX_KEY,
  _readShapeCache,
  _writeShapeCache,
} from "./shape_cache.ts";
import { _exampleText, _shapeText } from "./shape_text.ts";
import { _isThenable } from "../run/call_checks.ts";

/** What the description shows of a tool's results. */
export interface _Learned {
  /** The observed type, e.g. `{ id: string; tags?: string[] }`. */
  type: string;
  /** A short example value. */
  example: string;
}

/** Where a wrapped tool keeps the way to its learned shape (not a string key: never enumerated). */
const LEARNED: unique symbol = Symbol("codemode learned shape");

/** Results looked at per tool and process before sampling thins out. */
const FIRST = 8;
/** After the first ones, one result in this many is looked at. */
const EVERY = 64;

/** The learned shape of a tool from a learning tool set, if any result was seen. */
export function _learnedOf(tool: Tool): _Learned | undefined {
  return (tool as { [LEARNED]?: () => _Learned | undefined })[LEARNED]?.();
}

/**
 * The learned shapes of one CodeMode's tools. `cacheDir` null keeps them in memory only;
 * undefined uses {@linkcode _defaultCacheDir}.
 */
export class _LearnedShapes {
  #dir: string | null;
  #entries: Map<string, _CachedShape>;
  #texts = new Map<string, _Learned>();
  #calls = new Map<string, number>();
  #listeners = new Set<() => void>();
  #notifying = false;
  #dirty = false;
  #saving?: Promise<void>;
  #again = false;
  #closing?: Promise<void>;
  #changes = 0;

  constructor(cacheDir?: string | null) {
    this.#dir = cacheDir === undefined ? _defaultCacheDir() : cacheDir;
    this.#entries = this.#dir === null ? new Map() : _readShapeCache(this.#dir);
  }

  /** How many times a shape appeared or changed: what was described before is stale past it. */
  get changes(): number {
    return this.#changes;
  }

  /**
   * The tools, each without an `outputSchema` wrapped so its results are learned: a new object
   * whose prototype is the tool, with its own `execute`. Anything else is returned as it is
   * (malformed definitions too, for the registry to refuse).
   */
  wrap(tools: readonly Tool[]): Tool[] {
    return tools.map((tool) => this.#wrap(tool));
  }

  /** Calls `listener` (once per burst) when a shape is first learned or changes. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Writes what is not saved yet and stops saving. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      await this.#saving;
      if (this.#dirty) await this.#write();
    })();
    return this.#closing;
  }

  #wrap(tool: Tool): Tool {
    if (typeof tool !== "object" || tool === null || typeof tool.execute !== "function") {
      return tool;
    }
    if (tool.outputSchema !== undefined || typeof tool.name !== "string") return tool;
    const key = _shapeKey(tool);
    if (key === undefined) return tool;
    const mcp = tool.mcpContent === true;
    const execute = (input: unknown, context: ToolContext): unknown => {
      const value = tool.execute(input, context);
      if (this.#sample(key)) {
        // Looked at after the result is on its way: a microtask later (never a hop on its path).
        const look = (v: unknown) => queueMicrotask(() => this.#observe(key, v, mcp));
        if (value instanceof Promise) value.then(look, () => {});
        else if (!_isThenable(value)) look(value);
      }
      return value;
    };
    return Object.create(tool, {
      execute: { value: execute, enumerable: true },
      [LEARNED]: { value: () => this.#learned(key) },
    });
  }

  #sample(key: string): boolean {
    const n = this.#calls.get(key) ?? 0;
    this.#calls.set(key, n + 1);
    return n < FIRST || n % EVERY === 0;
  }

  #observe(key: string, value: unknown, mcp: boolean): void {
    let shape: _Shape;
    try {
      shape = _shapeOf(value, mcp);
    } catch {
      return; // a value that cannot be looked at (a throwing getter) teaches nothing
    }
    const at = Date.now();
    const old = this.#entries.get(key);
    const merged = old ? _mergeShapes(old.shape, shape) : shape;
    if (old && JSON.stringify(merged) === JSON.stringify(old.shape)) {
      old.at = at;
      this.#dirty = true; // saved at close, so shapes in use are not the first dropped
      return;
    }
    this.#entries.set(key, { shape: merged, example: _exampleText(value), at });
    this.#texts.delete(key);
    this.#changes++;
    this.#dirty = true;
    this.#save();
    if (!this.#notifying && this.#listeners.size > 0) {
      this.#notifying = true;
      queueMicrotask(() => {
        this.#notifying = false;
        for (const listener of [...this.#listeners]) {
          try {
            listener();
          } catch {
            // A failing listener must not keep the others from hearing.
          }
        }
      });
    }
  }

  #learned(key: string): _Learned | undefined {
    let text = this.#texts.get(key);
    if (text === undefined) {
      const entry = this.#entries.get(key);
      if (entry === undefined) return undefined;
      text = { type: _shapeText(entry.shape), example: entry.example };
      this.#texts.set(key, text);
    }
    return text;
  }

  /** Starts a write, or asks the one under way to write again when it is done. */
  #save(): void {
    if (this.#dir === null || this.#closing) return;
    if (this.#saving) {
      this.#again = true;
      return;
    }
    this.#saving = (async () => {
      do {
        this.#again = false;
        await this.#write();
      } while (this.#again);
    })().finally(() => this.#saving = undefined);
  }

  async #write(): Promise<void> {
    if (this.#dir === null) return;
    this.#dirty = false;
    await _writeShapeCache(this.#dir, this.#entries);
  }
}

/**
 * The cache key of a tool: its name and a hash of its description and input schema, so a tool
 * that changes is learned afresh; undefined when the schema cannot be serialised.
 */
export function _shapeKey(tool: Tool): string | undefined {
  let text: string;
  try {
    text = JSON.stringify([tool.description ?? "", tool.inputSchema ?? null]);
  } catch {
    return undefined;
  }
  const key = `${tool.name} ${_hash(text)}`;
  return key.length <= _MAX_KEY ? key : undefined;
}

/** A 64-bit FNV-1a-style hash of `text` as 16 hex digits (not cryptographic; a cache key). */
function _hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (a >>> 13);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return hex(a) + hex(b);
}
