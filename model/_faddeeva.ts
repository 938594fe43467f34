/**
 * The Faddeeva function w(z) = exp(-z^2) erfc(-i z) in double precision
 * (private helper): the model language's `wofz_re(x, y)` and `wofz_im(x, y)`
 * are its real and imaginary parts at z = x + i y. Re w is the Voigt
 * profile.
 *
 * Algorithm (y >= 0; y < 0 by w(z) = 2 exp(-z^2) - w(-z)):
 *
 * - |z| < 30: the trapezoidal rule with step h = 1/2 on
 *   w(z) = (i/pi) * integral exp(-t^2) / (z - t) dt, plus the residue of the
 *   pole at t = z, 2 exp(-z^2) / (1 -+ exp(-2 pi i z / h)), while y < pi/h
 *   (Chiarella & Reichel 1968, Matta & Reichel 1971). The rule's error is of
 *   order exp(-pi^2/h^2) = 7e-18 of |w|. The nodes are either k h or
 *   (k + 1/2) h, whichever set keeps x at least h/4 from every node, so the
 *   pole term never cancels a node's term. Nodes of opposite sign are summed
 *   in pairs, with the real part as a sum of positive terms and the
 *   imaginary part proportional to x, so both parts keep their relative
 *   accuracy near the real axis and near 0; exp(y^2 - x^2) and cos, sin of
 *   2xy take exact products (double-double), and the pole term's angle comes
 *   from the exact fraction of 2x.
 * - |z| >= 30: the asymptotic series i/(sqrt(pi) z) * sum (2k-1)!!/(2z^2)^k
 *   up to k = 6 (error below 1e-18 of |w|), in scaled variables so that no
 *   |z| overflows.
 *
 * Measured against mpmath (40 digits) on 22,000 points with x in
 * [-1e3, 1e3] and y in {0} and [1e-8, 1e3]: see tests/model_faddeeva_test.ts.
 *
 * Every name the functions use is defined in this file and emitted by
 * {@linkcode faddeevaSource}, so compiled kernels (and worker threads that
 * rebuild them from source) call the same code.
 *
 * @module
 */

import { declarationOf } from "../core/_function_source.ts";

/** Pairs of nodes per grid: t up to 6.75, where exp(-t^2) < 2e-20. */
const WOFZ_K = 14;

/**
 * Nodes and weights exp(-t^2) of both grids: entries 0..13 are t = (k+1)/2
 * (the grid k h, node 0 apart), entries 14..27 are t = (k + 1/2)/2.
 */
function nodeTables(): { t: number[]; a: number[] } {
  const t: number[] = [], a: number[] = [];
  for (let k = 0; k < WOFZ_K; k++) t.push((k + 1) * 0.5);
  for (let k = 0; k < WOFZ_K; k++) t.push((k + 0.5) * 0.5);
  for (const v of t) a.push(Math.exp(-(v * v)));
  return { t, a };
}

const TABLES = nodeTables();
const WOFZ_T = new Float64Array(TABLES.t);
const WOFZ_A = new Float64Array(TABLES.a);

/**
 * Writes Re w(z) and Im w(z), z = x + i y, to out[0] and out[1].
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { wofzInto } from "./_faddeeva.ts";
 * const out = new Float64Array(2);
 * wofzInto(0, 1, out); // w(i) = exp(1) erfc(1)
 * assert.ok(Math.abs(out[0] - 0.42758357615580705) < 1e-16);
 * assert.strictEqual(out[1], 0);
 * ```
 */
