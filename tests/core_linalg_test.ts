/**
 * Unit tests of core/linalg.ts: the Householder row merge and its TSQR
 * reduction, the one-sided Jacobi SVD, Cholesky, the triangular solve and the
 * overflow-safe norms, against closed forms and numpy (skipped, visibly,
 * without python3 + numpy + scipy).
 */

import assert from "node:assert";
import {
  accumulateGram,
  cholesky,
  columnNorms,
  dot,
  householderMergeRows,
  hypotColumn,
  matTVec,
  matVec,
  mergeTriangularFactors,
  norm2,
  normInf,
  solveLowerInPlace,
  svd,
} from "../core/linalg.ts";
import { pythonJson, rng, scipyAvailable } from "./_python_json.ts";

const PY = scipyAvailable("core_linalg_test");

/** A random m x n row-major matrix with entries in [-0.5, 0.5). */
function randomMatrix(m: number, n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: m * n }, r);
}

/** Row-major m x n -> column-major. */
function toColumnMajor(A: Float64Array, m: number, n: number): Float64Array {
  const B = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) B[j * m + i] = A[i * n + j];
  }
  return B;
}

/** A^T A for a row-major m x n A (n x n, row-major). */
function gram(A: Float64Array, m: number, n: number): Float64Array {
  const G = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += A[i * n + j] * A[i * n + k];
      G[j * n + k] = s;
    }
  }
  return G;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The triangular factor of the row-major m x c matrix A, merged in one go. */
function qrFactor(A: Float64Array, m: number, c: number): Float64Array {
  const R = new Float64Array(c * c);
  householderMergeRows(R, toColumnMajor(A, m, c), m, m, c);
  return R;
}

/** R with every row's sign flipped so its diagonal is >= 0. */
function positiveDiagonal(R: Float64Array, c: number): Float64Array {
  const out = Float64Array.from(R);
  for (let i = 0; i < c; i++) {
    if (R[i * c + i] < 0) {
      for (let j = 0; j < c; j++) out[i * c + j] = -R[i * c + j];
    }
  }
  return out;
}

Deno.test("householderMergeRows: R is upper triangular and R^T R = B^T B", () => {
  for (const [m, c, seed] of [[9, 4, 1], [4, 4, 2], [40, 6, 3], [5, 1, 4]]) {
    const A = randomMatrix(m, c, seed);
    const R = qrFactor(A, m, c);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < i; j++) assert.strictEqual(R[i * c + j], 0);
    }
    const G = gram(A, m, c);
    const err = maxAbsDiff(gram(R, c, c), G);
    assert.ok(err <= 1e-14 * maxAbs(G), `m=${m} c=${c}: error ${err}`);
  }
});

Deno.test("householderMergeRows: merging in chunks equals merging in one shot", () => {
  const m = 13, c = 5;
  const A = randomMatrix(m, c, 11);
  const one = positiveDiagonal(qrFactor(A, m, c), c);
  for (const chunks of [[3, 4, 6], [1, 1, 11], [13], [6, 7]]) {
    const R = new Float64Array(c * c);
    let row = 0;
    for (const k of chunks) {
      const block = A.subarray(row * c, (row + k) * c);
      // A leading dimension larger than the rows, as the evaluators use.
      const ld = k + 2;
      const B = new Float64Array(ld * c);
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < c; j++) B[j * ld + i] = block[i * c + j];
      }
      householderMergeRows(R, B, ld, k, c);
      row += k;
    }
    const err = maxAbsDiff(positiveDiagonal(R, c), one);
    assert.ok(err <= 1e-14 * maxAbs(one), `chunks ${chunks}: error ${err}`);
  }
});

