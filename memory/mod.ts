/**
 * Memory: how much there is (system memory, capped by cgroups, or a
 * limit), what a fit needs (`MemoryBudget`), and the decision tree that
 * picks a strategy from it (`MemoryBudgetSelector`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MemoryBudget } from "@nlsq/nlsq/workflow";
 * const b = MemoryBudget.compute({ nPoints: 1e6, nParams: 3, memoryLimitGb: 8 });
 * assert.ok(b.fitsInMemory);
 * ```
 *
 * @module
 */

export * from "./available_memory.ts";
export * from "./memory_budget.ts";
export * from "./selector.ts";
