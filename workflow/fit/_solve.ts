/**
 * Phase 5 of `fit()`: the solve. Every start runs the solver (concurrently,
 * sharing passes over the data), after the strategy's warm start where it
 * has one; the lowest cost wins; a validation pass and the evaluator's
 * precision policy (a CPU polish after WebGPU) finish it. Checkpoints are
 * written as the solver iterates, and once more at the end or on failure.
 *
 * @module
 */

import type { Evaluator } from "../../core/linearization.ts";
import { solve } from "../../core/solve.ts";
import type { SolverResult } from "../../core/solver_types.ts";
import type { ResolvedSolverOptions } from "../../core/_validate.ts";
import type { StrategyEvaluator } from "../../strategies/strategy.ts";
import { firstPhaseOptions, polishIfNeeded } from "../../strategies/_polish.ts";
import type { CheckpointSession } from "../../checkpoint/session.ts";
import type { StartOutcome } from "../fit_result.ts";
import { BatchingEvaluator } from "./_batching_evaluator.ts";
import { toNumbers } from "../../core/_numbers.ts";
import { globalStarts } from "./_global.ts";
import type { FitCall } from "./_call.ts";
import type { FitCheckpoints } from "./_checkpoints.ts";
import type { FitPlan } from "./_plan.ts";
import type { FitProgressTracker } from "./_progress.ts";

/** What the solve phase found. */
export interface FitSolution {
  /** The best start's result, in the solver's variables. */
  readonly best: SolverResult;
  /** One outcome per start, in the caller's variables. */
  readonly outcomes: StartOutcome[];
  /** Evaluations of a CPU polish, or null. */
  readonly polishNfev: number | null;
  /** The backend as the result reports it. */
  readonly backend: string;
}

/** Runs the solve phase on `sev` (which the caller closes). */
export async function solveFit(
  call: FitCall,
  plan: FitPlan,
  sev: StrategyEvaluator,
  checkpoints: FitCheckpoints,
  progress: FitProgressTracker,
  notes: string[],
): Promise<FitSolution> {
  const session = await checkpoints.open(sev, progress);
  try {
    const solution = await solveStarts(
      call,
      plan,
      sev,
      checkpoints,
      progress,
      session,
      notes,
    );
    // A progress report still running may yet fail the fit.
    await progress.settle();
    // The final state goes to disk too, whatever the checkpoint interval.
    await session?.flush();
    if (session?.lastPath) notes.push(`last checkpoint: ${session.lastPath}`);
    return solution;
  } catch (e) {
    // Aborted or failed: the last completed iteration goes to disk (a write
    // error must not hide the original one).
    await session?.flush().catch(() => {});
    throw e;
  }
}

