/**
 * `leastSquares`: scipy's `least_squares` for a general residual function.
 *
 * @module
 */

import {
  createDenseEvaluator,
  type JacobianFunction,
  type ResidualFunction,
} from "./dense_evaluator.ts";
import {
  assertKnownOptions,
  checkFeasible,
  type NumVec,
  resolveSolverOptions,
  toVector,
} from "./_validate.ts";
import { solve } from "./solve.ts";
import type { IterationInfo } from "./solver_types.ts";
import {
  SOLVER_OPTION_KEYS,
  type SolverOptions,
  solverOptionsOf,
} from "./solver_options.ts";

/**
 * Options of {@linkcode leastSquares}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * import type { LeastSquaresOptions } from "@nlsq/nlsq";
 * const o: LeastSquaresOptions = { method: "lm", jac: "3-point" };
 * const r = await leastSquares((p) => [p[0] - 3], [0], o);
 * assert.ok(Math.abs(r.x[0] - 3) < 1e-8);
 * ```
 */
export interface LeastSquaresOptions extends SolverOptions {
  /** Jacobian: a function returning m x n, or a finite-difference scheme. */
  jac?: JacobianFunction | "2-point" | "3-point";
  /** Called after every iteration. */
  onIteration?: (info: IterationInfo) => void | Promise<void>;
}

const KEYS = ["jac", "onIteration"] as const satisfies readonly (
  keyof LeastSquaresOptions
)[];
// A compile error here names an option missing from KEYS.
const _everyOptionListed: Exclude<
  keyof LeastSquaresOptions,
  keyof SolverOptions | typeof KEYS[number]
> extends never ? true
  : Exclude<
    keyof LeastSquaresOptions,
    keyof SolverOptions | typeof KEYS[number]
  > = true;

/** Every option name of {@linkcode LeastSquaresOptions}. */
const LEAST_SQUARES_OPTION_KEYS: ReadonlySet<string> = new Set([
  ...KEYS,
  ...SOLVER_OPTION_KEYS,
]);

/**
 * The result of {@linkcode leastSquares}, named as scipy's `OptimizeResult`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * import type { LeastSquaresResult } from "@nlsq/nlsq";
 * const r: LeastSquaresResult = await leastSquares((p) => [p[0] - 3, p[1]], [0, 1]);
 * assert.ok(r.success && r.cost < 1e-20);
 * assert.strictEqual(r.fun.length, 2);
 * ```
 */
export interface LeastSquaresResult {
  /** Solution. */
  x: Float64Array;
  /** Robust cost at the solution. */
  cost: number;
  /** Residuals at the solution. */
  fun: Float64Array;
  /** Jacobian at the solution (m x n rows). */
  jac: number[][];
  /** Gradient J^T f (loss-scaled). */
  grad: Float64Array;
  /** First-order optimality measure. */
  optimality: number;
  /** -1/0/1 per variable: at lower bound, free, at upper bound. */
  activeMask: Int8Array;
  /** Function evaluations. */
  nfev: number;
  /** Jacobian evaluations. */
  njev: number;
  /** Iterations. */
  nit: number;
  /** scipy's status code (-1..4). */
  status: number;
  /** Human-readable termination reason. */
  message: string;
  /** Whether the solver converged (`status > 0`). */
  success: boolean;
}

/**
 * Minimizes `0.5 * sum(rho(fun(x)^2))` (scipy's `least_squares`).
 *
 * @example Fit y = a exp(b t) through its residuals
 * ```ts
 * import assert from "node:assert";
 * const t = [0, 1, 2, 3];
 * const y = t.map((ti) => 2 * Math.exp(-0.5 * ti));
 * const r = await leastSquares(
 *   (p) => t.map((ti, i) => p[0] * Math.exp(p[1] * ti) - y[i]),
 *   [1, 0],
 * );
 * assert.ok(r.success);
 * assert.ok(Math.abs(r.x[0] - 2) < 1e-7 && Math.abs(r.x[1] + 0.5) < 1e-7);
 * ```
 */
export async function leastSquares(
  fun: ResidualFunction,
  x0: NumVec,
  options: LeastSquaresOptions = {},
): Promise<LeastSquaresResult> {
  if (typeof fun !== "function") {
    throw new TypeError("fun must be a function returning residuals");
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError("leastSquares: options must be an object");
  }
  assertKnownOptions("leastSquares", options, LEAST_SQUARES_OPTION_KEYS);
  const x = toVector(x0, "x0");
  const n = x.length;
  if (n === 0) throw new RangeError("x0 must not be empty");
  const f0 = Float64Array.from(fun(Float64Array.from(x)));
  const m = f0.length;
  if (m === 0) throw new RangeError("fun returned no residuals");
  for (let i = 0; i < m; i++) {
    if (!Number.isFinite(f0[i])) {
      throw new RangeError(`residual ${i} is not finite at x0`);
    }
  }
  const o = resolveSolverOptions(
    { ...solverOptionsOf(options), method: options.method ?? "trf" },
    n,
    m,
  );
  checkFeasible(x, o.lower, o.upper, "x0");
  const ev = createDenseEvaluator(fun, m, n, {
    jac: options.jac,
    loss: o.loss,
    fScale: o.fScale,
    lower: o.lower,
    upper: o.upper,
  });
  const r = await solve(ev, x, o, {
    signal: options.signal,
    onIteration: options.onIteration,
  });
  const { f, J } = ev.last(r.x);
  const jac: number[][] = [];
  for (let i = 0; i < m; i++) {
    jac.push(Array.from(J.subarray(i * n, (i + 1) * n)));
  }
  return {
    x: r.x,
    cost: r.cost,
    fun: f,
    jac,
    grad: Float64Array.from(r.factor.g),
    optimality: r.optimality,
    activeMask: r.activeMask,
    nfev: r.nfev,
    njev: r.njev,
    nit: r.nit,
    status: r.status,
    message: r.message,
    success: r.status > 0,
  };
}
