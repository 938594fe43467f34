/**
 * Trust Region Reflective (scipy's `method="trf"`, exact trust-region
 * solver), working on p-sized linearizations only.
 *
 * @module
 */

import type { Evaluator } from "./linearization.ts";
import { type Factor, toFactor } from "./_factor.ts";
import { columnNorms, dot, matVec, norm2, normInf, svd } from "./linalg.ts";
import {
  checkTermination,
  clScalingVector,
  findActiveConstraints,
  inBounds,
  intersectTrustRegion,
  makeStrictlyFeasible,
  minimizeQuadratic1d,
  solveLsqTrustRegion,
  stepSizeToBound,
  updateTrRadius,
} from "./_trust_region.ts";
import {
  type SolverOptions,
  type SolverResult,
  type SolverState,
  TERMINATION_MESSAGES,
} from "./solver_types.ts";

/** Evaluates at x and requires a finite cost and a linearization. */
async function linearizeAt(
  ev: Evaluator,
  x: Float64Array,
): Promise<Factor> {
  const [e] = await ev.evaluate([x], [true]);
  if (!Number.isFinite(e.cost) || !e.lin) {
    throw new RangeError(
      "Residuals are not finite at the initial point: check p0 and the data",
    );
  }
  return toFactor(e.lin, ev.nParams);
}

function jacScale(
  colNorms: Float64Array,
  old: Float64Array | null,
): Float64Array {
  const scaleInv = Float64Array.from(colNorms);
  for (let i = 0; i < scaleInv.length; i++) {
    if (old) scaleInv[i] = Math.max(scaleInv[i], old[i]);
    else if (scaleInv[i] === 0) scaleInv[i] = 1;
  }
  return scaleInv;
}

/**
 * Runs TRF from `x0`. With all bounds infinite it is scipy's
 * `trf_no_bounds`, otherwise `trf_bounds` (Coleman-Li scaling, reflective
 * steps, strictly feasible iterates).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * // Rosenbrock as least squares; trf is used through leastSquares.
 * const r = await leastSquares(
 *   (p) => [10 * (p[1] - p[0] ** 2), 1 - p[0]],
 *   [-1.2, 1],
 *   { method: "trf" },
 * );
 * assert.ok(Math.abs(r.x[0] - 1) < 1e-6);
 * ```
 */
