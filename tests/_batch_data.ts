/**
 * Seeded batches of synthetic datasets for the `fitBatch` tests and the
 * batch benchmark: 1-D Gaussian peaks, exponential decays and 2-D Gaussian
 * spots with Gaussian noise, and Poisson counts of peaks; starts within
 * +-20% of the truth.
 *
 * @module
 */

import { Xoshiro128 } from "../sampling/prng.ts";

/** A batch of datasets: fit i's points at `i * nPoints`. */
export interface BatchData {
  readonly expr: string;
  /** Model variables (one x column each). */
  readonly variables: readonly string[];
  readonly nFits: number;
  readonly nPoints: number;
  /** Shared x columns (nPoints values each). */
  readonly x: Float64Array[];
  readonly y: Float64Array;
  /** True parameters, nFits * p. */
  readonly truth: Float64Array;
  /** Starts, nFits * p (truth times 1 +- up to 20%). */
  readonly p0: Float64Array;
}

/** A normal deviate (Box-Muller). */
export function normal(rng: Xoshiro128): number {
  const u = rng.nextFloat() || Number.MIN_VALUE;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
}

/** A Poisson deviate: sums of Knuth's product method on means up to 50. */
export function poisson(rng: Xoshiro128, mean: number): number {
  let k = 0;
  for (let left = mean; left > 0; left -= 50) {
    const limit = Math.exp(-Math.min(left, 50));
    let prod = rng.nextFloat();
    while (prod > limit) {
      k++;
      prod *= rng.nextFloat();
    }
  }
  return k;
}

interface Shape {
  expr: string;
  variables: string[];
  x: Float64Array[];
  /** Truth for one fit. */
  draw(rng: Xoshiro128): number[];
  value(p: readonly number[], i: number): number;
}

function gaussian1d(nPoints: number): Shape {
  const x = Float64Array.from({ length: nPoints }, (_, i) => i / (nPoints - 1));
  return {
    expr: "a * exp(-(x - m)^2 / (2 * s^2)) + b",
    variables: ["x"],
    x: [x],
    draw: (r) => [
      1 + r.nextFloat(),
      0.35 + 0.3 * r.nextFloat(),
      0.08 + 0.08 * r.nextFloat(),
      0.5 + r.nextFloat(),
    ],
    value: ([a, m, s, b], i) =>
      a * Math.exp(-((x[i] - m) ** 2) / (2 * s * s)) + b,
  };
}

function exp3(nPoints: number): Shape {
  const x = Float64Array.from(
    { length: nPoints },
    (_, i) => 4 * i / (nPoints - 1),
  );
  return {
    expr: "a * exp(-b * x) + c",
    variables: ["x"],
    x: [x],
    draw: (r) => [
      1 + 2 * r.nextFloat(),
      0.5 + r.nextFloat(),
      0.2 + 0.5 * r.nextFloat(),
    ],
    value: ([a, b, c], i) => a * Math.exp(-b * x[i]) + c,
  };
}

function gaussian2d(side: number): Shape {
  const n = side * side;
  const xs = new Float64Array(n), ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = i % side;
    ys[i] = Math.floor(i / side);
  }
  const c = (side - 1) / 2;
  return {
    expr: "a * exp(-((x - x0)^2 + (y - y0)^2) / (2 * s^2)) + b",
    variables: ["x", "y"],
    x: [xs, ys],
    draw: (r) => [
      5 + 5 * r.nextFloat(),
      c - 1 + 2 * r.nextFloat(),
      c - 1 + 2 * r.nextFloat(),
      1.5 + r.nextFloat(),
      1 + r.nextFloat(),
    ],
    value: ([a, x0, y0, s, b], i) =>
      a * Math.exp(-((xs[i] - x0) ** 2 + (ys[i] - y0) ** 2) / (2 * s * s)) +
      b,
  };
}

/** Peaks for counting data: means from 0.5 to about 1000. */
function countPeak(nPoints: number): Shape {
  const g = gaussian1d(nPoints);
  return {
    ...g,
    draw: (r) => [
      50 * 20 ** r.nextFloat(),
      0.35 + 0.3 * r.nextFloat(),
      0.08 + 0.08 * r.nextFloat(),
      0.5 + 4.5 * r.nextFloat(),
    ],
  };
}

/** The shapes by name. */
export const BATCH_SHAPES = {
  gaussian: gaussian1d,
  countPeak,
  exp3,
  /** `nPoints` must be a square (side x side pixels). */
  gaussian2d: (nPoints: number) => gaussian2d(Math.round(Math.sqrt(nPoints))),
} as const;

/**
 * `nFits` datasets of a shape with Gaussian noise of standard deviation
 * `noise`, or Poisson counts of the model (then `noise` is ignored).
 */
export function makeBatch(
  shape: keyof typeof BATCH_SHAPES,
  nFits: number,
  nPoints: number,
  options: { seed?: number; noise?: number; counts?: boolean } = {},
): BatchData {
  const sh = BATCH_SHAPES[shape](nPoints);
  const n = sh.x[0].length;
  const rng = new Xoshiro128(options.seed ?? 1);
  const noise = options.noise ?? 0.01;
  const first = sh.draw(rng);
  const p = first.length;
  const y = new Float64Array(nFits * n);
  const truth = new Float64Array(nFits * p);
  const p0 = new Float64Array(nFits * p);
  for (let f = 0; f < nFits; f++) {
    const t = f === 0 ? first : sh.draw(rng);
    truth.set(t, f * p);
    for (let j = 0; j < p; j++) {
      p0[f * p + j] = t[j] * (1 + 0.4 * (rng.nextFloat() - 0.5));
    }
    for (let i = 0; i < n; i++) {
      const v = sh.value(t, i);
      y[f * n + i] = options.counts ? poisson(rng, v) : v + noise * normal(rng);
    }
  }
  return {
    expr: sh.expr,
    variables: sh.variables,
    nFits,
    nPoints: n,
    x: sh.x,
    y,
    truth,
    p0,
  };
}
