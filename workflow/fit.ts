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
import { fitPoisson, poissonOptions } from "./fit/_poisson.ts";

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
 *
 * @example Counts: Poisson maximum likelihood
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * const x = [0, 1, 2, 3, 4, 5, 6, 7];
 * const y = [98, 61, 37, 21, 14, 9, 4, 2]; // photon counts
 * const r = await fit("a * exp(-x / t)", x, y, { p0: [100, 2], estimator: "poisson" });
 * assert.ok(r.success);
 * // Standard errors from the Fisher information (not scaled by chi-square).
 * assert.ok(r.perr[0] > 5 && r.perr[0] < 15);
 * assert.ok(Math.abs(r.chiSquare - 2 * r.cost) < 1e-12); // the deviance
 * ```
 */
export async function fit(
  modelIn: ModelInput,
  xOrSource: XInput | BatchSourceLike,
  yOrOptions?: NumVec | FitOptions,
  maybeOptions?: FitOptions,
): Promise<FitResult> {
  const poisson = poissonOptions(xOrSource, yOrOptions, maybeOptions);
  if (poisson) return await fitPoisson(modelIn, xOrSource, yOrOptions, poisson);
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
