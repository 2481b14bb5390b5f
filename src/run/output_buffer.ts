/**
 * The host's copy of a run's output: kept up to the output limit, the rest counted (the Worker
 * enforces the limit too; this is the host's own check), and a program that keeps sending far
 * past the limit called a flood.
 *
 * @module
 */

import { _WIRE } from "../sandbox/protocol.ts";

/** A run's output as the host keeps it. */
export class _OutputBuffer {
  #max: number;
  #parts: string[] = [];
  #chars = 0;
  #cut = 0;
  #onOutput: ((text: string) => void) | undefined;

  constructor(maxChars: number, onOutput?: (text: string) => void) {
    this.#max = maxChars;
    this.#onOutput = onOutput;
  }

  /** Adds what the program printed; returns false once the program is flooding. */
  push(text: string): boolean {
    const room = this.#max - this.#chars;
    if (room <= 0) {
      this.#cut += text.length;
      return this.#cut <= _WIRE.floodChars;
    }
    const kept = text.length <= room ? text : text.slice(0, room);
    this.#cut += text.length - kept.length;
    this.#chars += kept.length;
    this.#parts.push(kept);
    this.#onOutput?.(kept);
    return true;
  }

  /**
   * The output, with a note when some was cut (`workerCut`: what the Worker cut itself), and the
   * note as a limit error when there is one.
   */
  finish(workerCut: number): { text: string; note?: string } {
    let text = this.#parts.join("");
    const cut = Math.max(workerCut, 0) + this.#cut;
    if (cut === 0) return { text };
    const note =
      `output cut: ${cut} more characters were printed beyond the ${this.#max}-character limit; print less — counts, summaries or the first few items`;
    text += (text.endsWith("\n") || text === "" ? "" : "\n") + `[${note}]\n`;
    return { text, note };
  }
}
