/**
 * Runs the solver chosen by `method` on an evaluator.
 *
 * @module
 */

import type { Evaluator } from "./linearization.ts";
import type { ResolvedSolverOptions } from "./_validate.ts";
import type {
  IterationInfo,
  SolverResult,
  SolverState,
} from "./solver_types.ts";
import { lm } from "./lm.ts";
import { trf } from "./trf.ts";

/** Extra run-time controls for {@linkcode solve}. */
export interface SolveControls {
  /** Stops the solver between iterations. */
  readonly signal?: AbortSignal;
  /** Called after every iteration. */
  readonly onIteration?: (info: IterationInfo) => void | Promise<void>;
  /** Continue from a saved solver state. */
  readonly resume?: SolverState;
}

/**
 * Solves with TRF or LM per `o.method`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { createCpuEvaluator } from "./cpu_evaluator.ts";
 * import { resolveSolverOptions } from "./_validate.ts";
 * const m = model("a * x + b");
 * const ev = createCpuEvaluator(m, {
 *   x: [new Float64Array([0, 1, 2, 3])],
 *   y: new Float64Array([1, 3, 5, 7]),
 *   w: null,
 * });
 * const r = await solve(ev, new Float64Array([0, 0]), resolveSolverOptions({}, 2, 4));
 * assert.ok(Math.abs(r.x[0] - 2) < 1e-10 && Math.abs(r.x[1] - 1) < 1e-10);
 * ```
 */
export function solve(
  ev: Evaluator,
  x0: Float64Array,
  o: ResolvedSolverOptions,
  controls: SolveControls = {},
): Promise<SolverResult> {
  const opts = {
    lower: o.lower,
    upper: o.upper,
    ftol: o.ftol,
    xtol: o.xtol,
    gtol: o.gtol,
    maxNfev: o.maxNfev,
    xScale: o.xScale,
    signal: controls.signal,
    onIteration: controls.onIteration,
    resume: controls.resume,
  };
  return o.method === "lm" ? lm(ev, x0, opts) : trf(ev, x0, opts);
}
