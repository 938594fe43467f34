/**
 * Derived quantities of a model's parameters (fwhm, height, ...) and their
 * standard errors by the delta method (private helper).
 *
 * @module
 */

import { gradient, parseExpression } from "../model/mod.ts";
import { evalNode } from "../model/_functions.ts";

/** A quantity computed from a model's parameters, with its exact gradient. */
export interface DerivedDef {
  /** Name (prefixed like the model's parameters). */
  readonly name: string;
  /** Value and gradient with respect to `p` (the model's parameters). */
  evaluate(p: ArrayLike<number>): { value: number; gradient: Float64Array };
}

/**
 * A derived quantity written in the model language over `params` (no
 * variables); its gradient is the exact symbolic one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { expressionDerived } from "./_derived.ts";
 * const d = expressionDerived("area", "a * b", ["a", "b"]);
 * const { value, gradient } = d.evaluate([2, 3]);
 * assert.strictEqual(value, 6);
 * assert.deepStrictEqual(Array.from(gradient), [3, 2]);
 * ```
 */
export function expressionDerived(
  name: string,
  expression: string,
  params: readonly string[],
): DerivedDef {
  const { ast } = parseExpression(expression, { params, variables: ["x"] });
  const grads = gradient(ast, params.length);
  const none = [0];
  return {
    name,
    evaluate(p) {
      return {
        value: evalNode(ast, p, none),
        gradient: Float64Array.from(grads, (g) => evalNode(g, p, none)),
      };
    },
  };
}

/**
 * sqrt(g^T C g) over the parameters at `indices` of the covariance `cov`;
 * NaN without a covariance, Infinity where an entry it needs is infinite
 * (as scipy reports a rank-deficient fit).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { deltaStderr } from "./_derived.ts";
 * const cov = [[4, 1, 0], [1, 9, 0], [0, 0, 1]];
 * // g = (1, 1) over parameters 0 and 1: var = 4 + 9 + 2 * 1
 * assert.strictEqual(deltaStderr([1, 1], [0, 1], cov), Math.sqrt(15));
 * ```
 */
export function deltaStderr(
  g: ArrayLike<number>,
  indices: readonly number[],
  cov: ArrayLike<ArrayLike<number>> | undefined,
): number {
  if (cov === undefined) return NaN;
  let v = 0, infinite = false;
  for (let a = 0; a < indices.length; a++) {
    if (g[a] === 0) continue;
    for (let b = 0; b < indices.length; b++) {
      if (g[b] === 0) continue;
      const c = cov[indices[a]][indices[b]];
      if (Number.isNaN(c)) return NaN;
      if (!Number.isFinite(c)) infinite = true;
      else v += g[a] * c * g[b];
    }
  }
  // scipy fills the covariance of a rank-deficient fit with Infinity.
  if (infinite) return Infinity;
  return v >= 0 ? Math.sqrt(v) : NaN;
}
