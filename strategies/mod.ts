/**
 * Strategies: the registry, and the four that turn data into the solver's
 * p-sized linearization (standard, chunked, streaming, distributed), with
 * the evaluator contract a new strategy implements.
 *
 * @example Registering a strategy that wraps the standard one
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import { registerStrategy, standardStrategy } from "@nlsq/nlsq/strategies";
 * registerStrategy({ ...standardStrategy, name: "mine", description: "standard, renamed" });
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], { p0: [1], workflow: "mine" });
 * assert.strictEqual(r.strategy, "mine");
 * ```
 *
 * @module
 */

export { getStrategy, listStrategies, registerStrategy } from "./strategy.ts";
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
} from "./strategy.ts";
export type {
  Evaluation,
  Evaluator,
  Linearization,
  NormalLinearization,
  QrLinearization,
} from "../core/linearization.ts";
export { BACKEND_NAMES, type BackendName } from "./backend_name.ts";
export { standardStrategy } from "./standard.ts";
export { chunkedStrategy } from "./chunked.ts";
export {
  batchSizeOf,
  createStreamingEvaluator,
  DEFAULT_BATCH_SIZE,
  streamingStrategy,
} from "./streaming.ts";
export type {
  StreamingEvaluator,
  StreamingEvaluatorOptions,
} from "./streaming.ts";
export {
  DEFAULT_SHARD_BATCH_SIZE,
  distributedStrategy,
  getDistributedStats,
} from "./distributed.ts";
export type { DistributedEvaluator, DistributedStats } from "./distributed.ts";
export {
  type BackendDescription,
  backendLabel,
} from "./backend_description.ts";
