/**
 * Trust-region helpers, following scipy.optimize._lsq.common so termination
 * and step selection match scipy's `least_squares`.
 */

import { dot, norm2 } from "./linalg.ts";

export const EPS = 2.220446049250313e-16;

/**
 * Solves min ||J_h p + f|| subject to ||p|| <= Delta given the SVD of J_h
 * (`s`, `v` column-major by columns of a row-major p x p) and `suf = s * U^T f`.
 * Returns the step and the Levenberg-Marquardt parameter (scipy's
 * `solve_lsq_trust_region`).
 */
export function solveLsqTrustRegion(
  n: number,
  m: number,
  suf: Float64Array,
  s: Float64Array,
  v: Float64Array,
  Delta: number,
  initialAlpha: number | null,
  rtol = 0.01,
  maxIter = 10,
): { p: Float64Array; alpha: number; nIter: number } {
  const vTimes = (w: Float64Array) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let k = 0; k < n; k++) t += v[i * n + k] * w[k];
      out[i] = t;
    }
    return out;
  };
  const phiAndDerivative = (alpha: number) => {
    let pn2 = 0, d3 = 0;
    for (let k = 0; k < n; k++) {
      const denom = s[k] * s[k] + alpha;
      const q = suf[k] / denom;
      pn2 += q * q;
      d3 += suf[k] * suf[k] / (denom * denom * denom);
    }
    const pNorm = Math.sqrt(pn2);
    return { phi: pNorm - Delta, phiPrime: -d3 / pNorm };
  };
  const fullRank = m >= n && s[n - 1] > EPS * m * s[0];
  if (fullRank) {
    const w = new Float64Array(n);
    for (let k = 0; k < n; k++) w[k] = -suf[k] / (s[k] * s[k]);
    const p = vTimes(w);
    if (norm2(p) <= Delta) return { p, alpha: 0, nIter: 0 };
  }
  let alphaUpper = norm2(suf) / Delta;
  let alphaLower = 0;
  if (fullRank) {
    const { phi, phiPrime } = phiAndDerivative(0);
    alphaLower = -phi / phiPrime;
  }
  let alpha = (initialAlpha === null || (!fullRank && initialAlpha === 0))
    ? Math.max(0.001 * alphaUpper, Math.sqrt(alphaLower * alphaUpper))
    : initialAlpha;
  let it = 0;
  let evaluated = alpha;
  for (; it < maxIter; it++) {
    if (alpha < alphaLower || alpha > alphaUpper) {
      alpha = Math.max(0.001 * alphaUpper, Math.sqrt(alphaLower * alphaUpper));
    }
    evaluated = alpha;
    const { phi, phiPrime } = phiAndDerivative(alpha);
    if (phi < 0) alphaUpper = alpha;
    const ratio = phi / phiPrime;
    alphaLower = Math.max(alphaLower, alpha - ratio);
    alpha -= (phi + Delta) * ratio / Delta;
    if (Math.abs(phi) < rtol * Delta) break;
  }
  // The Newton update can overshoot below zero when J is rank deficient,
  // which would turn the step uphill; fall back to the last safe alpha.
  if (!(alpha >= alphaLower) || !(alpha > 0 || fullRank)) alpha = evaluated;
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = -suf[k] / (s[k] * s[k] + alpha);
  const p = vTimes(w);
  const pn = norm2(p);
  if (pn > 0) { for (let k = 0; k < n; k++) p[k] *= Delta / pn; }
  return { p, alpha, nIter: Math.min(it + 1, maxIter) };
}

/** scipy's `update_tr_radius`. */
export function updateTrRadius(
  Delta: number,
  actualReduction: number,
  predictedReduction: number,
  stepNorm: number,
  boundHit: boolean,
): { Delta: number; ratio: number } {
  let ratio: number;
  if (predictedReduction > 0) ratio = actualReduction / predictedReduction;
  else if (predictedReduction === 0 && actualReduction === 0) ratio = 1;
  else ratio = 0;
  if (ratio < 0.25) Delta = 0.25 * stepNorm;
  else if (ratio > 0.75 && boundHit) Delta *= 2;
  return { Delta, ratio };
}

/** scipy's `check_termination`: 2 ftol, 3 xtol, 4 both, null neither. */
export function checkTermination(
  dF: number,
  F: number,
  dxNorm: number,
  xNorm: number,
  ratio: number,
  ftol: number,
  xtol: number,
): number | null {
  const ftolOk = dF < ftol * F && ratio > 0.25;
  const xtolOk = dxNorm < xtol * (xtol + xNorm);
  if (ftolOk && xtolOk) return 4;
  if (ftolOk) return 2;
  if (xtolOk) return 3;
  return null;
}