Deno.test("householderMergeRows: the residual column gives the least-squares fit of a line", () => {
  // y = a + b t through 5 points, closed form of simple linear regression.
  const t = [0, 1, 2, 3, 5], y = [1.1, 2.9, 5.2, 6.8, 11.3];
  const n = t.length;
  const A = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) A.set([1, t[i], y[i]], i * 3);
  const R = qrFactor(A, n, 3);
  // Solve the 2 x 2 triangle R[0..1][0..1] x = R[0..1][2].
  const b = R[1 * 3 + 2] / R[1 * 3 + 1];
  const a = (R[0 * 3 + 2] - R[0 * 3 + 1] * b) / R[0];
  const tm = t.reduce((s, v) => s + v) / n, ym = y.reduce((s, v) => s + v) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (t[i] - tm) * (y[i] - ym);
    sxx += (t[i] - tm) ** 2;
  }
  const bExact = sxy / sxx, aExact = ym - bExact * tm;
  assert.ok(Math.abs(b - bExact) < 1e-14 * Math.abs(bExact));
  assert.ok(Math.abs(a - aExact) < 1e-13 * Math.abs(aExact));
  // |R[2][2]| is the norm of the least-squares residual.
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (y[i] - aExact - bExact * t[i]) ** 2;
  assert.ok(Math.abs(Math.abs(R[8]) - Math.sqrt(rss)) < 1e-13);
});

Deno.test("householderMergeRows: zero rows and an empty block leave R unchanged", () => {
  const A = randomMatrix(6, 3, 5);
  const R = qrFactor(A, 6, 3);
  const before = Float64Array.from(R);
  householderMergeRows(R, new Float64Array(3 * 4), 4, 4, 3);
  householderMergeRows(R, new Float64Array(0), 0, 0, 3);
  assert.deepStrictEqual(R, before);
});

Deno.test("hypotColumn: overflow-safe norm of [x0; column]", () => {
  const col = new Float64Array([7, 1e200, 1e200, 7]);
  assert.strictEqual(hypotColumn(0, col, 1, 2), Math.SQRT2 * 1e200);
  assert.ok(
    Math.abs(hypotColumn(1e200, col, 1, 2) / (Math.sqrt(3) * 1e200) - 1) <
      1e-15,
  );
  assert.strictEqual(
    hypotColumn(3e-300, new Float64Array([4e-300]), 0, 1),
    5e-300,
  );
  assert.strictEqual(hypotColumn(0, new Float64Array([0, 0]), 0, 2), 0);
  assert.strictEqual(
    hypotColumn(1, new Float64Array([Infinity]), 0, 1),
    Infinity,
  );
});

Deno.test("householderMergeRows: a column of 1e200 entries gets its norm without overflow", () => {
  // One column: R = -sqrt(m) * 1e200 (the sum of squares overflows).
  const R = new Float64Array(1);
  householderMergeRows(R, new Float64Array(4).fill(1e200), 4, 4, 1);
  assert.ok(Number.isFinite(R[0]));
  assert.ok(Math.abs(Math.abs(R[0]) / 2e200 - 1) < 1e-15);
  // Merging more rows into that factor stays finite and exact.
  householderMergeRows(R, new Float64Array([1e200, 1e200, 1e200]), 3, 3, 1);
  assert.ok(Math.abs(Math.abs(R[0]) / (Math.sqrt(7) * 1e200) - 1) < 1e-15);
});

Deno.test({
  name:
    "householderMergeRows: scaling a column by 1e200 scales that column of R (R' = R D)",
  fn() {
    const m = 5, c = 3;
    const A = randomMatrix(m, c, 21);
    const R = positiveDiagonal(qrFactor(A, m, c), c);
    const As = A.map((v, k) => (k % c === 0 ? v * 1e200 : v));
    const Rs = positiveDiagonal(qrFactor(As, m, c), c);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        const want = R[i * c + j] * (j === 0 ? 1e200 : 1);
        const scale = j === 0 ? 1e200 : 1;
        assert.ok(
          Math.abs(Rs[i * c + j] - want) <= 1e-13 * scale,
          `R[${i}][${j}] = ${Rs[i * c + j]}, expected ${want}`,
        );
      }
    }
  },
});

