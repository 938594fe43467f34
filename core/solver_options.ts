/**
 * The solver options that `leastSquares`, `fit` and `curveFit` share: one
 * declaration, which {@linkcode LeastSquaresOptions} and `FitOptions` both
 * extend, and the list of its names that both check unknown names against.
 *
 * @module
 */

import type { LossName } from "./loss.ts";
import type { BoundsInput, NumVec } from "./_validate.ts";

/**
 * The `method` values: `"trf"` (trust-region reflective), `"lm"`
 * (Levenberg-Marquardt) and `"auto"` (scipy's `curve_fit` rule: lm without
 * bounds and with the linear loss, else trf).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { METHOD_NAMES } from "@nlsq/nlsq";
 * assert.deepStrictEqual([...METHOD_NAMES], ["trf", "lm", "auto"]);
 * ```
 */
export const METHOD_NAMES = ["trf", "lm", "auto"] as const;

/**
 * A `method` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { METHOD_NAMES } from "@nlsq/nlsq";
 * import type { MethodName } from "@nlsq/nlsq";
 * const m: MethodName = "lm";
 * assert.ok(METHOD_NAMES.includes(m));
 * ```
 */
export type MethodName = typeof METHOD_NAMES[number];

/**
 * The solver that runs: a method once `"auto"` is resolved.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { SolverName } from "@nlsq/nlsq";
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], { p0: [1], method: "auto" });
 * const used: SolverName = r.method;
 * assert.strictEqual(used, "lm");
 * ```
 */
export type SolverName = Exclude<MethodName, "auto">;

/**
 * Options of the solver, shared by `leastSquares`, `fit` and `curveFit`.
 * Where the defaults differ, `fit` takes its tolerances from the workflow
 * (`calculateAdaptiveTolerances` for "auto").
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, leastSquares } from "@nlsq/nlsq";
 * import type { SolverOptions } from "@nlsq/nlsq";
 * const o: SolverOptions = { bounds: [0, 10], loss: "soft_l1", ftol: 1e-10 };
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], o);
 * const ls = await leastSquares((p) => [p[0] - 2], [1], o);
 * assert.ok(Math.abs(r.params.a - 2) < 1e-6 && Math.abs(ls.x[0] - 2) < 1e-6);
 * ```
 */
export interface SolverOptions {
  /**
   * `[lower, upper]` bounds on the parameters: arrays, or scalars that apply
   * to every parameter; `Infinity` for none.
   */
  bounds?: BoundsInput;
  /**
   * "trf" (default, like scipy's `least_squares` and NLSQ), "lm", or "auto"
   * (scipy's `curve_fit` rule: lm without bounds and robust loss, else trf).
   */
  method?: MethodName;
  /** Robust loss (default "linear"). */
  loss?: LossName;
  /** Soft margin between inlier and outlier residuals (default 1). */
  fScale?: number;
  /** Variable scale: an array, a scalar or "jac" (default 1; "jac" for lm). */
  xScale?: NumVec | number | "jac";
  /** Relative cost tolerance (scipy's `ftol`; `leastSquares`: 1e-8). */
  ftol?: number;
  /** Relative step tolerance (scipy's `xtol`; `leastSquares`: 1e-8). */
  xtol?: number;
  /** Gradient tolerance (scipy's `gtol`; `leastSquares`: 1e-8). */
  gtol?: number;
  /** Maximum number of function evaluations (default 100 * parameters). */
  maxNfev?: number;
  /** Stops the solver between iterations (or batches). */
  signal?: AbortSignal;
}

const KEYS = [
  "bounds",
  "method",
  "loss",
  "fScale",
  "xScale",
  "ftol",
  "xtol",
  "gtol",
  "maxNfev",
  "signal",
] as const satisfies readonly (keyof SolverOptions)[];
// A compile error here names an option missing from KEYS.
const _everyOptionListed:
  Exclude<keyof SolverOptions, typeof KEYS[number]> extends never ? true
    : Exclude<keyof SolverOptions, typeof KEYS[number]> = true;

/**
 * Every name of {@linkcode SolverOptions}, for the lists of known option
 * names of `leastSquares` and `fit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.ok(SOLVER_OPTION_KEYS.includes("ftol"));
 * ```
 */
export const SOLVER_OPTION_KEYS: readonly (keyof SolverOptions)[] = KEYS;

/**
 * The solver options of `o` alone (an object of a type that extends
 * {@linkcode SolverOptions}), without its other options or undefined values.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const fitOptions = { p0: [1], ftol: 1e-10, loss: undefined };
 * assert.deepStrictEqual(solverOptionsOf(fitOptions), { ftol: 1e-10 });
 * ```
 */
export function solverOptionsOf(o: SolverOptions): SolverOptions {
  const out: Record<string, unknown> = {};
  for (const key of SOLVER_OPTION_KEYS) {
    if (o[key] !== undefined) out[key] = o[key];
  }
  return out as SolverOptions;
}
