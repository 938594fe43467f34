/**
 * The statistics pass at the solution: residuals, the residual and total
 * sums of squares and the chi-square, in memory or batch by batch over a
 * source, with the caller's model and data (unscaled).
 *
 * @module
 */

import type { Model } from "../../model/types.ts";
import { Moments, type MomentsSummary } from "../../core/_moments.ts";
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

/**
 * Residuals and sums of squares at popt, in memory or batch by batch; a
 * source's pass is skipped where the cost gives the sums and `ySummary`
 * (from the evaluator's passes) the total sum of squares.
 */
export async function finalPass(
  m: Model,
  popt: Float64Array,
  inMemory:
    | { x: Float64Array[]; y: Float64Array; sigma: Float64Array | null }
    | null,
  data: StrategyData,
  linearCost: number | null,
  ySummary?: MomentsSummary | null,
): Promise<FinalSums> {
  const acc = { ssRes: 0, chi: 0 };
  const moments = new Moments();
  const addY = (y: Float64Array) => moments.add(y);
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
      n: moments.n,
      ssRes: 2 * linearCost,
      ssTot: moments.m2,
      chiSquare: 2 * linearCost,
    };
  }
  const src = inMemory ? null : data as BatchSourceLike;
  if (src && !src.hasSigma && linearCost !== null && ySummary) {
    // Unweighted, linear loss, and y's moments already gathered by the
    // evaluator's passes: no pass over the source.
    return {
      residuals: null,
      n: ySummary.n,
      ssRes: 2 * linearCost,
      ssTot: ySummary.m2,
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
    for await (const b of src!.batches(1 << 16)) {
      add(b.x, b.y, b.sigma ?? null, false);
    }
  }
  return {
    residuals,
    n: moments.n,
    ssRes: acc.ssRes,
    ssTot: moments.m2,
    chiSquare: acc.chi,
  };
}
