/**
 * Trust Region Reflective (scipy's `method="trf"`, exact trust-region
 * solver), working on p-sized linearizations only.
 *
 * @module
 */

import type { Evaluator } from "./linearization.ts";
import { type Factor, linearizeAt, toFactor } from "./_factor.ts";
import {
  columnNormsInto,
  dot,
  matVec,
  norm2,
  norm2Product,
  normInf,
  type Svd,
  svd,
} from "./linalg.ts";
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
import { toNumbers } from "./_numbers.ts";
import { smallCopy, smallF64 } from "./_small_f64.ts";
import {
  type IterationInfo,
  type SolverOptions,
  type SolverResult,
  type SolverState,
  TERMINATION_MESSAGES,
} from "./solver_types.ts";

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
  const st = await initialState(ev, x0, opts);
  while (true) {
    const g = scaledGradient(st, opts);
    if (g.norm < opts.gtol) st.status = 1;
    if (st.status !== null || st.nfev >= opts.maxNfev) break;
    opts.signal?.throwIfAborted();
    const sub = subproblem(st, ev.nResiduals, g);
    const trial = await tryStep(ev, st, sub, opts);
    if (trial) {
      st.x = trial.x;
      st.cost = trial.cost;
      st.fac = trial.fac ?? await linearizeAt(ev, st.x);
      st.njev++;
      if (st.jacScaling) st.scaleInv = jacScale(st.fac.colNorms, st.scaleInv);
    } else {
      st.stepNorm = 0;
    }
    st.nit++;
    await opts.onIteration?.(iterationInfo(st));
  }
  const status = st.status ?? 0;
  return {
    x: st.x,
    cost: st.cost,
    factor: st.fac,
    status,
    message: TERMINATION_MESSAGES[status],
    nfev: st.nfev,
    njev: st.njev,
    nit: st.nit,
    activeMask: st.bounded
      ? findActiveConstraints(st.x, opts.lower, opts.upper, opts.xtol)
      : new Int8Array(st.x.length),
    optimality: st.gNorm,
    state: solverState(st),
  };
}

/** The state of a TRF run between iterations. */
interface TrfState {
  x: Float64Array;
  fac: Factor;
  cost: number;
  nfev: number;
  njev: number;
  nit: number;
  /** Trust-region radius in the scaled variables. */
  Delta: number;
  /** Levenberg-Marquardt parameter of the last subproblem. */
  alpha: number;
  /** Inverse variable scale (column norms with `xScale: "jac"`). */
  scaleInv: Float64Array;
  readonly jacScaling: boolean;
  readonly bounded: boolean;
  status: number | null;
  stepNorm: number;
  gNorm: number;
  /** Per-iteration arrays, reused (one allocation per run, not per step). */
  readonly ws: TrfWorkspace;
}

/**
 * The arrays one iteration needs and no later one keeps: views of one
 * buffer per run. Typed arrays cost far more to allocate than their p
 * entries take to compute on small problems.
 */
interface TrfWorkspace {
  /** Coleman-Li's v and dv without bounds: ones and zeros (never written). */
  readonly ones: Float64Array;
  readonly zeros: Float64Array;
  readonly d: Float64Array;
  readonly diagH: Float64Array;
  readonly gH: Float64Array;
  /** J_h (2n x n with bounds). */
  readonly A: Float64Array;
  readonly suf: Float64Array;
  readonly aNorms: Float64Array;
  /** J_h times a step, inside the quadratic model. */
  readonly js: Float64Array;
  /** The SVD of J_h. */
  readonly svd: Svd;
  /** The step of an unbounded trial, in the caller's variables. */
  readonly step: Float64Array;
  /** The trust-region step of a trial, in the scaled variables. */
  readonly pH: Float64Array;
}

function trfWorkspace(n: number, bounded: boolean): TrfWorkspace {
  const rows = bounded ? 2 * n : n;
  const buf = new ArrayBuffer(8 * (11 * n + 2 * rows * n + n * n));
  let at = 0;
  const take = (len: number) => {
    const a = new Float64Array(buf, at, len);
    at += 8 * len;
    return a;
  };
  const ones = take(n).fill(1);
  return {
    ones,
    zeros: take(n),
    d: take(n),
    diagH: take(n),
    gH: take(n),
    A: take(rows * n),
    suf: take(n),
    aNorms: take(n),
    js: take(n),
    svd: { u: take(rows * n), s: take(n), v: take(n * n) },
    step: take(n),
    pH: take(n),
  };
}

