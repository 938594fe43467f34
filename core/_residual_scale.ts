/**
 * Residual scaling for data of extreme magnitude. The cost is a sum of
 * squares: weighted data near 1e±160 overflow it, data near 1e-200 underflow
 * it (and the gradient with it, so that TRF's absolute `gtol` test holds at
 * the start). Scaling every residual by a power of two `c` changes no
 * rounding and no minimizer; the fit then works on data of order one and
 * reports its cost divided by `c^2`. Ordinary data (weighted magnitudes in
 * the window below) get `c = 1`, so their fits are bit for bit unchanged.
 *
 * @module
 */

/** Largest weighted magnitude left unscaled below: 2^-10 (about 1e-3). */
const LOW = 2 ** -10;
/** Largest weighted magnitude left unscaled above: 2^100 (about 1e30). */
const HIGH = 2 ** 100;

/**
 * The power of two that brings the largest weighted observation `|w_i y_i|`
 * to order one, or 1 when it already lies in [2^-10, 2^100] (or all y are 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const y = new Float64Array([1e-200, 3e-200]);
 * const c = residualScale(y, null);
 * assert.ok(c * 3e-200 >= 0.5 && c * 3e-200 < 2);
 * assert.strictEqual(residualScale(new Float64Array([5, 7]), null), 1);
 * assert.strictEqual(residualScale(new Float64Array([1]), new Float64Array([1e160])) < 1e-150, true);
 * ```
 */
export function residualScale(
  y: ArrayLike<number>,
  w: ArrayLike<number> | null,
): number {
  let big = 0;
  if (w) {
    for (let i = 0; i < y.length; i++) {
      const a = Math.abs(y[i]) * w[i];
      if (a > big) big = a;
    }
    if (big === Infinity) {
      // The product overflows: compare magnitudes through their logarithms.
      let e = -Infinity;
      for (let i = 0; i < y.length; i++) {
        if (y[i] !== 0) {
          e = Math.max(e, Math.log2(Math.abs(y[i])) + Math.log2(w[i]));
        }
      }
      return clampedPowerOfTwo(-Math.round(e));
    }
  } else {
    for (let i = 0; i < y.length; i++) {
      const a = Math.abs(y[i]);
      if (a > big) big = a;
    }
  }
  if (big === 0 || (big >= LOW && big <= HIGH)) return 1;
  return clampedPowerOfTwo(-Math.round(Math.log2(big)));
}

/**
 * 2^k, with k clamped to [-1074, 1023]: every power of two there is exact
 * (the smallest are subnormal), and so is scaling a normal number by one.
 */
function clampedPowerOfTwo(k: number): number {
  return 2 ** Math.max(-1074, Math.min(1023, k));
}

/**
 * Whether every value is 0 or within the normal range of f32 (about
 * 1.2e-38 to 3.4e38), so f32 kernels can hold the data without overflow or
 * a silent flush to zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(representableInF32([new Float64Array([0, 1, -1e30])]), true);
 * assert.strictEqual(representableInF32([new Float64Array([1e-200])]), false);
 * ```
 */
export function representableInF32(
  arrays: readonly (ArrayLike<number> | null)[],
): boolean {
  for (const a of arrays) {
    if (!a) continue;
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]);
      if (
        v !== 0 && !(v >= 1.1754943508222875e-38 && v <= 3.4028234663852886e38)
      ) {
        return false;
      }
    }
  }
  return true;
}
