/**
 * The human-readable fit report, in the style of lmfit's `fit_report()`:
 * `[[Fit Statistics]]`, `[[Variables]]` with `+/-` and the relative error
 * (fixed parameters marked `(fixed)`, tied ones `== 'expr'`), `[[Derived]]`
 * quantities, `[[Confidence Intervals]]`, `[[Correlations]]` and
 * `[[Notes]]` with the diagnostics' warnings. `r.report()`, `nlsq fit` and
 * `examples/demo.ts` print it.
 *
 * @module
 */

import type { FitResult } from "./fit_result.ts";
import { strongCorrelations } from "./correlation.ts";
import { identifiabilityWarnings } from "./diagnostics.ts";

/**
 * What the report says besides the result itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { ReportContext } from "@nlsq/nlsq/workflow";
 * const r = await fit("a * x", [1, 2, 3], [2.1, 3.9, 6.1], { p0: [1] });
 * const o: ReportContext = { alpha: 0.32, data: "three points" };
 * assert.match(r.report(o), /\(68%, Student's t with 2 degrees of freedom\)/);
 * ```
 */
export interface ReportContext {
  /** The model (default: the result's model, lmfit's way of naming it). */
  model?: string;
  /** A description of the data (default: the result's data summary). */
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
 * import { formatNumber } from "./report.ts";
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

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * Formats a fit result as an lmfit-style report (what `r.report()`
 * returns): the model and data are the result's own unless `context`
 * names them.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "./fit.ts";
 * import { formatFitReport } from "./report.ts";
 * const x = Array.from({ length: 40 }, (_, i) => i / 8);
 * const y = x.map((t, i) => 3 * Math.exp(-1.2 * t) + 0.5 + 0.01 * Math.sin(9 * i));
 * const r = await fit("a * exp(-b * x) + c", x, y, { p0: [1, 1, 0] });
 * const text = formatFitReport(r, { p0: [1, 1, 0] });
 * assert.match(text, /\[\[Model\]\]\n {4}a \* exp\(-b \* x\) \+ c\n/);
 * assert.match(text, /\[\[Fit Statistics\]\]/);
 * assert.match(text, /^ {4}b: +1\.[12]\d+ \+\/- \d/m);
 * assert.match(text, /C\(a, b\) = [+-]0\.\d{4}/);
 * ```
 */
export function formatFitReport(
  result: FitResult,
  context: ReportContext = {},
): string {
  const lines: string[] = [];
  if (!result.success) {
    lines.push(`!! The fit did not converge: ${result.message}`);
  }
  const model = context.model ?? result.modelLabel;
  if (model !== null) lines.push("[[Model]]", `    ${model}`);
  const data = context.data ?? result.dataSummary?.description;
  if (data !== undefined) lines.push("[[Data]]", `    ${data}`);
  lines.push(
    ...statistics(result, context),
    ...variables(result, context),
    ...derived(result),
    ...intervals(result, context.alpha ?? 0.05),
    ...correlations(result, context.minCorrelation ?? 0.1),
    ...notes(result),
  );
  return lines.join("\n") + "\n";
}

function statistics(result: FitResult, context: ReportContext): string[] {
  const n = result.nPoints;
  const dof = n - result.nFree;
  const lines = ["[[Fit Statistics]]"];
  const kv = (key: string, value: string) =>
    lines.push(`    ${key.padEnd(19)}= ${value}`);
  kv("# fitting method", `${result.method}`);
  kv("# function evals", `${result.nfev}`);
  kv("# Jacobian evals", `${result.njev}`);
  kv("# iterations", `${result.nit}`);
  kv("# data points", `${n}`);
  kv("# variables", `${result.nFree}`);
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
  return lines;
}

/** Column width of parameter names. */
function nameWidth(result: FitResult): number {
  return Math.max(...result.paramNames.map((s) => s.length)) + 1;
}

function variables(result: FitResult, context: ReportContext): string[] {
  const width = nameWidth(result);
  const lines = ["[[Variables]]"];
  result.paramNames.forEach((name, i) => {
    const v = result.popt[i];
    const e = result.perr[i];
    const setting = result.paramSettings[i];
    const fixed = !setting.vary && setting.expr === undefined;
    let text = `    ${(name + ":").padEnd(width)}  ${
      formatNumber(v).padStart(14)
    }`;
    if (fixed) text += " (fixed)";
    else if (Number.isFinite(e)) {
      const rel = v !== 0 ? ` (${(Math.abs(e / v) * 100).toFixed(2)}%)` : "";
      text += ` +/- ${formatNumber(e)}${rel}`;
    } else {
      text += " +/- (not estimated: the Jacobian is rank deficient)";
    }
    if (setting.expr !== undefined) text += ` == '${setting.expr}'`;
    if (context.p0 && setting.vary) {
      text += ` (init = ${+context.p0[i].toPrecision(6)})`;
    }
    const active = result.activeMask[i];
    if (active) {
      text += active < 0 ? " (at lower bound)" : " (at upper bound)";
    }
    lines.push(text);
  });
  return lines;
}

function derived(result: FitResult): string[] {
  const entries = Object.entries(result.derived);
  if (entries.length === 0) return [];
  const width = Math.max(...entries.map(([k]) => k.length)) + 1;
  return [
    "[[Derived]]",
    ...entries.map(([name, q]) => {
      const e = Number.isFinite(q.stderr)
        ? ` +/- ${formatNumber(q.stderr)}`
        : "";
      return `    ${(name + ":").padEnd(width)}  ${
        formatNumber(q.value).padStart(14)
      }${e}`;
    }),
  ];
}

function intervals(result: FitResult, alpha: number): string[] {
  const dof = result.nPoints - result.nFree;
  const width = nameWidth(result);
  const level = `${+((1 - alpha) * 100).toFixed(4)}%`;
  const lines = [
    "[[Confidence Intervals]]",
    `    (${level}, Student's t with ${dof} degree${
      dof === 1 ? "" : "s"
    } of freedom)`,
  ];
  result.confidenceIntervals(alpha).forEach((ci, i) => {
    const s = result.paramSettings[i];
    if (!s.vary && s.expr === undefined) return; // fixed
    lines.push(
      `    ${(ci.name + ":").padEnd(width)}  [${formatNumber(ci.lower)}, ${
        formatNumber(ci.upper)
      }]`,
    );
  });
  return lines;
}

function correlations(result: FitResult, min: number): string[] {
  const pairs = strongCorrelations(
    result.paramNames,
    result.pcov,
    min,
    (k) => result.paramSettings[k].vary,
  );
  if (pairs.length === 0) return [];
  const w = Math.max(...pairs.map((c) => c.a.length + c.b.length + 5));
  return [
    "[[Correlations]]",
    `    (unreported correlations are < ${min.toFixed(3)})`,
    ...pairs.map((c) =>
      `    ${`C(${c.a}, ${c.b})`.padEnd(w)} = ${c.value >= 0 ? "+" : "-"}${
        Math.abs(c.value).toFixed(4)
      }`
    ),
  ];
}

/**
 * The result's notes and the diagnostics' warnings on what the data
 * cannot determine (a parameter at a bound is among the notes already).
 */
function notes(result: FitResult): string[] {
  const all = [
    ...result.notes,
    ...identifiabilityWarnings(result.diagnostics).map((w) => `warning: ${w}`),
  ];
  return all.length === 0
    ? []
    : ["[[Notes]]", ...all.map((note) => `    ${note}`)];
}
