/**
 * Global search inside finite bounds: CMA-ES (Hansen's covariance matrix
 * adaptation evolution strategy) with BIPOP restarts (Hansen 2009: restarts
 * alternate between doubling populations and small local ones), the
 * counterpart of NLSQ's `auto_global` workflow. Each generation is one call
 * of the evaluator with the whole population, so a strategy evaluates it in
 * one shared pass over the data. The search runs in unit coordinates: a
 * parameter whose bounds span decades of one sign is searched on a
 * logarithmic scale, others linearly, so "1/100 to 100 times" is as easy as
 * "0 to 1".
 *
 * @module
 */

import type { Evaluator } from "./linearization.ts";
import { svd } from "./linalg.ts";
import { Xoshiro128 } from "../sampling/prng.ts";

/** Options of {@linkcode globalSearch}. */
export interface GlobalSearchOptions {
  /** Lower bounds, all finite. */
  readonly lower: ArrayLike<number>;
  /** Upper bounds, all finite. */
  readonly upper: ArrayLike<number>;
  /** Evaluations allowed in all (default `1000 * (p + 2)^2`, at most 2e5). */
  readonly maxEvaluations?: number;
  /** Seed of the sampler (default 0: reproducible). */
  readonly seed?: number;
  /** Stops between generations. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode globalSearch} found. */
export interface GlobalSearchResult {
  /** The best point found, in the caller's variables. */
  readonly x: Float64Array;
  /** Its cost. */
  readonly cost: number;
  /** Distinct local bests, best first (the best included). */
  readonly candidates: readonly { x: Float64Array; cost: number }[];
  /** Evaluations made. */
  readonly nfev: number;
  /** CMA-ES runs (1 + restarts). */
  readonly runs: number;
}

/** Bounds spanning at least this ratio (one sign) are searched in log. */
const LOG_RATIO = 20;

/**
 * Minimizes the evaluator's cost inside finite bounds with BIPOP-CMA-ES.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "./dense_evaluator.ts";
 * import { globalSearch } from "./global_search.ts";
 * // A cost with two minima; the global one is at x = 3.
 * const ev = createDenseEvaluator((p) => [(p[0] - 3) * (p[0] + 2) * 0.1, (p[0] - 3) * 0.3], 2, 1);
 * const r = await globalSearch(ev, { lower: [-10], upper: [10], seed: 1 });
 * assert.ok(Math.abs(r.x[0] - 3) < 1e-4);
 * ```
 */
export async function globalSearch(
  ev: Evaluator,
  options: GlobalSearchOptions,
): Promise<GlobalSearchResult> {
  const n = ev.nParams;
  const map = unitMap(options.lower, options.upper, n);
  const rng = new Xoshiro128(options.seed ?? 0);
  const budget = options.maxEvaluations ??
    Math.min(2e5, 1000 * (n + 2) ** 2);
  const lambda0 = 4 + Math.floor(3 * Math.log(n));
  const sigma0 = 0.3;
  let used = 0, largeUsed = 0, smallUsed = 0, runs = 0, doublings = 0;
  const bests: { x: Float64Array; cost: number }[] = [];
  const cost = async (us: Float64Array[]) => {
    const out = await ev.evaluate(us.map(map.toTheta), us.map(() => false));
    used += us.length;
    return out.map((e) => (Number.isFinite(e.cost) ? e.cost : Infinity));
  };
  while (used < budget) {
    options.signal?.throwIfAborted();
    let lambda = lambda0, sigma = sigma0;
    // BIPOP: the first run is the default; then the regime that has used
    // less of the budget restarts, large (doubled) or small (local).
    const large = runs === 0 || largeUsed <= smallUsed;
    if (runs > 0 && large) lambda = lambda0 * 2 ** ++doublings;
    if (!large) {
      const u = rng.nextFloat();
      const lambdaLarge = lambda0 * 2 ** doublings;
      lambda = Math.max(
        lambda0,
        Math.floor(lambda0 * (0.5 * lambdaLarge / lambda0) ** (u * u)),
      );
      sigma = sigma0 * 10 ** (-2 * rng.nextFloat());
    }
    const mean = Float64Array.from({ length: n }, () => rng.nextFloat());
    // A run needs at least one generation of its population.
    if (used + lambda > budget) break;
    const before = used;
    const best = await cmaEs(n, mean, sigma, lambda, rng, cost, budget - used);
    if (large) largeUsed += used - before;
    else smallUsed += used - before;
    runs++;
    if (best) bests.push({ x: best.u, cost: best.cost });
  }
  bests.sort((a, b) => a.cost - b.cost);
  const distinct: { x: Float64Array; cost: number }[] = [];
  for (const b of bests) {
    if (!Number.isFinite(b.cost)) continue;
    const far = distinct.every((d) =>
      d.x.some((v, i) => Math.abs(v - b.x[i]) > 1e-3)
    );
    if (far) distinct.push(b);
  }
  if (distinct.length === 0) {
    throw new RangeError(
      "global search: the cost is not finite anywhere it looked inside the bounds",
    );
  }
  const candidates = distinct.map((d) => ({
    x: map.toTheta(d.x),
    cost: d.cost,
  }));
  return { ...candidates[0], candidates, nfev: used, runs };
}

/** Unit coordinates u in [0, 1]^n and back to the caller's variables. */
function unitMap(
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  n: number,
) {
  const log = new Uint8Array(n);
  const lo = new Float64Array(n), hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = lower[i], b = upper[i];
    if (!Number.isFinite(a) || !Number.isFinite(b) || !(a < b)) {
      throw new RangeError(
        `global search needs finite bounds with lower < upper; parameter ${i} has [${a}, ${b}]`,
      );
    }
    if (a > 0 && b / a >= LOG_RATIO) {
      log[i] = 1;
      lo[i] = Math.log(a);
      hi[i] = Math.log(b);
    } else if (b < 0 && a / b >= LOG_RATIO) {
      log[i] = 2; // negative: search log|x|
      lo[i] = Math.log(-b);
      hi[i] = Math.log(-a);
    } else {
      lo[i] = a;
      hi[i] = b;
    }
  }
  return {
    toTheta(u: Float64Array): Float64Array {
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const t = lo[i] + u[i] * (hi[i] - lo[i]);
        x[i] = log[i] === 1
          ? Math.min(upper[i], Math.max(lower[i], Math.exp(t)))
          : log[i] === 2
          ? Math.min(upper[i], Math.max(lower[i], -Math.exp(t)))
          : t;
      }
      return x;
    },
  };
}

