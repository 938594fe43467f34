/**
 * The batch engine's solver: Levenberg-Marquardt with Moré's scaling on the
 * p x p normal equations, run over a chunk of fits in lockstep. Every fit's
 * state lives in flat typed arrays indexed by its place in the chunk; one
 * sweep takes one step of every active fit, and fits that terminate drop
 * out of the active list. Nothing is allocated per fit or per step.
 *
 * A step solves the damped, column-scaled system `(D^-1 H D^-1 + mu I) z =
 * -D^-1 g`, `delta = D^-1 z` (D the largest column norms of J seen so far,
 * Moré's scaling), as `(H + mu D^2) delta = -g` by L D L^T (generated,
 * `_step_source.ts`; a pivot at rounding level relative to D^2 raises mu,
 * so rank deficiency is safe). With bounds, a parameter at a bound whose
 * gradient points out of the box is held (an active set) and the trial
 * point is projected onto the box; the predicted reduction is that of the
 * projected step. A step is accepted only when it lowers the cost; mu
 * follows Nielsen's rule. Termination as scipy's `least_squares`: gtol on
 * the (projected) gradient, ftol and xtol on every trial step, maxNfev;
 * ftol also as MINPACK's `lmder` tests it (|actual| and predicted
 * reductions both below ftol), which ends a fit at a minimum where the
 * actual reduction is rounding of either sign.
 *
 * These functions run in worker threads too: they are sent as source
 * (`fn.toString()`), so they use nothing but their arguments, each other,
 * and `Math`. For up to 24 free parameters, `computeStep`, `iterateFit`
 * and `standardErrors` are replaced by unrolled versions
 * (`_iterate_source.ts`).
 *
 * @module
 */

import type { ChunkData, EngineState } from "./_engine_state.ts";

/** Evaluates `kernel` on fit k's points at `P[po ..]` into H, G; returns the cost. */
export function evalFit(
  E: EngineState,
  kernel: EngineState["kernel"],
  k: number,
  P: Float64Array,
  po: number,
  H: Float64Array,
  ho: number,
  G: Float64Array,
  go: number,
): number {
  const n = E.n;
  if (E.cmp[k] === 1) {
    return kernel(
      E.xS,
      k * n,
      E.yS,
      k * n,
      E.wShared !== null || E.sigmaPerFit ? E.wS : null,
      k * n,
      E.npts[k],
      P,
      po,
      H,
      ho,
      G,
      go,
    );
  }
  const Xc = E.Xc;
  return kernel(
    Xc === null ? E.X : Xc,
    Xc === null ? 0 : (E.base + k) * n,
    E.Yc,
    (E.base + k) * n,
    E.sigmaPerFit ? E.wS : E.wShared,
    E.sigmaPerFit ? k * n : 0,
    n,
    P,
    po,
    H,
    ho,
    G,
    go,
  );
}

/** Whether a linearization is finite (a cost can be finite while J is not). */
export function finiteLinearization(
  H: Float64Array,
  ho: number,
  G: Float64Array,
  go: number,
  q: number,
): boolean {
  let s = 0;
  const nH = (q * (q + 1)) >> 1;
  for (let i = 0; i < nH; i++) s += H[ho + i];
  for (let a = 0; a < q; a++) s += G[go + a];
  return s - s === 0;
}

/** Whether point i of fit k (in the chunk) is usable. */
export function goodPoint(E: EngineState, k: number, i: number): boolean {
  const o = (E.base + k) * E.n + i;
  const y = E.Yc[o];
  if (!(y - y === 0) || (E.poisson && y < 0)) return false;
  if (E.Xc !== null) {
    for (let v = 0; v < E.nVars; v++) {
      const x = E.Xc[v][o];
      if (!(x - x === 0)) return false;
    }
  }
  if (E.Sc !== null) {
    const s = E.Sc[o];
    if (!(s > 0 && s < Infinity)) return false;
  }
  return true;
}

/**
 * Checks fit k's data; keeps it in place, or copies its usable points to
 * the scratch arrays (nanPolicy "omit"). Returns the number of points used,
 * or -1 when the fit has bad points and they are not to be omitted.
 */
