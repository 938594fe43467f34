/**
 * Levels and crossings of sigmoid-like data (private helper of the step,
 * logistic and dose-response guesses).
 *
 * @module
 */

function median(v: ArrayLike<number>): number {
  const s = Float64Array.from(v).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * The levels at the start and the end of `ys` (medians of the first and
 * last tenth, at least one point each).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { endLevels } from "./_levels.ts";
 * assert.deepStrictEqual(endLevels([1, 1, 2, 5, 5]), [1, 5]);
 * ```
 */
export function endLevels(ys: ArrayLike<number>): [number, number] {
  const n = ys.length, k = Math.max(1, Math.floor(n / 10));
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < k; i++) {
    a.push(ys[i]);
    b.push(ys[n - 1 - i]);
  }
  return [median(a), median(b)];
}

/**
 * Where rising data `s` (ascending `xs`) crosses `level`: between the
 * k-th and (k+1)-th x, k being the number of points below the level, which
 * noise moves symmetrically rather than to its first crossing.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { levelCrossing } from "./_levels.ts";
 * assert.strictEqual(levelCrossing([0, 1, 2, 3], [0, 0.2, 0.8, 1], 0.5), 1.5);
 * ```
 */
export function levelCrossing(
  xs: ArrayLike<number>,
  s: ArrayLike<number>,
  level: number,
): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) if (s[i] < level) k++;
  if (k === 0) return xs[0];
  if (k === s.length) return xs[s.length - 1];
  return (xs[k - 1] + xs[k]) / 2;
}

/**
 * The cumulative trapezoidal integral of `ys` over `xs`, starting at 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { cumulativeIntegral } from "./_levels.ts";
 * assert.deepStrictEqual(Array.from(cumulativeIntegral([0, 1, 3], [2, 2, 4])), [0, 2, 8]);
 * ```
 */
export function cumulativeIntegral(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(ys.length);
  for (let i = 1; i < ys.length; i++) {
    out[i] = out[i - 1] + 0.5 * (ys[i] + ys[i - 1]) * (xs[i] - xs[i - 1]);
  }
  return out;
}

/**
 * The median of `v`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { medianOf } from "./_levels.ts";
 * assert.strictEqual(medianOf([3, 1, 2]), 2);
 * ```
 */
export function medianOf(v: ArrayLike<number>): number {
  return median(v);
}
