/**
 * Small dense linear algebra in double precision: the Householder row merge
 * that builds R (tall-skinny QR, chunk by chunk), one-sided Jacobi SVD,
 * Cholesky and triangular solves. Matrices are row-major `Float64Array`s
 * unless a function says otherwise.
 *
 * @module
 */

import { EPS } from "./_constants.ts";
import type { WorkerPart } from "./_worker_source.ts";

/**
 * Merges a block of rows into an upper-triangular factor by Householder
 * reflections: on return `R` is the triangular factor of `[R; B]`.
 *
 * `R` is `c x c`, row-major, upper triangular. `B` is column-major with
 * leading dimension `ld` and `nRows` valid rows; it is overwritten. With
 * `c = p + 1` and the residual in the last column, the last column of `R`
 * accumulates `Q^T f`, which is how the linearization keeps QR accuracy.
 *
 * @example Two rows merged into an empty factor
 * ```ts
 * import assert from "node:assert";
 * const R = new Float64Array(4);
 * // B = [[3, 1], [4, 1]] stored column-major
 * householderMergeRows(R, new Float64Array([3, 4, 1, 1]), 2, 2, 2);
 * // R^T R = B^T B = [[25, 7], [7, 2]]
 * assert.ok(Math.abs(R[0] * R[0] - 25) < 1e-12);
 * assert.ok(Math.abs(R[0] * R[1] - 7) < 1e-12);
 * assert.ok(Math.abs(R[1] * R[1] + R[3] * R[3] - 2) < 1e-12);
 * ```
 */
export function householderMergeRows(
  R: Float64Array,
  B: Float64Array,
  ld: number,
  nRows: number,
  c: number,
): void {
  for (let j = 0; j < c; j++) {
    const bj = j * ld;
    let nb = 0;
    for (let i = 0; i < nRows; i++) {
      const v = B[bj + i];
      nb += v * v;
    }
    const x0 = R[j * c + j];
    let norm: number;
    if (nb > 1e-290 && nb < 1e290) {
      norm = Math.sqrt(x0 * x0 + nb);
      if (!Number.isFinite(norm)) norm = hypotColumn(x0, B, bj, nRows);
    } else {
      // The sum of squares under- or overflowed: measure the column scaled.
      norm = hypotColumn(x0, B, bj, nRows);
      if (norm === Math.abs(x0)) continue; // nothing below the diagonal
    }
    const alpha = x0 >= 0 ? -norm : norm;
    const v0 = x0 - alpha;
    const prod = norm * Math.abs(v0); // v^T v / 2
    if (prod > 1e-290 && prod < 1e290) {
      const tau = 1 / prod; // 2 / (v^T v)
      for (let k = j + 1; k < c; k++) {
        const bk = k * ld;
        let s = v0 * R[j * c + k];
        for (let i = 0; i < nRows; i++) s += B[bj + i] * B[bk + i];
        s *= tau;
        R[j * c + k] -= s * v0;
        for (let i = 0; i < nRows; i++) B[bk + i] -= s * B[bj + i];
      }
    } else {
      // A column near 1e±150 and beyond: 1 / (norm |v0|) would under- or
      // overflow, so reflect with u = v / v0 (u0 = 1) and beta = |v0| / norm,
      // which lies in [1, 2] (LAPACK's normalization).
      const beta = Math.abs(v0) / norm;
      const inv = 1 / v0;
      for (let i = 0; i < nRows; i++) B[bj + i] *= inv;
      for (let k = j + 1; k < c; k++) {
        const bk = k * ld;
        let s = R[j * c + k];
        for (let i = 0; i < nRows; i++) s += B[bj + i] * B[bk + i];
        s *= beta;
        R[j * c + k] -= s;
        for (let i = 0; i < nRows; i++) B[bk + i] -= s * B[bj + i];
      }
    }
    R[j * c + j] = alpha;
  }
}

/**
 * Accumulates the upper triangle of the Gram matrix `B^T B` of a
 * column-major block (`c` columns, leading dimension `ld`, `nRows` rows) into
 * the row-major `c x c` array `G`. Used instead of the Householder merge only
 * where the column-scaled Jacobian is well conditioned (see
 * `core/parallel_evaluator.ts`), since it squares the condition number.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const G = new Float64Array(4);
 * accumulateGram(G, new Float64Array([3, 4, 1, 1]), 2, 2, 2);
 * assert.deepStrictEqual(Array.from(G), [25, 7, 0, 2]);
 * ```
 */
export function accumulateGram(
  G: Float64Array,
  B: Float64Array,
  ld: number,
  nRows: number,
  c: number,
): void {
  gramAccumulator(c)(G, B, ld, nRows);
}

const gramCache:
  ((G: Float64Array, B: Float64Array, ld: number, n: number) => void)[] = [];

