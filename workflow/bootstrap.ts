/**
 * The residual bootstrap of a fit: `n` datasets `y* = yhat + sigma e*`,
 * with `e*` drawn with replacement from the fit's standardized residuals,
 * each divided by `sqrt(1 - h_i)` (its leverage, the diagonal of the hat
 * matrix of the weighted Jacobian: Davison and Hinkley's modified
 * residuals, which restore the variance the fit took out of the residuals)
 * and centred; fitted at once by the batch engine (`fitBatch`, one model,
 * many Y) from the fit's values. Percentile intervals and the covariance
 * of the refitted parameters.
 *
 * @module
 */

import { Xoshiro128 } from "../sampling/prng.ts";
import { fitBatch } from "../batch/fit_batch.ts";
import type { FitResult } from "./fit_result.ts";
import { resolveParams } from "./fit/_params.ts";
import { REFIT, refitOptions } from "./_refit.ts";
import type { Model } from "../model/types.ts";
import { cholesky, solveLowerInPlace } from "../core/linalg.ts";

/**
 * Options of {@linkcode bootstrap}.
 *
 * @example
 * ```ts
 * import type { BootstrapOptions } from "@nlsq/nlsq/workflow";
 * const o: BootstrapOptions = { n: 200, seed: 7, level: 0.9 };
 * ```
 */
export interface BootstrapOptions {
  /** Bootstrap datasets (default 1000, at least 10). */
  readonly n?: number;
  /** Seed of the resampling (a safe integer; default: a random one). */
  readonly seed?: number;
  /** Level of the percentile intervals, 0 < level < 1 (default 0.95). */
  readonly level?: number;
}

/**
 * What {@linkcode bootstrap} returns. Parameters are every model parameter
 * (a fixed one constant, a tied one from its expression).
 *
 * @example
 * ```ts
 * import type { BootstrapResult } from "@nlsq/nlsq/workflow";
 * const show = (b: BootstrapResult) => b.intervals.a;
 * ```
 */
export interface BootstrapResult {
  /** Datasets drawn. */
  readonly n: number;
  /** Refits that converged (the statistics are over these). */
  readonly nSuccess: number;
  /** The seed used. */
  readonly seed: number;
  /** Level of `intervals`. */
  readonly level: number;
  /** Parameter names, the order of a row of `samples`. */
  readonly paramNames: readonly string[];
  /** nSuccess x p refitted parameters, row-major. */
  readonly samples: Float64Array;
  /** Percentile intervals by name: `[lower, upper]`. */
  readonly intervals: Readonly<Record<string, readonly [number, number]>>;
  /** Covariance of the samples (p x p). */
  readonly pcov: number[][];
  /** Standard deviations of the samples by name. */
  readonly stderr: Readonly<Record<string, number>>;
  /** The batch engine that refitted. */
  readonly backend: string;
}

/**
 * Residual bootstrap of a fit to data in memory, refitted by `fitBatch`.
 *
 * @throws {RangeError} `n`, `seed` or `level` out of range.
 * @throws {TypeError} a result without its data in memory (streamed from a
 *   source, or restored from JSON), a global fit's, a 2-D sigma, or a
 *   function model.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * const x = Array.from({ length: 20 }, (_, i) => i / 4);
 * const y = x.map((t, i) => 2 * Math.exp(-0.7 * t) + 0.02 * Math.sin(7 * i));
 * const r = await fit("a * exp(-b * x)", x, y, { p0: [1, 1] });
 * const b = await r.bootstrap({ n: 200, seed: 1 });
 * const [lo, hi] = b.intervals.b;
 * assert.ok(lo < r.params.b && r.params.b < hi);
 * assert.ok(Math.abs(b.stderr.b / r.stderr.b - 1) < 0.3);
 * ```
 */
