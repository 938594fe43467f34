/**
 * Starting values of a rising or falling step (private helper of `step`
 * and `logistic`): its levels, where it crosses a quarter, half and three
 * quarters of the way, and so its width.
 *
 * @module
 */

import type { GuessData } from "./_data.ts";
import { endLevels, levelCrossing } from "./_levels.ts";

/**
 * amplitude, center and sigma of `A * s((x - center) / sigma)` for a
 * step s from 0 to 1 whose 25%-75% width is `spread` sigma.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { guessData } from "./_data.ts";
 * import { stepGuess } from "./_sigmoid_guess.ts";
 * const x = Array.from({ length: 101 }, (_, i) => i / 10);
 * const d = guessData(x, x.map((t) => 3 / (1 + Math.exp(-(t - 4) / 0.5))), 1, "guess");
 * const g = stepGuess(d, 2 * Math.log(3));
 * assert.ok(Math.abs(g.center - 4) < 0.1 && Math.abs(g.sigma - 0.5) < 0.1);
 * ```
 */
export function stepGuess(
  d: GuessData,
  spread: number,
): { amplitude: number; center: number; sigma: number } {
  const { xs, ys } = d;
  const [y0, y1] = endLevels(ys);
  const amplitude = y1 - y0;
  const s = ys.map((v) => (v - y0) / (amplitude || 1));
  const x25 = levelCrossing(xs, s, 0.25);
  const x75 = levelCrossing(xs, s, 0.75);
  const center = levelCrossing(xs, s, 0.5);
  const n = xs.length;
  const dx = (xs[n - 1] - xs[0]) / Math.max(1, n - 1);
  const sigma = Math.max(x75 - x25, dx) / spread;
  return { amplitude, center, sigma };
}
