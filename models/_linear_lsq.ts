/**
 * Small linear least-squares problems for the models' guesses (private
 * helper): the SVD of the column-scaled design matrix, so collinear columns
 * get the minimum-norm solution instead of an overflow.
 *
 * @module
 */

import { svd } from "../core/linalg.ts";

/**
 * The coefficients c minimizing sum_i w_i (sum_k c_k cols[k][i] - b_i)^2
 * (w = 1 without weights), or null when the problem has no finite answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { lstsq } from "./_linear_lsq.ts";
 * const x = [0, 1, 2, 3];
 * const c = lstsq([[1, 1, 1, 1], x], [1, 3, 5, 7])!;
 * assert.ok(Math.abs(c[0] - 1) < 1e-12 && Math.abs(c[1] - 2) < 1e-12);
 * ```
 */
export function lstsq(
  cols: readonly ArrayLike<number>[],
  b: ArrayLike<number>,
  w?: ArrayLike<number>,
): Float64Array | null {
  const n = cols.length, m = b.length;
  if (n === 0 || m < n) return null;
  const A = new Float64Array(m * n), rhs = new Float64Array(m);
  const scale = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    const s = w ? Math.sqrt(w[i]) : 1;
    rhs[i] = s * b[i];
    for (let k = 0; k < n; k++) {
      const v = s * cols[k][i];
      A[i * n + k] = v;
      scale[k] += v * v;
    }
  }
  for (let k = 0; k < n; k++) scale[k] = scale[k] > 0 ? Math.sqrt(scale[k]) : 1;
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < n; k++) A[i * n + k] /= scale[k];
  }
  if (!A.every(Number.isFinite) || !rhs.every(Number.isFinite)) return null;
  const { u, s, v } = svd(A, m, n);
  const cut = s[0] * 1e-13;
  const c = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (!(s[j] > cut)) continue;
    let d = 0;
    for (let i = 0; i < m; i++) d += u[i * n + j] * rhs[i];
    d /= s[j];
    for (let k = 0; k < n; k++) c[k] += v[k * n + j] * d;
  }
  for (let k = 0; k < n; k++) c[k] /= scale[k];
  return c.every(Number.isFinite) ? c : null;
}

/**
 * Polynomial least squares: c_0 .. c_degree (ascending powers) of the
 * best fit, computed in a centred and scaled variable for conditioning.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { polyfit } from "./_linear_lsq.ts";
 * const x = [1000, 1001, 1002, 1003];
 * const c = polyfit(x, x.map((t) => 3 + 2 * t + 0.5 * t * t), 2)!;
 * assert.ok(Math.abs(c[2] - 0.5) < 1e-9 && Math.abs(c[1] - 2) < 1e-5);
 * ```
 */
export function polyfit(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  degree: number,
  w?: ArrayLike<number>,
): Float64Array | null {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    lo = Math.min(lo, x[i]);
    hi = Math.max(hi, x[i]);
  }
  const mid = (lo + hi) / 2, half = hi > lo ? (hi - lo) / 2 : 1;
  const cols: Float64Array[] = [];
  for (let k = 0; k <= degree; k++) {
    cols.push(Float64Array.from(x, (t) => ((t - mid) / half) ** k));
  }
  const a = lstsq(cols, y, w);
  if (a === null) return null;
  // sum a_k ((x - mid)/half)^k in powers of x: Horner in polynomial
  // arithmetic, with t = x/half - mid/half.
  const c = new Float64Array(degree + 1);
  for (let k = degree; k >= 0; k--) {
    // c <- c * t + a_k
    for (let j = degree; j >= 1; j--) {
      c[j] = c[j - 1] / half - c[j] * (mid / half);
    }
    c[0] = -c[0] * (mid / half) + a[k];
  }
  return c.every(Number.isFinite) ? c : null;
}
