/**
 * Options, state and results shared by the TRF and LM solvers.
 *
 * @module
 */

import type { Factor } from "./_factor.ts";
import type { SolverName } from "./solver_options.ts";

/** scipy's termination messages by status code. */
export const TERMINATION_MESSAGES: Readonly<Record<number, string>> = {
  [-2]: "Stopped because the AbortSignal was aborted.",
  [-1]: "Improper input parameters.",
  0: "The maximum number of function evaluations is exceeded.",
  1: "`gtol` termination condition is satisfied.",
  2: "`ftol` termination condition is satisfied.",
  3: "`xtol` termination condition is satisfied.",
  4: "Both `ftol` and `xtol` termination conditions are satisfied.",
};

/**
 * What the solver reports after every iteration (for progress and checkpoints).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * import type { IterationInfo } from "@nlsq/nlsq/workflow";
 * const seen: IterationInfo[] = [];
 * await leastSquares((p) => [p[0] - 3], [0], { onIteration: (i) => { seen.push(i); } });
 * assert.ok(seen.length > 0);
 * assert.strictEqual(seen.at(-1)!.state.x.length, 1);
 * ```
 */
export interface IterationInfo {
  /** Iterations completed. */
  readonly nit: number;
  /** Function evaluations so far. */
  readonly nfev: number;
  /** Current robust cost. */
  readonly cost: number;
  /** Infinity norm of the (scaled) gradient. */
  readonly optimality: number;
  /** Norm of the last step (0 before the first). */
  readonly stepNorm: number;
  /** Serializable state to resume from. */
  readonly state: SolverState;
}

/**
 * The solver state a checkpoint stores; enough to continue a run exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * import type { SolverState } from "@nlsq/nlsq/workflow";
 * let state: SolverState | undefined;
 * await leastSquares((p) => [p[0] - 3], [0], { onIteration: (i) => { state = i.state; } });
 * assert.strictEqual(state!.method, "trf");
 * assert.ok(Math.abs(state!.x[0] - 3) < 1e-6);
 * ```
 */
export interface SolverState {
  /** "trf" or "lm". */
  readonly method: SolverName;
  /** Current parameters. */
  readonly x: number[];
  /** Trust-region radius (scaled). */
  readonly delta: number;
  /** Levenberg-Marquardt parameter. */
  readonly alpha: number;
  /** Counters. */
  readonly nfev: number;
  /** Jacobian evaluations. */
  readonly njev: number;
  /** Iterations completed. */
  readonly nit: number;
  /** Running column scale (`xScale: "jac"` in TRF, MINPACK's diag in LM). */
  readonly scale: number[] | null;
}

/** Options for {@linkcode SolverOptions}. */
export interface SolverOptions {
  /** Lower bounds (-Infinity where none). */
  readonly lower: Float64Array;
  /** Upper bounds (Infinity where none). */
  readonly upper: Float64Array;
  readonly ftol: number;
  readonly xtol: number;
  readonly gtol: number;
  readonly maxNfev: number;
  /** Characteristic scale of each variable, or "jac" for Jacobian scaling. */
  readonly xScale: Float64Array | "jac";
  /** Stops the solver between iterations. */
  readonly signal?: AbortSignal;
  /** Called after every iteration. */
  readonly onIteration?: (info: IterationInfo) => void | Promise<void>;
  /** Continue from a saved state instead of starting at x0. */
  readonly resume?: SolverState;
}

/** What a solver returns. */
export interface SolverResult {
  readonly x: Float64Array;
  readonly cost: number;
  /** Linearization at x in factor form (for covariance). */
  readonly factor: Factor;
  readonly status: number;
  readonly message: string;
  readonly nfev: number;
  readonly njev: number;
  readonly nit: number;
  /** -1 lower bound active, 1 upper bound active, 0 free. */
  readonly activeMask: Int8Array;
  /** First-order optimality: infinity norm of the (scaled) gradient. */
  readonly optimality: number;
  readonly state: SolverState;
}