export function wofzInto(x: number, y: number, out: Float64Array): void {
  if (y < 0) {
    // w(z) = 2 exp(-z^2) - w(-z), with -z in the upper half plane.
    wofzInto(-x, -y, out);
    const e = Math.exp(y * y - x * x), th = 2 * x * y;
    out[0] = 2 * e * Math.cos(th) - out[0];
    out[1] = -2 * e * Math.sin(th) - out[1];
    return;
  }
  const ax = Math.abs(x);
  if (!(ax < 30 && y < 30) || ax * ax + y * y >= 900) {
    if (ax === Infinity || y === Infinity) {
      out[0] = x === x ? 0 : x;
      out[1] = x === x ? 0 : x;
      return;
    }
    if (x !== x || y !== y) {
      out[0] = out[1] = x + y;
      return;
    }
    // i/(sqrt(pi) z) * (1 + 1/(2 z^2) + 3/(2 z^2)^2 + ...), with
    // z = m (xs + i ys), m = max(|x|, y), so nothing overflows.
    const m = ax > y ? ax : y;
    const xs = x / m, ys = y / m;
    const r2 = xs * xs + ys * ys;
    // u = 1/(2 z^2) = conj(z)^2 / (2 |z|^4)
    const s = 0.5 / (r2 * r2 * m * m);
    const ur = (xs - ys) * (xs + ys) * s, ui = -2 * xs * ys * s;
    // S = 1 + u (1 + 3u (1 + 5u (1 + 7u (1 + 9u (1 + 11u))))) by Horner
    let sr = 1, si = 0;
    for (let k = 11; k >= 1; k -= 2) {
      const tr = k * (ur * sr - ui * si), ti = k * (ur * si + ui * sr);
      sr = 1 + tr;
      si = ti;
    }
    // i/z = (y + i x) / |z|^2
    const c = 0.5641895835477563 / (r2 * m);
    out[0] = c * (ys * sr - xs * si);
    out[1] = c * (xs * sr + ys * si);
    return;
  }
  // The grid: x at least h/4 = 1/8 from every node.
  const f2 = 2 * ax - Math.floor(2 * ax); // exact: position of x between nodes
  const half = f2 < 0.25 || f2 >= 0.75;
  const base = half ? WOFZ_K : 0;
  const y2 = y * y;
  let re = 0, im = 0;
  if (!half) {
    // The node t = 0: i / z.
    const z2 = ax * ax + y2;
    re = y / z2;
    im = x / z2;
  }
  for (let k = 0; k < WOFZ_K; k++) {
    const t = WOFZ_T[base + k];
    const dm = (x - t) * (x - t) + y2, dp = (x + t) * (x + t) + y2;
    const q = WOFZ_A[base + k] / (dm * dp);
    re += q * y * (dm + dp);
    im += q * 2 * x * ((x - t) * (x + t) + y2);
  }
  re *= 0.15915494309189535; // h / pi
  im *= 0.15915494309189535;
  if (y < 6.283185307179586) {
    // The pole's residue 2 exp(-z^2) / (1 - s exp(-2 pi i z / h)), s = -1
    // on the half grid, numerator and denominator times g = exp(-4 pi y):
    // E = g exp(y^2 - x^2) from exact products (Dekker's split) and sums.
    const cx = 134217729 * x, xh = cx - (cx - x), xl = x - xh;
    const cy = 134217729 * y, yh = cy - (cy - y), yl = y - yh;
    const x2 = x * x, x2l = ((xh * xh - x2) + 2 * xh * xl) + xl * xl;
    const yy = y * y, y2l = ((yh * yh - yy) + 2 * yh * yl) + yl * yl;
    const dh = yy - x2;
    let bv = dh - yy;
    const dl = ((yy - (dh - bv)) + (-x2 - bv)) + (y2l - x2l);
    const c = -12.566370614359172 * y, eh = dh + c;
    bv = eh - dh;
    const el = ((dh - (eh - bv)) + (c - bv)) + dl;
    const E = Math.exp(eh) * (1 + el);
    // |denominator| >= 1 on either grid: skip a term below 1e-18 of both
    // parts (never on the real axis, where it is all of Re w).
    if (2 * E > 1e-18 * Math.min(re, Math.abs(im))) {
      const p = x * y, pl = ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
      const cp = Math.cos(2 * p), sp = Math.sin(2 * p);
      const er = E * (cp - sp * 2 * pl), ei = -E * (sp + cp * 2 * pl);
      // exp(-4 pi i x) = exp(-2 pi i f2) for x >= 0 (conjugated for x < 0)
      const ang = 6.283185307179586 * f2;
      const sg = half ? -1 : 1;
      const dr = Math.exp(c) - sg * Math.cos(ang);
      const di = sg * (x < 0 ? -Math.sin(ang) : Math.sin(ang));
      const d2 = dr * dr + di * di;
      re += 2 * (er * dr + ei * di) / d2;
      im += 2 * (ei * dr - er * di) / d2;
    }
  }
  out[0] = re;
  out[1] = im;
}

const WOFZ_OUT = new Float64Array(2);
// The last argument, so that wofzRe and wofzIm at the same point (as in a
// model and its derivatives) compute w once.
const WOFZ_LAST = new Float64Array([NaN, NaN]);

/**
 * Re w(x + i y), the Voigt function.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { wofzRe } from "./_faddeeva.ts";
 * assert.ok(Math.abs(wofzRe(1, 0) - Math.exp(-1)) < 1e-16);
 * ```
 */
export function wofzRe(x: number, y: number): number {
  if (x !== WOFZ_LAST[0] || y !== WOFZ_LAST[1]) {
    wofzInto(x, y, WOFZ_OUT);
    WOFZ_LAST[0] = x;
    WOFZ_LAST[1] = y;
  }
  return WOFZ_OUT[0];
}

/**
 * Im w(x + i y).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { wofzIm } from "./_faddeeva.ts";
 * // Im w(x) = 2/sqrt(pi) * Dawson(x); Dawson(1) = 0.5380795069127684
 * assert.ok(Math.abs(wofzIm(1, 0) - 0.6071577058413937) < 1e-15);
 * ```
 */
export function wofzIm(x: number, y: number): number {
  if (x !== WOFZ_LAST[0] || y !== WOFZ_LAST[1]) {
    wofzInto(x, y, WOFZ_OUT);
    WOFZ_LAST[0] = x;
    WOFZ_LAST[1] = y;
  }
  return WOFZ_OUT[1];
}

/**
 * Source of `wofzRe` and `wofzIm` (with their tables and state) to place in
 * a compiled kernel's scope.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { faddeevaSource, wofzRe } from "./_faddeeva.ts";
 * const f = new Function(`${faddeevaSource()}\nreturn wofzRe;`)();
 * assert.strictEqual(f(0.3, 0.2), wofzRe(0.3, 0.2));
 * ```
 */
export function faddeevaSource(): string {
  return [
    `const WOFZ_K = ${WOFZ_K};`,
    `const WOFZ_T = new Float64Array([${TABLES.t.join(", ")}]);`,
    `const WOFZ_A = new Float64Array([${TABLES.a.join(", ")}]);`,
    "const WOFZ_OUT = new Float64Array(2);",
    "const WOFZ_LAST = new Float64Array([NaN, NaN]);",
    // Generated kernels call these names, whatever a bundler renamed them to.
    declarationOf("wofzInto", wofzInto),
    declarationOf("wofzRe", wofzRe),
    declarationOf("wofzIm", wofzIm),
  ].join("\n");
}
