/**
 * A second-order check where Gauss-Newton is blind: at a point where the
 * Jacobian is numerically rank deficient, the linear model says nothing about
 * the directions of its null space, and a symmetric start (two identical
 * exponentials, two identical peaks) stays on its symmetric subspace in exact
 * arithmetic, converging to a saddle of the cost. Probing the null-space
 * directions with a few finite steps finds the descent that the curvature of
 * the residuals offers there; the solver then restarts from the better point.
 * A full-rank solution (every ordinary fit) is never probed.
 *
 * @module
 */

import type { Evaluator } from "./linearization.ts";
import { type Factor, scaledFactor, toFactor } from "./_factor.ts";
import { svd, svdShared } from "./linalg.ts";
import { smallCopy } from "./_small_f64.ts";

/** What {@linkcode probeNullSpace} found. */
export interface NullSpaceProbe {
  /** A point with a clearly lower cost, or null. */
  readonly point: { readonly x: Float64Array; readonly cost: number } | null;
  /** Evaluations spent. */
  readonly nfev: number;
}

/**
 * Steps tried along each direction, relative to the largest scaled
 * parameter `max |D x|`.
 */
const PROBE_STEPS = [1e-3, 1e-2, 1e-1, 0.5];
/** Step of the finite-difference Hessian, relative to `max |D x|`. */
const FD_STEP = 1e-5;
/**
 * Singular values of the column-scaled Jacobian below this fraction of the
 * largest mark the directions probed (sqrt(eps): where the linear model
 * knows the cost only to half the digits); the same bound names the
 * directions the data cannot determine in a result's diagnostics.
 */
export const NEAR_NULL = 1.4901161193847656e-8;
/** A probe must lower the cost by more than this fraction to count. */
const MIN_DECREASE = 1e-8;

/**
 * Looks for a point with a clearly lower cost than `x` along the null space
 * of the (column-scaled) Jacobian; `point` is null when the Jacobian has full
 * numerical rank or no probe lowers the cost. Costs one pass over the data
 * (all probes are evaluated together) when it probes at all; `nfev` counts
 * the probes. `costFloor` is the rounding level of the cost (a decrease below
 * it is noise), computed only when a probe is made.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "./dense_evaluator.ts";
 * import { toFactor } from "./_factor.ts";
 * // The second parameter is unused: its direction is the null space, and
 * // moving along it cannot lower the cost.
 * const ev = createDenseEvaluator((p) => [p[0] - 1, p[0] - 3], 2, 2);
 * const [e] = await ev.evaluate([new Float64Array([2, 0])], [true]);
 * const found = await probeNullSpace(ev, new Float64Array([2, 0]),
 *   toFactor(e.lin!, 2), new Float64Array(2).fill(-Infinity),
 *   new Float64Array(2).fill(Infinity));
 * assert.strictEqual(found.point, null);
 * ```
 */
