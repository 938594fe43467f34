/**
 * The two-dimensional Gaussian peak, lmfit's `Gaussian2dModel`.
 *
 * @module
 */

import type { BuiltinModel, GuessOptions } from "./builtin_model.ts";
import type { GuessData } from "./_data.ts";
import { GAUSSIAN_FWHM } from "./gaussian.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type LeafSpec,
  type ModelFactoryOptions,
} from "./_leaf.ts";
import { medianOf } from "./_levels.ts";

/**
 * Second moment of one coordinate of a unit 2-D Gaussian over its points
 * above half height, weighted by the height above half:
 * 1 - (ln 2)^2 / (2 (1 - ln 2)).
 */
const HALF_MOMENT = 1 - Math.LN2 ** 2 / (2 * (1 - Math.LN2));

/**
 * Centres and widths from the moments of the points above half height
 * (weighted by the height above half), which a grid or evenly scattered
 * points sample fairly; lmfit's range / 6 where too few points are above.
 */
function guess(d: GuessData, options: GuessOptions): Record<string, number> {
  const [x, y] = d.x, z = d.y;
  const mid = medianOf(z);
  let hi = -Infinity, lo = Infinity, iMax = 0, iMin = 0;
  z.forEach((v, i) => {
    if (v > hi) [hi, iMax] = [v, i];
    if (v < lo) [lo, iMin] = [v, i];
  });
  const negative = options.negative ?? mid - lo > hi - mid;
  const sign = negative ? -1 : 1;
  const h = sign > 0 ? hi : lo;
  let sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0, count = 0;
  z.forEach((v, i) => {
    const w = sign * v - Math.abs(h) / 2;
    if (!(w > 0)) return;
    count++;
    sw += w;
    sx += w * x[i];
    sy += w * y[i];
    sxx += w * x[i] * x[i];
    syy += w * y[i] * y[i];
  });
  const span = (v: Float64Array) => {
    let a = Infinity, b = -Infinity;
    for (const t of v) [a, b] = [Math.min(a, t), Math.max(b, t)];
    return (b - a) / 6 || 1;
  };
  let centerx = x[sign > 0 ? iMax : iMin], centery = y[sign > 0 ? iMax : iMin];
  let sigmax = span(x), sigmay = span(y);
  if (count >= 5) {
    centerx = sx / sw;
    centery = sy / sw;
    const vx = sxx / sw - centerx * centerx, vy = syy / sw - centery * centery;
    if (vx > 0) sigmax = Math.sqrt(vx / HALF_MOMENT);
    if (vy > 0) sigmay = Math.sqrt(vy / HALF_MOMENT);
  }
  return {
    amplitude: h * 2 * Math.PI * sigmax * sigmay,
    centerx,
    centery,
    sigmax,
    sigmay,
  };
}

const SPEC: LeafSpec = {
  name: "gaussian2d",
  params: ["amplitude", "centerx", "centery", "sigmax", "sigmay"],
  variables: ["x", "y"],
  expression: "amplitude / (2 * pi * sigmax * sigmay) * " +
    "exp(-(x - centerx)^2 / (2 * sigmax^2) - (y - centery)^2 / (2 * sigmay^2))",
  hints: { sigmax: { min: 0 }, sigmay: { min: 0 } },
  derived: [
    { name: "fwhmx", expression: `${GAUSSIAN_FWHM} * sigmax` },
    { name: "fwhmy", expression: `${GAUSSIAN_FWHM} * sigmay` },
    { name: "height", expression: "amplitude / (2 * pi * sigmax * sigmay)" },
  ],
  guess,
};

/**
 * A two-dimensional Gaussian peak in variables `x` and `y` (lmfit's
 * `Gaussian2dModel`; pass x as `[xColumn, yColumn]`), with `amplitude` its
 * volume; `sigmax, sigmay >= 0`; derived `fwhmx`, `fwhmy` and `height`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.gaussian2d();
 * assert.deepStrictEqual(m.variables, ["x", "y"]);
 * const X: number[] = [], Y: number[] = [];
 * for (let i = 0; i < 30; i++) for (let j = 0; j < 30; j++) X.push(i / 3), Y.push(j / 3);
 * const z = m.evaluate([Float64Array.from(X), Float64Array.from(Y)], [5, 4, 6, 1, 1.5]);
 * const g = m.guess([X, Y], z);
 * assert.ok(Math.abs(g.centerx - 4) < 0.05 && Math.abs(g.sigmay - 1.5) < 0.1);
 * ```
 */
export function gaussian2d(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.gaussian2d"),
  );
}
