/**
 * Reading a sandbox process's stderr on the host: chunks (`[magic][token][slot][length][bytes]`)
 * found and checked in one pass, stray bytes skipped, and each slot's chunks joined into its
 * record stream (`[u32 length][u8 kind][body]`). Linear in what was read; a record longer than
 * its stream allows is refused unread.
 *
 * @module
 */

import { _WIRE } from "./protocol.ts";

/** Splits stderr into chunks; bytes that are not a chunk (diagnostics) go to `onStray`. */
export class _ChunkReader {
  #token: Uint8Array;
  #pending: Uint8Array = new Uint8Array(0);
  /** Bytes seen that were not chunks. */
  strayBytes = 0;

  constructor(token: Uint8Array) {
    this.#token = token;
  }

  /**
   * Hands each whole chunk's slot and payload to `onChunk` (the payload is only valid then), and
   * bytes that belong to no chunk to `onStray`.
   */
  push(
    bytes: Uint8Array,
    onChunk: (slot: number, payload: Uint8Array) => void,
    onStray: (bytes: Uint8Array) => void = () => {},
  ): void {
    let buf = bytes;
    if (this.#pending.length > 0) {
      buf = new Uint8Array(this.#pending.length + bytes.length);
      buf.set(this.#pending);
      buf.set(bytes, this.#pending.length);
    }
    const header = _WIRE.chunkHeaderBytes;
    let at = 0;
    while (buf.length - at >= header) {
      if (!this.#isHeader(buf, at)) {
        const next = this.#findHeader(buf, at + 1);
        const skip = (next < 0 ? buf.length - header + 1 : next) - at;
        this.strayBytes += skip;
        onStray(buf.subarray(at, at + skip));
        at += skip;
        continue;
      }
      const slot = (buf[at + 20] << 8) | buf[at + 21];
      const length = (buf[at + 22] << 8) | buf[at + 23];
      if (length > _WIRE.chunkBytes - header) {
        // Not a chunk the sandbox writes: skip its header.
        this.strayBytes += 1;
        onStray(buf.subarray(at, at + 1));
        at += 1;
        continue;
      }
      if (buf.length - at < header + length) break;
      onChunk(slot, buf.subarray(at + header, at + header + length));
      at += header + length;
    }
    this.#pending = at < buf.length ? buf.slice(at) : new Uint8Array(0);
  }

  #isHeader(buf: Uint8Array, at: number): boolean {
    for (let i = 0; i < 4; i++) if (buf[at + i] !== _WIRE.magic[i]) return false;
    for (let i = 0; i < _WIRE.tokenBytes; i++) if (buf[at + 4 + i] !== this.#token[i]) return false;
    return true;
  }

  #findHeader(buf: Uint8Array, from: number): number {
    const last = buf.length - _WIRE.chunkHeaderBytes;
    for (
      let i = buf.indexOf(_WIRE.magic[0], from);
      i >= 0 && i <= last;
      i = buf.indexOf(_WIRE.magic[0], i + 1)
    ) {
      if (this.#isHeader(buf, i)) return i;
    }
    return -1;
  }
}

/** One slot's record stream, rebuilt from its chunks. */
export class _RecordStream {
  #parts: Uint8Array[] = [];
  #have = 0;
  /** Bytes the next record needs in all (header included), once its header is in. */
  #need: number = _WIRE.recordHeaderBytes;
  /** Largest record body accepted; a larger one is refused (`RangeError`) before it is read. */
  maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Adds a chunk's payload; each whole record goes to `onRecord(kind, body)`. */
  push(payload: Uint8Array, onRecord: (kind: number, body: Uint8Array) => void): void {
    this.#parts.push(payload.slice());
    this.#have += payload.length;
    while (this.#have >= this.#need) {
      const buf = this.#join();
      let at = 0;
      while (buf.length - at >= _WIRE.recordHeaderBytes) {
        const length = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0);
        if (length > this.maxBytes) {
          throw new RangeError(
            `a message of ${length} bytes, over the ${this.maxBytes}-byte limit for this run`,
          );
        }
        const end = at + _WIRE.recordHeaderBytes + length;
        if (end > buf.length) {
          this.#need = end - at;
          break;
        }
        onRecord(buf[at + 4], buf.subarray(at + _WIRE.recordHeaderBytes, end));
        at = end;
        this.#need = _WIRE.recordHeaderBytes;
      }
      const rest = buf.subarray(at);
      this.#parts = rest.length > 0 ? [rest] : [];
      this.#have = rest.length;
    }
  }

  #join(): Uint8Array {
    if (this.#parts.length === 1) return this.#parts[0];
    const out = new Uint8Array(this.#have);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
