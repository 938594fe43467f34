/**
 * WGSL of the Faddeeva function w(z) for the model language's `wofz_re` and
 * `wofz_im` (private helper of `gpu/_wgsl_math.ts`): the algorithm of
 * `model/_faddeeva.ts` (trapezoidal rule with the pole's residue for
 * |z| < 30, the asymptotic series beyond), with straight-line code for the
 * nodes, Dekker's exact products, and the library's `nl_exp`, `nl_sin`
 * and `nl_cos` (Vulkan's f64 transcendentals are wrong). WGSL has no
 * recursion, so y < 0 reflects through the upper half plane in `nl_wofz`.
 *
 * @module
 */

import type { Precision } from "./_wgsl_math.ts";

/** A WGSL library function: what it calls, and its source. */
interface FaddeevaLibFn {
  readonly deps: readonly string[];
  readonly src: (T: Precision, L: (v: number) => string) => string;
}

const K = 14;

/** Dekker's splitter: 2^27 + 1 for f64, 2^12 + 1 for f32. */
const SPLIT = { f64: 134217729, f32: 4097 } as const;
const H = 0.5;

/** One pair of nodes +-t (t from either grid) added to `acc`. */
function pairs(L: (v: number) => string): string {
  const lines: string[] = [];
  for (let k = 0; k < K; k++) {
    const ti = (k + 1) * H, th = (k + 0.5) * H;
    lines.push(
      `  acc += _nl_wofz_pair(x, y2, select(${L(ti)}, ${L(th)}, half), ` +
        `select(${L(Math.exp(-(ti * ti)))}, ${
          L(Math.exp(-(th * th)))
        }, half));`,
    );
  }
  return lines.join("\n");
}

/**
 * The library functions `nl_wofz` (Re and Im as a vec2), `nl_wofz_re` and
 * `nl_wofz_im`, with their private helpers, in the shape of the math
 * library's table.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { WGSL_FADDEEVA } from "./_wgsl_faddeeva.ts";
 * const L = (v: number) => `${v}lf`;
 * assert.match(WGSL_FADDEEVA.nl_wofz_re.src("f64", L), /nl_wofz\(x, y\)\.x/);
 * ```
 */
