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

/** `FitResult.predict`, where results have it. */
type Predict = (
  x: Float64Array,
  options: {
    interval: BandKind;
    level: number;
    sigma?: ArrayLike<number> | number;
  },
) => Band;

/** Whether the fit was weighted by a sigma (arrays, a 2-D sigma, a source's column). */
export function isWeighted(r: FitResult): boolean {
  const o = r.origin;
  if (!o) return false;
  return (o.options.sigma !== undefined && o.options.sigma !== null) ||
    o.data?.sigma != null || (o.source?.hasSigma ?? false);
}

/**
 * The band at `x` (one variable). `sigma`: the standard deviation of a new
 * observation at each x (or one for all), in the units of the fit's sigma
 * (prediction bands of a weighted fit only).
 *
 * The only place that computes a band: once `FitResult.predict` exists
 * this whole function is `return r.predict(x, { interval: kind, level, sigma })`.
 */
export function bandAt(
  r: FitResult,
  x: Float64Array,
  kind: BandKind,
  level: number,
  sigma?: number | Float64Array,
): Band {
  const predict = (r as unknown as { predict?: Predict }).predict;
  const options = sigma === undefined
    ? { interval: kind, level }
    : { interval: kind, level, sigma };
  if (typeof predict === "function") return predict.call(r, x, options);
  return deltaMethodBand(r, x, kind, level, sigma);
}

/**
 * `f(x) ± t * sqrt(g' C g + s²)` with g the gradient of the model in its
 * parameters at x (the model's kernel: exact for expressions), C the
 * parameters' covariance `r.pcov`, t Student's quantile with n - p degrees
 * of freedom, and s² = 0 for a confidence band; for a prediction band s² is
 * the variance of one observation: the reduced chi-square (times `sigma²`
 * for a weighted fit, or `sigma²` alone with `absoluteSigma`), as
 * `FitResult.predict` defines it. NaN where the covariance is not finite.
 */
function deltaMethodBand(
  r: FitResult,
  x: Float64Array,
  kind: BandKind,
  level: number,
  sigma: number | Float64Array | undefined,
): Band {
  const m = r.origin!.model;
  const n = x.length, p = r.popt.length;
  const B = new Float64Array((p + 1) * n);
  m.kernel([x], new Float64Array(n), null, r.popt, 0, n, B, n, true);
  const dof = r.nPoints - r.nFree;
  const t = dof > 0 ? studentTQuantile(0.5 + level / 2, dof) : Infinity;
  const unit = r.origin!.options.absoluteSigma === true
    ? 1
    : dof > 0
    ? r.chiSquare / dof
    : NaN;
  const s2 = (i: number) =>
    kind !== "prediction"
      ? 0
      : unit * (typeof sigma === "object" ? sigma[i] : sigma ?? 1) ** 2;
  // The kernel writes f - y with y = 0.
  const y = B.slice(p * n, (p + 1) * n);
  const lower = new Float64Array(n), upper = new Float64Array(n);
  const C = r.pcov;
  for (let i = 0; i < n; i++) {
    let v = s2(i);
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += C[j][k] * B[k * n + i];
      v += B[j * n + i] * s;
    }
    const h = Number.isFinite(v) ? t * Math.sqrt(v) : NaN;
    lower[i] = y[i] - h;
    upper[i] = y[i] + h;
  }
  return { y, lower, upper };
}
