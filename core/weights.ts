/**
 * Weights of the residuals: `w = c / sigma` (or `c` for every point without
 * sigma), the one place where sigma becomes a weight.
 *
 * @module
 */

/**
 * The weights `scale / sigma[i]`, or null when there is no sigma and the
 * scale is 1 (every weight 1, which the kernels treat as the fast case).
 * `n` is the number of points (needed only without sigma).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { weightsFromSigma } from "./weights.ts";
 * assert.deepStrictEqual(Array.from(weightsFromSigma(new Float64Array([2, 4]))!), [0.5, 0.25]);
 * assert.strictEqual(weightsFromSigma(null), null);
 * assert.deepStrictEqual(Array.from(weightsFromSigma(null, 4, 2)!), [4, 4]);
 * ```
 */
export function weightsFromSigma(
  sigma: ArrayLike<number> | null | undefined,
  scale = 1,
  n = 0,
): Float64Array | null {
  if (!sigma) return scale === 1 ? null : new Float64Array(n).fill(scale);
  const w = new Float64Array(sigma.length);
  for (let i = 0; i < w.length; i++) w[i] = scale / sigma[i];
  return w;
}

/**
 * The weights `scale * w` (or `scale` for every point when `w` is null);
 * `w` itself when the scale is 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { scaleWeights } from "./weights.ts";
 * assert.deepStrictEqual(Array.from(scaleWeights(null, 4, 2)!), [4, 4]);
 * assert.strictEqual(scaleWeights(null, 1, 2), null);
 * ```
 */
export function scaleWeights(
  w: Float64Array | null,
  scale: number,
  n: number,
): Float64Array | null {
  if (scale === 1) return w;
  if (!w) return new Float64Array(n).fill(scale);
  return w.map((v) => v * scale);
}