export function prepareData(E: EngineState, k: number): number {
  const n = E.n, o = (E.base + k) * n, kn = k * n;
  let good = 0;
  if (E.Xc === null && E.Sc === null) {
    // y alone (the common case): one tight loop, no call per point.
    const Y = E.Yc, poisson = E.poisson;
    for (let i = 0; i < n; i++) {
      const y = Y[o + i];
      if (y - y === 0 && !(poisson && y < 0)) good++;
    }
  } else {
    for (let i = 0; i < n; i++) if (goodPoint(E, k, i)) good++;
  }
  E.cmp[k] = 0;
  if (good < n) {
    if (!E.omit) return -1;
    E.cmp[k] = 1;
    let j = kn;
    for (let i = 0; i < n; i++) {
      if (!goodPoint(E, k, i)) continue;
      E.yS[j] = E.Yc[o + i];
      for (let v = 0; v < E.nVars; v++) {
        E.xS[v][j] = E.Xc === null ? E.X[v][i] : E.Xc[v][o + i];
      }
      if (E.Sc !== null) E.wS[j] = 1 / E.Sc[o + i];
      else if (E.wShared !== null) E.wS[j] = E.wShared[i];
      j++;
    }
  } else if (E.Sc !== null) {
    for (let i = 0; i < n; i++) E.wS[kn + i] = 1 / E.Sc[o + i];
  }
  E.npts[k] = good;
  return good;
}

/** Total sum of squares of fit k's used y about their mean. */
export function sumSquaresAboutMean(E: EngineState, k: number): number {
  const m = E.npts[k];
  const y = E.cmp[k] === 1 ? E.yS : E.Yc;
  const o = E.cmp[k] === 1 ? k * E.n : (E.base + k) * E.n;
  let s = 0;
  for (let i = 0; i < m; i++) s += y[o + i];
  const mean = s / m;
  let s2 = 0;
  for (let i = 0; i < m; i++) {
    const d = y[o + i] - mean;
    s2 += d * d;
  }
  return s2;
}

/** Infinity norm of fit k's gradient, projected on the box. */
export function projectedGradientNorm(E: EngineState, k: number): number {
  const p = E.p, q = E.q;
  const bo = E.boundsPerFit ? (E.base + k) * p : 0;
  let g = 0;
  for (let a = 0; a < q; a++) {
    const ga = E.Gc[k * q + a];
    if (E.lower !== null && E.upper !== null) {
      const j = E.free[a], t = E.th[k * p + j];
      if (
        (t <= E.lower[bo + j] && ga > 0) || (t >= E.upper[bo + j] && ga < 0)
      ) continue;
    }
    const v = ga < 0 ? -ga : ga;
    if (v > g || v !== v) g = v;
  }
  return g;
}

/** Sets up fit k (global index `fit`); true when it is already finished. */
export function initFit(E: EngineState, k: number, fit: number): boolean {
  const p = E.p, q = E.q, P2 = (q * (q + 1)) >> 1;
  E.nfv[k] = 0;
  E.nits[k] = 0;
  const m = prepareData(E, k);
  if (m < 0) return finishFit(E, k, fit, -5);
  if (m < q) return finishFit(E, k, fit, -3);
  E.sst[k] = sumSquaresAboutMean(E, k);
  const po = E.p0PerFit ? (E.base + k) * p : 0;
  const bo = E.boundsPerFit ? (E.base + k) * p : 0;
  for (let j = 0; j < p; j++) {
    const t = E.p0[po + j];
    E.th[k * p + j] = t;
    if (!(t - t === 0)) return finishFit(E, k, fit, -4);
    if (
      E.lower !== null && E.upper !== null &&
      !(t >= E.lower[bo + j] && t <= E.upper[bo + j])
    ) return finishFit(E, k, fit, -4);
  }
  E.mode[k] = E.startKernel === null ? 1 : 0;
  const c = evalFit(
    E,
    E.startKernel ?? E.kernel,
    k,
    E.th,
    k * p,
    E.Hc,
    k * P2,
    E.Gc,
    k * q,
  );
  E.nfv[k] = 1;
  if (!(c - c === 0) || !finiteLinearization(E.Hc, k * P2, E.Gc, k * q, q)) {
    return finishFit(E, k, fit, -4);
  }
  E.cst[k] = c;
  for (let a = 0; a < q; a++) {
    const h = E.Hc[k * P2 + a * q - ((a * (a - 1)) >> 1)];
    E.Dg[k * q + a] = h > 0 ? Math.sqrt(h) : 1;
  }
  // Nielsen's start: tau times the largest diagonal of the scaled matrix (1).
  E.mu[k] = 1e-3;
  E.nu[k] = 2;
  if (projectedGradientNorm(E, k) < E.gtol) {
    return finishFit(E, k, fit, 1);
  }
  if (E.maxNfev <= 1) return finishFit(E, k, fit, 0);
  return false;
}

