/**
 * Finite-difference Jacobians of residual vectors, with scipy's step rules
 * (relative step sqrt(eps) for 2-point, cbrt(eps) for 3-point, steps kept
 * inside the bounds). Used only where no exact derivative exists.
 */

import { EPS } from "./_constants.ts";

/** Jacobian (m x n, row-major) of `fun` at x, given f0 = fun(x). */
export function finiteDifferenceJacobian(
  fun: (x: Float64Array) => Float64Array,
  x: Float64Array,
  f0: Float64Array,
  scheme: "2-point" | "3-point",
  lower?: Float64Array,
  upper?: Float64Array,
): Float64Array {
  const n = x.length, m = f0.length;
  const J = new Float64Array(m * n);
  const rel = scheme === "2-point" ? Math.sqrt(EPS) : Math.cbrt(EPS);
  const xt = Float64Array.from(x);
  for (let j = 0; j < n; j++) {
    const sign = x[j] >= 0 ? 1 : -1;
    let h = rel * sign * Math.max(1, Math.abs(x[j]));
    const lo = lower ? lower[j] : -Infinity, hi = upper ? upper[j] : Infinity;
    if (
      scheme === "3-point" && x[j] - Math.abs(h) >= lo &&
      x[j] + Math.abs(h) <= hi
    ) {
      xt[j] = x[j] + h;
      const hp = xt[j] - x[j];
      const fp = fun(xt);
      xt[j] = x[j] - hp;
      const fm = fun(xt);
      xt[j] = x[j];
      for (let i = 0; i < m; i++) J[i * n + j] = (fp[i] - fm[i]) / (2 * hp);
      continue;
    }
    if (x[j] + h > hi || x[j] + h < lo) h = -h;
    xt[j] = x[j] + h;
    const dx = xt[j] - x[j];
    const fp = fun(xt);
    xt[j] = x[j];
    for (let i = 0; i < m; i++) J[i * n + j] = (fp[i] - f0[i]) / dx;
  }
  return J;
}
