/**
 * WGSL implementations of the model language's functions, for f64 and f32.
 *
 * Lavapipe (and Vulkan in general) accepts the GLSL.std.450 transcendental
 * builtins on f64 but computes garbage (exp, log, sin, ... are only defined
 * for 16/32-bit floats), and WGSL has no `frexp`/`bitcast` for f64 without
 * 64-bit integers. So every f64 transcendental here is built from +, *, /,
 * sqrt, fma, floor and round, which are exact on f64 (powers of two come
 * from f32 bit patterns: ldexp/frexp are scalar libm calls on lavapipe): argument
 * reduction plus near-minimax polynomials (Chebyshev fits made with mpmath
 * at 50 digits for this project). In f32 the accurate builtins (exp, log,
 * sin, cos, tan, sqrt) are used; lavapipe's f32 atan/asin/acos (thousands of
 * ulps) and sinh/tanh (100+ ulps near 0) are replaced by the same algorithms
 * evaluated in f32.
 *
 * @module
 */

import type { FunctionName, InternalFunctionName } from "../model/ast.ts";
import { WGSL_FADDEEVA } from "./_wgsl_faddeeva.ts";

/** Floating-point type of a generated kernel. */
export type Precision = "f64" | "f32";

/**
 * A WGSL literal of type `precision` for a finite number, written so that it
 * parses back to the same value (JavaScript's shortest round-trip digits).
 *
 * @throws {RangeError} for a non-finite value or one that overflows f32.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(wgslLiteral(2, "f64"), "2.0lf");
 * assert.strictEqual(wgslLiteral(0.5, "f32"), "0.5f");
 * ```
 */
export function wgslLiteral(v: number, precision: Precision): string {
  if (!Number.isFinite(v)) {
    throw new RangeError(`wgslLiteral: ${v} has no WGSL literal form`);
  }
  if (precision === "f32") {
    const f = Math.fround(v);
    if (!Number.isFinite(f)) {
      throw new RangeError(`wgslLiteral: ${v} overflows f32`);
    }
    v = f;
  }
  let s = Object.is(v, -0) ? "-0.0" : String(v);
  if (!/[.e]/.test(s)) s += ".0";
  return `${s}${precision === "f64" ? "lf" : "f"}`;
}

