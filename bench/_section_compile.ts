/**
 * Bench section 6: the type check (cold and warm, in compiler processes) and the size of the
 * description.
 *
 * @module
 */

import { ProgramCompiler } from "../src/program/compile.ts";
import { coldChecks, compilerColdStarts, compileTimes, fiftyLineProgram } from "./check_bench.ts";
import { baseTextBytes, descriptionSizes } from "./describe_bench.ts";
import { bytes, int, ms, type Report, spread } from "./_report.ts";

/** Sections 6a and 6b. */
export async function compileSection(report: Report): Promise<void> {
  report.progress("type-check cold and warm, description sizes");
  const colds = await coldChecks(3);
  const starts = await compilerColdStarts(3);
  const compiler = new ProgramCompiler();
  const warm: [string, number[]][] = [
    [
      "warm, check on, 50-line program",
      await compileTimes(compiler, fiftyLineProgram, "error", 30),
    ],
    [
      "warm, check off, 50-line program",
      await compileTimes(compiler, fiftyLineProgram, "off", 100),
    ],
    [
      "warm, check on, `print(i)`",
      await compileTimes(compiler, (i) => `print(${i});`, "error", 40),
    ],
    [
      "warm, check off, `print(i)`",
      await compileTimes(compiler, (i) => `print(${i});`, "off", 300),
    ],
  ];
  await compiler.close();
  const row = (label: string, samples: number[]) => {
    const s = spread(samples);
    return [label, ms(s.p50), ms(s.p90), String(s.n)];
  };
  report.show({
    title: "6a. Type-check (ProgramCompiler, 100 tool declarations)",
    columns: ["what", "p50", "p90", "runs"],
    rows: [
      row("cold: first compile + check in a fresh process", colds.map((c) => c.firstCheck)),
      row("cold: process start → first check done", colds.map((c) => c.sinceStart)),
      row("cold: compiler process spawn → ready (TypeScript loaded)", starts.map((c) => c.ready)),
      row(
        "cold: compiler process spawn → first transpile answered",
        starts.map((c) => c.firstTranspile),
      ),
      row("cold: compiler process spawn → first check answered", starts.map((c) => c.firstCheck)),
      ...warm.map(([label, samples]) => row(label, samples)),
    ],
    notes: [
      "From bench/check_bench.ts (`compileTimes`, `coldChecks`, `compilerColdStarts`). The front " +
      "end runs in compiler processes: every warm figure includes the round trip to one.",
    ],
  });
  const sizes = descriptionSizes([10, 100, 1_000]);
  const full = descriptionSizes([10, 100, 1_000], { threshold: 1_000_000 });
  const base = baseTextBytes();
  const thousand = sizes[sizes.length - 1];
  report.goal(
    "description base text ≤ 1,200 tokens",
    `${int(Math.round(base / 4))} tokens (${bytes(base)})`,
    base / 4 <= 1_200,
  );
  report.goal("description at 1,000 tools ≤ 8 KB", bytes(thousand.bytes), thousand.bytes <= 8_192);
  report.show({
    title: "6b. Description size (synthetic SaaS-style tools)",
    columns: ["tools", "default (threshold 40)", "~tokens", "every declaration listed", "~tokens"],
    rows: [
      ["base text (before the tools)", bytes(base), int(Math.round(base / 4)), "", ""],
      ...sizes.map((s, i) => [
        int(s.tools),
        bytes(s.bytes),
        int(s.tokens),
        bytes(full[i].bytes),
        int(full[i].tokens),
      ]),
    ],
    notes: [
      "Above 40 tools the description lists namespaces and points to `searchTools`; " +
      "tokens ≈ bytes ÷ 4. The base text is the how-to, the helpers and the eight patterns; each " +
      "row's description is the base text plus the tools. From bench/describe_bench.ts " +
      "(`descriptionSizes`, `baseTextBytes`).",
    ],
  });
}
