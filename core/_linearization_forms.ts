/**
 * The forms a linearization travels in between a pass over rows and the
 * solver, and the conversions between them: the one place that knows how
 * the sums are laid out, so the CPU threads, the streaming passes, the GPU
 * readback and the MPI gather cannot read them differently.
 *
 * A pass accumulates `[J f]` (the loss-scaled Jacobian with the residuals
 * as column p) into a (p+1) x (p+1) row-major array, the **augmented** form,
 * of which only the upper triangle is meaningful:
 *
 * - triangular: the R factor of a QR of `[J f]` (tall-skinny QR). Its
 *   top-left p x p block is R, its last column `Q^T f`; such factors merge
 *   by another QR ({@linkcode mergeTriangularFactors}).
 * - Gram: `[J f]^T [J f]`, so `J^T J` top left and `J^T f` in the last
 *   column; Gram sums merge by addition.
 *
 * The bottom-right entry (`|f|^2`, or the norm of f outside range(J)) is
 * never read: the cost travels separately.
 *
 * @module
 */

import type {
  Evaluation,
  Linearization,
  NormalLinearization,
  QrLinearization,
} from "./linearization.ts";
import { mergeTriangularFactors } from "./linalg.ts";
import { smallF64 } from "./_small_f64.ts";

/**
 * The partial sums of one range of rows, before the final merge: the cost
 * and, when asked for, the augmented form of `[J f]` over the range.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const part: PartialLinearization = { cost: 1, aug: null };
 * assert.strictEqual(part.gram, undefined); // a triangular factor, or none
 * ```
 */
export interface PartialLinearization {
  /** Robust cost of the range. */
  cost: number;
  /**
   * (p+1) x (p+1) triangular factor of [J f] for the range (when asked), or
   * with `gram` the upper triangle of [J f]^T [J f].
   */
  aug: Float64Array | null;
  /** Whether `aug` holds Gram sums instead of a triangular factor. */
  gram?: boolean;
}

/**
 * Number of entries in the upper triangle of an n x n matrix.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(upperLength(4), 10);
 * ```
 */
export function upperLength(n: number): number {
  return (n * (n + 1)) / 2;
}

/**
 * Writes the upper triangle of the n x n row-major `a`, row by row, into
 * `buf` from `at`; returns the offset after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const buf = new Float64Array(4);
 * assert.strictEqual(packUpper(new Float64Array([1, 2, 0, 3]), 2, buf, 1), 4);
 * assert.deepStrictEqual(Array.from(buf), [0, 1, 2, 3]);
 * ```
 */
export function packUpper(
  a: Float64Array,
  n: number,
  buf: Float64Array,
  at: number,
): number {
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) buf[at++] = a[i * n + j];
  }
  return at;
}

/**
 * Reads an upper triangle written by {@linkcode packUpper} back into a new
 * n x n row-major array (zeros below the diagonal).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const a = unpackUpper(new Float64Array([9, 1, 2, 3]), 1, 2);
 * assert.deepStrictEqual(Array.from(a), [1, 2, 0, 3]);
 * ```
 */
export function unpackUpper(
  buf: ArrayLike<number>,
  at: number,
  n: number,
): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) a[i * n + j] = buf[at++];
  }
  return a;
}

/** Copies the upper p x p block and the last column of an augmented form. */
function split(
  aug: Float64Array,
  p: number,
  symmetric: boolean,
): { top: Float64Array; last: Float64Array } {
  const c = p + 1;
  // One allocation, two views (a typed array's own buffer costs far more
  // than p entries on small problems).
  const both = smallF64(p * p + p);
  const top = both.subarray(0, p * p);
  const last = both.subarray(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      top[i * p + j] = aug[i * c + j];
      if (symmetric) top[j * p + i] = aug[i * c + j];
    }
    last[i] = aug[i * c + p];
  }
  return { top, last };
}