// Chebyshev-fitted coefficients, highest degree first (Horner order).
const C = {
  // (exp(r) - 1 - r) / r^2 on |r| <= ln2/2
  exp: [
    2.0914898727175524e-09,
    2.5105513541847086e-08,
    2.755727313289604e-07,
    2.7557254685728803e-06,
    2.480158732595111e-05,
    0.0001984126987538548,
    0.0013888888888883633,
    0.008333333333325973,
    0.04166666666666667,
    0.1666666666666667,
    0.5,
  ],
  // (2 atanh(s) - 2 s) / s^3 in z = s^2, s = f / (2 + f), |s| <= 0.1716
  log: [
    0.14632329325292226,
    0.15330429379138588,
    0.18182928228467873,
    0.2222221059494989,
    0.28571428629301976,
    0.3999999999989213,
    0.666666666666667,
  ],
  // (sin t - t) / t^3 in z = t^2, |t| <= pi/4
  sin: [
    1.5917771759341917e-10,
    -2.5051126876085338e-08,
    2.755731607868067e-06,
    -0.00019841269836712495,
    0.008333333333330918,
    -0.16666666666666666,
  ],
  // (cos t - 1 + t^2/2) / t^4 in z = t^2, |t| <= pi/4
  cos: [
    -1.1382408754153254e-11,
    2.087614315990944e-09,
    -2.755731725679604e-07,
    2.4801587298736863e-05,
    -0.0013888888888887378,
    0.041666666666666664,
  ],
  // (atan t - t) / t^3 in z = t^2, |t| <= tan(pi/8)
  atan: [
    0.016219107915075345,
    -0.03451027660413279,
    0.045492434554494976,
    -0.05229937896916007,
    0.058788587168070436,
    -0.06666418758435608,
    0.07692296033056097,
    -0.09090908741644448,
    0.11111111104916602,
    -0.14285714285657372,
    0.19999999999999796,
    -0.3333333333333333,
  ],
  // (sinh t - t) / t^3 in z = t^2, |t| <= 1
  sinh: [
    7.746188556142327e-13,
    1.605767934982023e-10,
    2.5052117698709824e-08,
    2.755731919136874e-06,
    0.00019841269841324225,
    0.008333333333333299,
    0.16666666666666666,
  ],
  // erf(t) / t in z = t^2, |t| <= 1
  erfSmall: [
    5.956905633653031e-11,
    -1.1372693191126323e-09,
    1.4659736155673959e-08,
    -1.6350307065234626e-07,
    1.6460999970345427e-06,
    -1.4925595235970651e-05,
    0.00012055331110409494,
    -0.0008548326980801447,
    0.0052239776248174784,
    -0.02686617064507674,
    0.11283791670954878,
    -0.3761263890318375,
    1.1283791670955126,
  ],
  // erfc(t) exp(t^2) in u = t - 1.5 on [1, 2]
  erfc1: [
    1.3242541506849586e-08,
    -4.9545807838901603e-08,
    1.6714292901928126e-07,
    -5.944961119917664e-07,
    2.0670657912156654e-06,
    -6.97536222785843e-06,
    2.2864299608127746e-05,
    -7.265887301589559e-05,
    0.0002233099453004411,
    -0.0006619300701084315,
    0.0018861348769919975,
    -0.0051459575478377826,
    0.013377340953067394,
    -0.03293090529956527,
    0.0761510398554774,
    -0.16362291773256005,
    0.3215854164543175,
  ],
  // erfc(t) exp(t^2) in u = t - 2.75 on [2, 3.5]
  erfc2: [
    8.831959586426476e-11,
    -4.056754880659121e-10,
    1.6207327188991065e-09,
    -7.156467021431838e-09,
    3.121415013712102e-08,
    -1.3264839014463818e-07,
    5.519743740073735e-07,
    -2.247366566986457e-06,
    8.94015629298454e-06,
    -3.469861074039318e-05,
    0.0001311818005084561,
    -0.00048219508487679243,
    0.0017195818852900986,
    -0.005934337897002171,
    0.019758592987322854,
    -0.06323763756063479,
    0.1936620962790687,
  ],
  // erfc(t) exp(t^2) in u = t - 4.75 on [3.5, 6]
  erfc3: [
    1.6722457190056534e-13,
    -1.0277932486024302e-12,
    5.138680596045611e-12,
    -3.0750980426473406e-11,
    1.849140276993934e-10,
    -1.081455682633195e-09,
    6.242341780249905e-09,
    -3.5595168000590696e-08,
    2.002920135090727e-07,
    -1.1115679931156728e-06,
    6.081114539531e-06,
    -3.2775781066528116e-05,
    0.00017392830404186873,
    -0.0009080988970373065,
    0.0046613263689723,
    -0.023503448598162904,
    0.11630270721024731,
  ],
} as const;

const LN2_HI = 0.6931471803691238; // 32 significant bits: k * LN2_HI is exact
const LN2_LO = 1.9082149292705877e-10;
const LN2_HI_32 = 0.693145751953125; // 16 significant bits, for f32
const LN2_LO_32 = 1.4286068203094173e-6;
const PIO2_1 = 1.5707963267341256; // pi/2 in three 33-bit parts (Cody-Waite)
const PIO2_2 = 6.077100506303966e-11;
const PIO2_3 = 2.0222662487959506e-21;
const PI_HI = 3.141592653589793;
const PI_LO = 1.2246467991473532e-16;
const PIO2_HI = 1.5707963267948966;
const PIO2_LO = 6.123233995736766e-17;
const PIO4_HI = 0.7853981633974483;
const PIO4_LO = 3.061616997868383e-17;

