// The fit report for the page: the library's `FitResult.report()` (what
// `nlsq fit` prints) with the data file named, and the page's own refinement
// noted.

import type { FitResult } from "../workflow/fit_result.ts";

/**
 * The report of a fit (lmfit's layout, as `FitResult.report()` writes it)
 * naming the data file, plus a line on the page's own refinement.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq/web";
 * import { textReport } from "./_report.ts";
 * const r = await fit(model("a * x + b"), [0, 1, 2, 3], [1, 3.1, 4.9, 7], { p0: [1, 0] });
 * const text = textReport(r, "d.csv");
 * assert.match(text, /a:\s+1\.980* \+\/- /);
 * assert.match(text, /d\.csv/);
 * ```
 */
export function textReport(
  r: FitResult,
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
  return [r.report({ data: file }), ...page].join("\n");
}