/**
 * A damped solve with loops, for orders beyond the unrolled ones (same
 * contract as the generated `solveStep` of `_step_source.ts`).
 */
export function makeLoopSolver(q: number): EngineState["solveStep"] {
  const A = new Float64Array(q * q), inv = new Float64Array(q);
  return function solveStep(H, ho, G, go, D, dO, mu, blk, s) {
    for (let a = 0; a < q; a++) inv[a] = blk[a] !== 0 ? 0 : 1 / D[dO + a];
    for (let r = 0; r < q; r++) {
      for (let c = 0; c < r; c++) {
        A[r * q + c] = H[ho + c * q - ((c * (c - 1)) >> 1) + (r - c)] * inv[r] *
          inv[c];
      }
      A[r * q + r] = blk[r] !== 0
        ? 1
        : H[ho + r * q - ((r * (r - 1)) >> 1)] * inv[r] * inv[r] + mu;
      s[r] = -G[go + r] * inv[r];
    }
    for (let j = 0; j < q; j++) {
      let d = A[j * q + j];
      for (let l = 0; l < j; l++) d -= A[j * q + l] * A[j * q + l];
      // The matrix has a unit-scale diagonal: a pivot at rounding level is
      // a (numerically) singular direction.
      if (!(d > 1e-14)) return false;
      const ljj = Math.sqrt(d);
      A[j * q + j] = ljj;
      for (let i = j + 1; i < q; i++) {
        let t = A[i * q + j];
        for (let l = 0; l < j; l++) t -= A[i * q + l] * A[j * q + l];
        A[i * q + j] = t / ljj;
      }
    }
    for (let i = 0; i < q; i++) {
      let t = s[i];
      for (let l = 0; l < i; l++) t -= A[i * q + l] * s[l];
      s[i] = t / A[i * q + i];
    }
    for (let i = q - 1; i >= 0; i--) {
      let t = s[i];
      for (let l = i + 1; l < q; l++) t -= A[l * q + i] * s[l];
      s[i] = t / A[i * q + i];
    }
    for (let a = 0; a < q; a++) s[a] *= inv[a];
    return true;
  };
}

/** `s^T H s` with loops (see `quadForm` of `_step_source.ts`). */
export function makeLoopQuadForm(q: number): EngineState["quadForm"] {
  return function quadForm(H, ho, s) {
    let t = 0;
    for (let a = 0; a < q; a++) {
      const row = ho + a * q - ((a * (a - 1)) >> 1) - a;
      let off = 0;
      for (let b = a + 1; b < q; b++) off += H[row + b] * s[b];
      t += s[a] * (H[row + a] * s[a] + 2 * off);
    }
    return t;
  };
}

/**
 * The next trial point of fit k in E.tt (and its step over the free
 * parameters in E.st); returns the predicted reduction, or -1 when no step
 * predicts a reduction (the gradient is at rounding level).
 */
export function computeStep(E: EngineState, k: number): number {
  const p = E.p, q = E.q, P2 = (q * (q + 1)) >> 1;
  const ho = k * P2, go = k * q, to = k * p;
  const bo = E.boundsPerFit ? (E.base + k) * p : 0;
  const lower = E.lower, upper = E.upper;
  const G = E.Gc, st = E.st, blk = E.blk;
  // The active set: parameters at a bound that the gradient pushes out.
  for (let a = 0; a < q; a++) {
    blk[a] = 0;
    if (lower !== null && upper !== null) {
      const j = E.free[a], t = E.th[to + j], ga = G[go + a];
      if ((t <= lower[bo + j] && ga > 0) || (t >= upper[bo + j] && ga < 0)) {
        blk[a] = 1;
      }
    }
  }
  for (let attempt = 0; attempt < 64; attempt++) {
    const mu = E.mu[k];
    if (!E.solveStep(E.Hc, ho, G, go, E.Dg, go, mu, blk, st)) {
      E.mu[k] = mu * 10 > 1e-12 ? mu * 10 : 1e-12;
      continue;
    }
    for (let j = 0; j < p; j++) E.tt[j] = E.th[to + j];
    let gs = 0;
    for (let a = 0; a < q; a++) {
      const j = E.free[a], t = E.th[to + j];
      let v = t + st[a];
      if (lower !== null && upper !== null) {
        if (v < lower[bo + j]) v = lower[bo + j];
        else if (v > upper[bo + j]) v = upper[bo + j];
      }
      E.tt[j] = v;
      st[a] = v - t;
      gs += G[go + a] * st[a];
    }
    // Predicted reduction of the (projected) step: -(g.s + s^T H s / 2).
    const pred = -(gs + 0.5 * E.quadForm(E.Hc, ho, st));
    if (pred > 0) return pred;
    E.mu[k] = mu * E.nu[k];
    E.nu[k] *= 2;
  }
  return -1;
}