export const WGSL_FADDEEVA: {
  readonly [
    F in
      | "_nl_prod_err"
      | "_nl_wofz_pair"
      | "_nl_wofz_upper"
      | "nl_wofz"
      | "nl_wofz_re"
      | "nl_wofz_im"
  ]: FaddeevaLibFn;
} = {
  _nl_prod_err: {
    deps: [],
    // a b - p exactly for p = a b rounded (Dekker; WGSL's f64 fma is not
    // fused on lavapipe, so it cannot give the error term)
    src: (T: Precision, L: (v: number) => string) =>
      `fn _nl_prod_err(a: ${T}, b: ${T}, p: ${T}) -> ${T} {
  let ca = ${L(SPLIT[T])} * a;
  let ah = ca - (ca - a);
  let al = a - ah;
  let cb = ${L(SPLIT[T])} * b;
  let bh = cb - (cb - b);
  let bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}`,
  },
  _nl_wofz_pair: {
    deps: [],
    src: (T: Precision) =>
      `fn _nl_wofz_pair(x: ${T}, y2: ${T}, t: ${T}, a: ${T}) -> vec2<${T}> {
  let dm = (x - t) * (x - t) + y2;
  let dp = (x + t) * (x + t) + y2;
  let q = a / (dm * dp);
  return vec2<${T}>(q * (dm + dp), q * ((x - t) * (x + t) + y2));
}`,
  },
  _nl_wofz_upper: {
    deps: ["_nl_prod_err", "_nl_wofz_pair", "nl_exp", "nl_sin", "nl_cos"],
    // w(x + i y) for y >= 0 (see model/_faddeeva.ts for the reasoning).
    src: (T: Precision, L: (v: number) => string) =>
      `fn _nl_wofz_upper(x: ${T}, y: ${T}) -> vec2<${T}> {
  let ax = abs(x);
  if (!(ax < ${L(30)} && y < ${L(30)}) || ax * ax + y * y >= ${L(900)}) {
    if (x != x || y != y) { return vec2<${T}>(x + y, x + y); }
    let m = max(ax, y);
    if (m > ${L(T === "f64" ? Number.MAX_VALUE : 3.4028234663852886e38)}) {
      return vec2<${T}>(${L(0)}, ${L(0)});
    }
    let xs = x / m;
    let ys = y / m;
    let r2 = xs * xs + ys * ys;
    let s = ${L(0.5)} / (r2 * r2 * m * m);
    let ur = (xs - ys) * (xs + ys) * s;
    let ui = ${L(-2)} * xs * ys * s;
    var sr = ${L(1)};
    var si = ${L(0)};
    for (var k = 11; k >= 1; k -= 2) {
      let c = ${T}(k);
      let tr = c * (ur * sr - ui * si);
      let ti = c * (ur * si + ui * sr);
      sr = ${L(1)} + tr;
      si = ti;
    }
    let c = ${L(1 / Math.sqrt(Math.PI))} / (r2 * m);
    return vec2<${T}>(c * (ys * sr - xs * si), c * (xs * sr + ys * si));
  }
  let f2 = ${L(2)} * ax - floor(${L(2)} * ax);
  let half = f2 < ${L(0.25)} || f2 >= ${L(0.75)};
  let y2 = y * y;
  var acc = vec2<${T}>(${L(0)}, ${L(0)});
${pairs(L)}
  var re = y * acc.x;
  var im = ${L(2)} * x * acc.y;
  if (!half) {
    let z2 = ax * ax + y2;
    re += y / z2;
    im += x / z2;
  }
  re *= ${L(H / Math.PI)};
  im *= ${L(H / Math.PI)};
  if (y < ${L(Math.PI / H)}) {
    let x2 = x * x;
    let x2l = _nl_prod_err(x, x, x2);
    let yy = y * y;
    let y2l = _nl_prod_err(y, y, yy);
    // y^2 - x^2 - 4 pi y as eh + el (TwoSum twice; the select()s keep the
    // compiler from simplifying the error terms away)
    let dh = select(yy - x2, yy, x2 == ${L(0)});
    let bv = dh - yy;
    let dl = ((yy - (dh - bv)) + (-x2 - bv)) + (y2l - x2l);
    let c = ${L(-4 * Math.PI)} * y;
    let eh = select(dh + c, dh, c == ${L(0)});
    let bw = eh - dh;
    let el = ((dh - (eh - bw)) + (c - bw)) + dl;
    let E = nl_exp(eh) * (${L(1)} + el);
    if (${L(2)} * E > ${L(1e-18)} * min(re, abs(im))) {
      let p = x * y;
      let pl = _nl_prod_err(x, y, p);
      let cp = nl_cos(${L(2)} * p);
      let sp = nl_sin(${L(2)} * p);
      let er = E * (cp - sp * ${L(2)} * pl);
      let ei = -E * (sp + cp * ${L(2)} * pl);
      let ang = ${L(2 * Math.PI)} * f2;
      let sg = select(${L(1)}, ${L(-1)}, half);
      let dr = nl_exp(c) - sg * nl_cos(ang);
      let sa = nl_sin(ang);
      let di = sg * select(sa, -sa, x < ${L(0)});
      let d2 = dr * dr + di * di;
      re += ${L(2)} * (er * dr + ei * di) / d2;
      im += ${L(2)} * (ei * dr - er * di) / d2;
    }
  }
  return vec2<${T}>(re, im);
}`,
  },
  nl_wofz: {
    deps: ["_nl_wofz_upper", "nl_exp", "nl_sin", "nl_cos"],
    // y < 0: w(z) = 2 exp(-z^2) - w(-z).
    src: (T: Precision, L: (v: number) => string) =>
      `fn nl_wofz(x: ${T}, y: ${T}) -> vec2<${T}> {
  if (!(y < ${L(0)})) { return _nl_wofz_upper(x, y); }
  let w = _nl_wofz_upper(-x, -y);
  let e = ${L(2)} * nl_exp(y * y - x * x);
  let th = ${L(2)} * x * y;
  return vec2<${T}>(e * nl_cos(th) - w.x, -e * nl_sin(th) - w.y);
}`,
  },
  nl_wofz_re: {
    deps: ["nl_wofz"],
    src: (T: Precision) =>
      `fn nl_wofz_re(x: ${T}, y: ${T}) -> ${T} { return nl_wofz(x, y).x; }`,
  },
  nl_wofz_im: {
    deps: ["nl_wofz"],
    src: (T: Precision) =>
      `fn nl_wofz_im(x: ${T}, y: ${T}) -> ${T} { return nl_wofz(x, y).y; }`,
  },
};
