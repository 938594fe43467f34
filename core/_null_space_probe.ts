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
import type { Factor } from "./_factor.ts";
import { svd } from "./linalg.ts";
import { numericalRank } from "./_trust_region.ts";

/** What {@linkcode probeNullSpace} found. */
export interface NullSpaceProbe {
  /** A point with a clearly lower cost, or null. */
  readonly point: { readonly x: Float64Array; readonly cost: number } | null;
  /** Evaluations spent. */
  readonly nfev: number;
}

/** Relative step sizes tried along each null-space direction. */
const PROBE_STEPS = [1e-3, 1e-2, 1e-1, 0.5];
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
  const d = factor.colNorms.map((c) => (c > 0 ? c : 1));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a[i * n + j] = factor.f[i * n + j] / d[j];
  }
  const { s, v } = svd(a, n, n);
  const rank = numericalRank(s, ev.nResiduals, n);
  if (rank === n || rank === 0) return none;
  // A cost at rounding level is a global minimum: nothing to escape from.
  const floor = costFloor();
  if (factor.cost <= floor) return none;
  const candidates: Float64Array[] = [];
  for (let k = rank; k < n; k++) {
    // The direction in the original variables, sized relative to x.
    const dir = new Float64Array(n);
    let rel = 0;
    for (let i = 0; i < n; i++) {
      dir[i] = v[i * n + k] / d[i];
      rel = Math.max(rel, Math.abs(dir[i]) / Math.max(Math.abs(x[i]), 1e-8));
    }
    if (!(rel > 0) || !Number.isFinite(rel)) continue;
    for (const h of PROBE_STEPS) {
      for (const sign of [1, -1]) {
        const t = sign * h / rel;
        const c = x.map((xi, i) => xi + t * dir[i]);
        if (c.every((ci, i) => ci > lower[i] && ci < upper[i])) {
          candidates.push(c);
        }
      }
    }
  }
  if (candidates.length === 0) return none;
  const evals = await ev.evaluate(candidates, candidates.map(() => false));
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
    nfev: candidates.length,
  };
}
