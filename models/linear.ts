/**
 * The straight line, lmfit's `LinearModel`.
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
import { polyfit } from "./_linear_lsq.ts";

const SPEC: LeafSpec = {
  name: "linear",
  params: ["slope", "intercept"],
  expression: "slope * x + intercept",
  role: "baseline",
  degree: 1,
  guess: (d): Record<string, number> => {
    const c = polyfit(d.xs, d.ys, 1);
    return c ? { intercept: c[0], slope: c[1] } : {};
  },
};

/**
 * A straight line `slope * x + intercept` (lmfit's `LinearModel`); the
 * guess is the least-squares line.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const g = models.linear().guess([0, 1, 2], [1, 3, 5]);
 * assert.ok(Math.abs(g.slope - 2) < 1e-12 && Math.abs(g.intercept - 1) < 1e-12);
 * ```
 */
export function linear(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.linear"),
  );
}
