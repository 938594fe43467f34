/**
 * The evaluations an evaluator just made, by exact parameter vector: the
 * solver sometimes asks again for a point it has (the warm start's, or a
 * start shared by multi-start), and a pass over the data is the cost of a
 * fit. One home for the evaluators that cache (streaming, and the in-memory
 * strategies primed by their warm start).
 *
 * @module
 */

import type { Evaluation } from "./linearization.ts";

/** The bits of a parameter vector: equal keys mean identical vectors. */
const keyOf = (t: Float64Array) =>
  Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length * 2)).join(",");

/**
 * The `size` most recent evaluations by exact parameter vector.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EvaluationCache } from "./_evaluation_cache.ts";
 * const c = new EvaluationCache(2);
 * c.store(new Float64Array([1]), { cost: 3 });
 * assert.strictEqual(c.lookup(new Float64Array([1]), false)?.cost, 3);
 * assert.strictEqual(c.lookup(new Float64Array([1]), true), undefined); // no J
 * ```
 */
export class EvaluationCache {
  readonly #size: number;
  #entries: { key: string; evaluation: Evaluation }[] = [];

  /** Keeps the `size` most recent evaluations. */
  constructor(size: number) {
    this.#size = size;
  }

  /** The evaluation at `theta` (with its linearization when asked), if held. */
  lookup(theta: Float64Array, withJacobian: boolean): Evaluation | undefined {
    if (this.#entries.length === 0) return undefined;
    const key = keyOf(theta);
    const hit = this.#entries.find((e) => e.key === key);
    return hit && (hit.evaluation.lin || !withJacobian)
      ? hit.evaluation
      : undefined;
  }

  /** Remembers `evaluation` as the one at `theta`. */
  store(theta: Float64Array, evaluation: Evaluation): void {
    const key = keyOf(theta);
    this.#entries = [
      { key, evaluation },
      ...this.#entries.filter((e) => e.key !== key),
    ].slice(0, this.#size);
  }

  /** Forgets everything. */
  clear(): void {
    if (this.#entries.length > 0) this.#entries = [];
  }

  /**
   * `evaluate` through the cache: held points are answered from it, the
   * others by one call of `compute` (and remembered).
   */
  async through(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
    compute: (
      thetas: readonly Float64Array[],
      withJacobian: readonly boolean[],
    ) => Promise<Evaluation[]>,
  ): Promise<Evaluation[]> {
    const out = thetas.map((t, i) => this.lookup(t, withJacobian[i]));
    const todo = out.flatMap((e, i) => (e ? [] : [i]));
    if (todo.length > 0) {
      const res = await compute(
        todo.map((i) => thetas[i]),
        todo.map((i) => withJacobian[i]),
      );
      todo.forEach((i, j) => {
        out[i] = res[j];
        this.store(thetas[i], res[j]);
      });
    }
    return out as Evaluation[];
  }
}