export async function probeNullSpace(
  ev: Evaluator,
  x: Float64Array,
  factor: Factor,
  lower: Float64Array,
  upper: Float64Array,
  costFloor: () => number = () => 0,
): Promise<NullSpaceProbe> {
  const n = x.length;
  const none = { point: null, nfev: 0 };
  if (!(factor.cost > 0)) return none;
  // Work in variables scaled by the column norms of J (z = D x): there a
  // unit step moves every parameter by a comparable amount.
  const d = smallCopy(factor.colNorms);
  for (let i = 0; i < n; i++) if (!(d[i] > 0)) d[i] = 1;
  // s and v are read before the first await (see svdShared).
  const { s, v } = svdShared(
    scaledFactor(factor.f, factor.colNorms, n),
    n,
    n,
  );
  // Near-null directions count too: rounding breaks an exact symmetry by a
  // few ulps, which leaves J "full rank" but the saddle in place.
  let rank = 0;
  while (rank < n && s[rank] > NEAR_NULL * s[0]) rank++;
  if (rank === n || rank === 0) return none;
  // A cost at rounding level is a global minimum: nothing to escape from.
  const floor = costFloor();
  if (factor.cost <= floor) return none;
  let zMax = 0;
  for (let i = 0; i < n; i++) zMax = Math.max(zMax, Math.abs(d[i] * x[i]));
  if (!(zMax > 0) || !Number.isFinite(zMax)) zMax = 1;
  // Null-space directions in the original variables.
  const k = n - rank;
  const dirs: Float64Array[] = [];
  for (let c = rank; c < n; c++) {
    dirs.push(Float64Array.from({ length: n }, (_, i) => v[i * n + c] / d[i]));
  }
  const at = (dir: Float64Array, t: number) =>
    x.map((xi, i) => xi + t * dir[i]);
  // The Hessian of the cost restricted to the null space, from gradients
  // one small step along each direction: there the curvature of the
  // residuals, which Gauss-Newton ignores, decides. A negative eigenvalue
  // marks a saddle and its eigenvector the way down.
  const tFd = FD_STEP * zMax;
  const fd = await ev.evaluate(
    dirs.map((u) => at(u, tFd)),
    dirs.map(() => true),
  );
  let nfev = k;
  const probeDirs = [...dirs];
  const g0 = factor.g;
  const h = new Float64Array(k * k);
  let ok = true;
  for (let i = 0; i < k; i++) {
    const lin = fd[i].lin;
    if (!lin || !Number.isFinite(fd[i].cost)) {
      ok = false;
      break;
    }
    const gi = toFactor(lin, n).g;
    for (let j = 0; j < k; j++) {
      let t = 0;
      for (let q = 0; q < n; q++) t += dirs[j][q] * (gi[q] - g0[q]);
      h[j * k + i] = t / tFd;
    }
  }
  if (ok) {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < i; j++) {
        h[i * k + j] = h[j * k + i] = 0.5 * (h[i * k + j] + h[j * k + i]);
      }
    }
    const down = mostNegativeDirection(h, k);
    if (down) {
      probeDirs.unshift(
        Float64Array.from(
          { length: n },
          (_, q) => down.reduce((sum, w, i) => sum + w * dirs[i][q], 0),
        ),
      );
    }
  }
  const candidates: Float64Array[] = [];
  for (const dir of probeDirs) {
    for (const step of PROBE_STEPS) {
      for (const sign of [1, -1]) {
        const c = at(dir, sign * step * zMax);
        if (c.every((ci, i) => ci > lower[i] && ci < upper[i])) {
          candidates.push(c);
        }
      }
    }
  }
  if (candidates.length === 0) return { point: null, nfev };
  const evals = await ev.evaluate(candidates, candidates.map(() => false));
  nfev += candidates.length;
  let best = -1;
  for (let i = 0; i < evals.length; i++) {
    const c = evals[i].cost;
    if (
      Number.isFinite(c) &&
      c < factor.cost - Math.max(MIN_DECREASE * factor.cost, floor) &&
      (best < 0 || c < evals[best].cost)
    ) best = i;
  }
  return {
    point: best < 0 ? null : { x: candidates[best], cost: evals[best].cost },
    nfev,
  };
}

/**
 * The unit eigenvector of the symmetric `k x k` matrix `h` with the most
 * negative eigenvalue, or null when none is clearly negative.
 */
function mostNegativeDirection(h: Float64Array, k: number): number[] | null {
  const { s, v } = svd(h, k, k);
  let best: number[] | null = null, bestLambda = 0;
  for (let c = 0; c < k; c++) {
    const w = Array.from({ length: k }, (_, i) => v[i * k + c]);
    // For a symmetric matrix the singular pairs are eigenpairs up to sign.
    let q = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) q += w[i] * h[i * k + j] * w[j];
    }
    if (q < bestLambda && q < -NEAR_NULL * s[0]) {
      bestLambda = q;
      best = w;
    }
  }
  return best;
}