// f64 only: bring m into f32's normal range so f32 frexp finds the exponent.
const LOG_F64_SCALE = `
  if (m > 1e18lf || m < 1e-18lf) {
    if (m < 2.2250738585072014e-308lf) { m = m * 1.8014398509481984e+16lf; e = -54.0lf; }
    if (m >= 1.3407807929942597e+154lf) { m = m * 7.458340731200207e-155lf; e += 512.0lf; }
    if (m >= 1.157920892373162e+77lf) { m = m * 8.636168555094445e-78lf; e += 256.0lf; }
    if (m >= 3.402823669209385e+38lf) { m = m * 2.938735877055719e-39lf; e += 128.0lf; }
    if (m >= 1.8446744073709552e+19lf) { m = m * 5.421010862427522e-20lf; e += 64.0lf; }
    if (m < 7.458340731200207e-155lf) { m = m * 1.3407807929942597e+154lf; e -= 512.0lf; }
    if (m < 8.636168555094445e-78lf) { m = m * 1.157920892373162e+77lf; e -= 256.0lf; }
    if (m < 2.938735877055719e-39lf) { m = m * 3.402823669209385e+38lf; e -= 128.0lf; }
    if (m < 5.421010862427522e-20lf) { m = m * 1.8446744073709552e+19lf; e -= 64.0lf; }
  }`;

interface LibFn {
  /** Library functions this one calls. */
  readonly deps: readonly string[];
  /** WGSL source for the precision. */
  readonly src: (T: Precision, L: (v: number) => string) => string;
}

function horner(
  coeffs: readonly number[],
  u: string,
  L: (v: number) => string,
): string {
  let s = L(coeffs[0]);
  for (let i = 1; i < coeffs.length; i++) {
    s = `fma(${s}, ${u}, ${L(coeffs[i])})`;
  }
  return s;
}