async function solveStarts(
  call: FitCall,
  plan: FitPlan,
  sev: StrategyEvaluator,
  checkpoints: FitCheckpoints,
  progress: FitProgressTracker,
  session: CheckpointSession | null,
  notes: string[],
): Promise<FitSolution> {
  const { scale } = plan;
  const so = scale.solver;
  const signal = call.options.signal;
  // The global search's best points replace the placeholder starts (not on
  // resume: the checkpoint holds where each start was).
  const starts = plan.global && checkpoints.resumeStates.size === 0
    ? (await globalStarts(call, plan, sev, notes)).map(scale.toTheta)
    : plan.starts;
  const costFloor = scale.costFloor;
  const solveOn = (ev: Evaluator, x0: Float64Array, o: ResolvedSolverOptions) =>
    solve(ev, x0, o, { signal, costFloor });
  const so1 = firstPhaseOptions(sev, so);
  const batcher = starts.length > 1
    ? new BatchingEvaluator(sev, starts.length)
    : null;
  const ev: Evaluator = batcher ?? sev;
  const runOne = async (x0: Float64Array, k: number) => {
    const resume = checkpoints.resumeStates.get(k);
    const start = sev.warmStart && !resume
      ? await sev.warmStart(
        x0,
        async (wev, wx0) => (await solveOn(wev, wx0, so)).x,
      )
      : x0;
    return solve(ev, start, so1, {
      signal,
      costFloor,
      resume,
      onIteration: (info) => {
        const reported = progress.iteration(k, info);
        if (!session) return reported;
        return (async () => {
          await reported;
          await session.record(k, info.state);
        })();
      },
    });
  };
  const runStart = async (s: Float64Array, k: number) => {
    try {
      return await runOne(scale.toPhi(s), k);
    } catch (e) {
      // A failing onProgress ends the fit, not just this start.
      if (starts.length === 1 || signal?.aborted) throw e;
      if (progress.failure) throw progress.failure.error;
      return e as Error;
    } finally {
      batcher?.done();
    }
  };
  const results = starts.length === 1
    ? [await runStart(starts[0], 0)]
    : await Promise.all(starts.map(runStart));
  const { bestK, outcomes } = pickBest(plan, starts, results);
  let best = results[bestK] as SolverResult;
  if (plan.workflow.validate) {
    best = await validate(sev, best, so, solveOn, notes);
  }
  const polished = await polishIfNeeded(
    sev,
    best,
    scale.toPhi(starts[bestK]),
    so,
    solveOn,
  );
  if (polished.note) notes.push(polished.note);
  return {
    best: polished.result,
    outcomes,
    polishNfev: polished.polishNfev,
    backend: polished.backend,
  };
}

/**
 * The lowest cost wins; a later start must beat the incumbent by more than
 * rounding (1e-9 relative, or eps * sum((w y)^2) absolute), so ties and
 * equivalent minima (swapped peaks, noise-level costs) keep p0's.
 */
function pickBest(
  plan: FitPlan,
  starts: readonly Float64Array[],
  results: (SolverResult | Error)[],
): { bestK: number; outcomes: StartOutcome[] } {
  const { scale } = plan;
  let bestK = -1;
  const outcomes = results.map((r, k): StartOutcome => {
    if (r instanceof Error) {
      return {
        p0: toNumbers(starts[k]),
        popt: [],
        cost: NaN,
        status: -1,
        nfev: 0,
        success: false,
      };
    }
    const cur = bestK >= 0 ? results[bestK] as SolverResult : null;
    if (
      !cur || r.cost < cur.cost - Math.max(1e-9 * cur.cost, scale.costFloor())
    ) {
      bestK = k;
    }
    return {
      p0: toNumbers(starts[k]),
      popt: toNumbers(scale.toTheta(r.x)),
      cost: scale.unscaleCost(r.cost),
      status: r.status,
      nfev: r.nfev,
      success: r.status > 0,
    };
  });
  if (bestK < 0) throw results[0] as Error;
  return { bestK, outcomes };
}

/**
 * Validation pass: restart from the best point with the same settings; a
 * true minimum stays put (the change is noted; a lower cost is kept).
 */
async function validate(
  sev: StrategyEvaluator,
  best: SolverResult,
  so: ResolvedSolverOptions,
  solveOn: (
    ev: Evaluator,
    x0: Float64Array,
    o: ResolvedSolverOptions,
  ) => Promise<SolverResult>,
  notes: string[],
): Promise<SolverResult> {
  const v = await solveOn(sev, best.x, so);
  let maxRel = 0;
  for (let i = 0; i < best.x.length; i++) {
    maxRel = Math.max(
      maxRel,
      Math.abs(v.x[i] - best.x[i]) / Math.max(Math.abs(best.x[i]), 1e-300),
    );
  }
  notes.push(
    `validation pass: max relative parameter change ${maxRel.toExponential(2)}`,
  );
  if (!(v.cost <= best.cost)) return best;
  return {
    ...v,
    nfev: best.nfev + v.nfev,
    njev: best.njev + v.njev,
    nit: best.nit + v.nit,
  };
}
