/**
 * How a linearization is accumulated, decided in one place for every
 * backend: Gram sums (one multiply-add per entry, the fast normal form, and
 * the only form the GPU kernels produce) where the column-scaled Jacobian is
 * well conditioned, Householder QR otherwise. The CPU evaluators, the
 * distributed strategy (CPU or WebGPU ranks) and the WebGPU polish all use
 * {@linkcode scaledCondition}, and the CPU evaluators and the distributed
 * strategy the one switching policy {@linkcode autoAccumulation}, so their
 * numerical decisions cannot drift apart.
 *
 * @module
 */

import type { Evaluation, Linearization } from "./linearization.ts";
import { type Factor, scaledFactor, toFactor } from "./_factor.ts";
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
 * Condition number of the column-scaled Jacobian `J D^-1` (D the column
 * norms of J), from a linearization or from the solver's factor form (a
 * normal linearization goes through its factor, {@linkcode toFactor}).
 * Infinity when J is singular or not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const lin = { form: "qr" as const, cost: 0, r: new Float64Array([2, 0, 0, 1]), qtf: new Float64Array(2), nResiduals: 2 };
 * assert.ok(Math.abs(scaledCondition(lin, 2) - 1) < 1e-12);
 * const factor = { f: new Float64Array([2, 0, 0, 1e-3]), colNorms: new Float64Array([2, 1e-3]) };
 * assert.ok(Math.abs(scaledCondition(factor, 2) - 1) < 1e-12);
 * ```
 */
export function scaledCondition(
  of: Linearization | Pick<Factor, "f" | "colNorms">,
  p: number,
): number {
  const { f, colNorms } = "form" in of ? toFactor(of, p) : of;
  const { s } = svd(scaledFactor(f, colNorms, p), p, p);
  let lo = Infinity, hi = 0;
  for (const v of s) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo > 0 ? hi / lo : Infinity;
}

/** One pass over the data in a given accumulation (true: Gram sums). */
export type PassOnce = (
  thetas: readonly Float64Array[],
  withJacobian: readonly boolean[],
  gram: boolean,
) => Promise<Evaluation[]>;

/**
 * The accumulation policy around `passOnce`, for every backend: problems
 * of at least `minRows` rows (default {@linkcode GRAM_MIN_POINTS}) start
 * with Gram sums and check the column-scaled condition of what they got;
 * past {@linkcode GRAM_MAX_CONDITION} the pass is redone with QR, and QR
 * is kept until a pass is comfortably (2x) inside the bound again. Smaller
 * problems, or `allowGram` false, always use QR.
 *
 * Why a way back to Gram sums (hysteresis) rather than QR for good: the
 * condition is a property of the point, not of the problem. Fits often
 * start far out, where J is nearly rank deficient, and converge where it
 * is not; staying on QR would give up the 3x faster passes for the rest of
 * the fit (and make a fit on N MPI ranks take other passes than the same
 * fit in one process). The 2x band keeps a condition that hovers at the
 * bound from costing a redone pass every time; near a solution the steps
 * are small and the condition barely moves.
 *
 * The decision reads only the `Evaluation`s that `passOnce` returns. The
 * distributed strategy returns the merged (reduced) ones, which are the
 * same bits on every rank, so the ranks cannot decide differently.
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
  minRows: number = GRAM_MIN_POINTS,
): (
  thetas: readonly Float64Array[],
  withJacobian: readonly boolean[],
) => Promise<Evaluation[]> {
  const gramAllowed = allowGram && nRows >= minRows;
  // QR always: the pass itself, with no decision to wrap it in.
  // (A failure stays a rejection, as from the async function below.)
  if (!gramAllowed) {
    return (thetas, wj) => {
      try {
        return passOnce(thetas, wj, false);
      } catch (e) {
        return Promise.reject(e);
      }
    };
  }
  let useGram: boolean = gramAllowed;
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
