/**
 * What the in-memory strategies ("standard", "chunked") share: the backend
 * evaluator, wrapped so that the subsample warm start can prime it.
 *
 * @module
 */

import { createBackend, requireMemory } from "./_backend.ts";
import type { Strategy, StrategyContext } from "./strategy.ts";
import { inMemoryWarmStart, primedEvaluator } from "./_warm_start.ts";

/**
 * Builds an in-memory strategy; `chunkRows` gives the rows per chunk (none:
 * one block).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const s = inMemoryStrategy("mine", "all rows at once", () => undefined);
 * assert.deepStrictEqual(s.accepts, ["memory"]);
 * assert.strictEqual(typeof s.createEvaluator, "function");
 * ```
 */
export function inMemoryStrategy(
  name: string,
  description: string,
  chunkRows: (ctx: StrategyContext) => number | undefined,
): Strategy {
  return {
    name,
    description,
    accepts: ["memory"],
    async createEvaluator(ctx) {
      const ev = primedEvaluator(
        await createBackend(ctx, requireMemory(ctx, name), chunkRows(ctx)),
      );
      ev.warmStart = (p0, solveOn) => inMemoryWarmStart(ctx, p0, solveOn, ev);
      return ev;
    },
  };
}
