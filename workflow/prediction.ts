/**
 * The fitted model at new x, with confidence and prediction bands by the
 * delta method: the band's variance at x is `g^T C g`, g the exact
 * gradient of the model with respect to every parameter at popt (the
 * model's own derivatives, from its compiled kernel) and C the covariance
 * of the fit; a prediction band adds the variance of one observation.
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import { normalizeX, type XInput } from "./fit/_input.ts";
import { studentTQuantile } from "../core/_stats.ts";
import { assertKnownOptions, showValue } from "../core/_validate.ts";

/**
 * Options of `FitResult.predict`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { PredictOptions } from "@nlsq/nlsq";
 * const r = await fit("a * x + b", [0, 1, 2, 3, 4], [1.1, 2.9, 5.2, 6.8, 9.1], { p0: [1, 0] });
 * const o: PredictOptions = { interval: "prediction", level: 0.9 };
 * const { y, lower, upper } = r.predict([10], o);
 * assert.ok(lower[0] < y[0] && y[0] < upper[0]);
 * ```
 */
export interface PredictOptions {
  /**
   * `"confidence"`: where the model curve lies (the parameters'
   * uncertainty); `"prediction"`: where a new observation falls (that plus
   * the observation's own variance).
   */
  readonly interval: "confidence" | "prediction";
  /** Probability the band covers, 0 < level < 1 (default 0.95). */
  readonly level?: number;
  /**
   * The observation's standard deviation at each new x (one number for
   * all), in the units of the fit's `sigma`; prediction bands only. Needed
   * when the fit was weighted by `sigma`; without sigma in the fit it is 1
   * (each point's weight).
   */
  readonly sigma?: number | ArrayLike<number>;
}

/**
 * The model at new x.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { Prediction } from "@nlsq/nlsq";
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], { p0: [1] });
 * const p: Prediction = r.predict([4]);
 * assert.ok(Math.abs(p.y[0] - 8) < 1e-9);
 * ```
 */
export interface Prediction {
  /** The fitted model's values. */
  readonly y: Float64Array;
}

/**
 * The model at new x with a two-sided band `y ± t * stderr`, t the
 * quantile of Student's t with the fit's `nPoints - nFree` degrees of
 * freedom.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { PredictionBand } from "@nlsq/nlsq";
 * const r = await fit("a * x + b", [0, 1, 2, 3], [1.1, 2.9, 5.2, 6.8], { p0: [1, 0] });
 * const b: PredictionBand = r.predict([1.5], { interval: "confidence" });
 * assert.ok(Math.abs(b.upper[0] - b.y[0] - b.t * b.stderr[0]) < 1e-12);
 * ```
 */
export interface PredictionBand extends Prediction {
  /** Lower end of the band. */
  readonly lower: Float64Array;
  /** Upper end of the band. */
  readonly upper: Float64Array;
  /**
   * Standard error at each x: `sqrt(g^T C g)` (confidence) or
   * `sqrt(g^T C g + s^2)` (prediction).
   */
  readonly stderr: Float64Array;
  readonly interval: "confidence" | "prediction";
  readonly level: number;
  /** The Student's t quantile the band is stderr times. */
  readonly t: number;
}

/** What a prediction needs of a fit. */
export interface PredictionInputs {
  /** The model over every parameter (null: it could not be restored). */
  readonly model: Model | null;
  readonly popt: Float64Array;
  /** Covariance over every parameter (fixed rows 0, ties by T C T^T). */
  readonly pcov: readonly (readonly number[])[];
  readonly nPoints: number;
  readonly nFree: number;
  readonly chiSquare: number;
  /** The fit's sigma was absolute (pcov not scaled by the reduced chi-square). */
  readonly absoluteSigma: boolean;
  /** The fit was weighted by a sigma. */
  readonly weighted: boolean;
  /** Poisson counts: a new count's variance is the model value. */
  readonly poisson?: boolean;
}

const KNOWN = new Set(["interval", "level", "sigma"]);
/** Rows per kernel call (bounds the Jacobian block's memory). */
const BLOCK = 2048;

/**
 * The model at `x`, and with options its band (the body of
 * `FitResult.predict`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { predictFit } from "./prediction.ts";
 * const b = predictFit({
 *   model: model("a * x"), popt: new Float64Array([2]), pcov: [[0.01]],
 *   nPoints: 11, nFree: 1, chiSquare: 1, absoluteSigma: false, weighted: false,
 * }, [3], { interval: "confidence" }) as { y: Float64Array; stderr: Float64Array };
 * assert.strictEqual(b.y[0], 6);
 * assert.ok(Math.abs(b.stderr[0] - 0.3) < 1e-15); // |df/da| * sqrt(C) = 3 * 0.1
 * ```
 */
