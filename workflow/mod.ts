/**
 * The workflow system: memory budget and strategy selection, goals and
 * adaptive tolerances, presets, multi-start samplers and checkpoint
 * directories (the counterpart of Python NLSQ's `nlsq.workflow`).
 *
 * @example Choosing a strategy and tolerances for 10M points
 * ```ts
 * import assert from "node:assert";
 * import {
 *   MemoryBudgetSelector,
 *   resolveWorkflow,
 *   workflowTolerances,
 * } from "./mod.ts";
 * const selection = new MemoryBudgetSelector().select({
 *   nPoints: 10_000_000,
 *   nParams: 5,
 *   memoryLimitGb: 0.5,
 * });
 * assert.strictEqual(selection.strategy, "chunked");
 * const tol = workflowTolerances(resolveWorkflow("auto"), 10_000_000);
 * assert.strictEqual(tol.ftol, 1e-6);
 * ```
 *
 * @module
 */

export * from "./available_memory.ts";
export * from "./memory_budget.ts";
export * from "./selector.ts";
export * from "./goal.ts";
export * from "./tolerances.ts";
export * from "./presets.ts";
export * from "./prng.ts";
export * from "./latin_hypercube.ts";
export * from "./sobol.ts";
export * from "./halton.ts";
export * from "./samplers.ts";
export * from "./generate_starts.ts";
export * from "./checkpoint_directory.ts";
