/**
 * The power law, lmfit's `PowerLawModel`.
 *
 * @module
 */

import type { BuiltinModel } from "./builtin_model.ts";
import type { GuessData } from "./_data.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type LeafSpec,
  type ModelFactoryOptions,
} from "./_leaf.ts";
import { exponentialRate } from "./_exp_fit.ts";

/**
 * amplitude * x^exponent is an exponential in t = ln x (points with
 * x > 0): the rate from the integral equation or a weighted log-log fit
 * (see `_exp_fit.ts`).
 */
function guess(d: GuessData): Record<string, number> {
  const keep: number[] = [];
  d.xs.forEach((x, i) => {
    if (x > 0) keep.push(i);
  });
  if (keep.length < 2) return {};
  const t = Float64Array.from(keep, (i) => Math.log(d.xs[i]));
  const y = Float64Array.from(keep, (i) => d.ys[i]);
  const { k, A } = exponentialRate(t, y);
  return Number.isFinite(k) ? { amplitude: A, exponent: k } : {};
}

const SPEC: LeafSpec = {
  name: "powerLaw",
  params: ["amplitude", "exponent"],
  expression: "amplitude * x^exponent",
  guess,
};

/**
 * A power law `amplitude * x^exponent` (lmfit's `PowerLawModel`), for
 * x > 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const x = Array.from({ length: 50 }, (_, i) => 1 + i);
 * const g = models.powerLaw().guess(x, x.map((t) => 4 * t ** -1.5));
 * assert.ok(Math.abs(g.exponent + 1.5) < 0.02);
 * ```
 */
export function powerLaw(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.powerLaw"),
  );
}