// Functions named nl_*; in f32 some are thin wrappers of builtins.
const LIB = {
  _nl_pow2i: {
    deps: [],
    // 2^e for e in [-126, 127] from f32 bits. WGSL's ldexp and frexp become
    // one scalar libm call per lane on lavapipe, so the hot paths avoid them.
    src: (T) =>
      `fn _nl_pow2i(e: i32) -> ${T} { return ${T}(bitcast<f32>(u32(e + 127) << 23u)); }`,
  },
  nl_exp: {
    deps: ["_nl_pow2i"],
    // Own f32 version too: the f32 builtin is ~30 ulps at |x| ~ 80.
    src: (T, L) => {
      const f64 = T === "f64";
      return `fn nl_exp(x: ${T}) -> ${T} {
  if (!(abs(x) <= ${L(f64 ? 708 : 87)})) {
    if (x > ${L(f64 ? 709.782712893384 : 88.72283935546875)}) { return x * ${
        L(f64 ? 1e308 : 1e38)
      }; }
    if (x < ${L(f64 ? -745.1332191019412 : -103.97208404541016)}) { return ${
        L(0)
      }; }
  }
  let k = round(x * ${L(Math.LOG2E)});
  let r = fma(-k, ${L(f64 ? LN2_LO : LN2_LO_32)}, fma(-k, ${
        L(f64 ? LN2_HI : LN2_HI_32)
      }, x));
  let y = ${L(1)} + fma(r * r, ${horner(C.exp, "r", L)}, r);
  let ki = i32(k);${
        f64
          ? `
  // 2^k = 2^rem (2^q)^8 with q and rem in f32's exponent range; a tiny
  // result underflows gradually in the last product
  let q = clamp(ki >> 3u, -126, 127);
  let s2 = _nl_pow2i(q) * _nl_pow2i(q);
  let s4 = s2 * s2;
  return (y * _nl_pow2i(ki - 8 * q)) * (s4 * s4);`
          : `
  let k1 = ki / 2;
  return (y * _nl_pow2i(k1)) * _nl_pow2i(ki - k1);`
      }
}`;
    },
  },
  nl_log: {
    deps: ["_nl_pow2i"],
    // Own f32 version too: the f32 builtin is ~40 ulps near 1 on lavapipe.
    src: (T, L) =>
      `fn nl_log(x: ${T}) -> ${T} {
  if (!(x > ${L(0)}) || x > ${
        L(T === "f64" ? Number.MAX_VALUE : 3.4028234663852886e38)
      }) {
    if (x == ${L(0)}) { return ${L(-1)} / x; }
    if (x > ${L(0)}) { return x; }
    return sqrt(x);
  }
  var m = x;
  var e = ${L(0)};${T === "f64" ? LOG_F64_SCALE : ""}
  // frexp's exponent, from the bits of m as a (normal) f32
  let fe = i32((bitcast<u32>(${
        T === "f64" ? "f32(m)" : "m"
      }) >> 23u) & 255u) - 126;
  m = m * _nl_pow2i(-fe);
  e += ${T}(fe);
  // f32 rounding may leave m just below 0.5: the doubling still lands in range
  if (m < ${L(Math.SQRT1_2)}) { m = m * ${L(2)}; e -= ${L(1)}; }
  let f = m - ${L(1)};
  let s = f / (${L(2)} + f);
  let z = s * s;
  let R = z * ${horner(C.log, "z", L)};
  let hfsq = ${L(0.5)} * f * f;
  return e * ${L(LN2_HI)} - ((hfsq - fma(s, hfsq + R, e * ${L(LN2_LO)})) - f);
}`,
  },
  nl_log10: {
    deps: ["nl_log"],
    src: (T, L) =>
      `fn nl_log10(x: ${T}) -> ${T} { return nl_log(x) * ${L(Math.LOG10E)}; }`,
  },
  nl_log1p: {
    deps: ["nl_log"],
    // log(u) * z / (u - 1) cancels the rounding of u = 1 + z (Goldberg).
    src: (T, L) =>
      `fn nl_log1p(z: ${T}) -> ${T} {
  let u = ${L(1)} + z;
  let d = u - ${L(1)};
  if (d == ${L(0)}) { return z; }
  return nl_log(u) * (z / d);
}`,
  },
  _nl_sincos: {
    deps: [],
    // Cody-Waite reduction by pi/2: returns (sin r, cos r, quadrant).
    src: (_T, L) =>
      `fn _nl_sincos(x: f64) -> vec3<f64> {
  let k = round(x * ${L(2 / Math.PI)});
  let r = fma(-k, ${L(PIO2_3)}, fma(-k, ${L(PIO2_2)}, fma(-k, ${
        L(PIO2_1)
      }, x)));
  let z = r * r;
  let s = fma(r * z, ${horner(C.sin, "z", L)}, r);
  let hz = 0.5lf * z;
  let w = 1.0lf - hz;
  let c = w + (((1.0lf - w) - hz) + z * z * ${horner(C.cos, "z", L)});
  return vec3<f64>(s, c, k - 4.0lf * floor(k * 0.25lf));
}`,
  },
  nl_sin: {
    deps: ["_nl_sincos"],
    src: (T) =>
      T === "f32"
        ? `fn nl_sin(x: f32) -> f32 { return sin(x); }`
        : `fn nl_sin(x: f64) -> f64 {
  let v = _nl_sincos(x);
  let a = select(v.x, v.y, v.z == 1.0lf || v.z == 3.0lf);
  return select(a, -a, v.z >= 2.0lf);
}`,
  },
  nl_cos: {
    deps: ["_nl_sincos"],
    src: (T) =>
      T === "f32"
        ? `fn nl_cos(x: f32) -> f32 { return cos(x); }`
        : `fn nl_cos(x: f64) -> f64 {
  let v = _nl_sincos(x);
  let a = select(v.y, v.x, v.z == 1.0lf || v.z == 3.0lf);
  return select(a, -a, v.z == 1.0lf || v.z == 2.0lf);
}`,
  },
  nl_tan: {
    deps: ["_nl_sincos"],
    src: (T) =>
      T === "f32"
        ? `fn nl_tan(x: f32) -> f32 { return tan(x); }`
        : `fn nl_tan(x: f64) -> f64 {
  let v = _nl_sincos(x);
  return select(v.x / v.y, -v.y / v.x, v.z == 1.0lf || v.z == 3.0lf);
}`,
  },
  nl_atan: {
    deps: [],
    src: (T, L) =>
      `fn nl_atan(x: ${T}) -> ${T} {
  let a = abs(x);
  let inv = a > ${L(1)};
  var t = select(a, ${L(1)} / a, inv);
  let big = t > ${L(Math.SQRT2 - 1)};
  t = select(t, (t - ${L(1)}) / (t + ${L(1)}), big);
  let z = t * t;
  let r = fma(t * z, ${horner(C.atan, "z", L)}, t);
  // atan|x| = c + s r, with c one of 0, pi/4, pi/2 (as hi + lo parts)
  var chi = select(${L(0)}, ${L(PIO4_HI)}, big);
  var clo = select(${L(0)}, ${L(PIO4_LO)}, big);
  var res = chi + (r + clo);
  if (inv) {
    chi = select(${L(PIO2_HI)}, ${L(PIO4_HI)}, big);
    clo = select(${L(PIO2_LO)}, ${L(PIO4_LO)}, big);
    res = chi - (r - clo);
  }
  return select(res, -res, x < ${L(0)});
}`,
  },
  nl_atan2: {
    deps: ["nl_atan"],
    src: (T, L) =>
      `fn nl_atan2(y: ${T}, x: ${T}) -> ${T} {
  if (x > ${L(0)}) { return nl_atan(y / x); }
  if (x < ${L(0)}) {
    let a = nl_atan(y / x);
    return select(a - ${L(PI_HI)} - ${L(PI_LO)}, a + ${L(PI_HI)} + ${
        L(PI_LO)
      }, y >= ${L(0)});
  }
  if (x == ${L(0)}) {
    return select(select(y, ${L(-PIO2_HI)}, y < ${L(0)}), ${L(PIO2_HI)}, y > ${
        L(0)
      });
  }
  return x + y;
}`,
  },
  nl_asin: {
    deps: ["nl_atan2"],
    src: (T, L) =>
      `fn nl_asin(x: ${T}) -> ${T} { return nl_atan2(x, sqrt((${L(1)} - x) * (${
        L(1)
      } + x))); }`,
  },
  nl_acos: {
    deps: ["nl_atan2"],
    src: (T, L) =>
      `fn nl_acos(x: ${T}) -> ${T} { return nl_atan2(sqrt((${L(1)} - x) * (${
        L(1)
      } + x)), x); }`,
  },
  _nl_sinh_small: {
    deps: [],
    src: (T, L) =>
      `fn _nl_sinh_small(a: ${T}) -> ${T} { let z = a * a; return fma(a * z, ${
        horner(C.sinh, "z", L)
      }, a); }`,
  },
  nl_sinh: {
    deps: ["nl_exp", "_nl_sinh_small"],
    // exp overflows before sinh does: use exp(a/2)^2 / 2 near the end.
    src: (T, L) =>
      `fn nl_sinh(x: ${T}) -> ${T} {
  let a = abs(x);
  var r: ${T};
  if (a >= ${L(T === "f64" ? 700 : 80)}) {
    let e = nl_exp(${L(0.5)} * a);
    r = (${L(0.5)} * e) * e;
  } else if (a >= ${L(1)}) {
    let e = nl_exp(a);
    r = ${L(0.5)} * e - ${L(0.5)} / e;
  } else {
    r = _nl_sinh_small(a);
  }
  return select(r, -r, x < ${L(0)});
}`,
  },
  nl_cosh: {
    deps: ["nl_exp"],
    src: (T, L) =>
      `fn nl_cosh(x: ${T}) -> ${T} {
  let a = abs(x);
  if (a >= ${L(T === "f64" ? 700 : 80)}) {
    let e = nl_exp(${L(0.5)} * a);
    return (${L(0.5)} * e) * e;
  }
  let e = nl_exp(a);
  return ${L(0.5)} * e + ${L(0.5)} / e;
}`,
  },
  nl_tanh: {
    deps: ["nl_exp", "_nl_sinh_small"],
    src: (T, L) =>
      `fn nl_tanh(x: ${T}) -> ${T} {
  let a = abs(x);
  var r: ${T};
  if (a >= ${L(T === "f64" ? 22 : 9)}) {
    r = ${L(1)};
  } else if (a >= ${L(0.55)}) {
    r = ${L(1)} - ${L(2)} / (nl_exp(${L(2)} * a) + ${L(1)});
  } else {
    let s = _nl_sinh_small(a);
    r = s / sqrt(fma(s, s, ${L(1)}));
  }
  return select(r, -r, x < ${L(0)});
}`,
  },
  nl_erf: {
    deps: ["nl_exp"],
    src: (T, L) =>
      `fn nl_erf(x: ${T}) -> ${T} {
  let a = abs(x);
  var r: ${T};
  if (a >= ${L(T === "f64" ? 6 : 4)}) {
    r = ${L(1)};
  } else if (a >= ${L(1)}) {
    var g: ${T};
    if (a < ${L(2)}) {
      let u = a - ${L(1.5)};
      g = ${horner(C.erfc1, "u", L)};
    } else if (a < ${L(3.5)}) {
      let u = a - ${L(2.75)};
      g = ${horner(C.erfc2, "u", L)};
    } else {
      let u = a - ${L(4.75)};
      g = ${horner(C.erfc3, "u", L)};
    }
    r = ${L(1)} - nl_exp(-a * a) * g;
  } else {
    let z = a * a;
    r = a * ${horner(C.erfSmall, "z", L)};
  }
  return select(r, -r, x < ${L(0)});
}`,
  },
  nl_pow: {
    deps: ["nl_exp", "nl_log"],
    // Math.pow semantics: x^0 = 1; a negative base needs an integer exponent.
    src: (T, L) =>
      `fn nl_pow(a: ${T}, b: ${T}) -> ${T} {
  if (b == ${L(0)}) { return ${L(1)}; }
  var r = nl_exp(b * nl_log(abs(a)));
  if (a < ${L(0)}) {
    if (floor(b) != b) { return sqrt(a); }
    if (abs(b) < ${L(9007199254740992)} && floor(b * ${L(0.5)}) * ${
        L(2)
      } != b) { r = -r; }
  }
  return r;
}`,
  },
  nl_min: {
    deps: [],
    // NaN-propagating like Math.min (WGSL's min may drop a NaN).
    src: (T) =>
      `fn nl_min(a: ${T}, b: ${T}) -> ${T} { return select(b, a, a < b || a != a); }`,
  },
  nl_max: {
    deps: [],
    src: (T) =>
      `fn nl_max(a: ${T}, b: ${T}) -> ${T} { return select(b, a, a > b || a != a); }`,
  },
  nl_sign: {
    deps: [],
    src: (T, L) =>
      `fn nl_sign(a: ${T}) -> ${T} { return select(select(a, ${L(-1)}, a < ${
        L(0)
      }), ${L(1)}, a > ${L(0)}); }`,
  },
  ...WGSL_FADDEEVA,
} satisfies Record<string, LibFn>;

