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
import { type Factor, linearizeAt, toFactor } from "./_factor.ts";
import {
  columnNormsInto,
  dot,
  norm2,
  norm2Product,
  type Svd,
  svd,
} from "./linalg.ts";
import { solveLsqTrustRegion } from "./_trust_region.ts";
import { EPS } from "./_constants.ts";
import { toNumbers } from "./_numbers.ts";
import { smallCopy, smallF64 } from "./_small_f64.ts";
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
  const st = await initialState(ev, x0, opts);
  while (true) {
    st.gnorm = scaledGradientNorm(st.fac);
    if (st.gnorm <= opts.gtol) st.info = 4;
    if (st.info !== 0) break;
    if (st.nfev >= opts.maxNfev) {
      st.info = 5;
      break;
    }
    opts.signal?.throwIfAborted();
    await iterate(ev, st, subproblem(st, ev.nResiduals), opts);
    if (st.info !== 0) break;
  }
  // MINPACK info -> scipy status; 6/7/8 map to the test they tighten.
  const status = ({ 1: 2, 2: 3, 3: 4, 4: 1, 5: 0, 6: 2, 7: 3, 8: 1 } as Record<
    number,
    number
  >)[st.info];
  return {
    x: st.x,
    cost: st.fac.cost,
    factor: st.fac,
    status,
    message: TERMINATION_MESSAGES[status] +
      (st.info >= 6
        ? " (no further progress is possible at machine precision)"
        : ""),
    nfev: st.nfev,
    njev: st.njev,
    nit: st.nit,
    activeMask: new Int8Array(st.x.length),
    optimality: maxAbs(st.fac.g),
    state: solverState(st),
  };
}

/** `Math.max(...g.map(Math.abs))` without the copies. */
function maxAbs(g: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]));
  return m;
}

/** MINPACK's initial step bound factor. */
const FACTOR = 100;

/** The state of an LM run between iterations. */
interface LmState {
  x: Float64Array;
  fac: Factor;
  nfev: number;
  njev: number;
  nit: number;
  /** Step bound in the scaled variables. */
  delta: number;
  /** Levenberg-Marquardt parameter. */
  par: number;
  /** Variable scaling (Moré's running column norms, or 1/xScale). */
  diag: Float64Array;
  /** Whether diag is the caller's (fixed) or Moré's (running). */
  readonly fixedDiag: boolean;
  /** The first step also sets the step bound (MINPACK). */
  firstStep: boolean;
  /** MINPACK's termination code, 0 while running. */
  info: number;
  gnorm: number;
  stepNorm: number;
  /** Per-iteration arrays, reused: views of one buffer per run. */
  readonly ws: LmWorkspace;
}

/** The arrays one iteration needs and no later one keeps. */
interface LmWorkspace {
  /** J D^{-1}, n x n. */
  readonly A: Float64Array;
  readonly suf: Float64Array;
  readonly aNorms: Float64Array;
  /** J times a step. */
  readonly js: Float64Array;
  /** The SVD of J D^{-1}. */
  readonly svd: Svd;
  /** The trial step. */
  readonly step: Float64Array;
  /** The trust-region step in the scaled variables. */
  readonly p: Float64Array;
}

function lmWorkspace(n: number): LmWorkspace {
  const buf = new ArrayBuffer(8 * (4 * n * n + 6 * n));
  let at = 0;
  const take = (len: number) => {
    const a = new Float64Array(buf, at, len);
    at += 8 * len;
    return a;
  };
  return {
    A: take(n * n),
    suf: take(n),
    aNorms: take(n),
    js: take(n),
    svd: { u: take(n * n), s: take(n), v: take(n * n) },
    step: take(n),
    p: take(n),
  };
}