/** Mirrors a coordinate into [0, 1]. */
function reflect(v: number): number {
  let u = v - 2 * Math.floor(v / 2); // period 2
  if (u > 1) u = 2 - u;
  return u;
}

/**
 * One CMA-ES run (Hansen's tutorial, rank-one and rank-mu updates, in unit
 * coordinates with mirrored bounds); returns its best point.
 */
async function cmaEs(
  n: number,
  mean: Float64Array,
  sigma0: number,
  lambda: number,
  rng: Xoshiro128,
  cost: (us: Float64Array[]) => Promise<number[]>,
  budget: number,
): Promise<{ u: Float64Array; cost: number } | null> {
  const mu = Math.floor(lambda / 2);
  const w = Float64Array.from(
    { length: mu },
    (_, i) => Math.log(mu + 0.5) - Math.log(i + 1),
  );
  const wsum = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < mu; i++) w[i] /= wsum;
  const muEff = 1 / w.reduce((a, b) => a + b * b, 0);
  const cs = (muEff + 2) / (n + muEff + 5);
  const ds = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cs;
  const cc = (4 + muEff / n) / (n + 4 + 2 * muEff / n);
  const c1 = 2 / ((n + 1.3) ** 2 + muEff);
  const cmu = Math.min(
    1 - c1,
    2 * (muEff - 2 + 1 / muEff) / ((n + 2) ** 2 + muEff),
  );
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  let sigma = sigma0;
  const m = Float64Array.from(mean);
  const ps = new Float64Array(n), pc = new Float64Array(n);
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) C[i * n + i] = 1;
  let B: Float64Array = Float64Array.from(C);
  let D: Float64Array = new Float64Array(n).fill(1);
  let best: { u: Float64Array; cost: number } | null = null;
  let evals = 0, gen = 0, stale = 0;
  const history: number[] = [];
  while (evals + lambda <= budget) {
    gen++;
    // Sample: y = B D z, u = m + sigma y, mirrored into the unit box.
    const ys: Float64Array[] = [], us: Float64Array[] = [];
    for (let k = 0; k < lambda; k++) {
      const z = Float64Array.from({ length: n }, () => gaussian(rng));
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let t = 0;
        for (let j = 0; j < n; j++) t += B[i * n + j] * D[j] * z[j];
        y[i] = t;
      }
      const u = m.map((mi, i) => reflect(mi + sigma * y[i]));
      // The step actually taken (after mirroring) drives the update.
      ys.push(u.map((ui, i) => (ui - m[i]) / sigma));
      us.push(u);
    }
    const f = await cost(us);
    evals += lambda;
    const order = f.map((_, k) => k).sort((a, b) => f[a] - f[b]);
    if (!best || f[order[0]] < best.cost) {
      best = { u: us[order[0]], cost: f[order[0]] };
      stale = 0;
    } else stale++;
    // Mean.
    const yw = new Float64Array(n);
    for (let i = 0; i < mu; i++) {
      const y = ys[order[i]];
      for (let j = 0; j < n; j++) yw[j] += w[i] * y[j];
    }
    for (let j = 0; j < n; j++) m[j] += sigma * yw[j];
    // Step-size path: C^{-1/2} yw = B D^{-1} B^T yw.
    const bty = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += B[i * n + j] * yw[i];
      bty[j] = t / D[j];
    }
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += B[i * n + j] * bty[j];
      ps[i] = (1 - cs) * ps[i] + Math.sqrt(cs * (2 - cs) * muEff) * t;
    }
    const psNorm = Math.hypot(...ps);
    const hs = psNorm / Math.sqrt(1 - (1 - cs) ** (2 * gen)) <
        (1.4 + 2 / (n + 1)) * chiN
      ? 1
      : 0;
    for (let i = 0; i < n; i++) {
      pc[i] = (1 - cc) * pc[i] + hs * Math.sqrt(cc * (2 - cc) * muEff) * yw[i];
    }
    // Covariance: rank-one and rank-mu updates.
    const dh = (1 - hs) * cc * (2 - cc);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let rmu = 0;
        for (let k = 0; k < mu; k++) {
          const y = ys[order[k]];
          rmu += w[k] * y[i] * y[j];
        }
        const v = (1 - c1 - cmu) * C[i * n + j] +
          c1 * (pc[i] * pc[j] + dh * C[i * n + j]) + cmu * rmu;
        C[i * n + j] = C[j * n + i] = v;
      }
    }
    sigma *= Math.exp((cs / ds) * (psNorm / chiN - 1));
    // B D^2 B^T = C (C is symmetric positive semi-definite: its SVD).
    const e = svd(C, n, n);
    B = e.v;
    D = e.s.map((s) => Math.sqrt(Math.max(s, 1e-300)));
    // Stop: converged (steps below 1e-12 of the box), flat costs, no
    // progress, or a degenerate distribution.
    history.push(f[order[0]]);
    const recent = history.slice(-10 - Math.ceil(30 * n / lambda));
    const flat = recent.length >= 10 &&
      Math.max(...recent) - Math.min(...recent) <=
        1e-12 * Math.max(1e-300, Math.abs(Math.min(...recent)));
    const dMax = Math.max(...D), dMin = Math.min(...D);
    if (
      sigma * dMax < 1e-12 || flat || stale > 20 + 10 * n ||
      dMax > 1e7 * dMin || !Number.isFinite(sigma)
    ) break;
  }
  return best;
}

/** A standard normal draw (Box-Muller). */
function gaussian(rng: Xoshiro128): number {
  let u = 0;
  while (u === 0) u = rng.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
}
