/**
 * The exponential decay without offset, lmfit's `ExponentialModel`.
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
 * amplitude and decay of amplitude * exp(-x / decay), the rate from the
 * integral equation or a weighted log-linear fit (see `_exp_fit.ts`).
 */
function guess(d: GuessData): Record<string, number> {
  const { k, A } = exponentialRate(d.xs, d.ys);
  return k !== 0 && Number.isFinite(k) ? { amplitude: A, decay: -1 / k } : {};
}

const SPEC: LeafSpec = {
  name: "exponential",
  params: ["amplitude", "decay"],
  expression: "amplitude * exp(-x / decay)",
  guess,
};

/**
 * An exponential `amplitude * exp(-x / decay)` (lmfit's
 * `ExponentialModel`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const x = Array.from({ length: 60 }, (_, i) => i / 10);
 * const g = models.exponential().guess(x, x.map((t) => 3 * Math.exp(-t / 1.5)));
 * assert.ok(Math.abs(g.decay - 1.5) < 0.01 && Math.abs(g.amplitude - 3) < 0.02);
 * ```
 */
export function exponential(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.exponential"),
  );
}
