/**
 * The constant, lmfit's `ConstantModel`.
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

const SPEC: LeafSpec = {
  name: "constant",
  params: ["c"],
  expression: "c",
  role: "baseline",
  degree: 0,
  guess: (d) => ({ c: d.y.reduce((s, v) => s + v, 0) / d.y.length }),
};

/**
 * A constant `c` (lmfit's `ConstantModel`); the guess is the mean of y.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.constant({ prefix: "bg_" });
 * assert.deepStrictEqual(m.guess([1, 2, 3], [4, 5, 6]), { bg_c: 5 });
 * ```
 */
export function constant(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.constant"),
  );
}
