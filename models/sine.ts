/**
 * The sinusoid, lmfit's `SineModel`.
 *
 * @module
 */

import type { BuiltinModel } from "./builtin_model.ts";
import type { GuessData } from "./_data.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type LeafSpec,
  type ModelFactoryOptions,
} from "./_leaf.ts";

/**
 * The least-squares a, b of a sin(w x) + b cos(w x) on (xs, ys) and the
 * sum of squares it explains.
 */
function project(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  w: number,
): { a: number; b: number; explained: number } {
  let ss = 0, sc = 0, cc = 0, sy = 0, cy = 0;
  for (let i = 0; i < xs.length; i++) {
    const s = Math.sin(w * xs[i]), c = Math.cos(w * xs[i]);
    ss += s * s;
    sc += s * c;
    cc += c * c;
    sy += s * ys[i];
    cy += c * ys[i];
  }
  const det = ss * cc - sc * sc;
  if (!(Math.abs(det) > 1e-12 * ss * cc)) {
    // w x nearly constant: one column only
    const a = ss > cc ? sy / ss : 0, b = ss > cc ? 0 : cy / cc;
    return { a, b, explained: a * sy + b * cy };
  }
  const a = (cc * sy - sc * cy) / det, b = (ss * cy - sc * sy) / det;
  return { a, b, explained: a * sy + b * cy };
}

/** At most `m` points of the data, evenly chosen. */
function subsample(d: GuessData, m: number): [Float64Array, Float64Array] {
  const n = d.xs.length;
  if (n <= m) return [d.xs, d.ys];
  const xs = new Float64Array(m), ys = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const i = Math.round((k * (n - 1)) / (m - 1));
    xs[k] = d.xs[i];
    ys[k] = d.ys[i];
  }
  return [xs, ys];
}

/**
 * The frequency that explains the most of y (a least-squares periodogram,
 * which also works for uneven x) on a grid 8 times finer than the
 * resolution up to the Nyquist frequency of the median spacing, refined by
 * golden-section search on all the data; then amplitude and shift by
 * linear least squares.
 */
function guess(d: GuessData): Record<string, number> {
  const [xs, ys] = subsample(d, 2000);
  const n = xs.length;
  const range = xs[n - 1] - xs[0];
  const gaps = Float64Array.from({ length: n - 1 }, (_, i) => xs[i + 1] - xs[i])
    .filter((g) => g > 0).sort();
  if (!(range > 0) || gaps.length === 0) return {};
  const nyquist = Math.PI / gaps[Math.floor(gaps.length / 2)];
  const step = (2 * Math.PI) / range / 8;
  const count = Math.min(16000, Math.ceil(nyquist / step));
  // sin and cos of k * step * x by rotation, point by point.
  const sd = xs.map((x) => Math.sin(step * x));
  const cd = xs.map((x) => Math.cos(step * x));
  const sn = Float64Array.from(sd), cs = Float64Array.from(cd);
  let best = step, bestE = -Infinity;
  for (let k = 1; k <= count; k++) {
    let ss = 0, sc = 0, cc = 0, sy = 0, cy = 0;
    for (let i = 0; i < n; i++) {
      const s = sn[i], c = cs[i];
      ss += s * s;
      sc += s * c;
      cc += c * c;
      sy += s * ys[i];
      cy += c * ys[i];
      sn[i] = s * cd[i] + c * sd[i];
      cs[i] = c * cd[i] - s * sd[i];
    }
    const det = ss * cc - sc * sc;
    const e = Math.abs(det) > 1e-12 * ss * cc
      ? ((cc * sy - sc * cy) * sy + (ss * cy - sc * sy) * cy) / det
      : sy * sy / Math.max(ss, 1e-300);
    if (e > bestE) {
      bestE = e;
      best = k * step;
    }
  }
  // Golden-section search for the maximum on [best - step, best + step].
  const g = (Math.sqrt(5) - 1) / 2;
  let lo = Math.max(0, best - step), hi = best + step;
  const f = (w: number) => -project(d.xs, d.ys, w).explained;
  let c = hi - g * (hi - lo), e = lo + g * (hi - lo);
  let fc = f(c), fe = f(e);
  for (let it = 0; it < 40; it++) {
    if (fc < fe) {
      hi = e;
      e = c;
      fe = fc;
      c = hi - g * (hi - lo);
      fc = f(c);
    } else {
      lo = c;
      c = e;
      fc = fe;
      e = lo + g * (hi - lo);
      fe = f(e);
    }
  }
  const frequency = (lo + hi) / 2;
  const { a, b } = project(d.xs, d.ys, frequency);
  return { amplitude: Math.hypot(a, b), frequency, shift: Math.atan2(b, a) };
}

const TAU = 2 * Math.PI;

const SPEC: LeafSpec = {
  name: "sine",
  params: ["amplitude", "frequency", "shift"],
  expression: "amplitude * sin(frequency * x + shift)",
  hints: {
    amplitude: { min: 0 },
    frequency: { min: 0 },
    shift: { min: -TAU - 1e-5, max: TAU + 1e-5 },
  },
  guess,
};

/**
 * A sinusoid `amplitude * sin(frequency * x + shift)` (lmfit's
 * `SineModel`; `frequency` is angular), with `amplitude >= 0`,
 * `frequency >= 0` and `|shift| <= 2 pi`. The guess scans a least-squares
 * periodogram (uneven x welcome), finer than lmfit's FFT.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const x = Array.from({ length: 200 }, (_, i) => i / 10);
 * const g = models.sine().guess(x, x.map((t) => 2 * Math.sin(1.7 * t + 0.4)));
 * assert.ok(Math.abs(g.frequency - 1.7) < 1e-6 && Math.abs(g.shift - 0.4) < 1e-5);
 * ```
 */
export function sine(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.sine"),
  );
}
