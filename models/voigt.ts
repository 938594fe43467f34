/**
 * The Voigt peak, lmfit's `VoigtModel`, through the model language's exact
 * Faddeeva function.
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
import { voigtFwhm } from "./_voigt_width.ts";
import { wofzRe } from "../model/_faddeeva.ts";

/** FWHM / sigma and height * sigma / amplitude at gamma = sigma. */
const TIED_FWHM = voigtFwhm(1, 1).value;
const TIED_HEIGHT = wofzRe(0, Math.SQRT1_2) / Math.sqrt(2 * Math.PI);

function fromPeak(m: PeakMeasurement): Record<string, number> {
  const sigma = (m.right - m.left) / TIED_FWHM;
  return {
    amplitude: (m.height * sigma) / TIED_HEIGHT,
    center: (m.left + m.right) / 2,
    sigma,
    gamma: sigma,
  };
}

const SPEC: LeafSpec = {
  name: "voigt",
  params: ["amplitude", "center", "sigma", "gamma"],
  expression: "amplitude * wofz_re((x - center) / (sigma * sqrt(2)), " +
    "gamma / (sigma * sqrt(2))) / (sigma * sqrt(2 * pi))",
  hints: { sigma: { min: 0 }, gamma: { expr: "sigma", min: 0 } },
  derived: [
    {
      name: "fwhm",
      evaluate(p) {
        const f = voigtFwhm(p[2], p[3]);
        return {
          value: f.value,
          gradient: new Float64Array([0, 0, f.dSigma, f.dGamma]),
        };
      },
    },
    {
      name: "height",
      expression:
        "amplitude * wofz_re(0, gamma / (sigma * sqrt(2))) / (sigma * sqrt(2 * pi))",
    },
  ],
  role: "peak",
  fromPeak,
  guess: (d, options) => fromPeak(singlePeak(d, options)),
};

/**
 * A Voigt peak (lmfit's `VoigtModel`): the convolution of a Gaussian
 * (`sigma`) and a Lorentzian (`gamma`) of area `amplitude`,
 * `amplitude Re w((x - center + i gamma) / (sigma sqrt 2)) / (sigma sqrt(2 pi))`
 * with the Faddeeva function w (`wofz_re` of the model language, exact to
 * about 1e-15). As in lmfit, the hint of `gamma` ties it to `sigma`
 * (`expr`); the guess sets both equal, and a fit that does not apply the
 * hint varies `gamma` freely. Derived: `height`, and `fwhm`, computed
 * exactly (lmfit reports the Olivero-Longbothum approximation,
 * `1.0692 gamma + sqrt(0.8664 gamma^2 + 5.545083 sigma^2)`, good to 2e-4).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.voigt();
 * assert.deepStrictEqual(m.paramHints.gamma, { expr: "sigma", min: 0 });
 * const { fwhm, height } = m.derived([1, 0, 1, 0]); // gamma 0: a Gaussian
 * assert.ok(Math.abs(fwhm.value - 2.3548200450309493) < 1e-14);
 * assert.ok(Math.abs(height.value - 1 / Math.sqrt(2 * Math.PI)) < 1e-15);
 * ```
 */
export function voigt(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.voigt"),
  );
}