Deno.test("mergeTriangularFactors: TSQR of row blocks equals the direct QR up to signs", () => {
  const m = 24, c = 4;
  const A = randomMatrix(m, c, 31);
  const direct = positiveDiagonal(qrFactor(A, m, c), c);
  for (const sizes of [[8, 8, 8], [4, 20], [24], [5, 6, 7, 6]]) {
    const factors: Float64Array[] = [];
    let row = 0;
    for (const k of sizes) {
      factors.push(qrFactor(A.slice(row * c, (row + k) * c), k, c));
      row += k;
    }
    const merged = positiveDiagonal(mergeTriangularFactors(factors, c), c);
    const err = maxAbsDiff(merged, direct);
    assert.ok(err <= 1e-14 * maxAbs(direct), `blocks ${sizes}: error ${err}`);
    // The order of the blocks does not matter either.
    const reversed = positiveDiagonal(
      mergeTriangularFactors(factors.toReversed(), c),
      c,
    );
    assert.ok(maxAbsDiff(reversed, direct) <= 1e-14 * maxAbs(direct));
  }
  assert.deepStrictEqual(mergeTriangularFactors([], 2), new Float64Array(4));
});

/** U diag(s) V^T for svd's output. */
function reconstruct(
  { u, s, v }: { u: Float64Array; s: Float64Array; v: Float64Array },
  m: number,
  n: number,
): Float64Array {
  const A = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let k = 0; k < n; k++) t += u[i * n + k] * s[k] * v[j * n + k];
      A[i * n + j] = t;
    }
  }
  return A;
}

/** Max |Q^T Q - I| over the first `k` columns of an r x n row-major Q. */
function orthogonalityError(
  Q: Float64Array,
  r: number,
  n: number,
  k = n,
): number {
  let e = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let t = 0;
      for (let i = 0; i < r; i++) t += Q[i * n + a] * Q[i * n + b];
      e = Math.max(e, Math.abs(t - (a === b ? 1 : 0)));
    }
  }
  return e;
}

function checkDecreasing(s: Float64Array): void {
  for (let k = 1; k < s.length; k++) {
    assert.ok(s[k] <= s[k - 1], `s not decreasing: ${Array.from(s)}`);
  }
}

const SVD_SHAPES: [number, number, number][] = [
  [6, 3, 41],
  [5, 5, 42],
  [30, 6, 43],
  [8, 1, 44],
  [12, 10, 45],
];

Deno.test("svd: A = U S V^T to 1e-14, orthonormal U and V, decreasing s", () => {
  for (const [m, n, seed] of SVD_SHAPES) {
    const A = randomMatrix(m, n, seed);
    const r = svd(A, m, n);
    const err = maxAbsDiff(reconstruct(r, m, n), A);
    assert.ok(err <= 1e-14 * r.s[0], `${m}x${n}: reconstruction ${err}`);
    assert.ok(orthogonalityError(r.u, m, n) <= 1e-14, `${m}x${n}: U`);
    assert.ok(orthogonalityError(r.v, n, n) <= 1e-14, `${m}x${n}: V`);
    checkDecreasing(r.s);
  }
});

Deno.test("svd: singular values match numpy.linalg.svd on random matrices", {
  ignore: !PY,
}, async () => {
  const mats = SVD_SHAPES.map(([m, n, seed]) => ({
    m,
    n,
    a: Array.from(randomMatrix(m, n, seed)),
  }));
  const want = await pythonJson<number[][]>(
    `emit([np.linalg.svd(np.array(c["a"]).reshape(c["m"], c["n"]),
      compute_uv=False) for c in data])`,
    mats,
  );
  mats.forEach(({ m, n, a }, i) => {
    const { s } = svd(a, m, n);
    const err = maxAbsDiff(s, want[i]);
    assert.ok(err <= 1e-14 * want[i][0], `${m}x${n}: ${s} vs ${want[i]}`);
  });
});

Deno.test("svd: rank-deficient matrix (one column the sum of two others)", () => {
  const m = 7, n = 4;
  const A = randomMatrix(m, n, 51);
  for (let i = 0; i < m; i++) A[i * n + 3] = A[i * n] + A[i * n + 1];
  const r = svd(A, m, n);
  assert.ok(r.s[3] <= 1e-15 * r.s[0], `s = ${Array.from(r.s)}`);
  assert.ok(r.s[2] > 1e-3 * r.s[0]);
  assert.ok(maxAbsDiff(reconstruct(r, m, n), A) <= 1e-14 * r.s[0]);
  assert.ok(orthogonalityError(r.v, n, n) <= 1e-14);
  assert.ok(orthogonalityError(r.u, m, n, 3) <= 1e-14);
  // The null vector is (1, 1, 0, -1) / sqrt(3) up to sign.
  const nv = [0, 1, 2, 3].map((i) => r.v[i * n + 3]);
  const sign = Math.sign(nv[0]);
  const want = [1, 1, 0, -1].map((t) => sign * t / Math.sqrt(3));
  assert.ok(maxAbsDiff(nv, want) <= 1e-14, `null vector ${nv}`);
});