/** One Levenberg-Marquardt step of fit k; true when the fit is finished. */
export function iterateFit(E: EngineState, k: number, fit: number): boolean {
  const p = E.p, q = E.q, P2 = (q * (q + 1)) >> 1;
  const pred = computeStep(E, k);
  if (pred < 0) {
    E.flags[fit] |= 2;
    return finishFit(E, k, fit, 1);
  }
  const kernel = E.mode[k] === 0 ? E.startKernel! : E.kernel;
  const ct = evalFit(E, kernel, k, E.tt, 0, E.Ht, 0, E.Gt, 0);
  E.nfv[k]++;
  const c0 = E.cst[k];
  const actred = ct - ct === 0 && finiteLinearization(E.Ht, 0, E.Gt, 0, q)
    ? c0 - ct
    : -Infinity;
  const ratio = actred / pred;
  // scipy's check_termination, with xtol also in Jacobian-scaled variables.
  let dx = 0, xn = 0, dxs = 0, xs = 0;
  for (let a = 0; a < q; a++) {
    const s = E.st[a], t = E.th[k * p + E.free[a]];
    const d = Math.sqrt(E.Hc[k * P2 + a * q - ((a * (a - 1)) >> 1)]);
    dx += s * s;
    xn += t * t;
    dxs += s * s * d * d;
    xs += t * t * d * d;
  }
  const xtol = E.xtol;
  // scipy's ftol test, or MINPACK's (|actual| and predicted reductions both
  // below ftol): at the minimum the actual reduction is rounding of either
  // sign, and scipy's test then waits for xtol, mu growing.
  const ft = E.ftol * c0;
  const ftolOk = (actred < ft && ratio > 0.25) ||
    (actred <= ft && -actred <= ft && pred <= ft && ratio <= 2);
  const xtolOk = Math.sqrt(dx) < xtol * (xtol + Math.sqrt(xn)) &&
    Math.sqrt(dxs) < xtol * (xtol + Math.sqrt(xs));
  const accepted = actred > 0;
  if (accepted) {
    for (let j = 0; j < p; j++) E.th[k * p + j] = E.tt[j];
    for (let i = 0; i < P2; i++) E.Hc[k * P2 + i] = E.Ht[i];
    for (let a = 0; a < q; a++) {
      E.Gc[k * q + a] = E.Gt[a];
      const h = E.Ht[a * q - ((a * (a - 1)) >> 1)];
      const d = h > 0 ? Math.sqrt(h) : 0;
      if (d > E.Dg[k * q + a]) E.Dg[k * q + a] = d;
    }
    E.cst[k] = ct;
    E.nits[k]++;
    const t = 2 * ratio - 1;
    const f = 1 - t * t * t;
    E.mu[k] *= f > 1 / 3 ? f : 1 / 3;
    E.nu[k] = 2;
    if (E.mode[k] === 0 && actred < E.switchBelow * c0) E.mode[k] = 1;
  } else {
    E.mu[k] *= E.nu[k];
    E.nu[k] *= 2;
  }
  if (ftolOk || xtolOk) {
    return finishFit(E, k, fit, ftolOk && xtolOk ? 4 : ftolOk ? 2 : 3);
  }
  if (accepted && projectedGradientNorm(E, k) < E.gtol) {
    return finishFit(E, k, fit, 1);
  }
  if (E.nfv[k] >= E.maxNfev) return finishFit(E, k, fit, 0);
  return false;
}

/**
 * Standard errors of fit k's free parameters from the inverse of its
 * normal matrix (scaled to a unit diagonal), times `s2`; false (nothing
 * written) when the matrix is singular at working precision.
 */
