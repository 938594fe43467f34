/**
 * Linearizations carried to other parameters: a linearization over the
 * parameters u of one part of a problem, with `u = u(v)` and the map
 * `T = du/dv` at the point, is one over v (`J_v = J_u T`); the parts of a
 * problem whose rows are disjoint (the datasets of a global fit) add up.
 * A parameter held fixed is the map that drops its column; a dataset of a
 * global fit maps its own parameters from the global ones.
 *
 * Every part in normal form: the Gram sums `T^T J^T J T` and `T^T J^T f`
 * add (what one pass over the stacked rows would sum). Otherwise each part
 * enters as square rows `[F T | qtf]` with `F^T F = J^T J`,
 * `F^T qtf = J^T f` (its R factor, or the factor form of its normal sums)
 * and the rows of all parts are merged by Householder reflections into the
 * triangular factor of the whole: QR accuracy, as a pass over the stacked
 * rows in QR form would give.
 *
 * @module
 */

import type { Linearization } from "./linearization.ts";
import { toFactor } from "./_factor.ts";
import { householderMergeRows } from "./linalg.ts";
import { normalFromGram, qrFromAugmented } from "./_linearization_forms.ts";

/** One part of a mapped linearization. */
export interface LinearizationPart {
  /** The part's linearization, over its own `p` parameters. */
  readonly lin: Linearization;
  /** `p x q`, row-major: the part's parameters by the combined ones. */
  readonly map: Float64Array;
  /**
   * A factor on the part's residuals (and so its Jacobian rows); its cost
   * is multiplied by the square (default 1).
   */
  readonly weight?: number;
}

/**
 * The linearization over `q` parameters of the stacked rows of `parts`.
 *
 * @example A parameter held: its column dropped
 * ```ts
 * import assert from "node:assert";
 * import { mapLinearizations, selectionMap } from "./_linearization_map.ts";
 * // J = [[1, 2], [0, 3]] as its R factor, qtf = [1, 1].
 * const lin = {
 *   form: "qr" as const, cost: 1, nResiduals: 2,
 *   r: new Float64Array([1, 2, 0, 3]), qtf: new Float64Array([1, 1]),
 * };
 * const out = mapLinearizations([{ lin, map: selectionMap(2, [1]) }], 1);
 * // Column 1 alone: J^T J = 2^2 + 3^2, J^T f = 2 + 3.
 * assert.ok(out.form === "qr");
 * assert.ok(Math.abs(out.r[0] ** 2 - 13) < 1e-12);
 * assert.ok(Math.abs(out.r[0] * out.qtf[0] - 5) < 1e-12);
 * ```
 */
export function mapLinearizations(
  parts: readonly LinearizationPart[],
  q: number,
): Linearization {
  let cost = 0, nResiduals = 0;
  for (const { lin, weight = 1 } of parts) {
    cost += weight * weight * lin.cost;
    nResiduals += lin.nResiduals;
  }
  if (parts.every((part) => part.lin.form === "normal")) {
    return normalFromGram(gramSums(parts, q), q, cost, nResiduals);
  }
  return qrFromAugmented(mergedRows(parts, q), q, cost, nResiduals);
}

/** Upper triangle of the (q+1) x (q+1) Gram sums of the mapped parts. */
function gramSums(
  parts: readonly LinearizationPart[],
  q: number,
): Float64Array {
  const c = q + 1;
  const G = new Float64Array(c * c);
  for (const { lin, map: T, weight = 1 } of parts) {
    if (lin.form !== "normal") throw new TypeError("normal form expected");
    const p = lin.jtf.length, w2 = weight * weight;
    // A = J^T J T (p x q), then G += T^T A and the f column T^T J^T f.
    const A = new Float64Array(p * q);
    for (let i = 0; i < p; i++) {
      for (let k = 0; k < p; k++) {
        const g = lin.jtj[i * p + k];
        if (g === 0) continue;
        for (let b = 0; b < q; b++) A[i * q + b] += g * T[k * q + b];
      }
    }
    for (let i = 0; i < p; i++) {
      for (let a = 0; a < q; a++) {
        const t = T[i * q + a];
        if (t === 0) continue;
        for (let b = a; b < q; b++) G[a * c + b] += w2 * t * A[i * q + b];
        G[a * c + q] += w2 * t * lin.jtf[i];
      }
    }
  }
  return G;
}

/** The triangular factor of the stacked rows `[w F T | w qtf]`. */
function mergedRows(
  parts: readonly LinearizationPart[],
  q: number,
): Float64Array {
  const c = q + 1;
  let rows = 0;
  for (const part of parts) rows += rowsOf(part.lin);
  // Column-major, leading dimension `rows`, as householderMergeRows takes.
  const B = new Float64Array(rows * c);
  let at = 0;
  for (const { lin, map: T, weight = 1 } of parts) {
    const p = rowsOf(lin);
    const { f, qtf } = lin.form === "qr"
      ? { f: lin.r, qtf: lin.qtf }
      : toFactor(lin, p);
    for (let i = 0; i < p; i++) {
      // R is triangular; a factor from normal sums is not (the full row).
      const k0 = lin.form === "qr" ? i : 0;
      for (let b = 0; b < q; b++) {
        let s = 0;
        for (let k = k0; k < p; k++) s += f[i * p + k] * T[k * q + b];
        B[b * rows + at + i] = weight * s;
      }
      B[q * rows + at + i] = weight * qtf[i];
    }
    at += p;
  }
  const R = new Float64Array(c * c);
  householderMergeRows(R, B, rows, rows, c);
  return R;
}

function rowsOf(lin: Linearization): number {
  return lin.form === "qr" ? lin.qtf.length : lin.jtf.length;
}

/**
 * The `p x keep.length` map that takes the kept parameters of `p` (in the
 * order given) and holds the others: column `j` selects parameter
 * `keep[j]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { selectionMap } from "./_linearization_map.ts";
 * assert.deepStrictEqual(Array.from(selectionMap(3, [0, 2])), [1, 0, 0, 0, 0, 1]);
 * ```
 */
export function selectionMap(p: number, keep: readonly number[]): Float64Array {
  const q = keep.length;
  const T = new Float64Array(p * q);
  keep.forEach((k, j) => (T[k * q + j] = 1));
  return T;
}