Deno.test("svd: zero matrix gives zero s, zero U, identity V and no NaN", () => {
  const { u, s, v } = svd(new Float64Array(12), 4, 3);
  assert.deepStrictEqual(Array.from(s), [0, 0, 0]);
  assert.deepStrictEqual(Array.from(u), new Array(12).fill(0));
  assert.deepStrictEqual(Array.from(v), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
});

Deno.test("svd: entries scaled by 1e-150 give singular values scaled by 1e-150", () => {
  const m = 6, n = 4;
  const A = randomMatrix(m, n, 61);
  const ref = svd(A, m, n);
  const r = svd(A.map((t) => t * 1e-150), m, n);
  for (let k = 0; k < n; k++) {
    assert.ok(
      Math.abs(r.s[k] / 1e-150 - ref.s[k]) <= 1e-14 * ref.s[0],
      `s[${k}] = ${r.s[k]}`,
    );
  }
  assert.ok(orthogonalityError(r.v, n, n) <= 1e-14);
  assert.ok(orthogonalityError(r.u, m, n) <= 1e-14);
});

Deno.test({
  name: "svd: entries scaled by 1e150 give singular values scaled by 1e150",
  fn() {
    const m = 6, n = 4;
    const A = randomMatrix(m, n, 61);
    const ref = svd(A, m, n);
    const r = svd(A.map((t) => t * 1e150), m, n);
    for (let k = 0; k < n; k++) {
      assert.ok(
        Math.abs(r.s[k] / 1e150 - ref.s[k]) <= 1e-14 * ref.s[0],
        `s[${k}] = ${r.s[k] / 1e150} x 1e150, expected ${ref.s[k]}`,
      );
    }
  },
});

Deno.test("svd: m < n is refused", () => {
  assert.throws(() => svd(new Float64Array(6), 2, 3), RangeError);
});

Deno.test("cholesky: L L^T = A for positive definite A, null otherwise", () => {
  const n = 5;
  const M = randomMatrix(8, n, 71);
  const A = gram(M, 8, n);
  for (let i = 0; i < n; i++) A[i * n + i] += 0.1;
  const L = cholesky(A, n)!;
  assert.ok(L !== null);
  for (let i = 0; i < n; i++) {
    assert.ok(L[i * n + i] > 0);
    for (let j = i + 1; j < n; j++) assert.strictEqual(L[i * n + j], 0);
  }
  // L L^T = (L^T)^T (L^T): the Gram matrix of L^T.
  const Lt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) Lt[j * n + i] = L[i * n + j];
  }
  assert.ok(maxAbsDiff(gram(Lt, n, n), A) <= 1e-14 * maxAbs(A));

  assert.deepStrictEqual(Array.from(cholesky([4], 1)!), [2]);
  assert.strictEqual(cholesky([1, 2, 2, 1], 2), null); // indefinite
  assert.strictEqual(cholesky([1, 1, 1, 1], 2), null); // singular
  assert.strictEqual(cholesky([-1, 0, 0, 1], 2), null);
  assert.strictEqual(cholesky([NaN, 0, 0, 1], 2), null);
  assert.strictEqual(cholesky([Infinity, 0, 0, 1], 2), null);
});

Deno.test(
  "cholesky: matches numpy.linalg.cholesky",
  { ignore: !PY },
  async () => {
    const n = 6;
    const M = randomMatrix(10, n, 72);
    const A = gram(M, 10, n);
    const want = await pythonJson<number[]>(
      `emit(np.linalg.cholesky(np.array(data).reshape(${n}, ${n})).ravel())`,
      Array.from(A),
    );
    const L = cholesky(A, n)!;
    assert.ok(maxAbsDiff(L, want) <= 1e-13 * maxAbs(want));
  },
);