export function predictFit(
  fit: PredictionInputs,
  x: XInput,
  options?: PredictOptions,
): Prediction | PredictionBand {
  const o = checkOptions(options ?? null);
  const m = fit.model;
  if (m === null) {
    throw new TypeError(
      "predict: this result has no model (a function model cannot be saved); restore it with FitResult.fromJSON(json, { model })",
    );
  }
  const cols = normalizeX(x, m.variables.length);
  const y = m.evaluate(cols, fit.popt);
  if (o.interval === undefined) return { y };
  const n = y.length;
  const dof = fit.nPoints - fit.nFree;
  const t = dof > 0 ? studentTQuantile(0.5 + o.level / 2, dof) : Infinity;
  const variance = bandVariance(m, fit.popt, fit.pcov, cols, n);
  if (o.interval === "prediction") {
    if (fit.poisson && o.sigma !== undefined) {
      throw new TypeError(
        "predict: options.sigma has no meaning for Poisson counts (a new count's variance is the model value)",
      );
    }
    const s2 = fit.poisson
      ? (i: number) => Math.max(y[i], 0)
      : observationVariance(fit, o.sigma, n);
    for (let i = 0; i < n; i++) variance[i] += s2(i);
  }
  const stderr = variance.map(Math.sqrt);
  const lower = new Float64Array(n), upper = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = t * stderr[i];
    lower[i] = y[i] - h;
    upper[i] = y[i] + h;
  }
  return {
    y,
    lower,
    upper,
    stderr,
    interval: o.interval,
    level: o.level,
    t,
  };
}

/**
 * g^T C g at every x, g = df/dp from the model's kernel (exact for
 * expression models), in blocks of rows.
 */
function bandVariance(
  m: Model,
  popt: Float64Array,
  pcov: readonly (readonly number[])[],
  cols: Float64Array[],
  n: number,
): Float64Array {
  const p = popt.length;
  const out = new Float64Array(n);
  const zeros = new Float64Array(n);
  const ld = Math.min(BLOCK, Math.max(n, 1));
  const B = new Float64Array((p + 1) * ld);
  const g = new Float64Array(p);
  for (let start = 0; start < n; start += ld) {
    const end = Math.min(n, start + ld);
    m.kernel(cols, zeros, null, popt, start, end, B, ld, true);
    for (let i = 0; i < end - start; i++) {
      for (let k = 0; k < p; k++) g[k] = B[k * ld + i];
      let v = 0;
      for (let a = 0; a < p; a++) {
        const row = pcov[a];
        let s = 0;
        for (let b = 0; b < p; b++) s += row[b] * g[b];
        v += g[a] * s;
      }
      // A covariance that could not be estimated has no band.
      out[start + i] = Number.isFinite(v) ? v : NaN;
    }
  }
  return out;
}

/** The variance of one new observation at point i. */
function observationVariance(
  fit: PredictionInputs,
  sigma: number | Float64Array | undefined,
  n: number,
): (i: number) => number {
  if (sigma === undefined && fit.weighted) {
    throw new TypeError(
      "predict: the fit was weighted by sigma, so a prediction band needs the observation's sigma at the new x (options.sigma, in the units of the fit's sigma)",
    );
  }
  if (typeof sigma !== "number" && sigma !== undefined && sigma.length !== n) {
    throw new RangeError(
      `predict: options.sigma has ${sigma.length} values for ${n} points`,
    );
  }
  const dof = fit.nPoints - fit.nFree;
  // Relative sigma: the reduced chi-square is the variance of unit weight.
  const unit = fit.absoluteSigma ? 1 : dof > 0 ? fit.chiSquare / dof : NaN;
  if (sigma === undefined) return () => unit;
  if (typeof sigma === "number") return () => unit * sigma * sigma;
  return (i) => unit * sigma[i] * sigma[i];
}

function checkOptions(options: PredictOptions | null): {
  interval: "confidence" | "prediction" | undefined;
  level: number;
  sigma: number | Float64Array | undefined;
} {
  if (options === null) {
    return { interval: undefined, level: 0.95, sigma: undefined };
  }
  if (typeof options !== "object") {
    throw new TypeError("predict: options must be an object");
  }
  assertKnownOptions("predict", options, KNOWN);
  const { interval, level = 0.95, sigma } = options;
  if (interval !== "confidence" && interval !== "prediction") {
    throw new TypeError(
      `predict: options.interval must be "confidence" or "prediction", got ${
        showValue(interval)
      }`,
    );
  }
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    throw new RangeError(
      `predict: options.level must be a number in (0, 1), got ${
        showValue(level)
      }`,
    );
  }
  if (sigma !== undefined && interval !== "prediction") {
    throw new TypeError(
      'predict: options.sigma is the observation\'s sigma of a prediction band (interval: "prediction")',
    );
  }
  return { interval, level, sigma: checkSigma(sigma) };
}

function checkSigma(
  sigma: number | ArrayLike<number> | undefined,
): number | Float64Array | undefined {
  if (sigma === undefined) return undefined;
  const bad = (v: unknown) =>
    typeof v !== "number" || !(v > 0) || !Number.isFinite(v);
  if (typeof sigma === "number") {
    if (bad(sigma)) {
      throw new RangeError(
        `predict: options.sigma must be positive and finite, got ${sigma}`,
      );
    }
    return sigma;
  }
  if (
    sigma === null || typeof sigma !== "object" ||
    typeof sigma.length !== "number"
  ) {
    throw new TypeError(
      `predict: options.sigma must be a number or an array of numbers, got ${
        showValue(sigma)
      }`,
    );
  }
  const out = Float64Array.from(sigma);
  for (let i = 0; i < out.length; i++) {
    if (bad(sigma[i])) {
      throw new RangeError(
        `predict: options.sigma[${i}] must be positive and finite, got ${
          sigma[i]
        }`,
      );
    }
  }
  return out;
}