async function initialState(
  ev: Evaluator,
  x0: Float64Array,
  opts: SolverOptions,
): Promise<LmState> {
  const userDiag = opts.xScale === "jac" ? null : opts.xScale.map((s) => 1 / s);
  const common = {
    fixedDiag: userDiag !== null,
    info: 0,
    gnorm: 0,
    stepNorm: 0,
    ws: lmWorkspace(ev.nParams),
  };
  const colNormDiag = (fac: Factor) => {
    const d = smallCopy(fac.colNorms);
    for (let j = 0; j < d.length; j++) if (d[j] === 0) d[j] = 1;
    return d;
  };
  const r = opts.resume;
  if (r) {
    const x = Float64Array.from(r.x);
    const fac = await linearizeAt(ev, x);
    return {
      ...common,
      x,
      fac,
      nfev: r.nfev,
      njev: r.njev,
      nit: r.nit,
      delta: r.delta,
      par: r.alpha,
      diag: r.scale
        ? Float64Array.from(r.scale)
        : (userDiag ?? colNormDiag(fac)),
      firstStep: false,
    };
  }
  const x = smallCopy(x0);
  const fac = await linearizeAt(ev, x);
  const diag = userDiag ?? colNormDiag(fac);
  const delta = FACTOR * norm2Product(x, diag);
  return {
    ...common,
    x,
    fac,
    nfev: 1,
    njev: 1,
    nit: 0,
    delta: delta === 0 ? FACTOR : delta,
    par: 0,
    diag,
    firstStep: true,
  };
}

/** What a checkpoint stores of an LM run. */
function solverState(st: LmState): SolverState {
  return {
    method: "lm",
    x: toNumbers(st.x),
    delta: st.delta,
    alpha: st.par,
    nfev: st.nfev,
    njev: st.njev,
    nit: st.nit,
    scale: toNumbers(st.diag),
  };
}

/** MINPACK's scaled gradient norm: max_j |(J^T f)_j| / (||J_j|| ||f||). */
function scaledGradientNorm(fac: Factor): number {
  const fnorm = Math.sqrt(2 * fac.cost);
  let gnorm = 0;
  if (fnorm === 0) return 0;
  for (let j = 0; j < fac.g.length; j++) {
    if (fac.colNorms[j] !== 0) {
      gnorm = Math.max(gnorm, Math.abs(fac.g[j] / fnorm / fac.colNorms[j]));
    }
  }
  return gnorm;
}

/** The damped subproblem of one iteration: SVD of J D^{-1}. */
interface Subproblem {
  readonly s: Float64Array;
  readonly v: Float64Array;
  readonly suf: Float64Array;
  readonly aNorms: Float64Array;
  /** ||D x|| at the start of the iteration. */
  readonly xnorm: number;
  readonly m: number;
}

function subproblem(st: LmState, m: number): Subproblem {
  const { fac, diag } = st;
  const n = diag.length;
  if (!st.fixedDiag) {
    for (let j = 0; j < n; j++) diag[j] = Math.max(diag[j], fac.colNorms[j]);
  }
  // SVD of J D^{-1} through the factor.
  const { A, suf } = st.ws;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) A[i * n + j] = fac.f[i * n + j] / diag[j];
  }
  const { u, s, v } = svd(A, n, n, st.ws.svd);
  for (let k = 0; k < n; k++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += u[i * n + k] * fac.qtf[i];
    suf[k] = s[k] * t;
  }
  return {
    s,
    v,
    suf,
    aNorms: columnNormsInto(A, n, n, st.ws.aNorms),
    xnorm: norm2Product(st.x, diag),
    m,
  };
}

/**
 * One LM iteration: trial steps, each updating the step bound and the
 * parameter by Moré's rules, until one is accepted (it lowers the cost and
 * the model predicted it) or a termination test holds (`st.info`).
 */
