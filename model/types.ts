/**
 * Types shared by the model language, the solver and the backends.
 *
 * @module
 */

import type { Node } from "./ast.ts";

/**
 * A fused block kernel: evaluates residuals and (optionally) Jacobian rows for
 * rows `start .. end-1` in one pass, with no per-point allocation.
 *
 * Layout of `B` (column-major, leading dimension `ld >= end - start`), with
 * `i = row - start` and `w_i = w ? w[row] : 1`:
 * - `B[k * ld + i] = w_i * df/dp_k(x_row)` for `k < nParams` (only when `withJac`),
 * - `B[nParams * ld + i] = w_i * (f(x_row) - y[row])`.
 *
 * Returns the sum over the rows of the squared weighted residuals (NaN or
 * Infinity propagate, so the caller can reject the point).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import type { BlockKernel } from "@nlsq/nlsq/model";
 * const kernel: BlockKernel = model("a * x").kernel;
 * const B = new Float64Array(2 * 2);
 * kernel([new Float64Array([1, 2])], new Float64Array([3, 6]), null, new Float64Array([3]), 0, 2, B, 2, true);
 * assert.deepStrictEqual(Array.from(B.subarray(0, 2)), [1, 2]);
 * ```
 */
export type BlockKernel = (
  X: readonly Float64Array[],
  y: Float64Array,
  w: Float64Array | null,
  p: Float64Array,
  start: number,
  end: number,
  B: Float64Array,
  ld: number,
  withJac: boolean,
) => number;

/**
 * A compiled model: what `model(...)` returns and what the solver consumes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import type { Model } from "@nlsq/nlsq";
 * const m: Model = model("a * x + b");
 * assert.strictEqual(m.kind, "expression");
 * assert.deepStrictEqual(Array.from(m.evaluate([new Float64Array([2])], [3, 1])), [7]);
 * ```
 */
export interface Model {
  /** `"expression"` for the model language, `"function"` for a plain TS function. */
  readonly kind: "expression" | "function";
  /** The source expression (expression models only). */
  readonly expression?: string;
  /** Parameter names in order. */
  readonly params: readonly string[];
  /** Input variable names in order (one per feature column). */
  readonly variables: readonly string[];
  /** The parsed expression (expression models only). */
  readonly ast?: Node;
  /** Simplified exact derivatives d f / d p_k (expression models only). */
  readonly derivatives?: readonly Node[];
  /** The fused residual + Jacobian kernel. */
  readonly kernel: BlockKernel;
  /**
   * JavaScript source of a function expression equal to `kernel`, built only
   * from the validated AST, so worker threads can rebuild it with
   * `new Function("return " + kernelSource)()` (expression models only).
   */
  readonly kernelSource?: string;
  /** `"exact"` (symbolic) or `"2-point"` / `"3-point"` (finite differences). */
  readonly jacobian: "exact" | "2-point" | "3-point";
  /** Evaluate the model at every point: returns f(x_i) for i < n. */
  evaluate(x: readonly Float64Array[], p: ArrayLike<number>): Float64Array;
}
