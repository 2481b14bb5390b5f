/**
 * A small reader for the version 3 source maps TypeScript emits: Base64 VLQ decoding of the
 * `mappings` field and lookups in both directions. All positions here are 0-based.
 *
 * @module
 */

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) DIGIT[BASE64.charCodeAt(i)] = i;

/** A 0-based line and column. */
export interface _Position {
  /** 0-based line. */
  line: number;
  /** 0-based column in UTF-16 code units. */
  column: number;
}

/**
 * The decoded mappings of a single-source map. Each generated line holds triples
 * `[generatedColumn, sourceLine, sourceColumn]`, in generated-column order; `sourceLine` is -1
 * for a segment that maps to no source.
 */
export class _SourceMap {
  readonly #lines: Int32Array[];

  private constructor(lines: Int32Array[]) {
    this.#lines = lines;
  }

  /** Decodes the `mappings` string of a source map (the single-source case TypeScript emits). */
  static decode(mappings: string): _SourceMap {
    const lines: Int32Array[] = [];
    let line: number[] = [];
    let sourceLine = 0, sourceColumn = 0, column = 0;
    const fields: number[] = [];
    let value = 0, shift = 0;
    const endSegment = () => {
      if (fields.length === 0) return;
      column += fields[0];
      if (fields.length >= 4) {
        sourceLine += fields[2];
        sourceColumn += fields[3];
        line.push(column, sourceLine, sourceColumn);
      } else {
        line.push(column, -1, -1);
      }
      fields.length = 0;
    };
    for (let i = 0; i <= mappings.length; i++) {
      const c = i < mappings.length ? mappings.charCodeAt(i) : 0x3b; // a final ";"
      if (c === 0x3b /* ; */ || c === 0x2c /* , */) {
        endSegment();
        if (c === 0x3b) {
          lines.push(Int32Array.from(line));
          line = [];
          column = 0;
        }
        continue;
      }
      const digit = c < 128 ? DIGIT[c] : -1;
      if (digit < 0) {
        throw new SyntaxError(`Invalid character ${JSON.stringify(mappings[i])} in source map`);
      }
      value += (digit & 31) * 2 ** shift;
      if (digit & 32) {
        shift += 5;
        continue;
      }
      fields.push(value % 2 === 1 ? -Math.floor(value / 2) : value / 2);
      value = 0;
      shift = 0;
    }
    if (lines.length > 0 && lines[lines.length - 1].length === 0 && mappings.endsWith(";")) {
      lines.pop();
    }
    return new _SourceMap(lines);
  }

  /**
   * The source position of a generated position: the segment starting at that column, or the
   * nearest one before it on the same line plus the distance (kept before the next segment's
   * source column). Undefined before the first segment of a line or where nothing maps.
   */
  toSource(line: number, column: number): _Position | undefined {
    const segments = this.#lines[line];
    if (!segments || segments.length === 0 || column < segments[0]) return undefined;
    let lo = 0, hi = segments.length / 3 - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid * 3] <= column) lo = mid;
      else hi = mid - 1;
    }
    const at = lo * 3;
    const sourceLine = segments[at + 1];
    if (sourceLine < 0) return undefined;
    let sourceColumn = segments[at + 2] + (column - segments[at]);
    const next = at + 3;
    if (
      next < segments.length && segments[next + 1] === sourceLine &&
      segments[next + 2] > segments[at + 2]
    ) {
      sourceColumn = Math.min(sourceColumn, segments[next + 2] - 1);
    }
    return { line: sourceLine, column: sourceColumn };
  }

  /** The first generated position mapped exactly to a source position, if any. */
  toGenerated(sourceLine: number, sourceColumn: number): _Position | undefined {
    for (let line = 0; line < this.#lines.length; line++) {
      const segments = this.#lines[line];
      for (let i = 0; i < segments.length; i += 3) {
        if (segments[i + 1] === sourceLine && segments[i + 2] === sourceColumn) {
          return { line, column: segments[i] };
        }
      }
    }
    return undefined;
  }
}