export function standardErrors(
  E: EngineState,
  fit: number,
  s2: number,
  H: Float64Array,
  ho: number,
): boolean {
  const p = E.p, q = E.q;
  const A = E.A;
  for (let a = 0; a < q; a++) {
    const ha = H[ho + a * q - ((a * (a - 1)) >> 1)];
    if (!(ha > 0)) return false;
    E.z[a] = Math.sqrt(ha);
  }
  for (let a = 0; a < q; a++) {
    for (let b = 0; b <= a; b++) {
      A[a * q + b] = H[ho + b * q - ((b * (b - 1)) >> 1) + (a - b)] /
        (E.z[a] * E.z[b]);
    }
  }
  // Cholesky, then the inverse of L in the upper triangle of A (column by
  // column), whose column norms are the diagonal of the inverse.
  for (let j = 0; j < q; j++) {
    let d = A[j * q + j];
    for (let l = 0; l < j; l++) d -= A[j * q + l] * A[j * q + l];
    // Condition beyond ~1e10: leave it to the SVD (pseudo-inverse) path.
    if (!(d > 1e-10)) return false;
    const ljj = Math.sqrt(d);
    A[j * q + j] = ljj;
    for (let i = j + 1; i < q; i++) {
      let s = A[i * q + j];
      for (let l = 0; l < j; l++) s -= A[i * q + l] * A[j * q + l];
      A[i * q + j] = s / ljj;
    }
  }
  for (let a = 0; a < q; a++) {
    // Solve L v = e_a; v[i] = 0 for i < a. Sum of squares of v.
    let ss = 0;
    for (let i = a; i < q; i++) {
      let s = i === a ? 1 : 0;
      for (let l = a; l < i; l++) s -= A[i * q + l] * E.st[l];
      const v = s / A[i * q + i];
      E.st[i] = v;
      ss += v * v;
    }
    E.perr[fit * p + E.free[a]] = Math.sqrt(ss * s2) / E.z[a];
  }
  return true;
}

/** Writes fit k's results with `status`; returns true (finished). */
export function finishFit(
  E: EngineState,
  k: number,
  fit: number,
  status: number,
): boolean {
  const p = E.p, q = E.q, o = fit * p;
  E.status[fit] = status;
  E.nfev[fit] = E.nfv[k];
  E.nit[fit] = E.nits[k];
  if (status < 0) {
    for (let j = 0; j < p; j++) {
      E.popt[o + j] = NaN;
      E.perr[o + j] = NaN;
    }
    E.cost[fit] = NaN;
    E.rsq[fit] = NaN;
    return true;
  }
  const c = E.cst[k], m = E.npts[k];
  for (let j = 0; j < p; j++) {
    E.popt[o + j] = E.th[k * p + j];
    E.perr[o + j] = 0;
  }
  E.cost[fit] = c;
  const s2 = E.poisson ? 1 : m > q ? (2 * c) / (m - q) : Infinity;
  // A robust loss: the covariance of scipy's loss-scaled Jacobian, as fit().
  let H = E.Hc, ho = k * ((q * (q + 1)) >> 1);
  if (E.covKernel !== null) {
    evalFit(E, E.covKernel, k, E.th, k * p, E.Ht, 0, E.Gt, 0);
    H = E.Ht;
    ho = 0;
  }
  if (!standardErrors(E, fit, s2, H, ho)) {
    for (let a = 0; a < q; a++) E.perr[o + E.free[a]] = NaN;
    E.flags[fit] |= 1;
  }
  let ssRes: number;
  if (E.plainCost) ssRes = 2 * c;
  else if (E.cmp[k] === 1) {
    ssRes = E.ssr(E.xS, k * E.n, E.yS, k * E.n, m, E.th, k * p);
  } else {
    const Xc = E.Xc;
    ssRes = E.ssr(
      Xc === null ? E.X : Xc,
      Xc === null ? 0 : (E.base + k) * E.n,
      E.Yc,
      (E.base + k) * E.n,
      m,
      E.th,
      k * p,
    );
  }
  E.rsq[fit] = E.sst[k] > 0 ? 1 - ssRes / E.sst[k] : NaN;
  return true;
}

/** Fits `count` fits from global index `first`, whose data `D` holds from `base`. */
export function runChunk(
  E: EngineState,
  first: number,
  count: number,
  D: ChunkData,
  base: number,
): void {
  E.Yc = D.y;
  E.Xc = D.x;
  E.Sc = D.s;
  if (D.p0 !== null) E.p0 = D.p0;
  if (D.lo !== null && D.up !== null) {
    E.lower = D.lo;
    E.upper = D.up;
  }
  E.base = base;
  let nAct = 0;
  for (let k = 0; k < count; k++) {
    if (!initFit(E, k, first + k)) E.act[nAct++] = k;
  }
  while (nAct > 0) {
    let kept = 0;
    for (let j = 0; j < nAct; j++) {
      const k = E.act[j];
      if (!iterateFit(E, k, first + k)) E.act[kept++] = k;
    }
    nAct = kept;
  }
}
