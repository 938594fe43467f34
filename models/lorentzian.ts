/**
 * The Lorentzian peak, lmfit's `LorentzianModel`.
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

function fromPeak(m: PeakMeasurement): Record<string, number> {
  const sigma = (m.right - m.left) / 2;
  return {
    amplitude: m.height * Math.PI * sigma,
    center: (m.left + m.right) / 2,
    sigma,
  };
}

const SPEC: LeafSpec = {
  name: "lorentzian",
  params: ["amplitude", "center", "sigma"],
  expression: "amplitude / pi * sigma / ((x - center)^2 + sigma^2)",
  hints: { sigma: { min: 0 } },
  derived: [
    { name: "fwhm", expression: "2 * sigma" },
    { name: "height", expression: "amplitude / (pi * sigma)" },
  ],
  role: "peak",
  fromPeak,
  guess: (d, options) => fromPeak(singlePeak(d, options)),
};

/**
 * A Lorentzian peak (lmfit's `LorentzianModel`):
 * `amplitude / pi * sigma / ((x - center)^2 + sigma^2)`, with `amplitude`
 * its area and `sigma` its half width at half maximum (`sigma >= 0`);
 * derived `fwhm` and `height`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.lorentzian();
 * const y = m.evaluate([new Float64Array([1])], [Math.PI, 1, 2]);
 * assert.ok(Math.abs(y[0] - 0.5) < 1e-15); // height amplitude / (pi sigma)
 * ```
 */
export function lorentzian(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.lorentzian"),
  );
}