/**
 * A Gram accumulator unrolled for `c` columns: one pass over the rows with
 * all c(c+1)/2 sums in locals (about 4x faster than looping over column
 * pairs). The source is built from the number `c` alone.
 */
export function gramAccumulator(
  c: number,
): (G: Float64Array, B: Float64Array, ld: number, n: number) => void {
  if (gramCache[c]) return gramCache[c];
  if (!Number.isInteger(c) || c < 1 || c > 64) {
    throw new RangeError(`bad column count ${c}`);
  }
  const decl: string[] = [], body: string[] = [], flush: string[] = [];
  for (let j = 0; j < c; j++) {
    body.push(`const b${j} = B[${j} * ld + i];`);
    for (let k = j; k < c; k++) {
      decl.push(`let g${j}_${k} = 0;`);
      flush.push(`G[${j * c + k}] += g${j}_${k};`);
    }
  }
  for (let j = 0; j < c; j++) {
    for (let k = j; k < c; k++) body.push(`g${j}_${k} += b${j} * b${k};`);
  }
  const src = `return function gram${c}(G, B, ld, n) {\n${decl.join("\n")}\n` +
    `for (let i = 0; i < n; i++) {\n${body.join("\n")}\n}\n${
      flush.join("\n")
    }\n}`;
  gramCache[c] = new Function(src)();
  return gramCache[c];
}

/**
 * Overflow-safe norm of [x0; B[bj .. bj+n]] for the rare huge column.
 * Exported for the worker threads, which rebuild it from its source.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(hypotColumn(3, new Float64Array([4]), 0, 1), 5);
 * assert.strictEqual(hypotColumn(3e300, new Float64Array([4e300]), 0, 1), 5e300);
 * ```
 */
export function hypotColumn(
  x0: number,
  B: Float64Array,
  bj: number,
  n: number,
): number {
  let scale = Math.abs(x0);
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(B[bj + i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = (x0 / scale) ** 2;
  for (let i = 0; i < n; i++) s += (B[bj + i] / scale) ** 2;
  return scale * Math.sqrt(s);
}

/**
 * Merges several `c x c` upper-triangular factors (TSQR reduction): returns
 * the factor of the stacked matrix `[R_1; R_2; ...]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const a = new Float64Array([3, 1, 0, 0]);
 * const b = new Float64Array([4, 1, 0, 0]);
 * const r = mergeTriangularFactors([a, b], 2);
 * assert.ok(Math.abs(Math.abs(r[0]) - 5) < 1e-12);
 * ```
 */
export function mergeTriangularFactors(
  factors: readonly Float64Array[],
  c: number,
): Float64Array {
  const R = new Float64Array(c * c);
  const B = new Float64Array(c * c);
  for (const F of factors) {
    // F is row-major c x c; B is column-major c x c.
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) B[j * c + i] = F[i * c + j];
    }
    householderMergeRows(R, B, c, c, c);
  }
  return R;
}

/** Result of {@linkcode svd}: `A = U diag(s) V^T`, `s` in decreasing order. */
export interface Svd {
  /** m x n, row-major, orthonormal columns (for columns with s > 0). */
  readonly u: Float64Array;
  /** n singular values, decreasing. */
  readonly s: Float64Array;
  /** n x n, row-major; column j is the j-th right singular vector. */
  readonly v: Float64Array;
}

/**
 * Thin SVD of an `m x n` row-major matrix with `m >= n`, by one-sided Jacobi
 * rotations (Hestenes), which is accurate to high relative precision on the
 * small matrices the solver works with. With `out` (arrays of m x n, n
 * and n x n entries) the result is written there instead of new arrays.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const { s } = svd(new Float64Array([3, 0, 0, 4]), 2, 2);
 * assert.deepStrictEqual(Array.from(s), [4, 3]);
 * ```
 */