/** Writes (or adds) an upper-triangular p x p block and a column into `aug`. */
function join(
  aug: Float64Array,
  top: Float64Array,
  last: Float64Array,
  p: number,
  add: boolean,
): Float64Array {
  const c = p + 1;
  // Not 0 + x when writing: that would turn -0 into +0.
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      aug[i * c + j] = add ? aug[i * c + j] + top[i * p + j] : top[i * p + j];
    }
    aug[i * c + p] = add ? aug[i * c + p] + last[i] : last[i];
  }
  return aug;
}

/**
 * Splits an augmented (p+1) x (p+1) triangular factor into the QR
 * linearization.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const lin = qrFromAugmented(new Float64Array([2, 3, 0, 5]), 1, 4.5, 7);
 * assert.deepStrictEqual([lin.form, lin.r[0], lin.qtf[0]], ["qr", 2, 3]);
 * ```
 */
export function qrFromAugmented(
  aug: Float64Array,
  p: number,
  cost: number,
  nResiduals: number,
): QrLinearization {
  const { top: r, last: qtf } = split(aug, p, false);
  return { form: "qr", cost, r, qtf, nResiduals };
}

/**
 * Turns Gram sums of [J f] (upper triangle) into the normal-form
 * linearization (J^T J filled in full).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const g = new Float64Array([4, 1, 2, 0, 9, 3, 0, 0, 0]);
 * const lin = normalFromGram(g, 2, 0.5, 10);
 * assert.deepStrictEqual(Array.from(lin.jtj), [4, 1, 1, 9]);
 * assert.deepStrictEqual(Array.from(lin.jtf), [2, 3]);
 * ```
 */
export function normalFromGram(
  G: Float64Array,
  p: number,
  cost: number,
  nResiduals: number,
): NormalLinearization {
  const { top: jtj, last: jtf } = split(G, p, true);
  return { form: "normal", cost, jtj, jtf, nResiduals };
}

/**
 * Decodes normal sums packed as `J^T f` (p values) followed by the upper
 * triangle of `J^T J` row by row (the GPU kernels' record after the cost)
 * into the normal-form linearization.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const lin = normalFromSums([2, 3, 4, 1, 9], 2, 0.5, 10);
 * assert.deepStrictEqual(Array.from(lin.jtj), [4, 1, 1, 9]);
 * assert.deepStrictEqual(Array.from(lin.jtf), [2, 3]);
 * ```
 */
export function normalFromSums(
  sums: ArrayLike<number>,
  p: number,
  cost: number,
  nResiduals: number,
): NormalLinearization {
  const jtf = Float64Array.from({ length: p }, (_, i) => sums[i]);
  const jtj = unpackUpper(sums, p, p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) jtj[i * p + j] = jtj[j * p + i];
  }
  return { form: "normal", cost, jtj, jtf, nResiduals };
}

/**
 * The linearization held by an augmented form: QR from a triangular
 * factor, normal from Gram sums.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const aug = new Float64Array([2, 3, 0, 5]);
 * assert.strictEqual(linearizationFromAugmented(aug, false, 1, 1, 1).form, "qr");
 * assert.strictEqual(linearizationFromAugmented(aug, true, 1, 1, 1).form, "normal");
 * ```
 */
export function linearizationFromAugmented(
  aug: Float64Array,
  gram: boolean,
  p: number,
  cost: number,
  nResiduals: number,
): Linearization {
  return gram
    ? normalFromGram(aug, p, cost, nResiduals)
    : qrFromAugmented(aug, p, cost, nResiduals);
}

/**
 * What the solver gets from a merged partial: the cost, and the
 * linearization when the Jacobian was asked for and the cost is finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = evaluationFromPartial({ cost: 4.5, aug: new Float64Array([2, 3, 0, 5]) }, 1, 7);
 * assert.strictEqual(e.lin?.form, "qr");
 * assert.deepStrictEqual(evaluationFromPartial({ cost: NaN, aug: null }, 1, 7), { cost: NaN });
 * ```
 */
