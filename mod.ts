/**
 * @nlsq/nlsq: nonlinear least-squares curve fitting at any scale, for Deno.
 *
 * Models are written in a small expression language with exact derivatives;
 * the solver (Trust Region Reflective or Levenberg-Marquardt, scipy's
 * semantics) works on p-sized linearizations built by pluggable strategies
 * (standard, chunked, streaming, distributed) chosen by a memory budget.
 *
 * @example Quick start
 * ```ts
 * import assert from "node:assert";
 * import { curveFit, fit, model } from "@nlsq/nlsq";
 *
 * const m = model("a * exp(-b * x) + c");
 * const x = Array.from({ length: 100 }, (_, i) => i / 20);
 * const y = x.map((t) => 2 * Math.exp(-1.3 * t) + 0.5);
 * const r = await fit(m, x, y, { p0: [1, 1, 0] });
 * assert.ok(Math.abs(r.params.b - 1.3) < 1e-8);
 *
 * const [popt] = await curveFit(m, x, y, { p0: [1, 1, 0] });
 * assert.ok(Math.abs(popt[0] - 2) < 1e-8);
 * ```
 *
 * @module
 */

// The root module holds what a user fits with; everything else lives behind
// the subpath exports (@nlsq/nlsq/model, /data, /workflow, /strategies,
// /cluster, /gpu, /plot).

// Models.
export { model, type ModelFunction, type ModelOptions } from "./model/model.ts";
export type { Model } from "./model/types.ts";
export { ModelSyntaxError } from "./model/syntax_error.ts";
export { type BuiltinModel, models, type ParamValues } from "./models/mod.ts";

// Fitting.
export { fit } from "./workflow/fit.ts";
export type {
  FitOptions,
  FitProgress,
  ModelInput,
} from "./workflow/fit_options.ts";
export type { XInput as FitXInput } from "./workflow/fit/_input.ts";
export type { ParamsInput, ParamSpec } from "./workflow/fit/_params.ts";
export { FitResult } from "./workflow/fit_result.ts";
export type {
  ConfidenceInterval,
  DerivedQuantity,
} from "./workflow/fit_result.ts";
export type {
  Prediction,
  PredictionBand,
  PredictOptions,
} from "./workflow/prediction.ts";
export {
  COVARIANCE_WARNING,
  curveFit,
  type CurveFitOptions,
} from "./workflow/curve_fit.ts";
export { OptimizeError } from "./workflow/optimize_error.ts";

export { leastSquares } from "./core/least_squares.ts";
export { fitBatch } from "./batch/fit_batch.ts";
export {
  fitGlobal,
  type FitGlobalOptions,
  type GlobalDataset,
  GlobalFitResult,
} from "./workflow/fit_global.ts";
export { BatchResult } from "./batch/batch_result.ts";
export type { FitBatchOptions } from "./batch/fit_batch_options.ts";
export type {
  LeastSquaresOptions,
  LeastSquaresResult,
} from "./core/least_squares.ts";
export type {
  JacobianFunction,
  ResidualFunction,
} from "./core/dense_evaluator.ts";
export type { BoundsInput, NumVec } from "./core/_validate.ts";
export {
  METHOD_NAMES,
  type MethodName,
  type SolverName,
  type SolverOptions,
} from "./core/solver_options.ts";
export { LOSS_NAMES, type LossName } from "./core/loss.ts";

// Plots.
export { plotSvg, type PlotSvgOptions } from "./plot/plot_svg.ts";

// Data.
export { openSource } from "./data/open_source.ts";
export { arraySource } from "./data/array_source.ts";
export type { DataSource, OpenSourceOptions } from "./data/source.ts";
export { DataSourceError } from "./data/data_source_error.ts";

// The workflow system (NLSQ's nlsq.workflow names).
export { MemoryBudget } from "./memory/memory_budget.ts";
export { MemoryBudgetSelector } from "./memory/selector.ts";
export { getAvailableMemoryGb } from "./memory/available_memory.ts";
export { normalizeGoal, OptimizationGoal } from "./workflow/goal.ts";
export { calculateAdaptiveTolerances } from "./workflow/tolerances.ts";
export {
  WORKFLOW_PRESETS,
  type WorkflowConfig,
  type WorkflowInput,
} from "./workflow/presets.ts";
export { createCheckpointDirectory } from "./checkpoint/checkpoint_directory.ts";
export {
  CheckpointError,
  CheckpointMismatchError,
} from "./checkpoint/checkpoint.ts";
export { registerStrategy } from "./strategies/strategy.ts";
export { BACKEND_NAMES, type BackendName } from "./strategies/backend_name.ts";

// Clusters and GPUs.
export {
  ClusterDetector,
  ClusterInfo,
  createDistributedConfig,
  getMultiGpuConfig,
  MultiGPUConfig,
} from "./cluster/mod.ts";
export {
  GpuDeviceLostError,
  GpuKernelError,
  GpuUnavailableError,
} from "./gpu/errors.ts";

// Registers the streaming and distributed strategies (and, under an MPI
// launcher, the handlers that end the whole job when one rank fails).
import "./strategies/streaming.ts";
import "./strategies/distributed.ts";
