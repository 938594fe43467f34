/**
 * The Halton low-discrepancy sequence.
 *
 * @module
 */

import { Xoshiro128 } from "./prng.ts";
import type { SequenceOptions } from "./sobol.ts";
import { assertInteger } from "../workflow/_validate.ts";

/**
 * The first `d` prime numbers: the bases of the Halton sequence.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(firstPrimes(6), [2, 3, 5, 7, 11, 13]);
 * ```
 *
 * @throws {RangeError} `d` is not an integer >= 0.
 */
export function firstPrimes(d: number): number[] {
  assertInteger("d", d, 0);
  const primes: number[] = [];
  for (let candidate = 2; primes.length < d; candidate++) {
    if (primes.every((p) => p * p > candidate || candidate % p !== 0)) {
      primes.push(candidate);
    }
  }
  return primes;
}

/**
 * The first `n` points (after `skip`) of the `d`-dimensional Halton sequence
 * in [0, 1)^d: dimension j is the radical inverse of the index in the j-th
 * prime base. Starts at index 0, the origin (scipy's `qmc.Halton` with
 * `scramble=False` gives the same points). `scramble` permutes the non-zero
 * digits of each base with a seeded random permutation, which breaks the
 * correlation between high dimensions (0 stays fixed so the expansion stays
 * finite).
 *
 * @example Bases 2 and 3
 * ```ts
 * import assert from "node:assert";
 * const points = haltonSequence(4, 2, { skip: 1 });
 * assert.deepStrictEqual(points, [[1 / 2, 1 / 3], [1 / 4, 2 / 3], [3 / 4, 1 / 9], [1 / 8, 4 / 9]]);
 * ```
 *
 * @throws {RangeError} `n`, `skip` is not an integer >= 0 or `d` not >= 1.
 */
export function haltonSequence(
  n: number,
  d: number,
  options: SequenceOptions = {},
): number[][] {
  assertInteger("n", n, 0);
  assertInteger("d", d, 1);
  const skip = assertInteger("skip", options.skip ?? 0, 0);
  const bases = firstPrimes(d);
  const permutations = bases.map((b) => Array.from({ length: b }, (_, i) => i));
  if (options.scramble === true) {
    const rng = new Xoshiro128(options.seed ?? 0);
    for (const perm of permutations) {
      // Fisher-Yates over the digits 1..b-1.
      for (let i = perm.length - 1; i > 1; i--) {
        const k = 1 + rng.nextInt(i);
        [perm[i], perm[k]] = [perm[k], perm[i]];
      }
    }
  }
  const points: number[][] = [];
  for (let index = skip; index < skip + n; index++) {
    points.push(bases.map((b, j) => radicalInverse(index, b, permutations[j])));
  }
  return points;
}

function radicalInverse(index: number, base: number, perm: number[]): number {
  let result = 0;
  let scale = 1 / base;
  let i = index;
  while (i > 0) {
    const digit = i % base;
    result += perm[digit] * scale;
    i = (i - digit) / base;
    scale /= base;
  }
  // Sums of digits * base^-k are < 1 exactly; guard the last rounding.
  return Math.min(result, 1 - 2 ** -53);
}
