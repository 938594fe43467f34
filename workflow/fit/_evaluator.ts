/**
 * Phase 4 of `fit()`: the evaluator. The strategy builds it from its
 * context (data, loss, backend, configuration); a 2-D sigma (a covariance of
 * y) takes the dense path, which whitens residuals and Jacobian with the
 * Cholesky factor of sigma.
 *
 * @module
 */

import {
  type BackendDescription,
  backendLabel,
} from "../../strategies/backend_description.ts";
import type { Model } from "../../model/types.ts";
import type { Evaluator } from "../../core/linearization.ts";
import type { LossName } from "../../core/loss.ts";
import { createDenseEvaluator } from "../../core/dense_evaluator.ts";
import { solveLowerInPlace } from "../../core/linalg.ts";
import type {
  StrategyContext,
  StrategyEvaluator,
} from "../../strategies/strategy.ts";
import type { FitCall } from "./_call.ts";
import type { FitPlan } from "./_plan.ts";
import type { FitProgressTracker } from "./_progress.ts";

const DENSE_BACKEND: BackendDescription = {
  device: "cpu",
  precision: "f64",
  detail: "dense, 2-D sigma",
};

/** The context a strategy builds its evaluator from. */
export function strategyContext(
  call: FitCall,
  plan: FitPlan,
  progress: FitProgressTracker,
): StrategyContext {
  const { scale } = plan;
  return {
    model: scale.model,
    data: plan.data.data,
    loss: plan.solver.loss,
    fScale: plan.solver.fScale * scale.residual,
    backend: call.backend,
    config: plan.config,
    nPoints: plan.data.nPoints,
    threads: call.options.threads,
    signal: call.options.signal,
    verbose: call.verbose,
    onPass: progress.pass,
    needsF64: scale.needsF64,
  };
}

/** Builds the evaluator of a fit: the strategy's, or the dense 2-D-sigma one. */
export async function createFitEvaluator(
  plan: FitPlan,
  ctx: StrategyContext,
): Promise<StrategyEvaluator> {
  const { sigmaChol, data } = plan.data;
  if (!sigmaChol || data.kind !== "memory") {
    return await plan.strategy.createEvaluator(ctx);
  }
  return {
    ...covarianceWeightedEvaluator(
      ctx.model,
      data.x as Float64Array[],
      data.y,
      sigmaChol,
      ctx.loss,
      ctx.fScale,
    ),
    backend: backendLabel(DENSE_BACKEND),
    backendInfo: DENSE_BACKEND,
    close() {},
  };
}

/** Residual function for a 2-D sigma: r = L^{-1} (f - y), J = L^{-1} J_f. */
function covarianceWeightedEvaluator(
  m: Model,
  x: Float64Array[],
  y: Float64Array,
  L: Float64Array,
  loss: LossName,
  fScale: number,
): Evaluator {
  const n = y.length, p = m.params.length;
  const B = new Float64Array(n * (p + 1));
  const run = (theta: Float64Array) => {
    m.kernel(x, y, null, theta, 0, n, B, n, true);
    const f = B.slice(p * n, (p + 1) * n);
    solveLowerInPlace(L, n, f);
    const J = B.slice(0, p * n); // column-major n x p
    solveLowerInPlace(L, n, J, p);
    return { f, J };
  };
  return createDenseEvaluator((t) => run(t).f, n, p, {
    jac: (t) => {
      const { J } = run(t);
      const out = new Float64Array(n * p);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < p; k++) out[i * p + k] = J[k * n + i];
      }
      return out;
    },
    loss,
    fScale,
  });
}
