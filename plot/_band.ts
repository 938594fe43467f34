/**
 * The confidence or prediction band of a fit at new x, from the covariance
 * of its parameters by the delta method.
 *
 * @module
 */

import type { FitResult } from "../workflow/fit_result.ts";
import { studentTQuantile } from "../core/_stats.ts";
import type { BandKind } from "./plot_data.ts";

/** The fitted values and the ends of the band at each x. */
export interface Band {
  y: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

/** `FitResult.predict` where the result has it. */
type Predict = (
  x: Float64Array,
  options: { interval: BandKind; level: number },
) => Band;

/**
 * The band at `x` (one variable): `r.predict` where results have it, else
 * {@linkcode deltaMethodBand}.
 */
export function bandAt(
  r: FitResult,
  x: Float64Array,
  kind: BandKind,
  level: number,
): Band {
  // Once FitResult.predict exists this is `return r.predict(x, { interval: kind, level });`.
  const predict = (r as unknown as { predict?: Predict }).predict;
  if (typeof predict === "function") {
    return predict.call(r, x, { interval: kind, level });
  }
  return deltaMethodBand(r, x, kind, level);
}

/**
 * `f(x) ± t * sqrt(g' C g)` with g the gradient of the model in its
 * parameters at x (the model's kernel: exact for expressions), C the
 * parameters' covariance `r.pcov` and t Student's quantile with n - p
 * degrees of freedom; a prediction band adds to g' C g the residual variance
 * `ssRes / (n - p)` (the mean square of the unweighted residuals per degree
 * of freedom: the scatter of a new observation). Infinite where the
 * covariance is (a rank-deficient Jacobian) or without degrees of freedom.
 */
export function deltaMethodBand(
  r: FitResult,
  x: Float64Array,
  kind: BandKind,
  level: number,
): Band {
  const m = r.origin?.model;
  if (!m) throw new TypeError("the band needs the fit's model (r.origin)");
  const n = x.length, p = r.popt.length;
  const B = new Float64Array((p + 1) * n);
  m.kernel([x], new Float64Array(n), null, r.popt, 0, n, B, n, true);
  const dof = r.nPoints - r.nFree;
  const t = dof > 0 ? studentTQuantile(0.5 + level / 2, dof) : Infinity;
  const noise = kind === "prediction" ? r.rmse ** 2 * r.nPoints / dof : 0;
  const y = B.slice(p * n, (p + 1) * n);
  const lower = new Float64Array(n), upper = new Float64Array(n);
  const C = r.pcov;
  for (let i = 0; i < n; i++) {
    let v = noise;
    for (let j = 0; j < p; j++) {
      const gj = B[j * n + i];
      if (gj === 0) continue;
      for (let k = 0; k < p; k++) {
        const gk = B[k * n + i];
        if (gk !== 0) v += gj * C[j][k] * gk;
      }
    }
    const h = t * Math.sqrt(v);
    lower[i] = y[i] - h;
    upper[i] = y[i] + h;
  }
  return { y, lower, upper };
}
