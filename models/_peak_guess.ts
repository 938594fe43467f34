/**
 * The peak of a single-peak model's data (private helper of the peak
 * guesses): its sign from the option or from the larger excursion from the
 * median, then its height, position and half-maximum crossings.
 *
 * @module
 */

import type { GuessOptions } from "./builtin_model.ts";
import type { GuessData } from "./_data.ts";
import type { PeakMeasurement } from "./_internal.ts";
import { medianOf } from "./_levels.ts";
import { measureAt, smooth3 } from "./_peaks.ts";

/**
 * The one peak in `d` (the models have no baseline: heights are from 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { guessData } from "./_data.ts";
 * import { singlePeak } from "./_peak_guess.ts";
 * const x = Array.from({ length: 81 }, (_, i) => i / 4);
 * const d = guessData(x, x.map((t) => -3 / (1 + (t - 12) ** 2)), 1, "guess");
 * const m = singlePeak(d, {});
 * assert.ok(m.height < -2.8 && Math.abs(m.right - m.left - 2) < 0.2);
 * ```
 */
export function singlePeak(
  d: GuessData,
  options: GuessOptions,
): PeakMeasurement {
  const s = smooth3(d.ys);
  let sign: 1 | -1;
  if (options.negative !== undefined) sign = options.negative ? -1 : 1;
  else {
    const mid = medianOf(s);
    let hi = -Infinity, lo = Infinity;
    for (const v of s) {
      hi = Math.max(hi, v);
      lo = Math.min(lo, v);
    }
    sign = hi - mid >= mid - lo ? 1 : -1;
  }
  let best = 0;
  for (let i = 1; i < s.length; i++) {
    if (sign * s[i] > sign * s[best]) best = i;
  }
  return measureAt(d.xs, d.ys, s, best, sign);
}
