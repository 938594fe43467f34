/**
 * Peaks in data (private helper of the guesses): where they are, how high,
 * and where they cross half their height; and a robust polynomial baseline
 * under them.
 *
 * @module
 */

import type { PeakMeasurement } from "./_internal.ts";
import { polyfit } from "./_linear_lsq.ts";

/**
 * A 3-point moving average (2 points at the ends), against noise.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { smooth3 } from "./_peaks.ts";
 * assert.deepStrictEqual(Array.from(smooth3([0, 3, 0, 3])), [1.5, 1, 2, 1.5]);
 * ```
 */
export function smooth3(y: ArrayLike<number>): Float64Array {
  const n = y.length, out = new Float64Array(n);
  if (n < 3) return Float64Array.from(y);
  out[0] = (y[0] + y[1]) / 2;
  out[n - 1] = (y[n - 2] + y[n - 1]) / 2;
  for (let i = 1; i < n - 1; i++) out[i] = (y[i - 1] + y[i] + y[i + 1]) / 3;
  return out;
}

/** Where `v` (peak upwards) falls to `level` walking from `i` by `step`. */
function crossing(
  xs: ArrayLike<number>,
  v: ArrayLike<number>,
  i: number,
  step: 1 | -1,
  level: number,
): number {
  for (let j = i + step; j >= 0 && j < v.length; j += step) {
    if (v[j] <= level) {
      const k = j - step; // v[k] > level >= v[j]
      const t = (v[k] - level) / (v[k] - v[j]);
      return xs[k] + t * (xs[j] - xs[k]);
    }
  }
  return NaN;
}

/**
 * The peak of `y` (ascending `xs`) at index `i`, of sign `sign`: height,
 * position, half-maximum crossings (a side that never crosses mirrors the
 * other; with neither, a sixth of the range each way).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { measurePeak } from "./_peaks.ts";
 * const xs = Array.from({ length: 201 }, (_, i) => i / 10);
 * const y = xs.map((x) => 4 * Math.exp(-((x - 9) ** 2) / 2));
 * const m = measurePeak(xs, y, 90, 1);
 * assert.strictEqual(m.height, 4);
 * assert.ok(Math.abs(m.right - m.left - 2.3548) < 0.01);
 * ```
 */
export function measurePeak(
  xs: ArrayLike<number>,
  y: ArrayLike<number>,
  i: number,
  sign: 1 | -1,
): PeakMeasurement {
  const v = Float64Array.from(y, (t) => sign * t);
  const h = v[i];
  let left = crossing(xs, v, i, -1, h / 2);
  let right = crossing(xs, v, i, 1, h / 2);
  const xMax = xs[i];
  if (Number.isNaN(left) && Number.isNaN(right)) {
    const w = (xs[xs.length - 1] - xs[0]) / 6 || 1;
    left = xMax - w;
    right = xMax + w;
  } else if (Number.isNaN(left)) {
    left = 2 * xMax - right;
  } else if (Number.isNaN(right)) {
    right = 2 * xMax - left;
  }
  if (!(right > left)) {
    // Fewer than two points above half height: a narrow peak.
    const dx = (xs[xs.length - 1] - xs[0]) / Math.max(1, xs.length - 1);
    left = xMax - dx / 2;
    right = xMax + dx / 2;
  }
  return { height: sign * h, xMax, left, right };
}

/**
 * The peak at index `i` of the smoothed data `s`; a peak narrower than 8
 * points is measured again on the raw data `y` (smoothing would flatten
 * it), at the raw extremum next to `i`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { measureAt, smooth3 } from "./_peaks.ts";
 * const xs = Array.from({ length: 41 }, (_, i) => i);
 * const y = xs.map((x) => 5 * Math.exp(-((x - 20) ** 2) / 2));
 * const m = measureAt(xs, y, smooth3(y), 20, 1);
 * assert.strictEqual(m.height, 5);
 * ```
 */
export function measureAt(
  xs: ArrayLike<number>,
  y: ArrayLike<number>,
  s: ArrayLike<number>,
  i: number,
  sign: 1 | -1,
): PeakMeasurement {
  const m = measurePeak(xs, s, i, sign);
  const n = xs.length;
  const dx = (xs[n - 1] - xs[0]) / Math.max(1, n - 1);
  if (m.right - m.left >= 8 * dx) return m;
  let j = i;
  for (let k = Math.max(0, i - 2); k <= Math.min(n - 1, i + 2); k++) {
    if (sign * y[k] > sign * y[j]) j = k;
  }
  return measurePeak(xs, y, j, sign);
}

/**
 * Index of the largest |v| (of sign * v with a sign) outside the excluded
 * ranges of x.
 */
function largest(
  xs: ArrayLike<number>,
  v: ArrayLike<number>,
  excluded: readonly [number, number][],
  sign?: 1 | -1,
): number {
  let best = -1, bv = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const a = sign === undefined ? Math.abs(v[i]) : sign * v[i];
    if (!(a > bv)) continue;
    if (excluded.some(([lo, hi]) => xs[i] >= lo && xs[i] <= hi)) continue;
    best = i;
    bv = a;
  }
  return best;
}