Deno.test("solveLowerInPlace: one and several right-hand sides", () => {
  const b1 = new Float64Array([2, 7, 3]);
  // [[2,0,0],[1,3,0],[-1,2,4]] z = b -> z = [1, 2, 0]
  solveLowerInPlace([2, 0, 0, 1, 3, 0, -1, 2, 4], 3, b1);
  assert.deepStrictEqual(Array.from(b1), [1, 2, 0]);

  const n = 6, nrhs = 3;
  const L = randomMatrix(n, n, 81);
  for (let i = 0; i < n; i++) {
    L[i * n + i] = 2 + i * 0.1;
    for (let j = i + 1; j < n; j++) L[i * n + j] = 0;
  }
  const b = randomMatrix(nrhs, n, 82); // column-major n x nrhs
  const z = Float64Array.from(b);
  solveLowerInPlace(L, n, z, nrhs);
  for (let r = 0; r < nrhs; r++) {
    const lz = matVec(L, n, z.subarray(r * n, (r + 1) * n));
    assert.ok(maxAbsDiff(lz, b.subarray(r * n, (r + 1) * n)) <= 1e-15);
  }
});

Deno.test("norm2: no overflow at 1e300, no underflow at 1e-300", () => {
  assert.ok(Math.abs(norm2([3e300, 4e300]) / 5e300 - 1) <= 2.3e-16);
  assert.ok(Math.abs(norm2([3e-300, -4e-300]) / 5e-300 - 1) <= 2.3e-16);
  assert.ok(
    Math.abs(norm2(new Float64Array(100).fill(1e300)) / 1e301 - 1) <= 1e-15,
  );
  assert.strictEqual(norm2([-3, 4]), 5);
  assert.strictEqual(norm2([]), 0);
  assert.strictEqual(norm2([0, 0]), 0);
  assert.strictEqual(norm2([1, -Infinity]), Infinity);
  assert.ok(Number.isNaN(norm2([1, NaN])));
});

Deno.test("columnNorms: per column, overflow and underflow safe", () => {
  const A = new Float64Array([
    1e200,
    3e-300,
    3,
    1e200,
    4e-300,
    4,
    0,
    0,
    0,
  ]);
  const c = columnNorms(A, 3, 3);
  assert.ok(Math.abs(c[0] / (Math.SQRT2 * 1e200) - 1) <= 2.3e-16);
  assert.ok(Math.abs(c[1] / 5e-300 - 1) <= 2.3e-16);
  assert.strictEqual(c[2], 5);
  const R = randomMatrix(7, 3, 91);
  columnNorms(R, 7, 3).forEach((v, j) => {
    let s = 0;
    for (let i = 0; i < 7; i++) s += R[i * 3 + j] ** 2;
    assert.ok(Math.abs(v - Math.sqrt(s)) <= 1e-15 * v);
  });
});

Deno.test("accumulateGram, dot, normInf, matVec, matTVec: closed forms", () => {
  const m = 9, c = 4;
  const A = randomMatrix(m, c, 95);
  const G = new Float64Array(c * c);
  accumulateGram(G, toColumnMajor(A, m, c), m, m, c);
  const want = gram(A, m, c);
  for (let j = 0; j < c; j++) {
    for (let k = 0; k < c; k++) {
      const g = k >= j ? want[j * c + k] : 0;
      assert.ok(Math.abs(G[j * c + k] - g) <= 1e-15 * maxAbs(want));
    }
  }
  assert.throws(() => accumulateGram(G, A, m, m, 65), RangeError);
  assert.strictEqual(dot([1, 2, 3], [4, -5, 6]), 12);
  assert.strictEqual(normInf([1, -7, 3]), 7);
  assert.ok(Number.isNaN(normInf([1, NaN, 3])));
  assert.deepStrictEqual(Array.from(matVec([1, 2, 3, 4], 2, [1, 1])), [3, 7]);
  assert.deepStrictEqual(Array.from(matTVec([1, 2, 3, 4], 2, [1, 1])), [4, 6]);
});
