/**
 * Numerical constants shared by the CPU code, the worker threads (whose
 * source text is generated from them) and the generated WGSL.
 *
 * @module
 */

/**
 * Machine epsilon of f64, 2^-52 (numpy's `np.finfo(float).eps`, which
 * scipy's tolerances, rank cut-offs and loss-scale floor are written in).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(EPS, 2 ** -52);
 * assert.strictEqual(String(EPS), "2.220446049250313e-16");
 * ```
 */
export const EPS: number = Number.EPSILON;
