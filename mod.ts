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

export * from "./model/mod.ts";
export { leastSquares } from "./core/least_squares.ts";
export type {
  LeastSquaresOptions,
  LeastSquaresResult,
} from "./core/least_squares.ts";
export type { BoundsInput, NumVec } from "./core/_validate.ts";
export type {
  JacobianFunction,
  ResidualFunction,
} from "./core/dense_evaluator.ts";
export type { IterationInfo, SolverState } from "./core/solver_types.ts";
export type { XInput as FitXInput } from "./workflow/fit/_input.ts";
export { LOSS_NAMES } from "./core/loss.ts";
export type { LossName } from "./core/loss.ts";
export type {
  Evaluation,
  Evaluator,
  Linearization,
  NormalLinearization,
  QrLinearization,
} from "./core/linearization.ts";
export { fit } from "./workflow/fit.ts";
export type { FitOptions, FitProgress, ModelInput } from "./workflow/fit.ts";
export {
  COVARIANCE_WARNING,
  curveFit,
  type CurveFitOptions,
} from "./workflow/curve_fit.ts";
export { OptimizeError } from "./workflow/optimize_error.ts";
export { fitBatch } from "./batch/fit_batch.ts";
export { BatchResult, type BatchResultInit } from "./batch/batch_result.ts";
export type {
  FitBatchBounds,
  FitBatchOptions,
  FitBatchProgress,
  FitBatchXInput,
  FitBatchYInput,
} from "./batch/fit_batch_options.ts";
export { FitResult } from "./workflow/fit_result.ts";
export type {
  ConfidenceInterval,
  StartOutcome,
} from "./workflow/fit_result.ts";
export * from "./workflow/mod.ts";
export {
  getStrategy,
  listStrategies,
  registerStrategy,
} from "./strategies/strategy.ts";
export type {
  BatchSourceLike,
  InMemoryData,
  PassProgress,
  PolishInput,
  PolishPlan,
  Strategy,
  StrategyContext,
  StrategyData,
  StrategyEvaluator,
} from "./strategies/strategy.ts";
export { standardStrategy } from "./strategies/standard.ts";
export { chunkedStrategy } from "./strategies/chunked.ts";
export * from "./cluster/mod.ts";
export * from "./data/mod.ts";
export {
  batchSizeOf,
  createStreamingEvaluator,
  DEFAULT_BATCH_SIZE,
  streamingStrategy,
} from "./strategies/streaming.ts";
export type {
  StreamingEvaluator,
  StreamingEvaluatorOptions,
} from "./strategies/streaming.ts";
export {
  DEFAULT_SHARD_BATCH_SIZE,
  distributedStrategy,
  getDistributedStats,
} from "./strategies/distributed.ts";
export type {
  DistributedEvaluator,
  DistributedStats,
} from "./strategies/distributed.ts";
export * from "./workflow/checkpoint.ts";