export function evaluationFromPartial(
  part: PartialLinearization,
  p: number,
  nResiduals: number,
): Evaluation {
  if (!part.aug || !Number.isFinite(part.cost)) return { cost: part.cost };
  return {
    cost: part.cost,
    lin: linearizationFromAugmented(
      part.aug,
      part.gram === true,
      p,
      part.cost,
      nResiduals,
    ),
  };
}

/**
 * Rebuilds a partial triangular factor of `[J f]` from a QR linearization
 * (R, Q^T f). The bottom-right entry is left 0: it never influences the R
 * and Q^T f of a merge (Householder reflections for columns 0..p-1 leave
 * rows that are zero there untouched).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const aug = augFromQr(new Float64Array([2]), new Float64Array([3]), 1);
 * assert.deepStrictEqual(Array.from(aug), [2, 3, 0, 0]);
 * ```
 */
export function augFromQr(
  r: Float64Array,
  qtf: Float64Array,
  p: number,
): Float64Array {
  return join(new Float64Array((p + 1) * (p + 1)), r, qtf, p, false);
}

/**
 * Rebuilds the upper triangle of the Gram matrix of `[J f]` from a normal
 * linearization (the f^T f entry is left 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const g = gramFromNormal(new Float64Array([4]), new Float64Array([2]), 1);
 * assert.deepStrictEqual(Array.from(g), [4, 2, 0, 0]);
 * ```
 */
export function gramFromNormal(
  jtj: Float64Array,
  jtf: Float64Array,
  p: number,
): Float64Array {
  return join(new Float64Array((p + 1) * (p + 1)), jtj, jtf, p, false);
}

/**
 * Adds the sums of a normal linearization into running Gram sums of
 * `[J f]` (upper triangle), as a pass over several batches does.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const g = new Float64Array(4);
 * const lin = normalFromSums([2, 4], 1, 0, 1);
 * addNormalToGram(g, lin, 1);
 * addNormalToGram(g, lin, 1);
 * assert.deepStrictEqual(Array.from(g), [8, 4, 0, 0]);
 * ```
 */
export function addNormalToGram(
  G: Float64Array,
  lin: NormalLinearization,
  p: number,
): void {
  join(G, lin.jtj, lin.jtf, p, true);
}

/**
 * The partial of a linearization (its augmented form; the inverse of
 * {@linkcode evaluationFromPartial} for a finite evaluation).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const lin = normalFromSums([2, 4], 1, 3, 1);
 * const part = partialFromLinearization(lin, 1);
 * assert.deepStrictEqual([part.cost, part.gram, Array.from(part.aug!)], [3, true, [4, 2, 0, 0]]);
 * ```
 */
export function partialFromLinearization(
  lin: Linearization,
  p: number,
): PartialLinearization {
  return lin.form === "qr"
    ? { cost: lin.cost, aug: augFromQr(lin.r, lin.qtf, p) }
    : { cost: lin.cost, aug: gramFromNormal(lin.jtj, lin.jtf, p), gram: true };
}

/**
 * Merges augmented forms of disjoint row ranges in the given order: Gram
 * sums add, triangular factors merge by TSQR (one factor is already the
 * answer). The same inputs in the same order give the same bits, which is
 * what lets every MPI rank merge the gathered factors on its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const a = new Float64Array([1, 2, 0, 3]);
 * assert.deepStrictEqual(Array.from(mergeAugmented([a, a], 1, true)), [2, 4, 0, 6]);
 * assert.strictEqual(mergeAugmented([a], 1, false), a);
 * ```
 */
export function mergeAugmented(
  augs: readonly Float64Array[],
  p: number,
  gram: boolean,
): Float64Array {
  if (gram) {
    const G = Float64Array.from(augs[0]);
    for (let k = 1; k < augs.length; k++) {
      for (let i = 0; i < G.length; i++) G[i] += augs[k][i];
    }
    return G;
  }
  return augs.length === 1 ? augs[0] : mergeTriangularFactors(augs, p + 1);
}
