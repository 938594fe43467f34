/**
 * The exact full width at half maximum of the Voigt profile (private helper
 * of `models/voigt.ts`), with its gradient by implicit differentiation.
 *
 * In u = x / (sigma sqrt 2) and a = gamma / (sigma sqrt 2) the profile is
 * Re w(u + i a); its half width u_h(a) solves F(u, a) = Re w(u, a) -
 * Re w(0, a) / 2 = 0, and fwhm = 2 sqrt(2) sigma u_h(a).
 *
 * @module
 */

import { wofzIm, wofzRe } from "../model/_faddeeva.ts";

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** d Re w / d y at x + i y (Cauchy-Riemann: 2 Im(z w) - 2/sqrt(pi)). */
function dReDy(x: number, y: number): number {
  return 2 * (x * wofzIm(x, y) + y * wofzRe(x, y)) - TWO_OVER_SQRT_PI;
}

/**
 * u_h(a) and du_h/da: Newton's method from the Olivero-Longbothum estimate,
 * kept inside a bracket (F decreases in u).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { voigtHalfWidth } from "./_voigt_width.ts";
 * // a = 0: the Gaussian, u_h = sqrt(ln 2)
 * assert.ok(Math.abs(voigtHalfWidth(0).u - Math.sqrt(Math.LN2)) < 1e-15);
 * ```
 */
export function voigtHalfWidth(a: number): { u: number; du: number } {
  if (!(a >= 0) || a === Infinity) return { u: NaN, du: NaN };
  const half = wofzRe(0, a) / 2;
  const fG = 2 * Math.sqrt(Math.LN2), fL = 2 * a;
  let u = (0.5346 * fL + Math.sqrt(0.2166 * fL * fL + fG * fG)) / 2;
  let lo = 0, hi = Infinity;
  for (let k = 0; k < 100; k++) {
    const re = wofzRe(u, a);
    const f = re - half;
    if (f > 0) lo = u;
    else hi = u;
    const fu = -2 * (u * re - a * wofzIm(u, a));
    let next = u - f / fu;
    if (!(next > lo && next < hi)) {
      next = hi === Infinity ? 2 * u : (lo + hi) / 2;
    }
    const done = Math.abs(next - u) <= 1e-15 * u;
    u = next;
    if (done || hi - lo <= 4e-16 * u) break;
  }
  const re = wofzRe(u, a);
  const fu = -2 * (u * re - a * wofzIm(u, a));
  const fa = dReDy(u, a) - dReDy(0, a) / 2;
  return { u, du: -fa / fu };
}

/**
 * The FWHM of lmfit's Voigt profile of `sigma`, `gamma` and its gradient
 * with respect to (sigma, gamma); NaN for sigma <= 0 or gamma < 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { voigtFwhm } from "./_voigt_width.ts";
 * // gamma = sigma: 3.6011 sigma (lmfit's approximate formula gives 3.6013)
 * assert.ok(Math.abs(voigtFwhm(1, 1).value - 3.601135677203) < 1e-12);
 * ```
 */
export function voigtFwhm(
  sigma: number,
  gamma: number,
): { value: number; dSigma: number; dGamma: number } {
  if (!(sigma > 0) || !(gamma >= 0)) {
    return { value: NaN, dSigma: NaN, dGamma: NaN };
  }
  const a = gamma / (sigma * Math.SQRT2);
  const { u, du } = voigtHalfWidth(a);
  return {
    value: 2 * Math.SQRT2 * sigma * u,
    dSigma: 2 * Math.SQRT2 * (u - a * du),
    dGamma: 2 * du,
  };
}
