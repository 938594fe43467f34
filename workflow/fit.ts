/**
 * `fit()`: the workflow orchestration, as its list of phases (each in its
 * own module under `workflow/fit/`): the call (model and options checked),
 * the data, the plan (workflow, strategy, solver options, starts, scaling),
 * the checkpoints, the evaluator, the solve (multi-start, warm start,
 * validation, CPU polish) and the result. `docs/architecture.md` draws the
 * path of one fit through them.
 *
 * @module
 */

import type { NumVec } from "../core/_validate.ts";
import type { BatchSourceLike } from "../strategies/strategy.ts";
import type { FitResult } from "./fit_result.ts";
import type { FitOptions, ModelInput } from "./fit_options.ts";
import { resolveFitCall } from "./fit/_call.ts";
import { prepareFitData, type XInput } from "./fit/_input.ts";
import { planFit } from "./fit/_plan.ts";
import { prepareCheckpoints } from "./fit/_checkpoints.ts";
import { FitProgressTracker } from "./fit/_progress.ts";
import { createFitEvaluator, strategyContext } from "./fit/_evaluator.ts";
import { solveFit } from "./fit/_solve.ts";
import { finishFit } from "./fit/_finish.ts";

export type { FitOptions, FitProgress, ModelInput } from "./fit_options.ts";

/**
 * Fits a model to data through the workflow system.
 *
 * @example Fit an exponential decay
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = Array.from({ length: 50 }, (_, i) => i / 10);
 * const y = x.map((t) => 3 * Math.exp(-1.5 * t) + 0.5);
 * const r = await fit(model("a * exp(-b * x) + c"), x, y, { p0: [1, 1, 0] });
 * assert.ok(r.success);
 * assert.ok(Math.abs(r.params.b - 1.5) < 1e-8);
 * assert.strictEqual(r.strategy, "standard");
 * ```
 */
export async function fit(
  modelIn: ModelInput,
  xOrSource: XInput | BatchSourceLike,
  yOrOptions?: NumVec | FitOptions,
  maybeOptions?: FitOptions,
): Promise<FitResult> {
  const t0 = performance.now();
  const notes: string[] = [];
  const call = await resolveFitCall(
    modelIn,
    xOrSource,
    yOrOptions,
    maybeOptions,
  );
  const input = prepareFitData(call, notes);
  const plan = await planFit(call, input, notes);
  const checkpoints = await prepareCheckpoints(call, input, plan, notes);
  const progress = new FitProgressTracker(
    call.options.onProgress,
    call.verbose,
    t0,
    plan.scale.unscaleCost,
  );
  if (call.verbose > 0) {
    console.error(
      `nlsq: fitting ${call.model.params.length} parameters to ${plan.data.nPoints} points; workflow ${plan.workflow.name}, strategy ${plan.strategyName}, method ${plan.solver.method}, tol ${plan.solver.ftol}, ${plan.starts.length} start(s)`,
    );
  }
  const sev = await createFitEvaluator(
    plan,
    strategyContext(call, plan, progress),
  );
  let solution;
  try {
    solution = await solveFit(call, plan, sev, checkpoints, progress, notes);
  } finally {
    await sev.close();
  }
  if (sev.notes) notes.push(...sev.notes);
  return await finishFit(call, plan, solution, notes, t0, sev.ySummary);
}
