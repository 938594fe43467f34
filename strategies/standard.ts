/**
 * The standard strategy: all data in memory, one pass per evaluation, the
 * rows split across the cores (or run on WebGPU).
 *
 * @module
 */

import { createBackend, requireMemory } from "./_backend.ts";
import {
  registerStrategy,
  type Strategy,
  type StrategyContext,
} from "./strategy.ts";
import {
  type PrimedEvaluator,
  primedEvaluator,
  sampleRows,
  subsampleWarmStart,
  warmStartRowsOf,
} from "./_warm_start.ts";

const evaluators = new WeakMap<StrategyContext, PrimedEvaluator>();

/**
 * The "standard" strategy (registered on import). From
 * `WARM_START_MIN_POINTS` points on, the fit starts from a fit on an evenly
 * spread subsample (configuration `warmStart: false` turns it off,
 * `warmStartRows` sets the sample size).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const r = await fit(model("a * x + b"), [0, 1, 2], [1, 3, 5], {
 *   p0: [1, 0],
 *   workflow: "standard",
 * });
 * assert.strictEqual(r.strategy, "standard");
 * ```
 */
export const standardStrategy: Strategy = {
  name: "standard",
  description: "all data in memory, one block, CPU threads or WebGPU",
  accepts: ["memory"],
  async createEvaluator(ctx) {
    const ev = primedEvaluator(
      await createBackend(ctx, requireMemory(ctx, "standard")),
    );
    evaluators.set(ctx, ev);
    return ev;
  },
  async warmStart(ctx, p0, solveOn) {
    const ev = evaluators.get(ctx);
    if (!ev || ctx.data.kind !== "memory") return p0;
    const n = ctx.data.y.length;
    const rows = warmStartRowsOf(ctx.config, n);
    // No saving when the sample is not much smaller than the data.
    if (rows === null || rows * 2 > n) return p0;
    return await subsampleWarmStart(
      ctx,
      p0,
      solveOn,
      ev,
      sampleRows(ctx.data, rows),
    );
  },
};

registerStrategy(standardStrategy);