export function svd(
  A: ArrayLike<number>,
  m: number,
  n: number,
  out?: Svd,
): Svd {
  if (m < n) throw new RangeError(`svd needs m >= n, got ${m} x ${n}`);
  // Entries beyond 2^±200 are scaled by a power of two (exact) so that the
  // sums of squares below neither overflow nor lose digits to underflow.
  let big = 0;
  for (let i = 0; i < m * n; i++) big = Math.max(big, Math.abs(A[i]));
  const scale =
    big > 0 && Number.isFinite(big) && (big > 2 ** 200 || big < 2 ** -200)
      ? 2 ** -Math.round(Math.log2(big))
      : 1;
  // Work on columns: W is column-major m x n; W, V, the norms and the order
  // are scratch shared by every call (svd never awaits, so calls cannot
  // interleave), which spares four typed-array allocations per call.
  const { W, V, sv, order } = svdScratch(m, n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) W[j * m + i] = A[i * n + j] * scale;
  }
  V.fill(0, 0, n * n); // column-major
  for (let j = 0; j < n; j++) V[j * n + j] = 1;
  for (let sweep = 0; sweep < 80; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const op = p * m;
      for (let q = p + 1; q < n; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        const oq = q * m;
        for (let i = 0; i < m; i++) {
          const a = W[op + i], b = W[oq + i];
          alpha += a * a;
          beta += b * b;
          gamma += a * b;
        }
        if (
          gamma === 0 ||
          Math.abs(gamma) <= EPS * Math.sqrt(alpha) * Math.sqrt(beta)
        ) {
          continue;
        }
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) /
          (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const a = W[op + i], b = W[oq + i];
          W[op + i] = c * a - s * b;
          W[oq + i] = s * a + c * b;
        }
        const vp = p * n, vq = q * n;
        for (let i = 0; i < n; i++) {
          const a = V[vp + i], b = V[vq + i];
          V[vp + i] = c * a - s * b;
          V[vq + i] = s * a + c * b;
        }
      }
    }
    if (!rotated) break;
  }
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += W[j * m + i] * W[j * m + i];
    sv[j] = Math.sqrt(s);
  }
  // Decreasing order (insertion sort: n is small).
  for (let j = 0; j < n; j++) {
    let k = j;
    while (k > 0 && sv[order[k - 1]] < sv[j]) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = j;
  }
  // The caller's arrays when given (every entry is written below).
  const u = out?.u ?? new Float64Array(m * n);
  const v = out?.v ?? new Float64Array(n * n);
  const s = out?.s ?? new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const j = order[k];
    s[k] = sv[j] / scale;
    const inv = sv[j] > 0 ? 1 / sv[j] : 0;
    for (let i = 0; i < m; i++) u[i * n + k] = W[j * m + i] * inv;
    for (let i = 0; i < n; i++) v[i * n + k] = V[j * n + i];
  }
  return { u, s, v };
}

const SHARED_OUT = {
  u: new Float64Array(64),
  s: new Float64Array(8),
  v: new Float64Array(64),
};

/**
 * The SVD of an `m x n` matrix into arrays shared by every caller of this
 * function: valid until its next call, so for a caller that reads the
 * result before it awaits anything (no other caller can run in between).
 * The arrays are views of exactly m x n, n and n x n entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const { s } = svdShared(new Float64Array([3, 0, 0, 4]), 2, 2);
 * assert.deepStrictEqual(Array.from(s), [4, 3]);
 * ```
 */
export function svdShared(A: ArrayLike<number>, m: number, n: number): Svd {
  if (m * n > 4096) return svd(A, m, n);
  const o = SHARED_OUT;
  if (o.u.length < m * n) o.u = new Float64Array(m * n);
  if (o.s.length < n) o.s = new Float64Array(n);
  if (o.v.length < n * n) o.v = new Float64Array(n * n);
  return svd(A, m, n, {
    u: o.u.subarray(0, m * n),
    s: o.s.subarray(0, n),
    v: o.v.subarray(0, n * n),
  });
}

/** The scratch arrays of {@linkcode svd}, grown on demand. */
const SVD_SCRATCH = {
  W: new Float64Array(64),
  V: new Float64Array(64),
  sv: new Float64Array(8),
  order: new Int32Array(8),
};

function svdScratch(m: number, n: number): typeof SVD_SCRATCH {
  if (m * n > 4096) {
    // Large matrices get arrays of their own (not kept alive between calls).
    return {
      W: new Float64Array(m * n),
      V: new Float64Array(n * n),
      sv: new Float64Array(n),
      order: new Int32Array(n),
    };
  }
  const sc = SVD_SCRATCH;
  if (sc.W.length < m * n) sc.W = new Float64Array(m * n);
  if (sc.V.length < n * n) sc.V = new Float64Array(n * n);
  if (sc.sv.length < n) {
    sc.sv = new Float64Array(n);
    sc.order = new Int32Array(n);
  }
  return sc;
}

/**
 * Cholesky factorization of a symmetric positive definite `n x n` row-major
 * matrix: returns lower-triangular L with `A = L L^T`, or `null` when A is
 * not positive definite (to working precision).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const L = cholesky(new Float64Array([4, 2, 2, 2]), 2)!;
 * assert.deepStrictEqual(Array.from(L), [2, 0, 1, 1]);
 * assert.strictEqual(cholesky(new Float64Array([1, 2, 2, 1]), 2), null);
 * ```
 */
export function cholesky(A: ArrayLike<number>, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0) || !Number.isFinite(d)) return null;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / ljj;
    }
  }
  return L;
}

