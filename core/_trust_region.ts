/**
 * Trust-region helpers, following scipy.optimize._lsq.common so termination
 * and step selection match scipy's `least_squares`.
 */

import { dot, norm2 } from "./linalg.ts";
import { EPS } from "./_constants.ts";

/**
 * Numerical rank of a matrix from its singular values (decreasing): the
 * number above `eps * max(m, n) * s[0]`, the cut-off of scipy's
 * `least_squares` and of its covariance.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(numericalRank(new Float64Array([2, 1e-20]), 10, 2), 1);
 * assert.strictEqual(numericalRank(new Float64Array([0, 0]), 10, 2), 0);
 * ```
 */
export function numericalRank(s: Float64Array, m: number, n: number): number {
  const tol = EPS * Math.max(m, n) * s[0];
  let r = 0;
  while (r < s.length && s[r] > tol) r++;
  return r;
}

/**
 * Which singular directions of a matrix carry information: direction k is
 * kept when `s[k]` exceeds `eps * max(m, n)` times the column norms it
 * combines (`sum_j |v[j][k]| * colNorms[j]`), the size of the rounding in
 * `A v_k`. Unlike a cut-off relative to `s[0]`, this is blind to column
 * scaling: a tiny but independent column keeps its direction, while an
 * unused parameter or a set of collinear ones (an exact null space, whatever
 * the scale) is dropped. Without `colNorms` it is scipy's `s[0]` rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { svd } from "./linalg.ts";
 * // Columns of norms 1 and 1e-20: independent, both kept.
 * const { s, v } = svd(new Float64Array([1, 0, 0, 1e-20]), 2, 2);
 * assert.deepStrictEqual(
 *   Array.from(informativeDirections(s, v, 2, 2, new Float64Array([1, 1e-20]))),
 *   [1, 1],
 * );
 * // Without the column norms the tiny one looks like rounding.
 * assert.deepStrictEqual(Array.from(informativeDirections(s, v, 2, 2)), [1, 0]);
 * ```
 */
export function informativeDirections(
  s: Float64Array,
  v: Float64Array,
  m: number,
  n: number,
  colNorms?: ArrayLike<number>,
  out?: Uint8Array,
): Uint8Array {
  const keep = out ?? new Uint8Array(n);
  const rel = EPS * Math.max(m, n);
  for (let k = 0; k < n; k++) {
    let scale = s[0];
    if (colNorms) {
      scale = 0;
      for (let j = 0; j < n; j++) scale += Math.abs(v[j * n + k]) * colNorms[j];
    }
    keep[k] = s[k] > rel * scale ? 1 : 0;
  }
  return keep;
}

/**
 * Solves min ||J_h p + f|| subject to ||p|| <= Delta given the SVD of J_h
 * (`s`, `v` column-major by columns of a row-major p x p) and `suf = s * U^T f`
 * (scipy's `solve_lsq_trust_region`). Returns the step and the
 * Levenberg-Marquardt parameter.
 *
 * Rank-revealing, as MINPACK's `lmpar` is: directions that
 * {@linkcode informativeDirections} drops (an exact null space) get no step
 * component, so an unused parameter or a set of collinear ones gets the
 * minimum-norm step, and the Gauss-Newton step is taken whenever it fits in
 * the trust region, whatever the rank (scipy instead always steps to the
 * boundary when J is rank deficient, overshooting the minimum along the
 * directions it can see). `colNorms` are the column norms of J_h. With
 * `out` (n entries) the step is written there instead of a new array.
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
  colNorms?: ArrayLike<number>,
  out?: Float64Array,
): { p: Float64Array; alpha: number; nIter: number } {
  if (keepScratch.length < n) keepScratch = new Uint8Array(n);
  const keep = informativeDirections(s, v, m, n, colNorms, keepScratch);
  // The step is built in `p` (the one array returned: `out` when given);
  // w is scratch.
  const p = out ?? new Float64Array(n);
  const w = stepScratch(n);
  // Module-level helpers, not closures: nothing is allocated per trial
  // beyond the step (phi and its derivative come back in PHI).
  const stepAt = (alpha: number) => stepInto(p, w, keep, suf, s, v, n, alpha);
  const phiAndDerivative = (alpha: number) =>
    phiInto(keep, suf, s, n, Delta, alpha);
  const pGn = stepAt(0);
  const gnNorm = norm2(pGn);
  if (gnNorm <= Delta) return { p: pGn, alpha: 0, nIter: 0 };
  let alphaUpper = norm2Kept(suf, keep) / Delta;
  let alphaLower = 0;
  if (Number.isFinite(gnNorm)) {
    // phi(0) > 0 here, so Newton's lower bound at 0 is valid at any rank.
    phiAndDerivative(0);
    alphaLower = -PHI[0] / PHI[1];
  }
  let alpha = initialAlpha === null || initialAlpha === 0
    ? Math.max(0.001 * alphaUpper, Math.sqrt(alphaLower * alphaUpper))
    : initialAlpha;
  let it = 0;
  let evaluated = alpha;
  for (; it < maxIter; it++) {
    if (alpha < alphaLower || alpha > alphaUpper) {
      alpha = Math.max(0.001 * alphaUpper, Math.sqrt(alphaLower * alphaUpper));
    }
    evaluated = alpha;
    phiAndDerivative(alpha);
    const phi = PHI[0], phiPrime = PHI[1];
    if (phi < 0) alphaUpper = alpha;
    const ratio = phi / phiPrime;
    alphaLower = Math.max(alphaLower, alpha - ratio);
    alpha -= (phi + Delta) * ratio / Delta;
    if (Math.abs(phi) < rtol * Delta) break;
  }
  // The last Newton update can overshoot below the bracket (or to a
  // non-positive alpha); fall back to the last alpha evaluated.
  if (!(alpha >= alphaLower && alpha > 0)) alpha = evaluated;
  stepAt(alpha);
  // Onto the boundary exactly (scipy): p moves by at most rtol.
  const pn = norm2(p);
  if (pn > 0) { for (let k = 0; k < n; k++) p[k] *= Delta / pn; }
  return { p, alpha, nIter: Math.min(it + 1, maxIter) };
}

/** phi and phi' of the last {@linkcode phiInto} (read at once). */
const PHI = new Float64Array(2);

