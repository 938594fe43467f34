/**
 * What a reviewer would ask about a fit, as notes on its result (and lines
 * of its report): a parameter at a bound, a fit worse than the mean, a fit
 * that ended where it started. (A covariance that cannot be estimated is
 * noted where it is computed, in `_finish.ts`.)
 *
 * @module
 */

/** The facts the warnings are drawn from. */
export interface WarningFacts {
  /** Names of the free parameters, in the solver's order. */
  readonly names: readonly string[];
  /** The solution and the start, free parameters. */
  readonly popt: ArrayLike<number>;
  readonly p0: ArrayLike<number>;
  /** -1 at the lower bound, 1 at the upper, 0 inside (free parameters). */
  readonly activeMask: ArrayLike<number>;
  readonly lower: ArrayLike<number>;
  readonly upper: ArrayLike<number>;
  /** Coefficient of determination (NaN when undefined). */
  readonly rSquared: number;
  /** Iterations made. */
  readonly nit: number;
  /** Whether the fit succeeded. */
  readonly success: boolean;
}

/**
 * The warnings of a fit, one sentence each.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { reviewerWarnings } from "./_warnings.ts";
 * const w = reviewerWarnings({
 *   names: ["a"], popt: [0], p0: [1], activeMask: [-1], lower: [0], upper: [1],
 *   rSquared: -0.2, nit: 3, success: true,
 * });
 * assert.ok(w.some((s) => /a is at its lower bound 0/.test(s)));
 * assert.ok(w.some((s) => /R\^2 = -0.2/.test(s)));
 * ```
 */
export function reviewerWarnings(f: WarningFacts): string[] {
  const out: string[] = [];
  for (let k = 0; k < f.names.length; k++) {
    if (f.activeMask[k] === 0) continue;
    const side = f.activeMask[k] < 0 ? "lower" : "upper";
    const bound = f.activeMask[k] < 0 ? f.lower[k] : f.upper[k];
    out.push(
      `warning: ${
        f.names[k]
      } is at its ${side} bound ${bound}: the cost would fall beyond it (widen the bound, or check the model)`,
    );
  }
  if (f.rSquared < 0) {
    out.push(
      `warning: R^2 = ${
        f.rSquared.toPrecision(3)
      } is below the mean model's (0): the fit is worse than a constant (a wrong minimum, or the wrong model)`,
    );
  }
  let moved = false;
  for (let k = 0; k < f.names.length; k++) {
    const scale = Math.max(Math.abs(f.p0[k]), Number.MIN_VALUE);
    if (Math.abs(f.popt[k] - f.p0[k]) > 1e-12 * scale) moved = true;
  }
  if (f.success && (!moved || f.nit === 0)) {
    out.push(
      "warning: the fit ended where it started: the start is the answer, or the cost does not depend on the parameters there",
    );
  }
  return out;
}