/** The start (or the resumed state) and the initial trust radius. */
async function initialState(
  ev: Evaluator,
  x0: Float64Array,
  opts: SolverOptions,
): Promise<TrfState> {
  const n = ev.nParams;
  const lb = opts.lower, ub = opts.upper;
  let bounded = false;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(lb[i]) || Number.isFinite(ub[i])) bounded = true;
  }
  const jacScaling = opts.xScale === "jac";
  const userScaleInv = () => (opts.xScale as Float64Array).map((s) => 1 / s);
  const common = {
    jacScaling,
    bounded,
    status: null,
    stepNorm: 0,
    gNorm: 0,
    ws: trfWorkspace(n, bounded),
  };
  const r = opts.resume;
  if (r) {
    const x = Float64Array.from(r.x);
    const fac = await linearizeAt(ev, x);
    return {
      ...common,
      x,
      fac,
      cost: fac.cost,
      nfev: r.nfev,
      njev: r.njev,
      nit: r.nit,
      Delta: r.delta,
      alpha: r.alpha,
      scaleInv: jacScaling
        ? (r.scale ? Float64Array.from(r.scale) : jacScale(fac.colNorms, null))
        : userScaleInv(),
    };
  }
  const x = bounded ? makeStrictlyFeasible(x0, lb, ub, 0) : smallCopy(x0);
  const fac = await linearizeAt(ev, x);
  const scaleInv = jacScaling ? jacScale(fac.colNorms, null) : userScaleInv();
  let Delta: number;
  if (bounded) {
    const { v, dv } = clScalingVector(x, fac.g, lb, ub);
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const vi = dv[i] !== 0 ? v[i] * scaleInv[i] : v[i];
      t[i] = x[i] * scaleInv[i] / Math.sqrt(vi);
    }
    Delta = norm2(t);
  } else {
    Delta = norm2Product(x, scaleInv);
  }
  if (Delta === 0 || !Number.isFinite(Delta)) Delta = 1;
  return {
    ...common,
    x,
    fac,
    cost: fac.cost,
    nfev: 1,
    njev: 1,
    nit: 0,
    Delta,
    alpha: 0,
    scaleInv,
  };
}

/** The iteration's report (its state copied: x and the scale as numbers). */
function iterationInfo(st: TrfState): IterationInfo {
  return {
    nit: st.nit,
    nfev: st.nfev,
    cost: st.cost,
    optimality: st.gNorm,
    stepNorm: st.stepNorm,
    state: solverState(st),
  };
}

/** What a checkpoint stores of a TRF run. */
function solverState(
  st: Pick<
    TrfState,
    | "x"
    | "Delta"
    | "alpha"
    | "nfev"
    | "njev"
    | "nit"
    | "jacScaling"
    | "scaleInv"
  >,
): SolverState {
  return {
    method: "trf",
    x: toNumbers(st.x),
    delta: st.Delta,
    alpha: st.alpha,
    nfev: st.nfev,
    njev: st.njev,
    nit: st.nit,
    scale: st.jacScaling ? toNumbers(st.scaleInv) : null,
  };
}

/** Coleman-Li's scaling (v, dv) and the norm of the scaled gradient. */
function scaledGradient(
  st: TrfState,
  opts: SolverOptions,
): { v: Float64Array; dv: Float64Array; norm: number } {
  const g = st.fac.g;
  let v: Float64Array, dv: Float64Array;
  if (st.bounded) {
    ({ v, dv } = clScalingVector(st.x, g, opts.lower, opts.upper));
    st.gNorm = normInf(g.map((gi, i) => gi * v[i]));
  } else {
    // Read only (subproblem scales v in place with bounds only).
    v = st.ws.ones;
    dv = st.ws.zeros;
    st.gNorm = normInf(g);
  }
  return { v, dv, norm: st.gNorm };
}

/** The trust-region subproblem of one iteration, in scaled variables. */
interface Subproblem {
  /** Scaled ("hat") variables: x = d * x_hat. */
  readonly d: Float64Array;
  /** Coleman-Li's diagonal term (0 without bounds). */
  readonly diagH: Float64Array;
  /** The scaled gradient d * g. */
  readonly gH: Float64Array;
  /** SVD of J_h (augmented by sqrt(diag_h) with bounds), its column norms. */
  readonly s: Float64Array;
  readonly V: Float64Array;
  readonly aNorms: Float64Array;
  /** s * U^T f_aug. */
  readonly suf: Float64Array;
  /** J_h times a scaled step. */
  readonly jh: (sh: Float64Array) => Float64Array;
  /** The quadratic model of the cost change for a scaled step. */
  readonly quad: (sh: Float64Array) => number;
  /** Coleman-Li's step-back factor. */
  readonly theta: number;
  /** Residuals (for the rank decision). */
  readonly m: number;
}

