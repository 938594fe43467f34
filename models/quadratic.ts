/**
 * The parabola, lmfit's `QuadraticModel`.
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
  name: "quadratic",
  params: ["a", "b", "c"],
  expression: "a * x^2 + b * x + c",
  role: "baseline",
  degree: 2,
  guess: (d): Record<string, number> => {
    const p = polyfit(d.xs, d.ys, 2);
    return p ? { a: p[2], b: p[1], c: p[0] } : {};
  },
};

/**
 * A parabola `a x^2 + b x + c` (lmfit's `QuadraticModel`); the guess is
 * the least-squares parabola.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const g = models.quadratic().guess([0, 1, 2, 3], [1, 2, 5, 10]);
 * assert.ok(Math.abs(g.a - 1) < 1e-12 && Math.abs(g.c - 1) < 1e-12);
 * ```
 */
export function quadratic(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.quadratic"),
  );
}
