/**
 * The public types of {@linkcode fitBatch}'s arguments: its options and the
 * progress it reports.
 *
 * @module
 */

import type { LossName } from "../core/loss.ts";
import type { NumVec } from "../core/_validate.ts";
import type { ParamsInput } from "../workflow/fit/_params.ts";

/**
 * The abscissa of a batch: for a model of one variable, a column of
 * `nPoints` values shared by every fit, `nFits * nPoints` values (per fit,
 * row-major; then give `nPoints` unless Y is given as rows), or `nFits` rows;
 * for several variables, one such entry per variable (all shared or all per
 * fit). A path (string or file URL) names an NPY file: 1-D (shared) or 2-D
 * `(nFits, nPoints)` (per fit, rows are fits).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { FitBatchXInput } from "@nlsq/nlsq/workflow";
 * const shared: FitBatchXInput = [0, 1, 2];
 * const perFit: FitBatchXInput = [[0, 1, 2], [0, 2, 4]];
 * const twoVariables: FitBatchXInput = [[0, 1, 0, 1], [0, 0, 1, 1]];
 * assert.strictEqual(perFit.length + twoVariables.length, shared.length + 1);
 * ```
 */
export type FitBatchXInput =
  | NumVec
  | readonly (NumVec | readonly NumVec[])[]
  | string
  | URL;

/**
 * The data of a batch: `nFits * nPoints` values row-major (fit i is
 * `Y[i * nPoints .. (i + 1) * nPoints)`; a Float64Array is used in place), or
 * an array of `nFits` rows of equal length, or the path (string or file URL)
 * of a 2-D NPY file `(nFits, nPoints)` whose rows are fits ('<f8' or '<f4',
 * C or Fortran order; read whole).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { FitBatchYInput } from "@nlsq/nlsq/workflow";
 * const flat: FitBatchYInput = new Float64Array([1, 2, 3, 4, 5, 6]); // 2 fits of 3
 * const rows: FitBatchYInput = [[1, 2, 3], [4, 5, 6]];
 * assert.strictEqual(flat.length, rows.length * 3);
 * ```
 */
export type FitBatchYInput = NumVec | readonly NumVec[] | string | URL;

/**
 * Progress reported to `onProgress` as chunks of fits finish.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fitBatch } from "@nlsq/nlsq";
 * import type { FitBatchProgress } from "@nlsq/nlsq/workflow";
 * const seen: FitBatchProgress[] = [];
 * await fitBatch("a * x", [1, 2, 3], [[2, 4, 6], [3, 6, 9]], {
 *   p0: [1],
 *   onProgress: (p) => { seen.push(p); },
 * });
 * assert.deepStrictEqual(seen.at(-1)!.done, 2);
 * assert.strictEqual(seen.at(-1)!.total, 2);
 * ```
 */
export interface FitBatchProgress {
  /** Fits finished. */
  readonly done: number;
  /** Fits in the batch. */
  readonly total: number;
  /** Milliseconds since the batch started. */
  readonly elapsedMs: number;
}

/**
 * Bounds of a batch: `[lower, upper]`, each side a number (every
 * parameter), `p` values (shared by every fit) or `nFits * p` values (per
 * fit, row-major).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { FitBatchBounds } from "@nlsq/nlsq/workflow";
 * const b: FitBatchBounds = [0, [10, Infinity]];
 * assert.strictEqual(b.length, 2);
 * ```
 */
export type FitBatchBounds = readonly [NumVec | number, NumVec | number];

/**
 * Options of {@linkcode fitBatch}. "Shared or per fit" means: one value set
 * for every fit, or one per fit (`nFits * size` values row-major, or an
 * array of `nFits` arrays).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { FitBatchOptions } from "@nlsq/nlsq";
 * const o: FitBatchOptions = { p0: [1, 1], fixed: [false, true], threads: 1 };
 * assert.deepStrictEqual(o.fixed, [false, true]);
 * ```
 */
