/**
 * The confidence or prediction band of a fit at new x: `FitResult.predict`
 * (the delta method with the model's exact gradient), in the shape the
 * plot draws.
 *
 * @module
 */

import type { FitResult } from "../workflow/fit_result.ts";
import type { BandKind } from "./plot_data.ts";

/** The fitted values and the ends of the band at each x. */
export interface Band {
  y: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

/** Whether the fit was weighted by a sigma (arrays, a 2-D sigma, a source's column). */
export function isWeighted(r: FitResult): boolean {
  return r.weighted;
}

/**
 * The band at `x` (one variable). `sigma`: the standard deviation of a new
 * observation at each x (or one for all), in the units of the fit's sigma
 * (prediction bands of a weighted fit only).
 */
export function bandAt(
  r: FitResult,
  x: Float64Array,
  kind: BandKind,
  level: number,
  sigma?: number | Float64Array,
): Band {
  return r.predict(
    x,
    sigma === undefined
      ? { interval: kind, level }
      : { interval: kind, level, sigma },
  );
}