/**
 * `k` peaks of `y` (ascending `xs`, baseline removed), largest first, all of
 * the sign of the largest (or of `sign`): each is measured, then `shape`
 * (its values at xs for a measured peak; default a Gaussian of its height
 * and width) is subtracted, and its core (between the half-maximum
 * crossings, widened by half that width each way) is not searched again.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { findPeaks } from "./_peaks.ts";
 * const xs = Array.from({ length: 301 }, (_, i) => i / 10);
 * const y = xs.map((x) => 3 * Math.exp(-((x - 8) ** 2) / 2) + Math.exp(-((x - 20) ** 2) / 4));
 * const [a, b] = findPeaks(xs, y, 2);
 * assert.ok(Math.abs(a.xMax - 8) < 0.11 && Math.abs(b.xMax - 20) < 0.11);
 * ```
 */
export function findPeaks(
  xs: ArrayLike<number>,
  y: ArrayLike<number>,
  k: number,
  sign?: 1 | -1,
  shape: (m: PeakMeasurement) => ArrayLike<number> = (m) =>
    gaussianShape(xs, m),
): PeakMeasurement[] {
  const r = Float64Array.from(y);
  const found: PeakMeasurement[] = [];
  const cores: [number, number][] = [];
  for (let t = 0; t < k; t++) {
    const s = smooth3(r);
    let i = largest(xs, s, cores, sign);
    if (i < 0) i = largest(xs, s, [], sign);
    const sg = sign ?? (s[i] < 0 ? -1 : 1);
    sign = sg;
    const m = measureAt(xs, r, s, i, sg);
    found.push(m);
    // Its core and half a width beyond, where what the subtraction leaves
    // of its wings could pass for a small peak.
    const w = (m.right - m.left) / 2;
    cores.push([m.left - w, m.right + w]);
    const f = shape(m);
    for (let j = 0; j < r.length; j++) r[j] -= f[j];
  }
  return found;
}

/**
 * A measured peak again, on data from which everything else has been
 * subtracted: the extremum of sign `sign` nearest its position within a
 * width of its half-maximum crossings.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { remeasure } from "./_peaks.ts";
 * const xs = Array.from({ length: 101 }, (_, i) => i / 10);
 * const y = xs.map((x) => 2 * Math.exp(-((x - 5) ** 2) / 2));
 * const m = remeasure(xs, y, { height: 1, xMax: 4.5, left: 4, right: 5 }, 1);
 * assert.strictEqual(m.xMax, 5);
 * ```
 */
export function remeasure(
  xs: ArrayLike<number>,
  y: ArrayLike<number>,
  m: PeakMeasurement,
  sign: 1 | -1,
): PeakMeasurement {
  const s = smooth3(y);
  const w = m.right - m.left;
  let best = -1;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] < m.left - w || xs[i] > m.right + w) continue;
    if (best < 0 || sign * s[i] > sign * s[best]) best = i;
  }
  return best < 0 ? m : measureAt(xs, y, s, best, sign);
}

/**
 * A Gaussian of the peak's height and half-maximum width at xs.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { gaussianShape } from "./_peaks.ts";
 * const f = gaussianShape([0, 1], { height: 2, xMax: 0, left: -1, right: 1 });
 * assert.strictEqual(f[0], 2);
 * assert.ok(Math.abs(f[1] - 1) < 1e-15);
 * ```
 */
export function gaussianShape(
  xs: ArrayLike<number>,
  m: PeakMeasurement,
): Float64Array {
  const sd = (m.right - m.left) / 2.3548200450309493;
  return Float64Array.from(
    xs,
    (x) => m.height * Math.exp(-(((x - m.xMax) / sd) ** 2) / 2),
  );
}

function median(v: Float64Array): number {
  const s = Float64Array.from(v).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * A polynomial of `degree` under the peaks of `ys`: least squares, then
 * again on the points within 2.5 robust standard deviations of the last
 * fit, a few times. Returns its values at `xs` (zeros for degree < 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { robustBaseline } from "./_peaks.ts";
 * const xs = Array.from({ length: 101 }, (_, i) => i);
 * const y = xs.map((x) => 2 + 0.1 * x + 50 * Math.exp(-((x - 50) ** 2) / 8) + 0.01 * Math.sin(7 * x));
 * const b = robustBaseline(xs, y, 1);
 * assert.ok(Math.abs(b[50] - 7) < 0.05);
 * ```
 */
export function robustBaseline(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  degree: number,
): Float64Array {
  const n = ys.length;
  const out = new Float64Array(n);
  if (degree < 0) return out;
  const w = new Float64Array(n).fill(1);
  for (let round = 0; round < 6; round++) {
    const c = polyfit(xs, ys, degree, w);
    if (c === null) break;
    const r = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let p = 0;
      for (let k = degree; k >= 0; k--) p = p * xs[i] + c[k];
      out[i] = p;
      r[i] = ys[i] - p;
    }
    const mid = median(r);
    const s = 1.4826 * median(Float64Array.from(r, (t) => Math.abs(t - mid)));
    if (!(s > 0)) break;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      w[i] = Math.abs(r[i] - mid) <= 2.5 * s ? 1 : 0;
      kept += w[i];
    }
    if (kept <= degree + 1) break;
  }
  return out;
}
