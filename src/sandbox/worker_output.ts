/**
 * `print` and `console` as programs see them: values formatted like `Deno.inspect`, written to
 * the channel at once (so what was printed before a busy loop or a crash has left the process),
 * cut at the output limit with a count of what was cut, and a program that keeps printing far
 * past the limit ended as a flood.
 *
 * Serialised with `Function.prototype.toString` into the program Worker's module (see
 * `child_source.ts`), so it must not refer to anything outside its own body.
 *
 * @module
 */

import type { _WIRE } from "./protocol.ts";

/** What `_makeOutput` gives the runtime. */
export interface _Output {
  print(...values: unknown[]): void;
  console: Record<string, (...args: never[]) => void>;
  /** Formats values as `print` does. */
  format(values: unknown[]): string;
  /** Sets the output limit for this run. */
  limit(maxOutputChars: number): void;
  /** Characters printed past the limit so far. */
  cut(): number;
}

/**
 * Returns the output functions; `send` writes one `out` message, `flood` ends the run when the
 * program keeps printing past the limit, `ended` says whether the run is over.
 */
export function _makeOutput(
  wire: typeof _WIRE,
  inspect: (value: unknown, options: Record<string, unknown>) => string,
  send: (text: string) => void,
  flood: (maxOutput: number) => void,
  ended: () => boolean,
): _Output {
  let maxOutput = 40_000;
  let outChars = 0;
  let cut = 0;
  let indent = "";
  const now = () => performance.now();
  function format(values: unknown[]): string {
    return values.map((v) =>
      typeof v === "string" ? v : inspect(v, {
        colors: false,
        depth: 6,
        iterableLimit: 200,
        strAbbreviateSize: 100_000,
        breakLength: 100,
      })
    ).join(" ");
  }
  function write(text: string): void {
    if (ended()) return;
    const line = (indent ? text.replace(/^/gm, indent) : text) + "\n";
    const room = maxOutput - outChars;
    if (room <= 0) {
      cut += line.length;
      if (cut > wire.floodChars) flood(maxOutput);
      return;
    }
    const kept = line.length <= room ? line : line.slice(0, room);
    cut += line.length - kept.length;
    outChars += kept.length;
    send(kept);
  }
  function print(...values: unknown[]): void {
    write(format(values));
  }
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  const elapsed = (label: string) => `${label}: ${(now() - (timers.get(label) ?? 0)).toFixed(3)}ms`;
  const console = {
    log: print,
    info: print,
    debug: print,
    warn: print,
    error: print,
    trace: print,
    dir: (v: unknown) => print(v),
    dirxml: print,
    table: (v: unknown) => print(v),
    assert: (ok: unknown, ...rest: unknown[]) => {
      if (!ok) print("Assertion failed:", ...rest);
    },
    count: (label = "default") => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      print(`${label}: ${n}`);
    },
    countReset: (label = "default") => void counts.delete(label),
    time: (label = "default") => void timers.set(label, now()),
    timeLog: (label = "default", ...rest: unknown[]) => print(elapsed(label), ...rest),
    timeEnd: (label = "default") => {
      print(elapsed(label));
      timers.delete(label);
    },
    group: (...label: unknown[]) => {
      if (label.length) print(...label);
      indent += "    ";
    },
    groupCollapsed: (...label: unknown[]) => {
      if (label.length) print(...label);
      indent += "    ";
    },
    groupEnd: () => void (indent = indent.slice(4)),
    clear: () => {},
  };
  return {
    print,
    console,
    format,
    limit: (chars) => void (maxOutput = chars),
    cut: () => cut,
  };
}