export async function trf(
  ev: Evaluator,
  x0: Float64Array,
  opts: SolverOptions,
): Promise<SolverResult> {
  const n = ev.nParams;
  const m = ev.nResiduals;
  const lb = opts.lower, ub = opts.upper;
  let bounded = false;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(lb[i]) || Number.isFinite(ub[i])) bounded = true;
  }
  const jacScaling = opts.xScale === "jac";
  const xScale = opts.xScale === "jac" ? null : opts.xScale;

  let x: Float64Array;
  let nfev: number, njev: number, nit: number;
  let Delta: number, alpha: number;
  let scaleInv: Float64Array;
  let fac: Factor;
  if (opts.resume) {
    const st = opts.resume;
    x = Float64Array.from(st.x);
    fac = await linearizeAt(ev, x);
    nfev = st.nfev;
    njev = st.njev;
    nit = st.nit;
    Delta = st.delta;
    alpha = st.alpha;
    scaleInv = jacScaling
      ? (st.scale ? Float64Array.from(st.scale) : jacScale(fac.colNorms, null))
      : xScale!.map((s) => 1 / s);
  } else {
    x = bounded ? makeStrictlyFeasible(x0, lb, ub, 0) : Float64Array.from(x0);
    fac = await linearizeAt(ev, x);
    nfev = 1;
    njev = 1;
    nit = 0;
    alpha = 0;
    scaleInv = jacScaling
      ? jacScale(fac.colNorms, null)
      : xScale!.map((s) => 1 / s);
    if (bounded) {
      const { v, dv } = clScalingVector(x, fac.g, lb, ub);
      const t = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const vi = dv[i] !== 0 ? v[i] * scaleInv[i] : v[i];
        t[i] = x[i] * scaleInv[i] / Math.sqrt(vi);
      }
      Delta = norm2(t);
    } else {
      Delta = norm2(x.map((xi, i) => xi * scaleInv[i]));
    }
    if (Delta === 0 || !Number.isFinite(Delta)) Delta = 1;
  }
  let cost = fac.cost;
  let status: number | null = null;
  let stepNorm = 0;
  let gNorm = 0;

  const state = (): SolverState => ({
    method: "trf",
    x: Array.from(x),
    delta: Delta,
    alpha,
    nfev,
    njev,
    nit,
    scale: jacScaling ? Array.from(scaleInv) : null,
  });

  while (true) {
    const g = fac.g;
    let v: Float64Array, dv: Float64Array;
    if (bounded) {
      ({ v, dv } = clScalingVector(x, g, lb, ub));
      gNorm = normInf(g.map((gi, i) => gi * v[i]));
    } else {
      v = new Float64Array(n).fill(1);
      dv = new Float64Array(n);
      gNorm = normInf(g);
    }
    if (gNorm < opts.gtol) status = 1;
    if (status !== null || nfev >= opts.maxNfev) break;
    opts.signal?.throwIfAborted();

    // Scaled ("hat") variables: x_scale first, then Coleman-Li.
    const scale = scaleInv.map((s) => 1 / s);
    const d = new Float64Array(n);
    const diagH = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (bounded && dv[i] !== 0) v[i] *= scaleInv[i];
      d[i] = (bounded ? Math.sqrt(v[i]) : 1) * scale[i];
      diagH[i] = bounded ? g[i] * dv[i] * scale[i] : 0;
    }
    const gH = g.map((gi, i) => gi * d[i]);
    // SVD of J_h = J d (augmented by sqrt(diag_h) with bounds), via the factor.
    const rows = bounded ? 2 * n : n;
    const A = new Float64Array(rows * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) A[i * n + j] = fac.f[i * n + j] * d[j];
    }
    if (bounded) {
      for (let i = 0; i < n; i++) A[(n + i) * n + i] = Math.sqrt(diagH[i]);
    }
    const { u, s, v: V } = svd(A, rows, n);
    const aNorms = columnNorms(A, rows, n);
    // suf = s * U^T f_aug with f_aug = [qtf; 0].
    const suf = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += u[i * n + k] * fac.qtf[i];
      suf[k] = s[k] * t;
    }
    const jh = (sh: Float64Array) =>
      matVec(fac.f, n, sh.map((t, i) => t * d[i]));
    const quad = (sh: Float64Array) => {
      const js = jh(sh);
      let q = dot(js, js);
      if (bounded) {
        for (let i = 0; i < n; i++) q += sh[i] * diagH[i] * sh[i];
      }
      return 0.5 * q + dot(sh, gH);
    };

    const theta = Math.max(0.995, 1 - gNorm);
    let actualReduction = -1;
    let xNew = x, facNew: Factor | null = null, costNew = cost;
    while (actualReduction <= 0 && nfev < opts.maxNfev) {
      const tr = solveLsqTrustRegion(
        n,
        m,
        suf,
        s,
        V,
        Delta,
        alpha,
        undefined,
        undefined,
        aNorms,
      );
      alpha = tr.alpha;
      const pH = tr.p;
      let step: Float64Array, stepH: Float64Array, predicted: number;
      if (bounded) {
        ({ step, stepH, predicted } = selectStep(
          x,
          jh,
          diagH,
          gH,
          pH.map((t, i) => t * d[i]),
          pH,
          d,
          Delta,
          lb,
          ub,
          theta,
          quad,
        ));
        xNew = makeStrictlyFeasible(x.map((xi, i) => xi + step[i]), lb, ub, 0);
      } else {
        stepH = pH;
        predicted = -quad(stepH);
        step = stepH.map((t, i) => t * d[i]);
        xNew = x.map((xi, i) => xi + step[i]);
      }
      const [e] = await ev.evaluate([xNew], [true]);
      nfev++;
      const stepHNorm = norm2(stepH);
      if (!Number.isFinite(e.cost)) {
        Delta = 0.25 * stepHNorm;
        continue;
      }
      costNew = e.cost;
      facNew = e.lin ? toFactor(e.lin, n) : null;
      actualReduction = cost - costNew;
      const upd = updateTrRadius(
        Delta,
        actualReduction,
        predicted,
        stepHNorm,
        stepHNorm > 0.95 * Delta,
      );
      stepNorm = norm2(step);
      const dn = fac.colNorms;
      status = checkTermination(
        actualReduction,
        cost,
        stepNorm,
        norm2(x),
        upd.ratio,
        opts.ftol,
        opts.xtol,
        {
          dxNorm: norm2(step.map((t, i) => t * dn[i])),
          xNorm: norm2(x.map((t, i) => t * dn[i])),
        },
      );
      if (status !== null) break;
      alpha *= Delta / upd.Delta;
      Delta = upd.Delta;
    }
    if (actualReduction > 0) {
      x = xNew;
      cost = costNew;
      fac = facNew ?? await linearizeAt(ev, x);
      njev++;
      if (jacScaling) scaleInv = jacScale(fac.colNorms, scaleInv);
    } else {
      stepNorm = 0;
    }
    nit++;
    if (opts.onIteration) {
      await opts.onIteration({
        nit,
        nfev,
        cost,
        optimality: gNorm,
        stepNorm,
        state: state(),
      });
    }
  }
  const finalStatus = status ?? 0;
  return {
    x,
    cost,
    factor: fac,
    status: finalStatus,
    message: TERMINATION_MESSAGES[finalStatus],
    nfev,
    njev,
    nit,
    activeMask: bounded
      ? findActiveConstraints(x, lb, ub, opts.xtol)
      : new Int8Array(n),
    optimality: gNorm,
    state: state(),
  };
}

