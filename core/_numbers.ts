/**
 * A typed array as a plain array of numbers, by a loop (`Array.from` on a
 * typed array goes through its iterator, which costs more than the copy on
 * the p-sized vectors of a solver state).
 *
 * @module
 */

/**
 * The entries of `a` as a new `number[]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(toNumbers(new Float64Array([1, -0, 2])), [1, -0, 2]);
 * ```
 */
export function toNumbers(a: ArrayLike<number>): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}
