/**
 * Parameter covariance with scipy's `curve_fit` conventions.
 *
 * @module
 */

import type { Factor } from "./_factor.ts";
import type { SolverName } from "./solver_options.ts";
import { svdShared } from "./linalg.ts";
import { EPS } from "./_constants.ts";

/** Options of {@linkcode covarianceFromFactor}. */
export interface CovarianceOptions {
  /** Number of residuals m. */
  readonly nResiduals: number;
  /** Robust cost at the solution (0.5 * chi-square for the linear loss). */
  readonly cost: number;
  /** Use sigma in an absolute sense (no scaling by the reduced chi-square). */
  readonly absoluteSigma: boolean;
  /** "lm" reports Infinity for a rank-deficient Jacobian (leastsq's cov_x), "trf" the pseudo-inverse. */
  readonly method: SolverName;
}

/**
 * `pcov` from the factor of J at the solution: the Moore-Penrose inverse of
 * J^T J from an SVD of J (singular values below `eps * max(m, p) * s_max`
 * dropped, as scipy does), scaled by `2 cost / (m - p)` unless
 * `absoluteSigma`. All entries are Infinity when the covariance cannot be
 * estimated (no degrees of freedom, or a rank-deficient Jacobian with "lm").
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // J = I (2 x 2 factor), m = 4 residuals, cost 1 -> s^2 = 2 / (4 - 2) = 1.
 * const f = { f: new Float64Array([1, 0, 0, 1]), qtf: new Float64Array(2),
 *   g: new Float64Array(2), colNorms: new Float64Array([1, 1]), cost: 1 };
 * const { pcov, rank } = covarianceFromFactor(f, {
 *   nResiduals: 4, cost: 1, absoluteSigma: false, method: "trf" });
 * assert.deepStrictEqual(pcov, [[1, 0], [0, 1]]);
 * assert.strictEqual(rank, 2);
 * ```
 */
export function covarianceFromFactor(
  factor: Factor,
  o: CovarianceOptions,
): { pcov: number[][]; rank: number } {
  const p = factor.colNorms.length;
  const m = o.nResiduals;
  // Read before anything else runs (see svdShared).
  const { s, v } = svdShared(factor.f, p, p);
  const threshold = EPS * Math.max(m, p) * s[0];
  let rank = 0;
  for (let k = 0; k < p; k++) if (s[k] > threshold) rank++;
  const inf = () =>
    Array.from({ length: p }, () => new Array<number>(p).fill(Infinity));
  if (!(s[0] > 0) || (o.method === "lm" && rank < p)) {
    return { pcov: inf(), rank };
  }
  let scale = 1;
  if (!o.absoluteSigma) {
    if (m > p) scale = 2 * o.cost / (m - p);
    else return { pcov: inf(), rank };
  }
  const pcov: number[][] = [];
  for (let i = 0; i < p; i++) {
    const row = new Array<number>(p).fill(0);
    for (let j = 0; j < p; j++) {
      let t = 0;
      for (let k = 0; k < rank; k++) {
        t += v[i * p + k] * v[j * p + k] / (s[k] * s[k]);
      }
      row[j] = t * scale;
    }
    pcov.push(row);
  }
  for (const row of pcov) {
    if (row.some((t) => Number.isNaN(t))) return { pcov: inf(), rank };
  }
  return { pcov, rank };
}
