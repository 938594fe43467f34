/**
 * The log-normal peak, lmfit's `LognormalModel`.
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

const ROOT = Math.sqrt(2 * Math.LN2);

/**
 * In u = ln x the peak is a Gaussian in u times exp(-u): its half-maximum
 * crossings sit at the mode u* = center - sigma^2 plus or minus
 * sigma sqrt(2 ln 2).
 */
function fromPeak(m: PeakMeasurement): Record<string, number> {
  const right = Math.max(m.right, m.xMax, 1e-300);
  const left = m.left > 0 ? m.left : Math.min(m.xMax, right) / 2;
  const L = Math.log(left), R = Math.log(right);
  const sigma = Math.max((R - L) / (2 * ROOT), 1e-3);
  const center = (L + R) / 2 + sigma * sigma;
  return {
    amplitude: m.height * sigma * Math.sqrt(2 * Math.PI) *
      Math.exp(center - sigma * sigma / 2),
    center,
    sigma,
  };
}

const SPEC: LeafSpec = {
  name: "lognormal",
  params: ["amplitude", "center", "sigma"],
  // lmfit evaluates x <= 1e-15 at 1e-15.
  expression: "amplitude / (max(x, 1e-15) * sigma * sqrt(2 * pi)) * " +
    "exp(-(log(max(x, 1e-15)) - center)^2 / (2 * sigma^2))",
  hints: { sigma: { min: 0 } },
  derived: [
    {
      name: "height",
      expression:
        "amplitude / (sigma * sqrt(2 * pi)) * exp(sigma^2 / 2 - center)",
    },
    {
      name: "fwhm",
      expression:
        `exp(center - sigma^2 + sigma * ${ROOT}) - exp(center - sigma^2 - sigma * ${ROOT})`,
    },
  ],
  role: "peak",
  fromPeak,
  guess: (d, options) => fromPeak(singlePeak(d, options)),
};

/**
 * A log-normal peak (lmfit's `LognormalModel`):
 * `amplitude / (x sigma sqrt(2 pi)) exp(-(ln x - center)^2 / (2 sigma^2))`
 * for x > 0, with `amplitude` its area; `sigma >= 0`; derived `height` and
 * `fwhm` (exact, as lmfit's).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const x = Array.from({ length: 200 }, (_, i) => 0.05 + i / 20);
 * const m = models.lognormal();
 * const y = m.evaluate([Float64Array.from(x)], [2, 1, 0.4]);
 * const g = m.guess(x, y);
 * assert.ok(Math.abs(g.center - 1) < 0.05 && Math.abs(g.sigma - 0.4) < 0.05);
 * ```
 */
export function lognormal(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.lognormal"),
  );
}
