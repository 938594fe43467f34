/**
 * The error function in double precision (private helper).
 *
 * W. J. Cody's rational Chebyshev approximations (CALERF, 1969/1985),
 * accurate to about 1e-16 relative over the whole real line.
 *
 * The function is fully self-contained (every constant lives inside its body)
 * on purpose: the JavaScript code generator inlines `erf.toString()` into
 * `kernelSource`, so a kernel rebuilt in a worker needs no import.
 *
 * @module
 */

/**
 * Error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { erf } from "./_erf.ts";
 * assert.ok(Math.abs(erf(1) - 0.8427007929497149) < 1e-15);
 * ```
 */
export function erf(x: number): number {
  const y = Math.abs(x);
  let result: number;
  if (y <= 0.46875) {
    // erf directly: x * P(x^2) / Q(x^2).
    const z = y > 1.11e-16 ? y * y : 0;
    let xnum = 1.85777706184603153e-1 * z;
    let xden = z;
    xnum = (xnum + 3.16112374387056560e00) * z;
    xden = (xden + 2.36012909523441209e01) * z;
    xnum = (xnum + 1.13864154151050156e02) * z;
    xden = (xden + 2.44024637934444173e02) * z;
    xnum = (xnum + 3.77485237685302021e02) * z;
    xden = (xden + 1.28261652607737228e03) * z;
    return x * (xnum + 3.20937758913846947e03) /
      (xden + 2.84423683343917062e03);
  }
  if (y <= 4) {
    // erfc(y) = exp(-y^2) * P(y) / Q(y).
    let xnum = 2.15311535474403846e-8 * y;
    let xden = y;
    xnum = (xnum + 5.64188496988670089e-1) * y;
    xden = (xden + 1.57449261107098347e01) * y;
    xnum = (xnum + 8.88314979438837594e00) * y;
    xden = (xden + 1.17693950891312499e02) * y;
    xnum = (xnum + 6.61191906371416295e01) * y;
    xden = (xden + 5.37181101862009858e02) * y;
    xnum = (xnum + 2.98635138197400131e02) * y;
    xden = (xden + 1.62138957456669019e03) * y;
    xnum = (xnum + 8.81952221241769090e02) * y;
    xden = (xden + 3.29079923573345963e03) * y;
    xnum = (xnum + 1.71204761263407058e03) * y;
    xden = (xden + 4.36261909014324716e03) * y;
    xnum = (xnum + 2.05107837782607147e03) * y;
    xden = (xden + 3.43936767414372164e03) * y;
    result = (xnum + 1.23033935479799725e03) /
      (xden + 1.23033935480374942e03);
    // exp(-y^2) split as exp(-ysq^2) * exp(-del) to keep y^2 exact.
    const ysq = Math.trunc(y * 16) / 16;
    const del = (y - ysq) * (y + ysq);
    result = Math.exp(-ysq * ysq) * Math.exp(-del) * result;
  } else if (y >= 26.543 || y !== y) {
    // erfc underflows; NaN falls through to the sign fix-up below.
    result = y !== y ? y : 0;
  } else {
    // erfc(y) = exp(-y^2)/y * (1/sqrt(pi) + 1/y^2 * P(1/y^2) / Q(1/y^2)).
    const z = 1 / (y * y);
    let xnum = 1.63153871373020978e-2 * z;
    let xden = z;
    xnum = (xnum + 3.05326634961232344e-1) * z;
    xden = (xden + 2.56852019228982242e00) * z;
    xnum = (xnum + 3.60344899949804439e-1) * z;
    xden = (xden + 1.87295284992346047e00) * z;
    xnum = (xnum + 1.25781726111229246e-1) * z;
    xden = (xden + 5.27905102951428412e-1) * z;
    xnum = (xnum + 1.60837851487422766e-2) * z;
    xden = (xden + 6.05183413124413191e-2) * z;
    result = z * (xnum + 6.58749161529837803e-4) /
      (xden + 2.33520497626869185e-3);
    result = (5.6418958354775628695e-1 - result) / y;
    const ysq = Math.trunc(y * 16) / 16;
    const del = (y - ysq) * (y + ysq);
    result = Math.exp(-ysq * ysq) * Math.exp(-del) * result;
  }
  result = (0.5 - result) + 0.5;
  return x < 0 ? -result : result;
}
