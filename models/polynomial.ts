/**
 * The polynomial of a given degree, lmfit's `PolynomialModel`.
 *
 * @module
 */

import type { BuiltinModel } from "./builtin_model.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type ModelFactoryOptions,
} from "./_leaf.ts";
import { polyfit } from "./_linear_lsq.ts";

/**
 * Options of {@linkcode polynomial}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { PolynomialOptions } from "@nlsq/nlsq/model";
 * const o: PolynomialOptions = { degree: 3 };
 * assert.deepStrictEqual(models.polynomial(o).params, ["c0", "c1", "c2", "c3"]);
 * ```
 */
export interface PolynomialOptions extends ModelFactoryOptions {
  /** Degree, an integer from 0 to 7 (lmfit's range). */
  readonly degree: number;
}

/**
 * A polynomial `c0 + c1 x + ... + cN x^N` of degree N = `degree` (lmfit's
 * `PolynomialModel`, evaluated by Horner's rule); the guess is the
 * least-squares polynomial.
 *
 * @throws {RangeError} when the degree is not an integer from 0 to 7.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.polynomial({ degree: 2, prefix: "p_" });
 * assert.strictEqual(m.expression, "p_c0 + x * (p_c1 + x * (p_c2))");
 * const g = m.guess([0, 1, 2, 3], [1, 2, 5, 10]);
 * assert.ok(Math.abs(g.p_c2 - 1) < 1e-12);
 * ```
 */
export function polynomial(options: PolynomialOptions): BuiltinModel {
  const who = "models.polynomial";
  const prefix = checkFactoryOptions(options, ["prefix", "degree"], who);
  const degree = options?.degree;
  if (!Number.isInteger(degree) || degree < 0 || degree > 7) {
    throw new RangeError(
      `${who}: degree must be an integer from 0 to 7, got ${degree}`,
    );
  }
  const params = Array.from({ length: degree + 1 }, (_, k) => `c${k}`);
  let expression = `c${degree}`;
  for (let k = degree - 1; k >= 0; k--) {
    expression = `c${k} + x * (${expression})`;
  }
  return createLeaf({
    name: "polynomial",
    params,
    expression,
    role: "baseline",
    degree,
    options: { degree },
    guess: (d) => {
      const c = polyfit(d.xs, d.ys, degree);
      return c ? Object.fromEntries(params.map((p, k) => [p, c[k]])) : {};
    },
  }, prefix);
}
