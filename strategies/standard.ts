/**
 * The standard strategy: all data in memory, one pass per evaluation, the
 * rows split across the cores (or run on WebGPU).
 *
 * @module
 */

import { registerStrategy, type Strategy } from "./strategy.ts";
import { inMemoryStrategy } from "./_in_memory.ts";

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
export const standardStrategy: Strategy = inMemoryStrategy(
  "standard",
  "all data in memory, one block, CPU threads or WebGPU",
  () => undefined,
);

registerStrategy(standardStrategy);
