/**
 * The Gaussian peak, lmfit's `GaussianModel`.
 *
 * @module
 */

import type { BuiltinModel } from "./builtin_model.ts";
import type { PeakMeasurement } from "./_internal.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type LeafSpec,
  type ModelFactoryOptions,
} from "./_leaf.ts";
import { singlePeak } from "./_peak_guess.ts";

/** 2 sqrt(2 ln 2): the FWHM of a Gaussian of standard deviation 1. */
export const GAUSSIAN_FWHM = 2 * Math.sqrt(2 * Math.LN2);

function fromPeak(m: PeakMeasurement): Record<string, number> {
  const sigma = (m.right - m.left) / GAUSSIAN_FWHM;
  return {
    amplitude: m.height * sigma * Math.sqrt(2 * Math.PI),
    center: (m.left + m.right) / 2,
    sigma,
  };
}

const SPEC: LeafSpec = {
  name: "gaussian",
  params: ["amplitude", "center", "sigma"],
  expression:
    "amplitude / (sigma * sqrt(2 * pi)) * exp(-(x - center)^2 / (2 * sigma^2))",
  hints: { sigma: { min: 0 } },
  derived: [
    { name: "fwhm", expression: `${GAUSSIAN_FWHM} * sigma` },
    { name: "height", expression: "amplitude / (sigma * sqrt(2 * pi))" },
  ],
  role: "peak",
  fromPeak,
  guess: (d, options) => fromPeak(singlePeak(d, options)),
};

/**
 * A Gaussian peak (lmfit's `GaussianModel`):
 * `amplitude / (sigma sqrt(2 pi)) exp(-(x - center)^2 / (2 sigma^2))`,
 * with `amplitude` its area; `sigma >= 0`; derived `fwhm` and `height`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.gaussian({ prefix: "g1_" });
 * assert.deepStrictEqual(m.params, ["g1_amplitude", "g1_center", "g1_sigma"]);
 * const { g1_fwhm, g1_height } = m.derived([2, 0, 1]);
 * assert.ok(Math.abs(g1_fwhm.value - 2.3548200450309493) < 1e-15);
 * assert.ok(Math.abs(g1_height.value - 2 / Math.sqrt(2 * Math.PI)) < 1e-15);
 * ```
 */
export function gaussian(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.gaussian"),
  );
}