/** Coleman-Li scaling vector v and its derivative sign dv. */
export function clScalingVector(
  x: Float64Array,
  g: Float64Array,
  lb: Float64Array,
  ub: Float64Array,
): { v: Float64Array; dv: Float64Array } {
  const n = x.length;
  const v = new Float64Array(n).fill(1);
  const dv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (g[i] < 0 && Number.isFinite(ub[i])) {
      v[i] = ub[i] - x[i];
      dv[i] = -1;
    } else if (g[i] > 0 && Number.isFinite(lb[i])) {
      v[i] = x[i] - lb[i];
      dv[i] = 1;
    }
  }
  return { v, dv };
}

/** Smallest step along s to a bound, and which bounds are hit (sign). */
export function stepSizeToBound(
  x: Float64Array,
  s: Float64Array,
  lb: Float64Array,
  ub: Float64Array,
): { step: number; hits: Int8Array } {
  const n = x.length;
  const steps = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    if (s[i] !== 0) {
      steps[i] = Math.max((lb[i] - x[i]) / s[i], (ub[i] - x[i]) / s[i]);
    }
  }
  let step = Infinity;
  for (let i = 0; i < n; i++) step = Math.min(step, steps[i]);
  const hits = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    if (steps[i] === step) hits[i] = Math.sign(s[i]);
  }
  return { step, hits };
}

/** Parameters t (t1 <= t2) where x + t s meets the trust-region boundary. */
export function intersectTrustRegion(
  x: Float64Array,
  s: Float64Array,
  Delta: number,
): [number, number] {
  const a = dot(s, s);
  if (a === 0) throw new RangeError("intersectTrustRegion: s is zero");
  const b = dot(x, s);
  const c = dot(x, x) - Delta * Delta;
  const d = Math.sqrt(Math.max(b * b - a * c, 0));
  const q = -(b + (b >= 0 ? d : -d));
  const t1 = q / a;
  const t2 = c / q;
  return t1 < t2 ? [t1, t2] : [t2, t1];
}

/** Minimizes a t^2 + b t + c on [lb, ub]. */
export function minimizeQuadratic1d(
  a: number,
  b: number,
  lb: number,
  ub: number,
  c = 0,
): { t: number; value: number } {
  const ts = [lb, ub];
  if (a !== 0) {
    const ext = -0.5 * b / a;
    if (lb < ext && ext < ub) ts.push(ext);
  }
  let best = ts[0], bestV = Infinity;
  for (const t of ts) {
    const y = t * (a * t + b) + c;
    if (y < bestV) {
      bestV = y;
      best = t;
    }
  }
  return { t: best, value: bestV };
}

/** Whether lb <= x <= ub componentwise. */
export function inBounds(
  x: Float64Array,
  lb: Float64Array,
  ub: Float64Array,
): boolean {
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= lb[i] && x[i] <= ub[i])) return false;
  }
  return true;
}

/** -1 at an active lower bound, 1 at an active upper bound, else 0. */
export function findActiveConstraints(
  x: Float64Array,
  lb: Float64Array,
  ub: Float64Array,
  rtol = 1e-10,
): Int8Array {
  const n = x.length;
  const active = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    if (rtol === 0) {
      if (x[i] <= lb[i]) active[i] = -1;
      else if (x[i] >= ub[i]) active[i] = 1;
      continue;
    }
    const ld = x[i] - lb[i], ud = ub[i] - x[i];
    const lt = rtol * Math.max(1, Math.abs(lb[i]));
    const ut = rtol * Math.max(1, Math.abs(ub[i]));
    if (Number.isFinite(lb[i]) && ld <= Math.min(ud, lt)) active[i] = -1;
    else if (Number.isFinite(ub[i]) && ud <= Math.min(ld, ut)) active[i] = 1;
  }
  return active;
}

/** Moves x strictly inside the box (scipy's `make_strictly_feasible`). */
export function makeStrictlyFeasible(
  x: Float64Array,
  lb: Float64Array,
  ub: Float64Array,
  rstep = 1e-10,
): Float64Array {
  const out = Float64Array.from(x);
  const active = findActiveConstraints(x, lb, ub, rstep);
  for (let i = 0; i < x.length; i++) {
    if (active[i] === -1) {
      out[i] = rstep === 0
        ? nextAfter(lb[i], ub[i])
        : lb[i] + rstep * Math.max(1, Math.abs(lb[i]));
    } else if (active[i] === 1) {
      out[i] = rstep === 0
        ? nextAfter(ub[i], lb[i])
        : ub[i] - rstep * Math.max(1, Math.abs(ub[i]));
    }
    if (out[i] < lb[i] || out[i] > ub[i]) out[i] = 0.5 * (lb[i] + ub[i]);
  }
  return out;
}

const f64 = new Float64Array(1);
const u64 = new BigInt64Array(f64.buffer);

/** The next double after `x` in the direction of `toward`. */
export function nextAfter(x: number, toward: number): number {
  if (Number.isNaN(x) || Number.isNaN(toward)) return NaN;
  if (x === toward) return toward;
  if (x === 0) return toward > 0 ? 5e-324 : -5e-324;
  f64[0] = x;
  if ((toward > x) === (x > 0)) u64[0] += 1n;
  else u64[0] -= 1n;
  return f64[0];
}