/** ||p(alpha)|| - Delta and its derivative into PHI. */
function phiInto(
  keep: Uint8Array,
  suf: Float64Array,
  s: Float64Array,
  n: number,
  Delta: number,
  alpha: number,
): void {
  let pn2 = 0, d3 = 0;
  for (let k = 0; k < n; k++) {
    if (!keep[k]) continue;
    const denom = s[k] * s[k] + alpha;
    const q = suf[k] / denom;
    pn2 += q * q;
    d3 += suf[k] * suf[k] / (denom * denom * denom);
  }
  const pNorm = Math.sqrt(pn2);
  PHI[0] = pNorm - Delta;
  PHI[1] = -d3 / pNorm;
}

/** The step at `alpha` into p (w is scratch); returns p. */
function stepInto(
  p: Float64Array,
  w: Float64Array,
  keep: Uint8Array,
  suf: Float64Array,
  s: Float64Array,
  v: Float64Array,
  n: number,
  alpha: number,
): Float64Array {
  for (let k = 0; k < n; k++) {
    w[k] = keep[k] ? -suf[k] / (s[k] * s[k] + alpha) : 0;
  }
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let k = 0; k < n; k++) t += v[i * n + k] * w[k];
    p[i] = t;
  }
  return p;
}

let stepW = new Float64Array(16);
let keepScratch = new Uint8Array(16);

/** Scratch of {@linkcode solveLsqTrustRegion} (synchronous, so shared). */
function stepScratch(n: number): Float64Array {
  if (stepW.length < n) stepW = new Float64Array(n);
  return stepW;
}

/** `norm2` of the entries of `a` whose `keep` is 1, in order, unallocated. */
function norm2Kept(a: Float64Array, keep: Uint8Array): number {
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (keep[i] === 1) scale = Math.max(scale, Math.abs(a[i]));
  }
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    if (keep[i] !== 1) continue;
    const t = a[i] / scale;
    sum += t * t;
  }
  return scale * Math.sqrt(sum);
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

/**
 * scipy's `check_termination`: 2 ftol, 3 xtol, 4 both, null neither. When
 * `scaled` is given, the xtol test must also hold for the step and the point
 * in those (Jacobian-scaled) variables, so that a parameter of order 1e-12
 * beside one of order 1 is not declared converged by a step that is tiny
 * only in absolute terms.
 */
export function checkTermination(
  dF: number,
  F: number,
  dxNorm: number,
  xNorm: number,
  ratio: number,
  ftol: number,
  xtol: number,
  scaled?: { readonly dxNorm: number; readonly xNorm: number },
): number | null {
  const ftolOk = dF < ftol * F && ratio > 0.25;
  const xtolOk = dxNorm < xtol * (xtol + xNorm) &&
    (!scaled || scaled.dxNorm < xtol * (xtol + scaled.xNorm));
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
  const out = x.slice();
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
