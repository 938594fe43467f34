/**
 * `curveFit`: scipy's `curve_fit` on top of {@linkcode fit}.
 *
 * @module
 */

import type { NumVec } from "../core/_validate.ts";
import type { XInput } from "./fit/_input.ts";
import { fit, type FitOptions, type ModelInput } from "./fit.ts";
import { OptimizeError } from "./optimize_error.ts";

/**
 * Options of {@linkcode curveFit}: those of `fit`, and a warning callback.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { CurveFitOptions } from "@nlsq/nlsq";
 * const o: CurveFitOptions = { p0: [1, 0], onWarning: (m) => console.warn(m) };
 * assert.ok(o.onWarning);
 * ```
 */
export interface CurveFitOptions extends FitOptions {
  /**
   * Called with scipy's `OptimizeWarning` text when the covariance of the
   * parameters could not be estimated (the fit's notes say it too).
   */
  onWarning?: (message: string) => void;
}

/** scipy's warning when pcov cannot be estimated. */
export const COVARIANCE_WARNING =
  "Covariance of the parameters could not be estimated";

/**
 * Fits `model` to (x, y) and resolves to `[popt, pcov]` with scipy's
 * conventions: `method: "auto"` (lm without bounds, else trf), tolerances
 * 1e-8 (the "standard" workflow) unless given, pcov scaled by the reduced
 * chi-square unless `absoluteSigma`, Infinity entries when the covariance
 * cannot be estimated (then `onWarning` is called). A fit that did not
 * succeed throws {@linkcode OptimizeError}, as scipy raises
 * `RuntimeError("Optimal parameters not found: ...")`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { curveFit, model } from "@nlsq/nlsq";
 * const x = [1, 2, 3, 4, 5, 6];
 * const y = [2.1, 3.9, 6.2, 7.8, 10.1, 12.0];
 * const [popt, pcov] = await curveFit(model("a * x + b"), x, y, { p0: [1, 0] });
 * assert.ok(Math.abs(popt[0] - 1.9914285714285) < 1e-9);
 * assert.ok(pcov[0][0] > 0);
 * ```
 */
export async function curveFit(
  model: ModelInput,
  x: XInput,
  y: NumVec,
  options: CurveFitOptions = {},
): Promise<[Float64Array, number[][]]> {
  const { onWarning, ...fitOptions } = options;
  if (onWarning !== undefined && typeof onWarning !== "function") {
    throw new TypeError("curveFit: onWarning must be a function");
  }
  const r = await fit(model, x, y, {
    workflow: "standard",
    method: "auto",
    ...fitOptions,
  });
  if (!r.success) throw new OptimizeError(r);
  if (r.pcov.some((row) => row.some((v) => !Number.isFinite(v)))) {
    onWarning?.(COVARIANCE_WARNING);
  }
  return [r.popt, r.pcov];
}