export interface FitBatchOptions {
  /**
   * Starting parameters, in the model's parameter order: `p` values for
   * every fit, or per fit (`nFits * p` values or `nFits` rows); an object
   * by name (shared, as `fit`'s); or `"auto"`: a built-in model's (`models`)
   * guess from each fit's own data. Without p0, a built-in model guesses
   * and any other model needs every start in `params`. Parameters held by
   * `fixed` keep their start value.
   */
  p0?: NumVec | readonly NumVec[] | "auto" | Readonly<Record<string, number>>;
  /**
   * Parameters by name, shared by every fit, as `fit`'s: a number (the
   * start) or `{ value, min, max, vary, expr }`. Fixed (`vary: false`) and
   * tied (`expr`) parameters are substituted into the model before it is
   * compiled, so the engine fits only the free ones; results list every
   * parameter (fixed: error 0; tied: error by the delta method). A `value`
   * here is the start of every fit (it wins over p0 and the guess), `min`
   * and `max` win over `bounds`. A built-in model's hints (lmfit's) apply
   * below these, as in `fit`.
   */
  params?: ParamsInput;
  /** Points per fit, when neither Y (as rows) nor a shared x tells it. */
  nPoints?: number;
  /** Bounds, shared or per fit (see {@linkcode FitBatchBounds}). */
  bounds?: FitBatchBounds;
  /** Standard deviations of y: `nPoints` values shared, or per fit. */
  sigma?: NumVec | readonly NumVec[];
  /** Parameters held at their start value: `p` booleans shared by all fits. */
  fixed?: readonly boolean[];
  /**
   * "lse" (least squares, default) or "poisson": Poisson maximum likelihood
   * for counts (minimizes the deviance; the model must stay > 0; no sigma;
   * covariance = inverse Fisher information, not scaled).
   */
  estimator?: "lse" | "poisson";
  /** Robust loss of least squares (default "linear"). */
  loss?: LossName;
  /** Soft margin of the robust loss (default 1). */
  fScale?: number;
  /**
   * "trf" (default), "lm" or "auto", as in `fit()`. The CPU batch engine
   * runs one algorithm for all three (Levenberg-Marquardt with Moré's
   * scaling on the normal equations, an active set and projection for
   * bounds); the method sets what `fit()` would check ("lm" refuses bounds
   * and robust losses) and the covariance convention of `result(i)`
   * ("lm": Infinity where J is rank deficient; else the pseudo-inverse).
   */
  method?: "trf" | "lm" | "auto";
  /** Relative cost tolerance (default: `calculateAdaptiveTolerances(nPoints)`). */
  ftol?: number;
  /** Relative step tolerance (default: adaptive, as ftol). */
  xtol?: number;
  /** Gradient tolerance (default: adaptive, as ftol). */
  gtol?: number;
  /** Most function evaluations per fit (default 100 * p). */
  maxNfev?: number;
  /**
   * What a fit with NaN or Infinity in its data (y, its own x or sigma, or a
   * negative count) gets: "flag" (default: not fitted, status -5) or "omit"
   * (those points dropped; status -3 if fewer points than free parameters
   * are left).
   */
  nanPolicy?: "flag" | "omit";
  /**
   * "cpu", "webgpu" (whole fits on the device: f64 where it has
   * `shader-f64`, else f32 polished by the CPU engine; least squares with
   * the linear loss and up to 12 free parameters), or "auto" (default: the
   * CPU engine under 16384 fits, with `threads` given, or beyond 8 free
   * parameters or 16384 points per fit; else the faster of the two as
   * measured on samples of the batch).
   */
  backend?: "auto" | "cpu" | "webgpu";
  /**
   * Worker threads: an integer in [1, 256] (1: the calling thread only), or
   * "auto" (default: one per core for batches large enough to pay).
   */
  threads?: number | "auto";
  /** Stops the batch between chunks of fits (the promise rejects). */
  signal?: AbortSignal;
  /**
   * Called as chunks of fits finish (a promise it returns is awaited); a
   * throw or rejection ends the batch with that error.
   */
  onProgress?: (p: FitBatchProgress) => void | Promise<void>;
}

const KEYS = [
  "p0",
  "params",
  "nPoints",
  "bounds",
  "sigma",
  "fixed",
  "estimator",
  "loss",
  "fScale",
  "method",
  "ftol",
  "xtol",
  "gtol",
  "maxNfev",
  "nanPolicy",
  "backend",
  "threads",
  "signal",
  "onProgress",
] as const satisfies readonly (keyof FitBatchOptions)[];
// A compile error here names an option missing from KEYS.
const _everyOptionListed:
  Exclude<keyof FitBatchOptions, typeof KEYS[number]> extends never ? true
    : Exclude<keyof FitBatchOptions, typeof KEYS[number]> = true;

/**
 * Every option name of {@linkcode FitBatchOptions} (an unknown name is an
 * error).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { FIT_BATCH_OPTION_KEYS } from "./fit_batch_options.ts";
 * assert.ok(FIT_BATCH_OPTION_KEYS.has("p0") && !FIT_BATCH_OPTION_KEYS.has("x0"));
 * ```
 */
export const FIT_BATCH_OPTION_KEYS: ReadonlySet<string> = new Set(KEYS);
