// A plain-text fit report (lmfit's fit_report layout) for the page. When the
// library's own FitResult.report() exists, the page shows that instead.

import type { FitResult } from "../workflow/fit_result.ts";
import type { Model } from "../model/types.ts";

function g(v: number, digits = 8): string {
  return Number.isFinite(v)
    ? Number(v.toPrecision(digits)).toString()
    : String(v);
}

/**
 * The report of a fit: statistics, then each parameter with its standard
 * error, relative error and 95% interval, then the correlations above 0.1.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq/web";
 * import { textReport } from "./_report.ts";
 * const m = model("a * x + b");
 * const r = await fit(m, [0, 1, 2, 3], [1, 3.1, 4.9, 7], { p0: [1, 0] });
 * assert.match(textReport(r, m, "d.csv"), /a:\s+1\.980* \+\/- /);
 * ```
 */
export function textReport(
  r: FitResult,
  m: Model,
  file: string,
  refined?: { popt: ArrayLike<number>; steps: number; change: number },
): string {
  const page = refined && refined.steps > 0
    ? [
      `    page: ${refined.steps} Gauss-Newton step(s) in f64 after the WebGPU fit (largest relative change ${
        refined.change.toExponential(1)
      }); values below are after them`,
    ]
    : [];
  const libraryReport = (r as unknown as { report?: () => string }).report;
  if (typeof libraryReport === "function") {
    return [libraryReport.call(r), ...page].join("\n");
  }
  const popt = refined?.popt ?? r.popt;
  const ci = r.confidenceIntervals(0.05).map((c, i) => ({
    lower: c.lower + popt[i] - r.popt[i],
    upper: c.upper + popt[i] - r.popt[i],
  }));
  const lines = [
    "[[Model]]",
    `    ${m.expression ?? "(function)"}`,
    "[[Fit Statistics]]",
    `    data               = ${file}`,
    `    success            = ${r.success} (${r.message})`,
    `    backend            = ${r.backend}, strategy ${r.strategy}`,
    `    # function evals   = ${r.nfev}`,
    `    # data points      = ${r.nPoints}`,
    `    # variables        = ${r.nFree}`,
    `    chi-square         = ${g(r.chiSquare)}`,
    `    reduced chi-square = ${
      g(r.chiSquare / Math.max(1, r.nPoints - r.nFree))
    }`,
    `    Akaike info crit   = ${g(r.aic)}`,
    `    Bayesian info crit = ${g(r.bic)}`,
    `    R-squared          = ${g(r.rSquared)}`,
    "[[Variables]]",
  ];
  if (r.notes.length > 0) {
    lines.splice(
      lines.length - 1,
      0,
      "[[Notes]]",
      ...r.notes.map((n) => `    ${n}`),
    );
  }
  r.paramNames.forEach((n, i) => {
    const v = popt[i];
    const e = r.perr[i];
    const rel = v !== 0 && e > 0
      ? ` (${(100 * Math.abs(e / v)).toFixed(2)}%)`
      : "";
    lines.push(
      `    ${(n + ":").padEnd(14)} ${g(v)} +/- ${g(e, 4)}${rel}  95%: [${
        g(ci[i].lower)
      }, ${g(ci[i].upper)}]`,
    );
  });
  const corr: string[] = [];
  const p = r.paramNames.length;
  for (let i = 0; i < p; i++) {
    for (let j = i + 1; j < p; j++) {
      const c = r.pcov[i][j] / Math.sqrt(r.pcov[i][i] * r.pcov[j][j]);
      if (Math.abs(c) > 0.1) {
        corr.push(
          `    C(${r.paramNames[i]}, ${r.paramNames[j]}) = ${c.toFixed(4)}`,
        );
      }
    }
  }
  if (corr.length > 0) {
    lines.push("[[Correlations]] (unreported: |C| <= 0.1)", ...corr);
  }
  return lines.join("\n");
}
