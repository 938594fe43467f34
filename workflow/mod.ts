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
 * } from "@nlsq/nlsq/workflow";
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

export * from "../memory/mod.ts";
export * from "./goal.ts";
export * from "./tolerances.ts";
export * from "./presets.ts";
export * from "../sampling/mod.ts";
export * from "./generate_starts.ts";
export * from "../checkpoint/mod.ts";
export {
  registerResultPlot,
  resultDisplay,
  type ResultPlotRenderer,
} from "./result_display.ts";
