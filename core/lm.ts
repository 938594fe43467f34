/**
 * Levenberg-Marquardt in the style of MINPACK's `lmder` (Moré's scaling and
 * trust-region updates, scipy's `method="lm"`), working on p-sized
 * linearizations. The damped subproblem is solved through an SVD of the
 * scaled factor instead of a pivoted QR; the iteration, the scaling and the
 * termination tests are Moré's.
 *
 * @module
 */

import type { Evaluator } from "./linearization.ts";
import { type Factor, toFactor } from "./_factor.ts";
import { columnNorms, dot, matVec, norm2, svd } from "./linalg.ts";
import { solveLsqTrustRegion } from "./_trust_region.ts";
import { EPS } from "./_constants.ts";
import {
  type SolverOptions,
  type SolverResult,
  type SolverState,
  TERMINATION_MESSAGES,
} from "./solver_types.ts";

/**
 * Runs Levenberg-Marquardt from `x0` (no bounds, linear loss).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * const r = await leastSquares(
 *   (p) => [10 * (p[1] - p[0] ** 2), 1 - p[0]],
 *   [-1.2, 1],
 *   { method: "lm" },
 * );
 * assert.ok(Math.abs(r.x[1] - 1) < 1e-6);
 * ```
 */
export async function lm(
  ev: Evaluator,
  x0: Float64Array,
  opts: SolverOptions,
): Promise<SolverResult> {
  const n = ev.nParams;
  const m = ev.nResiduals;
  const factor = 100;
  const userDiag = opts.xScale === "jac" ? null : opts.xScale.map((s) => 1 / s);

  const linearize = async (x: Float64Array): Promise<Factor> => {
    const [e] = await ev.evaluate([x], [true]);
    if (!Number.isFinite(e.cost) || !e.lin) {
      throw new RangeError(
        "Residuals are not finite at the initial point: check p0 and the data",
      );
    }
    return toFactor(e.lin, n);
  };

  let x: Float64Array;
  let nfev: number, njev: number, nit: number;
  let delta: number, par: number;
  let diag: Float64Array;
  let fac: Factor;
  if (opts.resume) {
    const st = opts.resume;
    x = Float64Array.from(st.x);
    fac = await linearize(x);
    ({ nfev, njev, nit } = st);
    delta = st.delta;
    par = st.alpha;
    diag = st.scale
      ? Float64Array.from(st.scale)
      : (userDiag ?? fac.colNorms.map((c) => c === 0 ? 1 : c));
  } else {
    x = Float64Array.from(x0);
    fac = await linearize(x);
    nfev = 1;
    njev = 1;
    nit = 0;
    par = 0;
    diag = userDiag ?? fac.colNorms.map((c) => (c === 0 ? 1 : c));
    const xnorm0 = norm2(x.map((xi, i) => xi * diag[i]));
    delta = factor * xnorm0;
    if (delta === 0) delta = factor;
  }
  let cost = fac.cost;
  let info = 0;
  let gnorm = 0;
  let stepNorm = 0;
  let firstStep = !opts.resume;

  const state = (): SolverState => ({
    method: "lm",
    x: Array.from(x),
    delta,
    alpha: par,
    nfev,
    njev,
    nit,
    scale: Array.from(diag),
  });

  outer: while (true) {
    const fnorm = Math.sqrt(2 * cost);
    // Scaled gradient norm: max_j |(J^T f)_j| / (||J_j|| ||f||).
    gnorm = 0;
    if (fnorm !== 0) {
      for (let j = 0; j < n; j++) {
        if (fac.colNorms[j] !== 0) {
          gnorm = Math.max(
            gnorm,
            Math.abs(fac.g[j] / fnorm / fac.colNorms[j]),
          );
        }
      }
    }
    if (gnorm <= opts.gtol) info = 4;
    if (info !== 0) break;
    if (nfev >= opts.maxNfev) {
      info = 5;
      break;
    }
    opts.signal?.throwIfAborted();
    if (!userDiag) {
      for (let j = 0; j < n; j++) diag[j] = Math.max(diag[j], fac.colNorms[j]);
    }
    // SVD of J D^{-1} through the factor.
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) A[i * n + j] = fac.f[i * n + j] / diag[j];
    }
    const { u, s, v } = svd(A, n, n);
    const aNorms = columnNorms(A, n, n);
    const suf = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += u[i * n + k] * fac.qtf[i];
      suf[k] = s[k] * t;
    }
    const xnorm = norm2(x.map((xi, i) => xi * diag[i]));

    while (true) {
      const tr = solveLsqTrustRegion(
        n,
        m,
        suf,
        s,
        v,
        delta,
        par,
        0.1,
        undefined,
        aNorms,
      );
      par = tr.alpha;
      const step = tr.p.map((t, j) => t / diag[j]);
      const pnorm = norm2(tr.p);
      if (firstStep) delta = Math.min(delta, pnorm);
      const xNew = x.map((xi, j) => xi + step[j]);
      const [e] = await ev.evaluate([xNew], [true]);
      nfev++;
      const fnorm1 = Number.isFinite(e.cost) ? Math.sqrt(2 * e.cost) : Infinity;
      let actred = -1;
      if (0.1 * fnorm1 < fnorm) actred = 1 - (fnorm1 / fnorm) ** 2;
      // Predicted reduction, relative to ||f||^2, from the linear model.
      const js = matVec(fac.f, n, step);
      const gp = dot(fac.g, step);
      const prered = fnorm === 0
        ? 0
        : -(2 * gp + dot(js, js)) / (fnorm * fnorm);
      const dirder = fnorm === 0 ? 0 : gp / (fnorm * fnorm);
      // A step the linear model does not predict to lower the cost (only
      // rounding makes prered <= 0) is a failed step, never an accepted one.
      const ratio = prered > 0 ? actred / prered : 0;
      if (ratio <= 0.25) {
        let temp = actred >= 0 ? 0.5 : 0.5 * dirder / (dirder + 0.5 * actred);
        if (0.1 * fnorm1 >= fnorm || temp < 0.1 || !Number.isFinite(temp)) {
          temp = 0.1;
        }
        delta = temp * Math.min(delta, pnorm / 0.1);
        par /= temp;
      } else if (par === 0 || ratio >= 0.75) {
        delta = pnorm / 0.5;
        par *= 0.5;
      }
      let accepted = false;
      let xnormNow = xnorm;
      if (ratio >= 1e-4 && actred > 0 && Number.isFinite(e.cost)) {
        accepted = true;
        firstStep = false;
        x = xNew;
        cost = e.cost;
        fac = e.lin ? toFactor(e.lin, n) : await linearize(x);
        njev++;
        nit++;
        stepNorm = norm2(step);
        xnormNow = norm2(x.map((xi, i) => xi * diag[i]));
      }
      if (
        Math.abs(actred) <= opts.ftol && prered <= opts.ftol && 0.5 * ratio <= 1
      ) {
        info = 1;
      }
      if (delta <= opts.xtol * xnormNow) info = info === 1 ? 3 : 2;
      if (info === 0) {
        if (nfev >= opts.maxNfev) info = 5;
        // MINPACK's 6, 7, 8: tolerances too small for further progress.
        else if (Math.abs(actred) <= EPS && prered <= EPS && 0.5 * ratio <= 1) {
          info = 6;
        } else if (delta <= EPS * xnormNow) info = 7;
        else if (gnorm <= EPS) info = 8;
      }
      if (accepted && opts.onIteration) {
        await opts.onIteration({
          nit,
          nfev,
          cost,
          optimality: gnorm,
          stepNorm,
          state: state(),
        });
      }
      if (info !== 0) break outer;
      if (accepted) break;
    }
  }
  // MINPACK info -> scipy status; 6/7/8 map to the test they tighten.
  const status = ({ 1: 2, 2: 3, 3: 4, 4: 1, 5: 0, 6: 2, 7: 3, 8: 1 } as Record<
    number,
    number
  >)[info];
  return {
    x,
    cost,
    factor: fac,
    status,
    message: TERMINATION_MESSAGES[status] +
      (info >= 6
        ? " (no further progress is possible at machine precision)"
        : ""),
    nfev,
    njev,
    nit,
    activeMask: new Int8Array(n),
    optimality: Math.max(...Array.from(fac.g, Math.abs)),
    state: state(),
  };
}
