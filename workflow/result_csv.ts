/**
 * A fit's parameters as CSV, one row per parameter: name, value, standard
 * error, relative error, confidence interval, and how it took part
 * (`free`, `fixed`, `tied` with its expression).
 *
 * @module
 */

import type { FitResult } from "./fit_result.ts";

/**
 * Options of `FitResult.toCSV`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { CsvOptions } from "@nlsq/nlsq/workflow";
 * const r = await fit("a * x", [1, 2, 3], [2.1, 3.9, 6.1], { p0: [1] });
 * const o: CsvOptions = { level: 0.68 };
 * assert.match(r.toCSV(o).split("\n")[0], /ci_lower_68%/);
 * ```
 */
export interface CsvOptions {
  /** Level of the confidence intervals, 0 < level < 1 (default 0.95). */
  readonly level?: number;
}

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Numbers at full precision; numpy's spelling of the non-finite ones. */
function num(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return String(v);
}

/**
 * The parameter table of a result as CSV text (header line first, lines
 * ending in `\n`). A fixed parameter has standard error 0 and an empty
 * relative error; so has a parameter whose value is 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "./fit.ts";
 * import { resultToCsv } from "./result_csv.ts";
 * const r = await fit("a * x + b", [0, 1, 2, 3], [1, 3.1, 4.9, 7], {
 *   params: { a: 1, b: { value: 1, vary: false } },
 * });
 * const [head, a, b] = resultToCsv(r).trim().split("\n");
 * assert.strictEqual(head, "name,value,stderr,relative_error,ci_lower_95%,ci_upper_95%,kind,expr");
 * assert.match(a, /^a,1\.9\d*,0\.\d+,0\.\d+,1\.\d+,2\.\d+,free,$/);
 * assert.strictEqual(b, "b,1,0,,1,1,fixed,");
 * ```
 */
export function resultToCsv(
  result: FitResult,
  options: CsvOptions = {},
): string {
  const level = options.level ?? 0.95;
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    throw new RangeError(`toCSV: level must be in (0, 1), got ${level}`);
  }
  const pct = `${+(level * 100).toFixed(4)}%`;
  const cis = result.confidenceIntervals(1 - level);
  const lines = [
    `name,value,stderr,relative_error,ci_lower_${pct},ci_upper_${pct},kind,expr`,
  ];
  result.paramNames.forEach((name, i) => {
    const v = result.popt[i], e = result.perr[i];
    const s = result.paramSettings[i];
    const kind = s.vary ? "free" : s.expr !== undefined ? "tied" : "fixed";
    const rel = v !== 0 && e !== 0 ? num(Math.abs(e / v)) : "";
    lines.push(
      [
        field(name),
        num(v),
        num(e),
        rel,
        num(cis[i].lower),
        num(cis[i].upper),
        kind,
        field(s.expr ?? ""),
      ].join(","),
    );
  });
  return lines.join("\n") + "\n";
}
