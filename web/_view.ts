// What the page draws for an x range: the data (decimated to the extremes of
// each pixel column when there are many points), the fitted curve with its
// confidence band, and the residuals. Computed where the data lives (the Web
// Worker), so a million points never cross to the page.

import type { Model } from "../model/types.ts";
import { studentTQuantile } from "../core/_stats.ts";

/** Points to draw: `x[i], y[i]`. */
export interface Points {
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/** A fitted model as the view needs it. */
export interface ViewFit {
  readonly model: Model;
  readonly popt: ArrayLike<number>;
  /** Covariance of every parameter (model order); NaN/Infinity: no band. */
  readonly pcov: readonly (readonly number[])[];
  /** Degrees of freedom for the t quantile of the band. */
  readonly dof: number;
}

/** The drawing of one x range. */
export interface View {
  readonly range: readonly [number, number];
  /** Points of the data in the range, and how many there are in all. */
  readonly data: Points;
  readonly nInRange: number;
  readonly decimated: boolean;
  /** Each pixel column's lowest and highest value (decimated data only). */
  readonly envelope?: Envelope;
  /** Fit at a grid over the range, with the 95% confidence band. */
  readonly curve?: {
    x: Float64Array;
    y: Float64Array;
    lower: Float64Array;
    upper: Float64Array;
  };
  /** y - fit at the data points (decimated like the data). */
  readonly residuals?: Points;
  readonly residualEnvelope?: Envelope;
}

/** Drawn points per range: up to this many as they are, else 2 per column. */
export const MAX_PLAIN_POINTS = 4000;
/** Pixel columns of the decimation and points of the curve. */
export const COLUMNS = 600;

/** Points drawn per column beside its lowest and highest (decimated data). */
export const SAMPLES_PER_COLUMN = 2;

/** The range of values in each pixel column (decimated data). */
export interface Envelope {
  /** Column centres. */
  readonly x: Float64Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

/**
 * The data in `[lo, hi]`: all of it when there are at most
 * {@linkcode MAX_PLAIN_POINTS} points; else, for each of {@linkcode COLUMNS}
 * pixel columns, its lowest and highest point (the envelope a plot of every
 * point would show) and {@linkcode SAMPLES_PER_COLUMN} points taken at even
 * strides among the column's points (so the inside of a noisy cloud shows).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { decimate } from "./_view.ts";
 * const n = 100000;
 * const x = Float64Array.from({ length: n }, (_, i) => i);
 * const y = x.map((v) => Math.sin(v / 1000));
 * const d = decimate(x, y, 0, n - 1);
 * assert.ok(d.decimated && d.points.x.length <= 2400);
 * assert.strictEqual(Math.max(...d.points.y), Math.max(...y));
 * assert.strictEqual(Math.max(...d.envelope!.hi), Math.max(...y));
 * ```
 */
export function decimate(
  x: Float64Array,
  y: Float64Array,
  lo: number,
  hi: number,
): { points: Points; count: number; decimated: boolean; envelope?: Envelope } {
  let count = 0;
  for (let i = 0; i < x.length; i++) if (x[i] >= lo && x[i] <= hi) count++;
  if (count <= MAX_PLAIN_POINTS) {
    const px = new Float64Array(count);
    const py = new Float64Array(count);
    for (let i = 0, k = 0; i < x.length; i++) {
      if (x[i] >= lo && x[i] <= hi) px[k] = x[i], py[k++] = y[i];
    }
    return { points: { x: px, y: py }, count, decimated: false };
  }
  const minAt = new Int32Array(COLUMNS).fill(-1);
  const maxAt = new Int32Array(COLUMNS).fill(-1);
  const inColumn = new Int32Array(COLUMNS);
  const scale = hi > lo ? COLUMNS / (hi - lo) : 0;
  const column = (v: number) =>
    Math.min(COLUMNS - 1, Math.floor((v - lo) * scale));
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= lo && x[i] <= hi)) continue;
    const c = column(x[i]);
    inColumn[c]++;
    if (minAt[c] < 0 || y[i] < y[minAt[c]]) minAt[c] = i;
    if (maxAt[c] < 0 || y[i] > y[maxAt[c]]) maxAt[c] = i;
  }
  // Samples: the column's points at ranks k * count / (SAMPLES + 1).
  const seen = new Int32Array(COLUMNS);
  const sampled: number[][] = Array.from({ length: COLUMNS }, () => []);
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= lo && x[i] <= hi)) continue;
    const c = column(x[i]);
    const rank = seen[c]++;
    const k = sampled[c].length + 1;
    if (
      k <= SAMPLES_PER_COLUMN &&
      rank === Math.floor(k * inColumn[c] / (SAMPLES_PER_COLUMN + 1))
    ) sampled[c].push(i);
  }
  const px: number[] = [];
  const py: number[] = [];
  const ex: number[] = [];
  const elo: number[] = [];
  const ehi: number[] = [];
  for (let c = 0; c < COLUMNS; c++) {
    if (minAt[c] < 0) continue;
    ex.push(lo + (c + 0.5) / scale),
      elo.push(y[minAt[c]]),
      ehi.push(y[maxAt[c]]);
    const take = new Set([minAt[c], maxAt[c], ...sampled[c]]);
    for (const i of take) px.push(x[i]), py.push(y[i]);
  }
  return {
    points: { x: Float64Array.from(px), y: Float64Array.from(py) },
    count,
    decimated: true,
    envelope: {
      x: Float64Array.from(ex),
      lo: Float64Array.from(elo),
      hi: Float64Array.from(ehi),
    },
  };
}

