/**
 * The logistic sigmoid, lmfit's `lineshapes.logistic`.
 *
 * @module
 */

import type { BuiltinModel } from "./builtin_model.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type LeafSpec,
  type ModelFactoryOptions,
} from "./_leaf.ts";
import { stepGuess } from "./_sigmoid_guess.ts";

const SPEC: LeafSpec = {
  name: "logistic",
  params: ["amplitude", "center", "sigma"],
  expression: "amplitude * (1 - 1 / (1 + exp((x - center) / sigma)))",
  hints: { sigma: { min: 0 } },
  guess: (d) => stepGuess(d, 2 * Math.log(3)),
};

/**
 * The logistic sigmoid `amplitude * (1 - 1 / (1 + exp((x - center) /
 * sigma)))` (lmfit's `lineshapes.logistic`, the same as
 * `step({ form: "logistic" })`): from 0 to `amplitude`, half way at
 * `center`; `sigma >= 0` (a falling curve has a negative amplitude).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.logistic();
 * const y = m.evaluate([new Float64Array([1, 1 + Math.log(3)])], [2, 1, 1]);
 * assert.ok(Math.abs(y[0] - 1) < 1e-15 && Math.abs(y[1] - 1.5) < 1e-15);
 * ```
 */
export function logistic(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.logistic"),
  );
}