/** The name of a WGSL library function. */
type LibName = keyof typeof LIB;

/** How WGSL calls a function: a library function, or a builtin expression. */
type WgslFunction =
  | { readonly lib: LibName }
  | { readonly emit: (args: readonly string[]) => string };

/**
 * The WGSL of every function an SSA program may call, and of `log1p` (for
 * losses). Typed by the function-name union: a function added to
 * `FUNCTION_ARITY` without an entry here is a compile error naming it.
 */
const WGSL_CALLS: {
  readonly [F in FunctionName | InternalFunctionName | "log1p"]: WgslFunction;
} = {
  exp: { lib: "nl_exp" },
  log: { lib: "nl_log" },
  log10: { lib: "nl_log10" },
  sqrt: { emit: (a) => `sqrt(${a[0]})` },
  abs: { emit: (a) => `abs(${a[0]})` },
  sin: { lib: "nl_sin" },
  cos: { lib: "nl_cos" },
  tan: { lib: "nl_tan" },
  asin: { lib: "nl_asin" },
  acos: { lib: "nl_acos" },
  atan: { lib: "nl_atan" },
  atan2: { lib: "nl_atan2" },
  sinh: { lib: "nl_sinh" },
  cosh: { lib: "nl_cosh" },
  tanh: { lib: "nl_tanh" },
  pow: { lib: "nl_pow" },
  min: { lib: "nl_min" },
  max: { lib: "nl_max" },
  erf: { lib: "nl_erf" },
  wofz_re: { lib: "nl_wofz_re" },
  wofz_im: { lib: "nl_wofz_im" },
  sign: { lib: "nl_sign" },
  ifLess: { emit: (a) => `select(${a[3]}, ${a[2]}, ${a[0]} < ${a[1]})` },
  log1p: { lib: "nl_log1p" },
};

