/**
 * A small, fast, seeded pseudo-random number generator, so that multi-start
 * fits are reproducible from a seed on every platform (Math.random cannot be
 * seeded).
 *
 * @module
 */

/**
 * xoshiro128** (Blackman and Vigna), 128 bits of state seeded through
 * splitmix32. Deterministic: the same seed gives the same stream everywhere.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const a = new Xoshiro128(42);
 * const b = new Xoshiro128(42);
 * const draws = [a.nextFloat(), a.nextFloat()];
 * assert.deepStrictEqual(draws, [b.nextFloat(), b.nextFloat()]);
 * assert.ok(draws.every((u) => u >= 0 && u < 1));
 * ```
 */
export class Xoshiro128 {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * Seeds the generator.
   *
   * @param seed Any safe integer (negative and > 2^32 seeds are distinct).
   * @throws {RangeError} `seed` is not a safe integer.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer, got ${seed}`);
    }
    const low = seed >>> 0;
    // Math.floor keeps negative seeds distinct from their 32-bit images.
    const high = Math.floor(seed / 2 ** 32) | 0;
    let state = low ^ Math.imul(high, 0x85ebca6b);
    const next = () => {
      state = (state + 0x9e3779b9) | 0;
      let t = state ^ (state >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.#s0 = next() ^ high;
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
    // The all-zero state is a fixed point of xoshiro.
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /**
   * The next 32-bit unsigned integer.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert";
   * const u = new Xoshiro128(1).nextUint32();
   * assert.ok(Number.isInteger(u) && u >= 0 && u < 2 ** 32);
   * ```
   */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /**
   * A uniform double in [0, 1) with 53 random bits.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert";
   * const rng = new Xoshiro128(7);
   * const mean = Array.from({ length: 10_000 }, () => rng.nextFloat())
   *   .reduce((a, b) => a + b) / 10_000;
   * assert.ok(Math.abs(mean - 0.5) < 0.02);
   * ```
   */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /**
   * A uniform integer in [0, n), without modulo bias.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert";
   * const rng = new Xoshiro128(3);
   * const seen = new Set(Array.from({ length: 200 }, () => rng.nextInt(6)));
   * assert.deepStrictEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
   * ```
   *
   * @throws {RangeError} `n` is not an integer in [1, 2^32].
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) {
      throw new RangeError(`n must be an integer in [1, 2^32], got ${n}`);
    }
    // Reject the top partial block of 2^32 so that every residue is equally likely.
    const limit = 2 ** 32 - (2 ** 32 % n);
    let u = this.nextUint32();
    while (u >= limit) u = this.nextUint32();
    return u % n;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
