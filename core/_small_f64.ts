/**
 * Small `Float64Array`s carved from shared slabs. A typed array built with
 * its own buffer (`new Float64Array(n)`, `slice`, `map`, `from`) costs about
 * 0.6-1.3 µs in V8 once the collector's share is counted (its backing
 * store is allocated and finalized apart), against about 70 ns for a view
 * of an existing buffer; a 32-point fit made some thirty of them, a third
 * of its time. The solver's per-iteration vectors (trial points, factors,
 * copies of the evaluator's scratch) come from here instead.
 *
 * A view shares its slab's `ArrayBuffer`, so these arrays are for the
 * solver's own short-lived vectors: never for arrays returned to a caller
 * (one kept alive keeps its 16 KiB slab alive), posted to a worker (the
 * whole slab would be cloned) or read through `.buffer`. Slabs are never
 * reused, so every view starts zeroed, as `new Float64Array(n)` does.
 *
 * @module
 */

/** Doubles per slab (16 KiB). */
const SLAB = 2048;
/** Larger requests get their own buffer (a slab would hold too few). */
const MAX_VIEW = 256;

let slab = new ArrayBuffer(SLAB * 8);
let used = 0; // doubles taken from `slab`

/**
 * A zeroed `Float64Array` of `n` entries, a view of a shared slab when
 * small (see the module's notes for where it may be used).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const a = smallF64(4);
 * assert.deepStrictEqual(Array.from(a), [0, 0, 0, 0]);
 * a[0] = 1;
 * assert.strictEqual(smallF64(4)[0], 0); // a fresh view, not `a`
 * ```
 */
export function smallF64(n: number): Float64Array {
  if (n > MAX_VIEW) return new Float64Array(n);
  if (used + n > SLAB) {
    slab = new ArrayBuffer(SLAB * 8);
    used = 0;
  }
  const a = new Float64Array(slab, used * 8, n);
  used += n;
  return a;
}

/**
 * A copy of `src` in a small view ({@linkcode smallF64}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const src = new Float64Array([1, 2]);
 * const c = smallCopy(src);
 * src[0] = 9;
 * assert.deepStrictEqual(Array.from(c), [1, 2]);
 * ```
 */
export function smallCopy(src: ArrayLike<number>): Float64Array {
  const a = smallF64(src.length);
  for (let i = 0; i < src.length; i++) a[i] = src[i];
  return a;
}
