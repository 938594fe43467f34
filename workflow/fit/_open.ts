/**
 * The phases of `fit()` up to its evaluator (call, data, plan, evaluator),
 * for the work that solves a fit's problem again without being a fit of
 * its own: profile refits and the datasets of a global fit.
 *
 * @module
 */

import type { NumVec } from "../../core/_validate.ts";
import type {
  BatchSourceLike,
  StrategyEvaluator,
} from "../../strategies/strategy.ts";
import type { FitOptions, ModelInput } from "../fit_options.ts";
import { type FitCall, resolveFitCall } from "./_call.ts";
import { prepareFitData, type XInput } from "./_input.ts";
import { type FitPlan, planFit } from "./_plan.ts";
import { FitProgressTracker } from "./_progress.ts";
import { createFitEvaluator, strategyContext } from "./_evaluator.ts";

/** A fit's problem, ready to solve. */
export interface OpenFit {
  /** The checked call. */
  readonly call: FitCall;
  /** The plan (strategy, solver options, scaling). */
  readonly plan: FitPlan;
  /** The strategy's evaluator (the caller closes it). */
  readonly evaluator: StrategyEvaluator;
}

/**
 * Runs phases 1 to 3 of `fit(model, x, y, options)` (or
 * `fit(model, source, options)`) and builds the evaluator; nothing is
 * solved. Remarks go to `notes`.
 */
export async function openFit(
  modelIn: ModelInput,
  data: { x: XInput; y: NumVec } | { source: BatchSourceLike },
  options: FitOptions,
  notes: string[],
): Promise<OpenFit> {
  const call = "source" in data
    ? await resolveFitCall(modelIn, data.source, options)
    : await resolveFitCall(modelIn, data.x, data.y, options);
  const input = prepareFitData(call, notes);
  const plan = await planFit(call, input, notes);
  const progress = new FitProgressTracker(
    call.options.onProgress,
    call.verbose,
    performance.now(),
    plan.scale.unscaleCost,
  );
  const evaluator = await createFitEvaluator(
    plan,
    strategyContext(call, plan, progress),
  );
  return { call, plan, evaluator };
}
