/**
 * The count, mean and sum of squared deviations of a sequence of values
 * added block by block (the total sum of squares of `y` for R², which the
 * statistics pass and the streaming evaluator both gather).
 *
 * @module
 */

/** Count, mean and sum of squared deviations about the mean. */
export interface MomentsSummary {
  readonly n: number;
  readonly mean: number;
  readonly m2: number;
}

/**
 * Accumulates {@linkcode MomentsSummary} over blocks of values: a two-pass
 * mean and sum per block of 4096 values (two passes over cached values, one
 * over memory), merged across blocks with Chan's formula (stable, and no
 * division per point).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const m = new Moments();
 * m.add(new Float64Array([1, 2, 3]));
 * m.add(new Float64Array([4]));
 * assert.deepStrictEqual([m.n, m.mean, m.m2], [4, 2.5, 5]);
 * ```
 */
export class Moments implements MomentsSummary {
  n = 0;
  mean = 0;
  m2 = 0;

  /** Adds `y[start, end)` (default: all of `y`). */
  add(y: Float64Array, start = 0, end = y.length): void {
    this.addStrided(y, start, 1, end - start);
  }

  /**
   * Adds `count` values of `a` from index `first`, `stride` apart (a column
   * of interleaved rows, read in place: no copy into a scratch column).
   */
  addStrided(
    a: Float64Array,
    first: number,
    stride: number,
    count: number,
  ): void {
    const st4 = 4 * stride;
    for (let b0 = 0; b0 < count; b0 += 4096) {
      const nb = Math.min(4096, count - b0);
      const s0 = first + b0 * stride, e = s0 + nb * stride;
      // four partial sums: a single one waits on each add's latency
      let s1 = 0, s2 = 0, s3 = 0, s4 = 0, i = s0;
      for (; i + 3 * stride < e; i += st4) {
        s1 += a[i];
        s2 += a[i + stride];
        s3 += a[i + 2 * stride];
        s4 += a[i + 3 * stride];
      }
      for (; i < e; i += stride) s1 += a[i];
      const mb = (s1 + s2 + s3 + s4) / nb;
      let q1 = 0, q2 = 0, q3 = 0, q4 = 0;
      for (i = s0; i + 3 * stride < e; i += st4) {
        const d1 = a[i] - mb, d2 = a[i + stride] - mb;
        const d3 = a[i + 2 * stride] - mb, d4 = a[i + 3 * stride] - mb;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
        q4 += d4 * d4;
      }
      for (; i < e; i += stride) q1 += (a[i] - mb) * (a[i] - mb);
      const m2 = q1 + q2 + q3 + q4;
      const n = this.n + nb;
      const d = mb - this.mean;
      this.m2 += m2 + d * d * this.n * nb / n;
      this.mean += d * nb / n;
      this.n = n;
    }
  }
}
