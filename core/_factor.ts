/**
 * Converts a linearization into the square factor form the solver uses:
 * F (p x p) with F^T F = J^T J and qtf with F^T qtf = J^T f.
 */

import type { Evaluator, Linearization } from "./linearization.ts";
import { matTVecInto, svd } from "./linalg.ts";
import { EPS } from "./_constants.ts";
import { smallF64 } from "./_small_f64.ts";

/** The solver's view of a linearization. */
export interface Factor {
  /** p x p row-major; F^T F = J^T J. */
  readonly f: Float64Array;
  /** F^{-T} J^T f (Q^T f for the QR form). */
  readonly qtf: Float64Array;
  /** Gradient J^T f. */
  readonly g: Float64Array;
  /** Column norms of J. */
  readonly colNorms: Float64Array;
  /** Robust cost. */
  readonly cost: number;
}

/**
 * The factor of the column-scaled Jacobian, `F D^-1` (D the column norms of
 * J, a zero norm taken as 1): the matrix whose singular values give the
 * scaled condition and the near-null directions.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const a = scaledFactor(new Float64Array([2, 0, 0, 1e-3]), new Float64Array([2, 1e-3]), 2);
 * assert.deepStrictEqual(Array.from(a), [1, 0, 0, 1]);
 * ```
 */
export function scaledFactor(
  f: Float64Array,
  colNorms: Float64Array,
  p: number,
): Float64Array {
  const a = smallF64(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      a[i * p + j] = f[i * p + j] / (colNorms[j] > 0 ? colNorms[j] : 1);
    }
  }
  return a;
}

/**
 * Builds the factor form; the normal form goes through a scaled eigen-split
 * (the one normal-to-factor conversion: the solver, the covariance and the
 * scaled condition all see the normal form through it).
 */
export function toFactor(lin: Linearization, p: number): Factor {
  let f: Float64Array, qtf: Float64Array;
  if (lin.form === "qr") {
    f = lin.r;
    qtf = lin.qtf;
  } else {
    // Scale columns to unit diagonal so the eigen-split sees a well-scaled
    // matrix, then F = sqrt(L) V^T D (F^T F = D V L V^T D = J^T J).
    const d = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      const v = lin.jtj[j * p + j];
      d[j] = v > 0 ? Math.sqrt(v) : 1;
    }
    const a = new Float64Array(p * p);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        a[i * p + j] = lin.jtj[i * p + j] / (d[i] * d[j]);
      }
    }
    const { s, v } = svd(a, p, p);
    f = new Float64Array(p * p);
    qtf = new Float64Array(p);
    const cut = EPS * p * s[0];
    for (let k = 0; k < p; k++) {
      const sq = Math.sqrt(s[k]);
      let proj = 0;
      for (let j = 0; j < p; j++) {
        f[k * p + j] = sq * v[j * p + k] * d[j];
        proj += v[j * p + k] * lin.jtf[j] / d[j];
      }
      qtf[k] = s[k] > cut ? proj / sq : 0;
    }
  }
  // g and the column norms share one buffer (one allocation, two views).
  const both = smallF64(2 * p);
  const g = both.subarray(0, p);
  if (lin.form === "qr") matTVecInto(f, p, qtf, g);
  else g.set(lin.jtf);
  const colNorms = both.subarray(p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < p; i++) s += f[i * p + j] * f[i * p + j];
    colNorms[j] = Math.sqrt(s);
  }
  return { f, qtf, g, colNorms, cost: lin.cost };
}

/**
 * Evaluates at x, requiring a finite cost and a linearization (the start of
 * a solver run, or a point the solver accepted without one), in factor form.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "./dense_evaluator.ts";
 * import { linearizeAt } from "./_factor.ts";
 * const ev = createDenseEvaluator((p) => [p[0] - 1, p[0] + 1], 2, 1);
 * const f = await linearizeAt(ev, new Float64Array([0]));
 * assert.strictEqual(f.cost, 1);
 * ```
 */
export async function linearizeAt(
  ev: Evaluator,
  x: Float64Array,
): Promise<Factor> {
  const e = (await ev.evaluate([x], [true]))[0];
  if (!Number.isFinite(e.cost) || !e.lin) {
    throw new RangeError(
      "Residuals are not finite at the initial point: check p0 and the data",
    );
  }
  return toFactor(e.lin, ev.nParams);
}
