/**
 * Figures and tables for `bench/main.ts`: percentiles, number formatting, and tables rendered
 * once as aligned Markdown (printed to the terminal and written to BENCHMARKS.md alike).
 *
 * @module
 */

/** The value at percentile `p` (0..1) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** p50 and p90 of a distribution. */
export interface Spread {
  p50: number;
  p90: number;
  n: number;
}

/** p50 and p90 of `values`. */
export function spread(values: readonly number[]): Spread {
  return { p50: percentile(values, 0.5), p90: percentile(values, 0.9), n: values.length };
}

/** Milliseconds, with a unit that keeps three significant figures (µs below 1 ms). */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (value < 0.001) return `${(value * 1e6).toFixed(0)} ns`;
  if (value < 1) return `${(value * 1000).toPrecision(3)} µs`;
  if (value < 100) return `${value.toPrecision(3)} ms`;
  return `${value.toFixed(0)} ms`;
}

/** A ratio such as `2.4×`. */
export function times(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return value >= 100 ? `${value.toFixed(0)}×` : `${value.toPrecision(2)}×`;
}

/** An integer with thousands separators. */
export function int(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Bytes as `12,345 B`. */
export function bytes(value: number): string {
  return `${int(value)} B`;
}

/** Bytes as `12.3 MB` (MiB). */
export function mb(value: number): string {
  return `${(value / 1024 / 1024).toFixed(1)} MB`;
}

/** `yes` / `no` for a goal. */
export function met(ok: boolean): string {
  return ok ? "yes" : "**no**";
}

/** One table of the report. */
export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
  /** Lines printed under the table. */
  notes?: string[];
}

/** The table as Markdown with padded columns (readable in a terminal too). */
export function renderTable(table: Table): string {
  const widths = table.columns.map((c, i) =>
    Math.max(c.length, ...table.rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i])).join(" | ")} |`;
  const out = [
    `### ${table.title}`,
    "",
    line(table.columns),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...table.rows.map(line),
  ];
  if (table.notes?.length) out.push("", ...table.notes.map((n) => `- ${n}`));
  return out.join("\n") + "\n";
}

/** Resolves after `delay` ms. */
export function sleep(delay: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delay));
}

/** Where a bench section puts its tables and goals. */
export interface Report {
  /** Prints the table and keeps it for BENCHMARKS.md. */
  show(table: Table): void;
  /** Records a goal and whether the measured figure met it. */
  goal(goal: string, measured: string, ok: boolean): void;
  /** A progress line on stderr. */
  progress(text: string): void;
}
