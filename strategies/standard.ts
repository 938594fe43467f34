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
  inMemoryWarmStart,
  type PrimedEvaluator,
  primedEvaluator,
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
  warmStart(ctx, p0, solveOn) {
    return inMemoryWarmStart(ctx, p0, solveOn, evaluators.get(ctx));
  },
};

registerStrategy(standardStrategy);
