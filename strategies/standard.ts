/**
 * The standard strategy: all data in memory, one pass per evaluation, the
 * rows split across the cores (or run on WebGPU).
 *
 * @module
 */

import { createBackend, requireMemory } from "./_backend.ts";
import { registerStrategy, type Strategy } from "./strategy.ts";

/**
 * The "standard" strategy (registered on import).
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
  createEvaluator(ctx) {
    return createBackend(ctx, requireMemory(ctx, "standard"));
  },
};

registerStrategy(standardStrategy);
