/**
 * Phase 6 of `fit()`: the result. The statistics pass at the solution, the
 * covariance (back in the caller's variables and units), and the
 * {@linkcode FitResult}.
 *
 * @module
 */

import { covarianceFromFactor } from "../../core/covariance.ts";
import { type DerivedQuantity, FitResult } from "../fit_result.ts";
import type { Model } from "../../model/types.ts";
import type { FitCall } from "./_call.ts";
import type { FitPlan } from "./_plan.ts";
import type { FitSolution } from "./_solve.ts";
import { finalPass } from "./_statistics.ts";
import { reviewerWarnings } from "./_warnings.ts";
import { summarizeData } from "../data_summary.ts";
import type { MomentsSummary } from "../../core/_moments.ts";

/** Builds the result of a fit from its solution. */
export async function finishFit(
  call: FitCall,
  plan: FitPlan,
  solution: FitSolution,
  notes: string[],
  t0: number,
  ySummary?: MomentsSummary | null,
): Promise<FitResult> {
  const m = call.model;
  const { scale, solver: so } = plan;
  const { best, outcomes } = solution;
  const free = scale.toTheta(best.x);
  const sigmaChol = plan.data.sigmaChol;
  const fin = await finalPass(
    m,
    free,
    plan.data.arrays,
    plan.data.data,
    so.loss === "linear" && !sigmaChol ? scale.unscaleCost(best.cost) : null,
    ySummary,
  );
  const pcov = call.params.expandCovariance(
    covariance(call, plan, solution, fin.n, notes),
    free,
  );
  const popt = call.params.expand(free);
  const weighted = sigmaChol !== null ||
    (plan.data.arrays ? plan.data.arrays.sigma !== null : false) ||
    (call.source?.hasSigma ?? false);
  if (call.guessed) notes.push("start: the model's guess from the data");
  const elapsedMs = performance.now() - t0;
  const rSquared = fin.ssTot > 0 ? 1 - fin.ssRes / fin.ssTot : NaN;
  // One start: was the answer its own start? (Several: not a question.)
  const start = solution.outcomes.length === 1
    ? Float64Array.from(solution.outcomes[0].p0)
    : free;
  notes.push(...reviewerWarnings({
    names: m.params,
    popt: free,
    p0: start,
    activeMask: best.activeMask,
    lower: so.lower,
    upper: so.upper,
    rSquared,
    nit: best.nit,
    success: best.status > 0,
  }));
  const result = new FitResult({
    popt,
    paramNames: call.fullModel.params,
    nFree: call.params.free.length,
    derived: derivedQuantities(call.fullModel, popt, pcov),
    pcov,
    cost: scale.unscaleCost(best.cost),
    residuals: fin.residuals,
    nPoints: fin.n,
    ssRes: fin.ssRes,
    ssTot: fin.ssTot,
    chiSquare: sigmaChol ? 2 * scale.unscaleCost(best.cost) : fin.chiSquare,
    nfev: (outcomes.reduce((s, o) => s + o.nfev, 0) || best.nfev) +
      (solution.polishNfev ?? 0),
    njev: best.njev,
    nit: best.nit,
    status: best.status,
    message: best.message,
    method: so.method,
    strategy: plan.strategyName,
    backend: solution.backend,
    preset: plan.workflow.name,
    tolerances: { ftol: so.ftol, xtol: so.xtol, gtol: so.gtol },
    starts: outcomes,
    optimality: best.optimality,
    activeMask: best.activeMask,
    elapsedMs,
    notes,
    origin: {
      model: call.fullModel,
      data: call.source ? null : plan.data.arrays,
      source: call.source,
      options: call.userOptions,
    },
    paramSettings: call.params.settings(),
    weighted,
    absoluteSigma: call.options.absoluteSigma ?? false,
    dataSummary: () =>
      summarizeData(
        m.variables,
        plan.data.arrays,
        fin.n,
        weighted,
        call.source?.description,
      ),
    // The solver's factor, in its scaled variables: the column-scaled
    // Jacobian (all the diagnostics read) is the caller's.
    jacobianFactor: {
      f: best.factor.f.slice(),
      colNorms: best.factor.colNorms.slice(),
    },
  });
  if (call.verbose > 0) {
    console.error(
      `nlsq: ${
        result.success ? "converged" : "did not converge"
      } (${result.message}) cost ${
        result.cost.toExponential(6)
      }, nfev ${result.nfev}, ${
        elapsedMs.toFixed(1)
      } ms, backend ${result.backend}`,
    );
  }
  return result;
}

/**
 * pcov with scipy's conventions, in the caller's variables: the solver
 * works on (c J S) where c scales residuals and S parameters, so
 * (c J S)^T (c J S) = c^2 S J^T J S and both scales are undone here.
 */
function covariance(
  call: FitCall,
  plan: FitPlan,
  solution: FitSolution,
  nResiduals: number,
  notes: string[],
): number[][] {
  const { scale } = plan;
  const p = call.model.params.length;
  const absoluteSigma = call.options.absoluteSigma ?? false;
  const { pcov, rank } = covarianceFromFactor(solution.best.factor, {
    nResiduals,
    cost: solution.best.cost,
    absoluteSigma,
    method: plan.solver.method,
  });
  const c2 = absoluteSigma ? scale.residual * scale.residual : 1;
  const s = scale.params;
  if (c2 !== 1 || s) {
    pcov.forEach((row, i) =>
      row.forEach((v, j) => {
        row[j] = v * c2 * (s ? s[i] * s[j] : 1);
      })
    );
  }
  if (pcov.some((row) => row.some((v) => !Number.isFinite(v)))) {
    notes.push(
      `covariance of the parameters could not be estimated (${
        rank < p
          ? `the Jacobian has rank ${rank} of ${p} at the solution`
          : `${nResiduals} points leave no degrees of freedom for ${p} parameters`
      })`,
    );
  }
  return pcov;
}

/** A built-in model's derived quantities (fwhm, height, ...), if it has any. */
export function derivedQuantities(
  m: Model,
  popt: Float64Array,
  pcov: number[][],
): Record<string, DerivedQuantity> | undefined {
  const d = (m as Model & {
    derived?: (
      p: ArrayLike<number>,
      c: ArrayLike<ArrayLike<number>>,
    ) => Record<string, DerivedQuantity>;
  }).derived;
  if (typeof d !== "function") return undefined;
  // A covariance that could not be estimated gives NaN errors, not a throw.
  return d.call(m, popt, pcov);
}
