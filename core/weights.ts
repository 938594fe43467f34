/**
 * The data every evaluator works on, and its weights: `w = c / sigma` (or
 * `c` for every point without sigma), the one place where sigma becomes a
 * weight.
 *
 * @module
 */

/**
 * Data in memory as the evaluators see it: feature columns, observations,
 * and per-point weights `1/sigma` (null: every weight 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { WeightedData } from "./weights.ts";
 * const d: WeightedData = { x: [new Float64Array([1])], y: new Float64Array([2]), w: null };
 * assert.strictEqual(d.y[0], 2);
 * ```
 */
export interface WeightedData {
  /** One column per feature. */
  readonly x: readonly Float64Array[];
  /** Observations. */
  readonly y: Float64Array;
  /** Per-point weights (1/sigma), or null for all ones. */
  readonly w: Float64Array | null;
}

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
 * Writes the weights `1 / sigma[i]` into `out` from `offset` (a batch of a
 * source into a reused buffer).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { weightsInto } from "./weights.ts";
 * const out = new Float64Array(3);
 * weightsInto(new Float64Array([2, 4]), out, 1);
 * assert.deepStrictEqual(Array.from(out), [0, 0.5, 0.25]);
 * ```
 */
export function weightsInto(
  sigma: ArrayLike<number>,
  out: Float64Array,
  offset = 0,
): void {
  for (let i = 0; i < sigma.length; i++) out[offset + i] = 1 / sigma[i];
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
