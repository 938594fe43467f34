/**
 * What the in-memory strategies ("standard", "chunked") share: the backend
 * evaluator, wrapped so that the subsample warm start can prime it.
 *
 * @module
 */

import { createBackend, requireMemory } from "./_backend.ts";
import type { Strategy, StrategyContext } from "./strategy.ts";
import {
  inMemoryWarmStart,
  type PrimedEvaluator,
  primedEvaluator,
} from "./_warm_start.ts";

/**
 * Builds an in-memory strategy; `chunkRows` gives the rows per chunk (none:
 * one block).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const s = inMemoryStrategy("mine", "all rows at once", () => undefined);
 * assert.deepStrictEqual(s.accepts, ["memory"]);
 * assert.strictEqual(typeof s.warmStart, "function");
 * ```
 */
export function inMemoryStrategy(
  name: string,
  description: string,
  chunkRows: (ctx: StrategyContext) => number | undefined,
): Strategy {
  const evaluators = new WeakMap<StrategyContext, PrimedEvaluator>();
  return {
    name,
    description,
    accepts: ["memory"],
    async createEvaluator(ctx) {
      const ev = primedEvaluator(
        await createBackend(ctx, requireMemory(ctx, name), chunkRows(ctx)),
      );
      evaluators.set(ctx, ev);
      return ev;
    },
    warmStart(ctx, p0, solveOn) {
      return inMemoryWarmStart(ctx, p0, solveOn, evaluators.get(ctx));
    },
  };
}
