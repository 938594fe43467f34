/**
 * The error `curveFit` throws when the fit did not succeed, like scipy's
 * `RuntimeError("Optimal parameters not found: ...")`.
 *
 * @module
 */

import type { FitResult } from "./fit_result.ts";

/**
 * Thrown by `curveFit` when the solver stopped without satisfying a
 * termination test (evaluation budget exhausted, no progress possible). The
 * message is scipy's; `result` holds the whole fit for inspection.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { curveFit, OptimizeError } from "@nlsq/nlsq";
 * const x = [0, 1, 2, 3, 4, 5];
 * const y = [1, 2.7, 7.4, 20.1, 54.6, 148.4];
 * await assert.rejects(
 *   curveFit("a * exp(b * x)", x, y, { p0: [1, 0], maxNfev: 2 }),
 *   (e) => e instanceof OptimizeError && /Optimal parameters not found/.test(e.message),
 * );
 * ```
 */
export class OptimizeError extends Error {
  /** The unsuccessful fit. */
  readonly result: FitResult;

  /** Builds the error from the unsuccessful fit. */
  constructor(result: FitResult) {
    super(`Optimal parameters not found: ${result.message}`);
    this.name = "OptimizeError";
    this.result = result;
  }
}
