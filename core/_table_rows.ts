// The linearization of rows of an interleaved table (an (n, k) NPY array or
// a raw file of rows, read as they are): each thread splits its share of
// the rows into small column buffers, a few thousand rows at a time, and
// runs the kernel on them while they are in its cache. The split also
// checks the values (finite, sigma positive). Self-contained (no imports,
// helpers passed in): worker threads evaluate the source of these
// functions.

import type { WorkerPart } from "./_worker_source.ts";

/** Rows per split: the columns of one stay in the L2 cache. */
export const TABLE_SPLIT_ROWS = 8192;

/**
 * Copies rows `[s, s + n)` of `table` (`stride` values per row) into the
 * columns: `X[f][i]` from column `cols[f]`, `Y` from `cols[nx]`, and `W`
 * (weights `1 / sigma`) from `sigmaCol` when it is not -1. Returns false
 * when a value is not finite or a sigma not positive.
 */
export function splitTableRows(
  table: Float64Array,
  stride: number,
  cols: readonly number[],
  sigmaCol: number,
  s: number,
  n: number,
  X: Float64Array[],
  Y: Float64Array,
  W: Float64Array | null,
): boolean {
  const nx = X.length;
  // acc stays 0 while every value is finite (v - v is NaN otherwise)
  let acc = 0;
  const cy = cols[nx];
  if (nx === 1 && W === null) {
    const cx = cols[0], X0 = X[0];
    for (let i = 0, at = s * stride; i < n; i++, at += stride) {
      const a = table[at + cx], b = table[at + cy];
      X0[i] = a;
      Y[i] = b;
      acc += (a - a) + (b - b);
    }
    return acc === 0;
  }
  for (let f = 0; f < nx; f++) {
    const c = cols[f], Xf = X[f];
    for (let i = 0, at = s * stride + c; i < n; i++, at += stride) {
      const v = table[at];
      Xf[i] = v;
      acc += v - v;
    }
  }
  for (let i = 0, at = s * stride + cy; i < n; i++, at += stride) {
    const v = table[at];
    Y[i] = v;
    acc += v - v;
  }
  if (W !== null) {
    let bad = false;
    for (let i = 0, at = s * stride + sigmaCol; i < n; i++, at += stride) {
      const v = table[at];
      if (!(v > 0) || v === Infinity) bad = true;
      W[i] = 1 / v;
    }
    if (bad) return false;
  }
  return acc === 0;
}

/**
 * Costs (and factors or Gram sums, added into `augs[i]` where given) of
 * table rows `[s0, s1)` at each theta, split `TABLE_SPLIT_ROWS` at a time
 * into `scratch` ({ X, Y, W }); null when the rows hold a bad value.
 * `linearize` is `linearizeRange` and `split` is `splitTableRows`.
 */
export function linearizeTable(
  linearize: (
    kernel: unknown,
    p: number,
    data: { x: Float64Array[]; y: Float64Array; w: Float64Array | null },
    theta: Float64Array,
    start: number,
    end: number,
    withJac: boolean,
    opts: Record<string, unknown>,
  ) => { cost: number },
  split: typeof splitTableRows,
  kernel: unknown,
  p: number,
  table: Float64Array,
  stride: number,
  cols: readonly number[],
  sigmaCol: number,
  s0: number,
  s1: number,
  thetas: readonly Float64Array[],
  augs: readonly (Float64Array | null)[],
  opts: Record<string, unknown>,
  scratch: { X: Float64Array[]; Y: Float64Array; W: Float64Array | null },
): number[] | null {
  const costs = thetas.map(() => 0);
  const size = scratch.Y.length;
  const data = { x: scratch.X, y: scratch.Y, w: scratch.W };
  for (let s = s0; s < s1; s += size) {
    const n = Math.min(size, s1 - s);
    if (
      !split(
        table,
        stride,
        cols,
        sigmaCol,
        s,
        n,
        scratch.X,
        scratch.Y,
        scratch.W,
      )
    ) {
      return null;
    }
    for (let i = 0; i < thetas.length; i++) {
      const a = augs[i];
      opts.aug = a ?? undefined;
      costs[i] += linearize(kernel, p, data, thetas[i], 0, n, a !== null, opts)
        .cost;
    }
  }
  return costs;
}

/** What worker threads need of this module (see core/_worker_source.ts). */
export const TABLE_ROWS_WORKER_PART: WorkerPart = {
  constants: { TABLE_SPLIT_ROWS },
  functions: [splitTableRows, linearizeTable],
};
