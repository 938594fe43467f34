/**
 * The in-memory CPU evaluator: runs a model's fused block kernel over the
 * data block by block, applies the robust loss, and folds every block into
 * the R factor by Householder reflections (tall-skinny QR), so memory is
 * O(block * p) beyond the data and accuracy is QR-level.
 *
 * @module
 */

import type { WeightedData } from "./weights.ts";
import type { BlockKernel, Model } from "../model/types.ts";
import type { Evaluator } from "./linearization.ts";
import {
  accumulateGram,
  householderMergeRows,
  LINALG_WORKER_PART,
} from "./linalg.ts";
import { applyLossToBlock, LOSS_WORKER_PART, type LossName } from "./loss.ts";
import type { WorkerPart } from "./_worker_source.ts";
import { autoAccumulation, type PassOnce } from "./_accumulation.ts";
import {
  evaluationFromPartial,
  mergeAugmented,
  type PartialLinearization,
} from "./_linearization_forms.ts";

/** Options of the CPU evaluator. */
export interface CpuEvaluatorOptions {
  /** Robust loss (default "linear"). */
  readonly loss?: LossName;
  /** Soft margin between inlier and outlier residuals (default 1). */
  readonly fScale?: number;
  /** Rows per block (default 256). */
  readonly blockRows?: number;
  /** First row (default 0). */
  readonly start?: number;
  /** One past the last row (default all). */
  readonly end?: number;
  /**
   * "qr" (default): Householder QR of every block. "auto": Gram sums where
   * the column-scaled Jacobian is well conditioned (see `autoAccumulation`),
   * about 3x faster per point.
   */
  readonly accumulation?: "qr" | "auto";
}

/**
 * Evaluates rows [start, end) of a kernel at `theta`: cost, and the
 * triangular factor of `[J f]` when `withJac`. Exported for worker threads
 * and for the chunked and streaming strategies, which call it batch by batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = model("a * x + b");
 * const x = [new Float64Array([0, 1, 2])];
 * const y = new Float64Array([1, 3, 5]);
 * const r = linearizeRange(m.kernel, 2, { x, y, w: null }, new Float64Array([2, 1]), 0, 3, true);
 * assert.strictEqual(r.cost, 0);
 * ```
 */
export function linearizeRange(
  kernel: BlockKernel,
  p: number,
  data: WeightedData,
  theta: Float64Array,
  start: number,
  end: number,
  withJac: boolean,
  options: {
    loss?: LossName;
    fScale?: number;
    blockRows?: number;
    aug?: Float64Array;
    block?: Float64Array;
    /** Accumulate Gram sums instead of merging QR factors. */
    gram?: boolean;
  } = {},
): PartialLinearization {
  const ld = options.blockRows ?? 256;
  const c = p + 1;
  const B = options.block ?? new Float64Array(ld * c);
  const aug = withJac ? (options.aug ?? new Float64Array(c * c)) : null;
  const loss = options.loss ?? "linear";
  const fScale = options.fScale ?? 1;
  let cost = 0;
  for (let s = start; s < end; s += ld) {
    const e = Math.min(end, s + ld);
    const nb = e - s;
    const ssq = kernel(data.x, data.y, data.w, theta, s, e, B, ld, withJac);
    if (!Number.isFinite(ssq)) return { cost: NaN, aug: null };
    if (loss === "linear") cost += 0.5 * ssq;
    else cost += applyLossToBlock(loss, fScale, B, ld, nb, p, withJac);
    if (aug) {
      if (options.gram) accumulateGram(aug, B, ld, nb, c);
      else householderMergeRows(aug, B, ld, nb, c);
    }
  }
  return { cost, aug, gram: options.gram === true };
}

/**
 * What worker threads run of this module: {@linkcode linearizeRange}, with
 * the parts of the modules it calls.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { workerSource } from "./_worker_source.ts";
 * const { linearizeRange } = new Function(
 *   `${workerSource([CPU_EVALUATOR_WORKER_PART])}\nreturn { linearizeRange };`,
 * )();
 * const m = model("a * x");
 * const data = { x: [new Float64Array([1, 2])], y: new Float64Array([1, 1]), w: null };
 * const r = linearizeRange(m.kernel, 1, data, new Float64Array([1]), 0, 2, false, {
 *   loss: "soft_l1",
 * });
 * assert.ok(Math.abs(r.cost - (Math.SQRT2 - 1)) < 1e-15); // rho(1) / 2
 * ```
 */
export const CPU_EVALUATOR_WORKER_PART: WorkerPart = {
  needs: [LINALG_WORKER_PART, LOSS_WORKER_PART],
  functions: [linearizeRange],
};

/**
 * Merges partial linearizations of disjoint row ranges (TSQR): the result
 * equals the linearization of all rows at once.
 */
export function mergePartials(
  parts: readonly PartialLinearization[],
  p: number,
): PartialLinearization {
  let cost = 0;
  const augs: Float64Array[] = [];
  for (const part of parts) {
    cost += part.cost;
    if (part.aug) augs.push(part.aug);
  }
  if (!Number.isFinite(cost)) return { cost: NaN, aug: null };
  if (augs.length !== parts.length || augs.length === 0) {
    return { cost, aug: null };
  }
  const gram = parts[0].gram === true;
  const aug = mergeAugmented(augs, p, gram);
  return gram ? { cost, aug, gram } : { cost, aug };
}

/**
 * Creates a single-threaded in-memory evaluator for a model and data.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = model("a * x");
 * const ev = createCpuEvaluator(m, {
 *   x: [new Float64Array([1, 2])],
 *   y: new Float64Array([2, 4]),
 *   w: null,
 * });
 * const [e] = await ev.evaluate([new Float64Array([1])], [true]);
 * assert.strictEqual(e.cost, 0.5 * (1 + 4));
 * ```
 */
export function createCpuEvaluator(
  model: Model,
  data: WeightedData,
  options: CpuEvaluatorOptions = {},
): Evaluator {
  const p = model.params.length;
  const start = options.start ?? 0;
  const end = options.end ?? data.y.length;
  const blockRows = options.blockRows ?? 256;
  const block = new Float64Array(blockRows * (p + 1));
  const opts = {
    loss: options.loss,
    fScale: options.fScale,
    blockRows,
    block,
  };
  const n = end - start;
  const passOnce: PassOnce = (thetas, withJacobian, gram) =>
    Promise.resolve(thetas.map((theta, i) => {
      const part = linearizeRange(
        model.kernel,
        p,
        data,
        theta,
        start,
        end,
        withJacobian[i],
        { ...opts, gram },
      );
      return evaluationFromPartial(part, p, n);
    }));
  return {
    nParams: p,
    nResiduals: n,
    evaluate: autoAccumulation(
      n,
      p,
      options.accumulation === "auto",
      passOnce,
    ),
  };
}
