/**
 * The pseudo-Voigt peak, lmfit's `PseudoVoigtModel`.
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

/** sqrt(ln 2 / pi): the height of the unit-area Gaussian of HWHM 1. */
const G = Math.sqrt(Math.LN2 / Math.PI);

function fromPeak(m: PeakMeasurement): Record<string, number> {
  const sigma = (m.right - m.left) / 2;
  return {
    amplitude: m.height / ((0.5 * G) / sigma + 0.5 / (Math.PI * sigma)),
    center: (m.left + m.right) / 2,
    sigma,
    fraction: 0.5,
  };
}

const SPEC: LeafSpec = {
  name: "pseudoVoigt",
  params: ["amplitude", "center", "sigma", "fraction"],
  // (1 - fraction) * Gaussian + fraction * Lorentzian, both of area
  // amplitude and FWHM 2 sigma (the Gaussian's sigma_g = sigma/sqrt(2 ln 2)).
  expression:
    `(1 - fraction) * amplitude * ${G} / sigma * exp(-${Math.LN2} * (x - center)^2 / sigma^2)` +
    " + fraction * amplitude * sigma / (pi * ((x - center)^2 + sigma^2))",
  hints: { sigma: { min: 0 }, fraction: { value: 0.5, min: 0, max: 1 } },
  derived: [
    { name: "fwhm", expression: "2 * sigma" },
    {
      name: "height",
      expression:
        `(1 - fraction) * amplitude * ${G} / sigma + fraction * amplitude / (pi * sigma)`,
    },
  ],
  role: "peak",
  fromPeak,
  guess: (d, options) => fromPeak(singlePeak(d, options)),
};

/**
 * A pseudo-Voigt peak (lmfit's `PseudoVoigtModel`): `(1 - fraction)` times
 * a Gaussian plus `fraction` times a Lorentzian, both of area `amplitude`
 * and FWHM `2 sigma`; `sigma >= 0`, `0 <= fraction <= 1`; derived `fwhm`
 * and `height`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.pseudoVoigt();
 * assert.deepStrictEqual(m.params, ["amplitude", "center", "sigma", "fraction"]);
 * assert.deepStrictEqual(m.paramHints.fraction, { value: 0.5, min: 0, max: 1 });
 * ```
 */
export function pseudoVoigt(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.pseudoVoigt"),
  );
}
