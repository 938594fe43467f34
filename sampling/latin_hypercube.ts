/**
 * Latin hypercube sampling.
 *
 * @module
 */

import { Xoshiro128 } from "./prng.ts";
import { assertInteger } from "../workflow/_validate.ts";

/**
 * `n` points of a random Latin hypercube in [0, 1)^d: in every dimension,
 * each of the `n` strata `[k/n, (k+1)/n)` holds exactly one point, at a
 * uniformly random position within the stratum. Deterministic for a `seed`
 * (default 0).
 *
 * @example One point per stratum
 * ```ts
 * import assert from "node:assert";
 * const points = latinHypercube(5, 3, { seed: 7 });
 * for (let j = 0; j < 3; j++) {
 *   const strata = points.map((p) => Math.floor(p[j] * 5)).sort();
 *   assert.deepStrictEqual(strata, [0, 1, 2, 3, 4]);
 * }
 * ```
 *
 * @throws {RangeError} `n` is not an integer >= 0, `d` not >= 1, or `seed`
 * is not a safe integer.
 */
export function latinHypercube(
  n: number,
  d: number,
  options: { seed?: number } = {},
): number[][] {
  assertInteger("n", n, 0);
  assertInteger("d", d, 1);
  const rng = new Xoshiro128(options.seed ?? 0);
  const points = Array.from({ length: n }, () => new Array<number>(d));
  const perm = new Array<number>(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const k = rng.nextInt(i + 1);
      [perm[i], perm[k]] = [perm[k], perm[i]];
    }
    for (let i = 0; i < n; i++) {
      // 32-bit offsets stay 2^-32 below the stratum's upper edge, far more
      // than the 2^-53 relative rounding of the division.
      points[i][j] = (perm[i] + rng.nextUint32() / 2 ** 32) / n;
    }
  }
  return points;
}
