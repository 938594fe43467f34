/**
 * How the CPU evaluators accumulate a linearization: Gram sums (one
 * multiply-add per entry, the fast normal form) where the column-scaled
 * Jacobian is well conditioned, Householder QR otherwise.
 *
 * @module
 */

import type { Evaluation, Linearization } from "./linearization.ts";
import { svd } from "./linalg.ts";

/**
 * Below this many rows the Householder merge costs little in absolute terms,
 * so the evaluators always keep QR (NIST-sized problems stay on QR).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(GRAM_MIN_POINTS, 5000);
 * ```
 */
export const GRAM_MIN_POINTS = 5000;

/**
 * Largest condition number of the column-scaled Jacobian for which Gram
 * sums are used: they square it, so 1e3 leaves a relative error of about
 * 1e6 * eps = 2e-10 in the step, far inside the accuracy bar.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(GRAM_MAX_CONDITION, 1e3);
 * ```
 */
export const GRAM_MAX_CONDITION = 1e3;

/**
 * Condition number of the column-scaled Jacobian behind a linearization.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const lin = { form: "qr" as const, cost: 0, r: new Float64Array([2, 0, 0, 1]), qtf: new Float64Array(2), nResiduals: 2 };
 * assert.ok(Math.abs(scaledCondition(lin, 2) - 1) < 1e-12);
 * ```
 */
export function scaledCondition(lin: Linearization, p: number): number {
  const a = new Float64Array(p * p);
  if (lin.form === "qr") {
    const norms = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let i = 0; i < p; i++) s += lin.r[i * p + j] ** 2;
      norms[j] = Math.sqrt(s) || 1;
    }
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) a[i * p + j] = lin.r[i * p + j] / norms[j];
    }
    const { s } = svd(a, p, p);
    return s[0] / s[p - 1];
  }
  const d = new Float64Array(p);
  for (let j = 0; j < p; j++) d[j] = Math.sqrt(lin.jtj[j * p + j]) || 1;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      a[i * p + j] = lin.jtj[i * p + j] / (d[i] * d[j]);
    }
  }
  const { s } = svd(a, p, p);
  return Math.sqrt(s[0] / s[p - 1]);
}

/** One pass over the data in a given accumulation (true: Gram sums). */
export type PassOnce = (
  thetas: readonly Float64Array[],
  withJacobian: readonly boolean[],
  gram: boolean,
) => Promise<Evaluation[]>;

/**
 * The "auto" accumulation policy around `passOnce`: problems of at least
 * {@linkcode GRAM_MIN_POINTS} rows start with Gram sums and check the
 * column-scaled condition of what they got; past
 * {@linkcode GRAM_MAX_CONDITION} the pass is redone with QR and QR is kept
 * until a pass is comfortably conditioned again (one extra pass for an
 * ill-conditioned problem). Smaller problems, or `allowGram` false, always
 * use QR.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const forms: boolean[] = [];
 * const ev = autoAccumulation(10_000, 1, true, (t, _j, gram) => {
 *   forms.push(gram);
 *   return Promise.resolve(t.map(() => ({ cost: 0 })));
 * });
 * await ev([new Float64Array([1])], [false]);
 * assert.deepStrictEqual(forms, [true]);
 * ```
 */
export function autoAccumulation(
  nRows: number,
  p: number,
  allowGram: boolean,
  passOnce: PassOnce,
): (
  thetas: readonly Float64Array[],
  withJacobian: readonly boolean[],
) => Promise<Evaluation[]> {
  const gramAllowed = allowGram && nRows >= GRAM_MIN_POINTS;
  let useGram = gramAllowed;
  return async (thetas, withJacobian) => {
    let out = await passOnce(thetas, withJacobian, useGram);
    if (!gramAllowed) return out;
    const conds = out.map((e) => (e.lin ? scaledCondition(e.lin, p) : null));
    if (
      useGram && conds.some((c) => c !== null && !(c < GRAM_MAX_CONDITION))
    ) {
      useGram = false;
      out = await passOnce(thetas, withJacobian, false);
    } else if (
      !useGram && conds.some((c) => c !== null && c < GRAM_MAX_CONDITION / 2)
    ) {
      useGram = true;
    }
    return out;
  };
}
