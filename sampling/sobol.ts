/**
 * The Sobol low-discrepancy sequence with Joe-Kuo direction numbers.
 *
 * @module
 */

import { JOE_KUO_DIRECTIONS } from "./_sobol_directions.ts";
import { Xoshiro128 } from "./prng.ts";
import { assertInteger } from "../workflow/_validate.ts";

/**
 * The largest dimension {@linkcode sobolSequence} supports (64).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(SOBOL_MAX_DIMENSION, 64);
 * ```
 */
export const SOBOL_MAX_DIMENSION: number = JOE_KUO_DIRECTIONS.length + 1;

/**
 * Options of the low-discrepancy samplers.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const options: SequenceOptions = { scramble: true, seed: 1, skip: 0 };
 * assert.strictEqual(sobolSequence(4, 2, options).length, 4);
 * ```
 */
export interface SequenceOptions {
  /** Randomize the sequence from `seed` (keeps its equidistribution). Default false. */
  scramble?: boolean;
  /** Seed of the scrambling. Default 0. */
  seed?: number;
  /** Points of the sequence to skip first. Default 0. */
  skip?: number;
}

/**
 * The first `n` points (after `skip`) of the `d`-dimensional Sobol sequence in
 * [0, 1)^d, with Joe-Kuo direction numbers (scipy's `qmc.Sobol` with
 * `scramble=False` gives the same points). The sequence starts at the origin;
 * powers of two are balanced (each 2^k points stratify every dimension).
 * `scramble` applies a seeded linear matrix scramble and digital shift.
 *
 * @example The first points
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(sobolSequence(4, 2), [
 *   [0, 0],
 *   [0.5, 0.5],
 *   [0.75, 0.25],
 *   [0.25, 0.75],
 * ]);
 * ```
 *
 * @throws {RangeError} `n` is not an integer >= 0, `d` not in
 * [1, {@linkcode SOBOL_MAX_DIMENSION}], `skip` not an integer >= 0, or
 * `n + skip` > 2^32.
 */
export function sobolSequence(
  n: number,
  d: number,
  options: SequenceOptions = {},
): number[][] {
  assertInteger("n", n, 0);
  assertInteger("d", d, 1);
  if (d > SOBOL_MAX_DIMENSION) {
    throw new RangeError(
      `d must be <= ${SOBOL_MAX_DIMENSION} for the Sobol sampler, got ${d}`,
    );
  }
  const skip = assertInteger("skip", options.skip ?? 0, 0);
  if (n + skip > 2 ** 32) {
    throw new RangeError(`n + skip must be <= 2^32, got ${n + skip}`);
  }
  const directions = Array.from({ length: d }, (_, j) => directionNumbers(j));
  const shift = new Uint32Array(d);
  if (options.scramble === true) {
    const rng = new Xoshiro128(options.seed ?? 0);
    for (let j = 0; j < d; j++) {
      directions[j] = linearMatrixScramble(directions[j], rng);
      shift[j] = rng.nextUint32();
    }
  }
  // Start at the Gray-code point of `skip`, then step by one direction each.
  const x = new Uint32Array(d);
  const gray = (skip ^ Math.floor(skip / 2)) >>> 0;
  for (let j = 0; j < d; j++) {
    let value = 0;
    for (let k = 0; k < 32; k++) {
      if (Math.floor(gray / 2 ** k) % 2 === 1) value ^= directions[j][k];
    }
    x[j] = value;
  }
  const points: number[][] = [];
  for (let i = skip; i < skip + n; i++) {
    if (i > skip) {
      const c = trailingZeros(i);
      for (let j = 0; j < d; j++) x[j] ^= directions[j][c];
    }
    const point = new Array<number>(d);
    for (let j = 0; j < d; j++) point[j] = ((x[j] ^ shift[j]) >>> 0) / 2 ** 32;
    points.push(point);
  }
  return points;
}

/** The 32 direction integers of dimension `j` (0-based), left-aligned. */
function directionNumbers(j: number): Uint32Array {
  const v = new Uint32Array(32);
  if (j === 0) {
    for (let k = 0; k < 32; k++) v[k] = 2 ** (31 - k);
    return v;
  }
  const [s, a, m] = JOE_KUO_DIRECTIONS[j - 1];
  for (let k = 0; k < s; k++) v[k] = m[k] * 2 ** (31 - k);
  for (let k = s; k < 32; k++) {
    let value = v[k - s] ^ (v[k - s] >>> s);
    for (let l = 1; l < s; l++) {
      if ((a >>> (s - 1 - l)) & 1) value ^= v[k - l];
    }
    v[k] = value;
  }
  return v;
}

/** Multiplies each direction (a bit column, MSB first) by a random unit lower-triangular matrix. */
function linearMatrixScramble(v: Uint32Array, rng: Xoshiro128): Uint32Array {
  const rows = new Uint32Array(32);
  for (let r = 0; r < 32; r++) {
    // Row r may combine input bits 0..r (counted from the MSB); its diagonal is 1.
    const allowed = r === 31 ? 0xffffffff : ~(0xffffffff >>> (r + 1));
    rows[r] = ((rng.nextUint32() & allowed) | (1 << (31 - r))) >>> 0;
  }
  const out = new Uint32Array(32);
  for (let k = 0; k < 32; k++) {
    let value = 0;
    for (let r = 0; r < 32; r++) {
      if (parity(rows[r] & v[k])) value |= 1 << (31 - r);
    }
    out[k] = value >>> 0;
  }
  return out;
}

function parity(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

function trailingZeros(i: number): number {
  let c = 0;
  while (i % 2 === 0) {
    i /= 2;
    c++;
  }
  return c;
}