export async function bootstrap(
  r: FitResult,
  options: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const { n = 1000, level = 0.95 } = options;
  if (!Number.isInteger(n) || n < 10) {
    throw new RangeError(`n must be an integer of at least 10, got ${n}`);
  }
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    throw new RangeError(`level must be in (0, 1), got ${level}`);
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const rng = new Xoshiro128(seed);
  if (REFIT in r) {
    throw new TypeError(
      "bootstrap of a global fit (or of one of its datasets) is not supported: fitBatch refits one model per dataset, not the stacked problem",
    );
  }
  const origin = r.origin;
  if (!origin?.data) {
    throw new TypeError(
      "bootstrap needs the fit's data in memory: this result was fitted to a source, or restored without its data",
    );
  }
  const sigma2d = origin.options.sigma;
  if (sigma2d !== undefined && typeof sigma2d[0] === "object") {
    throw new TypeError("bootstrap: a 2-D sigma (covariance) is not supported");
  }
  const { x, y, sigma } = origin.data;
  const m = origin.model;
  const plan = resolveParams(m, await refitOptions(origin, r.popt));
  const free = Float64Array.from(plan.free, (k) => r.popt[k]);
  const Y = resampled(
    y,
    m.evaluate(x, r.popt),
    sigma,
    leverages(plan.model, x, y, sigma, free),
    free.length,
    n,
    rng,
  );
  const opts = origin.options;
  const batch = await fitBatch(plan.model, x, Y, {
    p0: free,
    ...(plan.bounds ? { bounds: plan.bounds } : {}),
    ...(sigma ? { sigma } : {}),
    ...(opts.loss ? { loss: opts.loss } : {}),
    ...(opts.fScale ? { fScale: opts.fScale } : {}),
    method: r.method,
    ...r.tolerances,
  });
  const p = m.params.length, q = plan.free.length;
  const rows: Float64Array[] = [];
  for (let b = 0; b < n; b++) {
    if (batch.success[b]) {
      rows.push(plan.expand(batch.popt.slice(b * q, (b + 1) * q)));
    }
  }
  const samples = new Float64Array(rows.length * p);
  rows.forEach((row, b) => samples.set(row, b * p));
  const pcov = sampleCovariance(rows, p);
  const names = m.params;
  const col = (k: number) => Float64Array.from(rows, (row) => row[k]).sort();
  const tail = (1 - level) / 2;
  return {
    n,
    nSuccess: rows.length,
    seed,
    level,
    paramNames: names,
    samples,
    intervals: Object.fromEntries(names.map((name, k) => {
      const c = col(k);
      return [name, [quantile(c, tail), quantile(c, 1 - tail)] as const];
    })),
    pcov,
    stderr: Object.fromEntries(
      names.map((name, k) => [name, Math.sqrt(pcov[k][k])]),
    ),
    backend: batch.backend,
  };
}

/**
 * The leverages `h_i = j_i^T (J^T J)^-1 j_i` of the weighted Jacobian at
 * the fit (over the free parameters); null where `J^T J` is singular.
 */
function leverages(
  m: Model,
  x: readonly Float64Array[],
  y: Float64Array,
  sigma: Float64Array | null,
  free: Float64Array,
): Float64Array | null {
  const N = y.length, q = free.length;
  const w = sigma ? sigma.map((s) => 1 / s) : null;
  const B = new Float64Array(N * (q + 1));
  m.kernel(x as Float64Array[], y, w, free, 0, N, B, N, true);
  const G = new Float64Array(q * q);
  for (let a = 0; a < q; a++) {
    for (let b = 0; b < q; b++) G[a * q + b] = dot(B, a * N, b * N, N);
  }
  const L = cholesky(G, q);
  if (!L) return null;
  const h = new Float64Array(N);
  const row = new Float64Array(q);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < q; k++) row[k] = B[k * N + i];
    solveLowerInPlace(L, q, row);
    h[i] = dot(row, 0, 0, q);
  }
  return h;
}

function dot(a: Float64Array, i: number, j: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[i + k] * a[j + k];
  return s;
}

/**
 * `n` datasets, row-major: `yhat + sigma * e*`, `e*` drawn from the
 * centred standardized residuals over `sqrt(1 - h)` (or, without
 * leverages, scaled by `sqrt(N / (N - q))`).
 */
function resampled(
  y: Float64Array,
  yhat: Float64Array,
  sigma: Float64Array | null,
  h: Float64Array | null,
  q: number,
  n: number,
  rng: Xoshiro128,
): Float64Array {
  const N = y.length;
  const e = new Float64Array(N);
  const even = N > q ? Math.sqrt(N / (N - q)) : 1;
  let mean = 0;
  for (let i = 0; i < N; i++) {
    const lift = !h ? even : h[i] < 1 - 1e-12 ? 1 / Math.sqrt(1 - h[i]) : 1;
    e[i] = lift * (y[i] - yhat[i]) / (sigma ? sigma[i] : 1);
    mean += e[i] / N;
  }
  for (let i = 0; i < N; i++) e[i] -= mean;
  const Y = new Float64Array(n * N);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < N; i++) {
      const pick = e[Math.floor(rng.nextFloat() * N)];
      Y[b * N + i] = yhat[i] + (sigma ? sigma[i] : 1) * pick;
    }
  }
  return Y;
}

/** numpy's default (linear) quantile of sorted values. */
function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const i = Math.floor(h);
  const next = sorted[Math.min(i + 1, sorted.length - 1)];
  return sorted[i] + (h - i) * (next - sorted[i]);
}

function sampleCovariance(rows: Float64Array[], p: number): number[][] {
  const n = rows.length;
  // Shifted by the first sample: a constant (fixed) parameter has exactly
  // zero deviations.
  const d = rows.map((row) => row.map((v, k) => v - rows[0][k]));
  const mean = new Float64Array(p);
  for (const row of d) for (let k = 0; k < p; k++) mean[k] += row[k] / n;
  return Array.from(
    { length: p },
    (_, a) =>
      Array.from({ length: p }, (_, b) => {
        let s = 0;
        for (const row of d) s += (row[a] - mean[a]) * (row[b] - mean[b]);
        return n > 1 ? s / (n - 1) : NaN;
      }),
  );
}
