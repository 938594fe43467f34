/**
 * The statistics pass at the solution: residuals, the residual and total
 * sums of squares and the chi-square, in memory or batch by batch over a
 * source, with the caller's model and data (unscaled).
 *
 * @module
 */

import type { Model } from "../../model/types.ts";
import type {
  BatchSourceLike,
  StrategyData,
} from "../../strategies/strategy.ts";

/** The sums of the statistics pass. */
export interface FinalSums {
  /** y - f(x) at popt; a function computing it on demand, or null (source). */
  residuals: Float64Array | null | (() => Float64Array);
  /** Points. */
  n: number;
  /** Sum of squared residuals (unweighted). */
  ssRes: number;
  /** Total sum of squares of y about its mean. */
  ssTot: number;
  /** Sum of squared weighted residuals. */
  chiSquare: number;
}

/** Residuals and sums of squares at popt, in memory or batch by batch. */
export async function finalPass(
  m: Model,
  popt: Float64Array,
  inMemory:
    | { x: Float64Array[]; y: Float64Array; sigma: Float64Array | null }
    | null,
  data: StrategyData,
  linearCost: number | null,
): Promise<FinalSums> {
  const acc = { n: 0, mean: 0, m2: 0, ssRes: 0, chi: 0 };
  // Total sum of squares: a two-pass mean and sum per block of 4096 values
  // (two passes over cached values, one over memory), merged across blocks
  // with Chan's formula (stable, and no division per point).
  const addY = (y: Float64Array) => {
    for (let s0 = 0; s0 < y.length; s0 += 4096) {
      const e = Math.min(y.length, s0 + 4096);
      const nb = e - s0;
      // four partial sums: a single one waits on each add's latency
      let s1 = 0, s2 = 0, s3 = 0, s4 = 0, i = s0;
      for (; i + 3 < e; i += 4) {
        s1 += y[i];
        s2 += y[i + 1];
        s3 += y[i + 2];
        s4 += y[i + 3];
      }
      for (; i < e; i++) s1 += y[i];
      const mb = (s1 + s2 + s3 + s4) / nb;
      let q1 = 0, q2 = 0, q3 = 0, q4 = 0;
      for (i = s0; i + 3 < e; i += 4) {
        const d1 = y[i] - mb, d2 = y[i + 1] - mb;
        const d3 = y[i + 2] - mb, d4 = y[i + 3] - mb;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
        q4 += d4 * d4;
      }
      for (; i < e; i++) q1 += (y[i] - mb) * (y[i] - mb);
      const m2 = q1 + q2 + q3 + q4;
      const n = acc.n + nb;
      const d = mb - acc.mean;
      acc.m2 += m2 + d * d * acc.n * nb / n;
      acc.mean += d * nb / n;
      acc.n = n;
    }
  };
  if (inMemory && !inMemory.sigma && linearCost !== null) {
    // Unweighted, linear loss: the solver's cost is already 0.5 * RSS, so
    // the residual vector is only computed if the caller asks for it.
    addY(inMemory.y);
    const { x, y } = inMemory;
    return {
      residuals: () => {
        const r = m.evaluate(x, popt);
        for (let i = 0; i < y.length; i++) r[i] = y[i] - r[i];
        return r;
      },
      n: acc.n,
      ssRes: 2 * linearCost,
      ssTot: acc.m2,
      chiSquare: 2 * linearCost,
    };
  }
  const add = (
    x: Float64Array[],
    y: Float64Array,
    sigma: Float64Array | null,
    keep: boolean,
  ) => {
    // The model values are turned into residuals in place.
    const res = m.evaluate(x, popt);
    for (let i = 0; i < y.length; i++) {
      const r = y[i] - res[i];
      res[i] = r;
      acc.ssRes += r * r;
      const wr = sigma ? r / sigma[i] : r;
      acc.chi += wr * wr;
    }
    addY(y);
    return keep ? res : null;
  };
  let residuals: Float64Array | null = null;
  if (inMemory) residuals = add(inMemory.x, inMemory.y, inMemory.sigma, true);
  else {
    for await (const b of (data as BatchSourceLike).batches(1 << 16)) {
      add(b.x, b.y, b.sigma ?? null, false);
    }
  }
  return {
    residuals,
    n: acc.n,
    ssRes: acc.ssRes,
    ssTot: acc.m2,
    chiSquare: acc.chi,
  };
}