/**
 * Solves `L z = b` in place for lower-triangular row-major `L` (n x n) and
 * `b` holding `nrhs` right-hand sides as columns of a column-major `n x nrhs`
 * array (a single vector when `nrhs = 1`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const b = new Float64Array([2, 3]);
 * solveLowerInPlace(new Float64Array([2, 0, 1, 1]), 2, b);
 * assert.deepStrictEqual(Array.from(b), [1, 2]);
 * ```
 */
export function solveLowerInPlace(
  L: ArrayLike<number>,
  n: number,
  b: Float64Array,
  nrhs = 1,
): void {
  for (let r = 0; r < nrhs; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) {
      let s = b[o + i];
      const li = i * n;
      for (let k = 0; k < i; k++) s -= L[li + k] * b[o + k];
      b[o + i] = s / L[li + i];
    }
  }
}

/** Euclidean norm of a vector, guarded against overflow. */
export function norm2(x: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const t = x[i] / scale;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/**
 * Euclidean norms of the columns of an `m x n` row-major matrix.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(Array.from(columnNorms(new Float64Array([3, 0, 4, 1]), 2, 2)), [5, 1]);
 * ```
 */
export function columnNorms(
  A: ArrayLike<number>,
  m: number,
  n: number,
): Float64Array {
  const out = new Float64Array(n);
  const col = new Float64Array(m);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) col[i] = A[i * n + j];
    out[j] = norm2(col);
  }
  return out;
}

/**
 * Euclidean norms of the columns of an `m x n` row-major matrix, written
 * into `out` (the same arithmetic as {@linkcode columnNorms}, no
 * allocation); returns `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const out = new Float64Array(2);
 * columnNormsInto(new Float64Array([3, 0, 4, 1]), 2, 2, out);
 * assert.deepStrictEqual(Array.from(out), [5, 1]);
 * ```
 */
export function columnNormsInto(
  A: ArrayLike<number>,
  m: number,
  n: number,
  out: Float64Array,
): Float64Array {
  for (let j = 0; j < n; j++) {
    let scale = 0;
    for (let i = 0; i < m; i++) scale = Math.max(scale, Math.abs(A[i * n + j]));
    if (scale === 0 || !Number.isFinite(scale)) {
      out[j] = scale;
      continue;
    }
    let s = 0;
    for (let i = 0; i < m; i++) {
      const t = A[i * n + j] / scale;
      s += t * t;
    }
    out[j] = scale * Math.sqrt(s);
  }
  return out;
}

/**
 * `norm2` of the elementwise product `a * b` without forming it (the same
 * arithmetic as `norm2(a.map((t, i) => t * b[i]))`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(norm2Product([3, 2], [1, 2]), 5);
 * ```
 */
export function norm2Product(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number {
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i] * b[i]));
  }
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const t = (a[i] * b[i]) / scale;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/** Dot product. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Infinity norm (largest absolute entry). */
export function normInf(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

/** `y = F x` for an n x n row-major F. */
export function matVec(
  F: ArrayLike<number>,
  n: number,
  x: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += F[i * n + k] * x[k];
    y[i] = s;
  }
  return y;
}

/** `y = F^T x` for an n x n row-major F. */
export function matTVec(
  F: ArrayLike<number>,
  n: number,
  x: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    for (let k = 0; k < n; k++) y[k] += F[i * n + k] * xi;
  }
  return y;
}

/**
 * `y = F^T x` for an n x n row-major F, into `y` (zeroed first; the same
 * arithmetic as {@linkcode matTVec}); returns `y`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const y = matTVecInto([1, 2, 3, 4], 2, [1, 1], new Float64Array(2));
 * assert.deepStrictEqual(Array.from(y), [4, 6]);
 * ```
 */
export function matTVecInto(
  F: ArrayLike<number>,
  n: number,
  x: ArrayLike<number>,
  y: Float64Array,
): Float64Array {
  y.fill(0, 0, n);
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    for (let k = 0; k < n; k++) y[k] += F[i * n + k] * xi;
  }
  return y;
}

/**
 * What worker threads need of this module: the block merges of a pass and
 * the module-level names they read.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { workerSource } from "./_worker_source.ts";
 * const { accumulateGram } = new Function(
 *   `${workerSource([LINALG_WORKER_PART])}\nreturn { accumulateGram };`,
 * )();
 * const G = new Float64Array(4);
 * accumulateGram(G, new Float64Array([3, 4, 1, 1]), 2, 2, 2);
 * assert.deepStrictEqual(Array.from(G), [25, 7, 0, 2]);
 * ```
 */
export const LINALG_WORKER_PART: WorkerPart = {
  declarations: ["const gramCache = [];"],
  functions: [
    hypotColumn,
    householderMergeRows,
    gramAccumulator,
    accumulateGram,
  ],
};