function subproblem(
  st: TrfState,
  m: number,
  g0: { v: Float64Array; dv: Float64Array; norm: number },
): Subproblem {
  const { fac, scaleInv, bounded, ws } = st;
  const g = fac.g;
  const n = g.length;
  const { v, dv } = g0;
  // Scaled ("hat") variables: x_scale first, then Coleman-Li.
  const { d, diagH, gH, suf, js } = ws;
  for (let i = 0; i < n; i++) {
    const scale = 1 / scaleInv[i];
    if (bounded && dv[i] !== 0) v[i] *= scaleInv[i];
    d[i] = (bounded ? Math.sqrt(v[i]) : 1) * scale;
    diagH[i] = bounded ? g[i] * dv[i] * scale : 0;
  }
  for (let i = 0; i < n; i++) gH[i] = g[i] * d[i];
  // SVD of J_h = J d (augmented by sqrt(diag_h) with bounds), via the factor.
  const rows = bounded ? 2 * n : n;
  const A = ws.A;
  A.fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) A[i * n + j] = fac.f[i * n + j] * d[j];
  }
  if (bounded) {
    for (let i = 0; i < n; i++) A[(n + i) * n + i] = Math.sqrt(diagH[i]);
  }
  const { u, s, v: V } = svd(A, rows, n, ws.svd);
  // suf = s * U^T f_aug with f_aug = [qtf; 0].
  for (let k = 0; k < n; k++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += u[i * n + k] * fac.qtf[i];
    suf[k] = s[k] * t;
  }
  const jh = (sh: Float64Array) => matVec(fac.f, n, sh.map((t, i) => t * d[i]));
  const quad = (sh: Float64Array) => {
    // jh(sh) into the workspace: the same sums in the same order.
    const F = fac.f;
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let k = 0; k < n; k++) t += F[i * n + k] * (sh[k] * d[k]);
      js[i] = t;
    }
    let q = dot(js, js);
    if (bounded) {
      for (let i = 0; i < n; i++) q += sh[i] * diagH[i] * sh[i];
    }
    return 0.5 * q + dot(sh, gH);
  };
  return {
    d,
    diagH,
    gH,
    s,
    V,
    aNorms: columnNormsInto(A, rows, n, ws.aNorms),
    suf,
    jh,
    quad,
    theta: Math.max(0.995, 1 - g0.norm),
    m,
  };
}

/**
 * Trial steps until one lowers the cost (returned, with its linearization
 * when the evaluator gave it) or a termination test holds (null, with
 * `st.status` set) or the evaluations run out (null).
 */
async function tryStep(
  ev: Evaluator,
  st: TrfState,
  sub: Subproblem,
  opts: SolverOptions,
): Promise<{ x: Float64Array; cost: number; fac: Factor | null } | null> {
  const n = st.x.length;
  const { d } = sub;
  while (st.nfev < opts.maxNfev) {
    const tr = solveLsqTrustRegion(
      n,
      sub.m,
      sub.suf,
      sub.s,
      sub.V,
      st.Delta,
      st.alpha,
      undefined,
      undefined,
      sub.aNorms,
      st.ws.pH,
    );
    st.alpha = tr.alpha;
    // In the workspace: nothing keeps the scaled step past this trial.
    const pH = tr.p;
    let step: Float64Array, stepH: Float64Array, predicted: number;
    let xNew: Float64Array;
    if (st.bounded) {
      ({ step, stepH, predicted } = selectStep(
        st.x,
        sub.jh,
        sub.diagH,
        sub.gH,
        pH.map((t, i) => t * d[i]),
        pH,
        d,
        st.Delta,
        opts.lower,
        opts.upper,
        sub.theta,
        sub.quad,
      ));
      xNew = makeStrictlyFeasible(
        st.x.map((xi, i) => xi + step[i]),
        opts.lower,
        opts.upper,
        0,
      );
    } else {
      stepH = pH;
      predicted = -sub.quad(stepH);
      // The step lives in the workspace (only x moves on with the state).
      step = st.ws.step;
      xNew = smallF64(n);
      for (let i = 0; i < n; i++) {
        step[i] = stepH[i] * d[i];
        xNew[i] = st.x[i] + step[i];
      }
    }
    const e = (await ev.evaluate([xNew], [true]))[0];
    st.nfev++;
    const stepHNorm = norm2(stepH);
    if (!Number.isFinite(e.cost)) {
      st.Delta = 0.25 * stepHNorm;
      continue;
    }
    const actualReduction = st.cost - e.cost;
    const upd = updateTrRadius(
      st.Delta,
      actualReduction,
      predicted,
      stepHNorm,
      stepHNorm > 0.95 * st.Delta,
    );
    st.stepNorm = norm2(step);
    const dn = st.fac.colNorms;
    st.status = checkTermination(
      actualReduction,
      st.cost,
      st.stepNorm,
      norm2(st.x),
      upd.ratio,
      opts.ftol,
      opts.xtol,
      { dxNorm: norm2Product(step, dn), xNorm: norm2Product(st.x, dn) },
    );
    const accepted = actualReduction > 0
      ? { x: xNew, cost: e.cost, fac: e.lin ? toFactor(e.lin, n) : null }
      : null;
    if (st.status !== null) return accepted;
    st.alpha *= st.Delta / upd.Delta;
    st.Delta = upd.Delta;
    if (accepted) return accepted;
  }
  return null;
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