/**
 * Every function name {@linkcode wgslCall} accepts: the model language's
 * functions, the internal `sign` and `ifLess`, and `log1p` (for losses).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * for (const f of ["exp", "erf", "atan2", "pow", "sign", "ifLess"]) {
 *   assert.ok(WGSL_FUNCTIONS.includes(f));
 * }
 * ```
 */
export const WGSL_FUNCTIONS: readonly string[] = Object.keys(WGSL_CALLS);

/**
 * The WGSL expression calling model function `fn` on argument expressions,
 * and records the library functions it needs in `used`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const used = new Set<string>();
 * assert.strictEqual(wgslCall("exp", ["x"], used), "nl_exp(x)");
 * assert.strictEqual(wgslCall("ifLess", ["a", "b", "c", "d"], used), "select(d, c, a < b)");
 * assert.deepStrictEqual([...used], ["nl_exp"]);
 * ```
 */
export function wgslCall(
  fn: string,
  args: readonly string[],
  used: Set<string>,
): string {
  if (!Object.hasOwn(WGSL_CALLS, fn)) {
    throw new TypeError(`wgslCall: unknown function ${fn}`);
  }
  const f = WGSL_CALLS[fn as keyof typeof WGSL_CALLS];
  if ("emit" in f) return f.emit(args);
  used.add(f.lib);
  return `${f.lib}(${args.join(", ")})`;
}

/**
 * WGSL source of the library functions in `used` and their dependencies.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const src = wgslMathLibrary(["nl_tanh"], "f64");
 * assert.match(src, /fn nl_exp\(x: f64\)/); // tanh needs exp
 * ```
 */
export function wgslMathLibrary(
  used: Iterable<string>,
  precision: Precision,
): string {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const fn = Object.hasOwn(LIB, name) ? LIB[name as LibName] : undefined;
    if (!fn) throw new TypeError(`wgslMathLibrary: unknown function ${name}`);
    for (const d of fn.deps) visit(d);
    order.push(name);
  };
  for (const name of used) visit(name);
  const L = (v: number) => wgslLiteral(v, precision);
  return order
    .filter((n) => !(precision === "f32" && n === "_nl_sincos"))
    .map((n) => LIB[n as LibName].src(precision, L))
    .join("\n\n");
}
