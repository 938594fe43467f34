/**
 * The precision policy of evaluators whose arithmetic may not be accurate
 * enough to end a fit (WebGPU: f32 kernels always, f64 normal-form sums of a
 * nearly singular J): a first phase with looser limits, then a polish in
 * double precision on the CPU. `fit()` runs it through these two calls; the
 * GPU backend (`_gpu_backend.ts`) sets `firstPhase` and `polish`.
 *
 * @module
 */

import type { ResolvedSolverOptions } from "../core/_validate.ts";
import type { SolverResult } from "../core/solver_types.ts";
import type { Evaluator } from "../core/linearization.ts";
import type { StrategyEvaluator } from "./strategy.ts";

/**
 * The solver options of the first phase: no tighter than the evaluator's
 * `firstPhase.tol`, at most its `maxNfev` (the options as they are for an
 * evaluator without a first phase).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveSolverOptions } from "../core/_validate.ts";
 * const so = resolveSolverOptions({ ftol: 1e-12 }, 1, 10);
 * const ev = { firstPhase: { tol: 1e-6, maxNfev: 50 } };
 * assert.strictEqual(firstPhaseOptions(ev as never, so).ftol, 1e-6);
 * ```
 */
export function firstPhaseOptions(
  sev: StrategyEvaluator,
  so: ResolvedSolverOptions,
): ResolvedSolverOptions {
  const fp = sev.firstPhase;
  if (!fp) return so;
  return {
    ...so,
    ftol: Math.max(so.ftol, fp.tol),
    xtol: Math.max(so.xtol, fp.tol),
    gtol: Math.max(so.gtol, fp.tol),
    maxNfev: Math.min(so.maxNfev, fp.maxNfev),
  };
}

/** A fit's result after the precision policy. */
export interface Polished {
  /** The final solver result (counters include both phases). */
  readonly result: SolverResult;
  /** Evaluations of the polish, or null when none ran. */
  readonly polishNfev: number | null;
  /** The backend as the result reports it ("... + CPU polish"). */
  readonly backend: string;
  /** A line for the fit's notes, when a polish ran. */
  readonly note?: string;
}

/**
 * Finishes `best` (found from `start`) on the evaluator's double-precision
 * CPU twin when the evaluator asks for it, with the requested options `so`;
 * `solveOn` runs the solver (closing the polish evaluator is done here).
 */
export async function polishIfNeeded(
  sev: StrategyEvaluator,
  best: SolverResult,
  start: Float64Array,
  so: ResolvedSolverOptions,
  solveOn: (
    ev: Evaluator,
    x0: Float64Array,
    so: ResolvedSolverOptions,
  ) => Promise<SolverResult>,
): Promise<Polished> {
  const plan = sev.polish ? await sev.polish({ ...best, start }) : null;
  if (!plan) return { result: best, polishNfev: null, backend: sev.backend };
  try {
    const q = await solveOn(plan.evaluator, plan.x0, so);
    return {
      result: {
        ...q,
        nfev: best.nfev + q.nfev,
        njev: best.njev + q.njev,
        nit: best.nit + q.nit,
      },
      polishNfev: q.nfev,
      backend: `${sev.backend} + CPU polish`,
      note:
        `CPU polish on ${plan.evaluator.backend} (${plan.reason}): ${q.nfev} evaluations`,
    };
  } finally {
    await plan.evaluator.close();
  }
}