/** scipy's `select_step`: the best of the TR step, its reflection, and the
 * scaled anti-gradient, all kept strictly inside the box. */
function selectStep(
  x: Float64Array,
  jh: (s: Float64Array) => Float64Array,
  diagH: Float64Array,
  gH: Float64Array,
  p: Float64Array,
  pH: Float64Array,
  d: Float64Array,
  Delta: number,
  lb: Float64Array,
  ub: Float64Array,
  theta: number,
  quad: (s: Float64Array) => number,
): { step: Float64Array; stepH: Float64Array; predicted: number } {
  const n = x.length;
  if (inBounds(x.map((xi, i) => xi + p[i]), lb, ub)) {
    return { step: p, stepH: pH, predicted: -quad(pH) };
  }
  const { step: pStride, hits } = stepSizeToBound(x, p, lb, ub);
  const rH = Float64Array.from(pH);
  for (let i = 0; i < n; i++) if (hits[i] !== 0) rH[i] *= -1;
  let r = rH.map((t, i) => t * d[i]);
  for (let i = 0; i < n; i++) {
    p[i] *= pStride;
    pH[i] *= pStride;
  }
  const xOnBound = x.map((xi, i) => xi + p[i]);
  const [, toTr] = intersectTrustRegion(pH, rH, Delta);
  const { step: toBound } = stepSizeToBound(xOnBound, r, lb, ub);
  let rStride = Math.min(toBound, toTr);
  let rStrideL: number, rStrideU: number;
  if (rStride > 0) {
    rStrideL = (1 - theta) * pStride / rStride;
    rStrideU = rStride === toBound ? theta * toBound : toTr;
  } else {
    rStrideL = 0;
    rStrideU = -1;
  }
  let rValue = Infinity;
  let rHFinal = rH;
  if (rStrideL <= rStrideU) {
    // build_quadratic_1d(J_h, g_h, r_h, s0=p_h, diag=diag_h)
    const jr = jh(rH), jp = jh(pH);
    let a = dot(jr, jr);
    for (let i = 0; i < n; i++) a += rH[i] * diagH[i] * rH[i];
    a *= 0.5;
    let b = dot(gH, rH) + dot(jp, jr);
    let c = 0.5 * dot(jp, jp) + dot(gH, pH);
    for (let i = 0; i < n; i++) {
      b += pH[i] * diagH[i] * rH[i];
      c += 0.5 * pH[i] * diagH[i] * pH[i];
    }
    const mq = minimizeQuadratic1d(a, b, rStrideL, rStrideU, c);
    rStride = mq.t;
    rValue = mq.value;
    rHFinal = rH.map((t, i) => t * rStride + pH[i]);
    r = rHFinal.map((t, i) => t * d[i]);
  }
  for (let i = 0; i < n; i++) {
    p[i] *= theta;
    pH[i] *= theta;
  }
  const pValue = quad(pH);
  const agH = gH.map((t) => -t);
  const ag = agH.map((t, i) => t * d[i]);
  const toTrAg = Delta / norm2(agH);
  const { step: toBoundAg } = stepSizeToBound(x, ag, lb, ub);
  const agStrideMax = toBoundAg < toTrAg ? theta * toBoundAg : toTrAg;
  const ja = jh(agH);
  let aa = dot(ja, ja);
  for (let i = 0; i < n; i++) aa += agH[i] * diagH[i] * agH[i];
  aa *= 0.5;
  const bb = dot(gH, agH);
  const agm = minimizeQuadratic1d(aa, bb, 0, agStrideMax);
  const agStepH = agH.map((t) => t * agm.t);
  const agStep = ag.map((t) => t * agm.t);
  if (pValue < rValue && pValue < agm.value) {
    return { step: p, stepH: pH, predicted: -pValue };
  } else if (rValue < pValue && rValue < agm.value) {
    return { step: r, stepH: rHFinal, predicted: -rValue };
  }
  return { step: agStep, stepH: agStepH, predicted: -agm.value };
}
