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

// The result's parts, refits and the batch's input types (the root module
// exports what a user fits with).
export type {
  FitDiagnostics,
  JacobianFactor,
  UndeterminedDirection,
} from "./diagnostics.ts";
export type { DataSummary } from "./data_summary.ts";
export type { ReportContext } from "./report.ts";
export type { CsvOptions } from "./result_csv.ts";
export type { FromJsonOptions, SavedResult } from "./result_json.ts";
export type { ParamSetting } from "./fit/_params.ts";
export type { FitOrigin, StartOutcome } from "./fit_result.ts";
export {
  type ProfileIntervals,
  profileIntervals,
  type ProfileOptions,
} from "./profile_intervals.ts";
export {
  bootstrap,
  type BootstrapOptions,
  type BootstrapResult,
} from "./bootstrap.ts";
export type { BatchResultInit } from "../batch/batch_result.ts";
export type {
  FitBatchBounds,
  FitBatchProgress,
  FitBatchXInput,
  FitBatchYInput,
} from "../batch/fit_batch_options.ts";
export type { IterationInfo, SolverState } from "../core/solver_types.ts";
export type { PlotArrays } from "../plot/plot_svg.ts";
