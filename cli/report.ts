/**
 * The human-readable fit report, in the style of lmfit's `fit_report()`:
 * `[[Fit Statistics]]`, `[[Variables]]` with `+/-` and the relative error,
 * `[[Confidence Intervals]]` and `[[Correlations]]`. Used by `nlsq fit` and by
 * `examples/demo.ts`.
 *
 * @module
 */

import type { FitResult } from "../workflow/fit_result.ts";

/** What the report says besides the result itself. */
export interface ReportContext {
  /** The model expression (or a description of a function model). */
  model?: string;
  /** A description of the data, e.g. the source's `description`. */
  data?: string;
  /** Starting values, in parameter order. */
  p0?: ArrayLike<number>;
  /** `[lower, upper]` bounds, in parameter order. */
  bounds?: [ArrayLike<number>, ArrayLike<number>];
  /** Significance level of the confidence intervals (default 0.05: 95%). */
  alpha?: number;
  /** Smallest |correlation| listed (default 0.1, like lmfit). */
  minCorrelation?: number;
  /** Wall time of the whole run (reading included), in ms. */
  totalMs?: number;
}

/**
 * Formats a number with `digits` significant digits, fixed-point for
 * magnitudes in [1e-3, 1e7) and in exponent form otherwise (lmfit's look).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(formatNumber(238.94212918), "238.94213");
 * assert.strictEqual(formatNumber(0.00055015643181), "5.5015643e-4");
 * assert.strictEqual(formatNumber(-Infinity), "-inf");
 * assert.strictEqual(formatNumber(0), "0");
 * ```
 */
export function formatNumber(v: number, digits = 8): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return "0";
  const e = Math.floor(Math.log10(Math.abs(v)));
  if (e >= -3 && e < 7) {
    return v.toFixed(Math.min(20, Math.max(0, digits - 1 - e)));
  }
  return v.toExponential(digits - 1).replace(/e\+?/, "e");
}

/**
 * The correlation matrix of a covariance matrix: `pcov[i][j] /
 * sqrt(pcov[i][i] pcov[j][j])` (NaN where a variance is 0 or infinite).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const c = correlationMatrix([[4, 1], [1, 1]]);
 * assert.deepStrictEqual(c, [[1, 0.5], [0.5, 1]]);
 * ```
 */
export function correlationMatrix(pcov: readonly number[][]): number[][] {
  const d = pcov.map((row, i) => Math.sqrt(row[i]));
  return pcov.map((row, i) =>
    row.map((v, j) => {
      const s = d[i] * d[j];
      return Number.isFinite(s) && s > 0 ? v / s : NaN;
    })
  );
}

/**
 * Parameter pairs whose |correlation| exceeds `min`, strongest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const pairs = strongCorrelations(["a", "b", "c"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]].map(
 *   (r, i) => r.map((v, j) => (i + j === 1 ? 2 : v)),
 * ), 0.1);
 * assert.deepStrictEqual(pairs.map((p) => [p.a, p.b]), [["a", "b"]]);
 * ```
 */