/**
 * The fit and its confidence band (`level`, default 0.95) at `xs`: the delta
 * method, `t * sqrt(g' C g)` with `g` the model's exact gradient in the
 * parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * import { fitBand } from "./_view.ts";
 * const m = model("a + b * x");
 * const b = fitBand({ model: m, popt: [1, 2], pcov: [[1, 0], [0, 0]], dof: 1e9 },
 *   new Float64Array([0, 3]));
 * assert.deepStrictEqual(Array.from(b.y), [1, 7]);
 * assert.ok(Math.abs(b.upper[1] - 7 - 1.959964) < 1e-5);
 * ```
 */
export function fitBand(
  f: ViewFit,
  xs: Float64Array,
  level = 0.95,
): { y: Float64Array; lower: Float64Array; upper: Float64Array } {
  const g = xs.length;
  const p = f.popt.length;
  const B = new Float64Array(g * (p + 1));
  f.model.kernel(
    [xs],
    new Float64Array(g),
    null,
    Float64Array.from(f.popt),
    0,
    g,
    B,
    g,
    true,
  );
  const y = B.slice(p * g, (p + 1) * g);
  const t = f.dof > 0 ? studentTQuantile(0.5 + level / 2, f.dof) : NaN;
  const lower = new Float64Array(g);
  const upper = new Float64Array(g);
  for (let i = 0; i < g; i++) {
    let v = 0;
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        v += B[a * g + i] * f.pcov[a][b] * B[b * g + i];
      }
    }
    const h = t * Math.sqrt(Math.max(v, 0));
    lower[i] = Number.isFinite(h) ? y[i] - h : NaN;
    upper[i] = Number.isFinite(h) ? y[i] + h : NaN;
  }
  return { y, lower, upper };
}

/** The view of `[lo, hi]` of the data, with the fit when there is one. */
export function viewOf(
  x: Float64Array,
  y: Float64Array,
  lo: number,
  hi: number,
  fit?: ViewFit,
): View {
  const d = decimate(x, y, lo, hi);
  if (fit === undefined) {
    return {
      range: [lo, hi],
      data: d.points,
      nInRange: d.count,
      decimated: d.decimated,
      envelope: d.envelope,
    };
  }
  const grid = Float64Array.from(
    { length: COLUMNS + 1 },
    (_, i) => lo + (hi - lo) * i / COLUMNS,
  );
  const band = fitBand(fit, grid);
  const fx = fit.model.evaluate([x], fit.popt);
  const res = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) res[i] = y[i] - fx[i];
  const r = decimate(x, res, lo, hi);
  return {
    range: [lo, hi],
    data: d.points,
    nInRange: d.count,
    decimated: d.decimated,
    envelope: d.envelope,
    curve: { x: grid, ...band },
    residuals: r.points,
    residualEnvelope: r.envelope,
  };
}