async function iterate(
  ev: Evaluator,
  st: LmState,
  sub: Subproblem,
  opts: SolverOptions,
): Promise<void> {
  const n = st.x.length;
  const fnorm = Math.sqrt(2 * st.fac.cost);
  while (true) {
    const tr = solveLsqTrustRegion(
      n,
      sub.m,
      sub.suf,
      sub.s,
      sub.v,
      st.delta,
      st.par,
      0.1,
      undefined,
      sub.aNorms,
      st.ws.p,
    );
    st.par = tr.alpha;
    // The step in the workspace; the trial point is new (it may become x).
    const step = st.ws.step;
    const xNew = smallF64(n);
    for (let j = 0; j < n; j++) {
      step[j] = tr.p[j] / st.diag[j];
      xNew[j] = st.x[j] + step[j];
    }
    const pnorm = norm2(tr.p);
    if (st.firstStep) st.delta = Math.min(st.delta, pnorm);
    const e = (await ev.evaluate([xNew], [true]))[0];
    st.nfev++;
    const fnorm1 = Number.isFinite(e.cost) ? Math.sqrt(2 * e.cost) : Infinity;
    let actred = -1;
    if (0.1 * fnorm1 < fnorm) actred = 1 - (fnorm1 / fnorm) ** 2;
    // Predicted reduction, relative to ||f||^2, from the linear model.
    const js = st.ws.js;
    const F = st.fac.f;
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let k = 0; k < n; k++) t += F[i * n + k] * step[k];
      js[i] = t;
    }
    const gp = dot(st.fac.g, step);
    const prered = fnorm === 0 ? 0 : -(2 * gp + dot(js, js)) / (fnorm * fnorm);
    const dirder = fnorm === 0 ? 0 : gp / (fnorm * fnorm);
    // A step the linear model does not predict to lower the cost (only
    // rounding makes prered <= 0) is a failed step, never an accepted one.
    const ratio = prered > 0 ? actred / prered : 0;
    if (ratio <= 0.25) {
      let temp = actred >= 0 ? 0.5 : 0.5 * dirder / (dirder + 0.5 * actred);
      if (0.1 * fnorm1 >= fnorm || temp < 0.1 || !Number.isFinite(temp)) {
        temp = 0.1;
      }
      st.delta = temp * Math.min(st.delta, pnorm / 0.1);
      st.par /= temp;
    } else if (st.par === 0 || ratio >= 0.75) {
      st.delta = pnorm / 0.5;
      st.par *= 0.5;
    }
    const accepted = ratio >= 1e-4 && actred > 0 && Number.isFinite(e.cost);
    let xnorm = sub.xnorm;
    if (accepted) {
      st.firstStep = false;
      st.x = xNew;
      st.fac = e.lin ? toFactor(e.lin, n) : await linearizeAt(ev, xNew);
      st.njev++;
      st.nit++;
      st.stepNorm = norm2(step);
      xnorm = norm2Product(st.x, st.diag);
    }
    st.info = terminationCode(st, actred, prered, ratio, xnorm, opts);
    if (accepted) {
      await opts.onIteration?.({
        nit: st.nit,
        nfev: st.nfev,
        cost: st.fac.cost,
        optimality: st.gnorm,
        stepNorm: st.stepNorm,
        state: solverState(st),
      });
    }
    if (st.info !== 0 || accepted) return;
  }
}

/** MINPACK's tests after a trial step: 1-3 ftol/xtol, 5 budget, 6-8 eps. */
function terminationCode(
  st: LmState,
  actred: number,
  prered: number,
  ratio: number,
  xnorm: number,
  opts: SolverOptions,
): number {
  let info = 0;
  if (
    Math.abs(actred) <= opts.ftol && prered <= opts.ftol && 0.5 * ratio <= 1
  ) {
    info = 1;
  }
  if (st.delta <= opts.xtol * xnorm) info = info === 1 ? 3 : 2;
  if (info !== 0) return info;
  if (st.nfev >= opts.maxNfev) return 5;
  // MINPACK's 6, 7, 8: tolerances too small for further progress.
  if (Math.abs(actred) <= EPS && prered <= EPS && 0.5 * ratio <= 1) return 6;
  if (st.delta <= EPS * xnorm) return 7;
  if (st.gnorm <= EPS) return 8;
  return 0;
}