export function strongCorrelations(
  names: readonly string[],
  pcov: readonly number[][],
  min = 0.1,
): { a: string; b: string; value: number }[] {
  const c = correlationMatrix(pcov);
  const out: { a: string; b: string; value: number }[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      if (Math.abs(c[i][j]) > min) {
        out.push({ a: names[i], b: names[j], value: c[i][j] });
      }
    }
  }
  return out.sort((u, v) => Math.abs(v.value) - Math.abs(u.value));
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * Formats a fit result as an lmfit-style report.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "../workflow/fit.ts";
 * const x = Array.from({ length: 40 }, (_, i) => i / 8);
 * const y = x.map((t, i) => 3 * Math.exp(-1.2 * t) + 0.5 + 0.01 * Math.sin(9 * i));
 * const r = await fit("a * exp(-b * x) + c", x, y, { p0: [1, 1, 0] });
 * const text = formatFitReport(r, { model: "a * exp(-b * x) + c", p0: [1, 1, 0] });
 * assert.match(text, /\[\[Fit Statistics\]\]/);
 * assert.match(text, /^ {4}b: +1\.[12]\d+ \+\/- \d/m);
 * assert.match(text, /C\(a, b\) = [+-]0\.\d{4}/);
 * ```
 */
export function formatFitReport(
  result: FitResult,
  context: ReportContext = {},
): string {
  const alpha = context.alpha ?? 0.05;
  const names = result.paramNames;
  const p = names.length;
  const n = result.nPoints;
  const lines: string[] = [];
  const section = (title: string) => lines.push(`[[${title}]]`);
  const kv = (key: string, value: string) =>
    lines.push(`    ${key.padEnd(19)}= ${value}`);

  if (!result.success) {
    lines.push(`!! The fit did not converge: ${result.message}`);
  }
  if (context.model !== undefined) {
    section("Model");
    lines.push(`    ${context.model}`);
  }
  if (context.data !== undefined) {
    section("Data");
    lines.push(`    ${context.data}`);
  }

  section("Fit Statistics");
  kv("# fitting method", `${result.method}`);
  kv("# function evals", `${result.nfev}`);
  kv("# Jacobian evals", `${result.njev}`);
  kv("# iterations", `${result.nit}`);
  kv("# data points", `${n}`);
  kv("# variables", `${p}`);
  const dof = n - p;
  kv("chi-square", formatNumber(result.chiSquare, 7));
  kv(
    "reduced chi-square",
    dof > 0 ? formatNumber(result.chiSquare / dof, 7) : "nan",
  );
  kv("cost", formatNumber(result.cost, 7));
  kv("R-squared", formatNumber(result.rSquared, 7));
  kv("adjusted R-squared", formatNumber(result.adjRSquared, 7));
  kv("RMSE", formatNumber(result.rmse, 7));
  kv("Akaike info crit", formatNumber(result.aic, 7));
  kv("Bayesian info crit", formatNumber(result.bic, 7));
  kv("status", `${result.status} (${result.message})`);
  kv("success", `${result.success}`);
  kv("strategy", `${result.strategy} (workflow ${result.preset})`);
  kv("backend", result.backend);
  if (result.nStarts > 1) kv("starts", `${result.nStarts}`);
  kv(
    "tolerances",
    `ftol ${result.tolerances.ftol}, xtol ${result.tolerances.xtol}, gtol ${result.tolerances.gtol}`,
  );
  kv("fit time", formatDuration(result.elapsedMs));
  if (context.totalMs !== undefined) {
    kv("total time", formatDuration(context.totalMs));
  }

  section("Variables");
  const width = Math.max(...names.map((s) => s.length)) + 1;
  names.forEach((name, i) => {
    const v = result.popt[i];
    const e = result.perr[i];
    let text = `    ${(name + ":").padEnd(width)}  ${
      formatNumber(v).padStart(14)
    }`;
    if (Number.isFinite(e)) {
      const rel = v !== 0 ? ` (${(Math.abs(e / v) * 100).toFixed(2)}%)` : "";
      text += ` +/- ${formatNumber(e)}${rel}`;
    } else {
      text += " +/- (not estimated: the Jacobian is rank deficient)";
    }
    if (context.p0) text += ` (init = ${+context.p0[i].toPrecision(6)})`;
    const active = result.activeMask[i];
    if (active !== 0) {
      text += active < 0 ? " (at lower bound)" : " (at upper bound)";
    }
    lines.push(text);
  });

  const level = `${+((1 - alpha) * 100).toFixed(4)}%`;
  section("Confidence Intervals");
  lines.push(
    `    (${level}, Student's t with ${dof} degree${
      dof === 1 ? "" : "s"
    } of freedom)`,
  );
  for (const ci of result.confidenceIntervals(alpha)) {
    lines.push(
      `    ${(ci.name + ":").padEnd(width)}  [${formatNumber(ci.lower)}, ${
        formatNumber(ci.upper)
      }]`,
    );
  }

  const minCorr = context.minCorrelation ?? 0.1;
  const pairs = strongCorrelations(names, result.pcov, minCorr);
  if (pairs.length > 0) {
    section("Correlations");
    lines.push(`    (unreported correlations are < ${minCorr.toFixed(3)})`);
    const w = Math.max(...pairs.map((c) => c.a.length + c.b.length + 5));
    for (const c of pairs) {
      lines.push(
        `    ${`C(${c.a}, ${c.b})`.padEnd(w)} = ${c.value >= 0 ? "+" : "-"}${
          Math.abs(c.value).toFixed(4)
        }`,
      );
    }
  }

  if (result.notes.length > 0) {
    section("Notes");
    for (const note of result.notes) lines.push(`    ${note}`);
  }
  return lines.join("\n") + "\n";
}
