/**
 * The result of `fit`: parameters, covariance, fit statistics, and what the
 * workflow did (strategy, backend, preset, tolerances, starts).
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import type { BatchSourceLike } from "../strategies/strategy.ts";
import type { FitOptions } from "./fit_options.ts";
import { studentTQuantile } from "../core/_stats.ts";
import type { SolverName } from "../core/solver_options.ts";
import type { ParamSetting } from "./fit/_params.ts";
import type { XInput } from "./fit/_input.ts";
import type { DataSummary } from "./data_summary.ts";
import {
  type FitDiagnostics,
  fitDiagnostics,
  type JacobianFactor,
} from "./diagnostics.ts";
import {
  predictFit,
  type Prediction,
  type PredictionBand,
  type PredictOptions,
} from "./prediction.ts";
import { formatFitReport, type ReportContext } from "./report.ts";
import { type CsvOptions, resultToCsv } from "./result_csv.ts";
import {
  fieldsFromJson,
  fieldsToJson,
  type FromJsonOptions,
  type SavedResult,
} from "./result_json.ts";
import { resultDisplay } from "./result_display.ts";
import { describeModel, modelLabel } from "../models/description.ts";
import type { ProfileIntervals, ProfileOptions } from "./profile_intervals.ts";
import type { BootstrapOptions, BootstrapResult } from "./bootstrap.ts";

/**
 * One start of a multi-start run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { StartOutcome } from "@nlsq/nlsq/workflow";
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], { p0: [1] });
 * const s: readonly StartOutcome[] = r.starts;
 * assert.ok(s.length >= 1 && s[0].success);
 * ```
 */
export interface StartOutcome {
  /** The starting point. */
  readonly p0: number[];
  /** Where it ended. */
  readonly popt: number[];
  /** Final robust cost. */
  readonly cost: number;
  /** scipy's status code. */
  readonly status: number;
  /** Function evaluations. */
  readonly nfev: number;
  /** Whether the start converged. */
  readonly success: boolean;
}

/**
 * A confidence interval of one parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { ConfidenceInterval } from "@nlsq/nlsq";
 * const r = await fit("a * x + b", [0, 1, 2, 3], [1.1, 2.9, 5.2, 6.8], { p0: [1, 0] });
 * const [ci]: ConfidenceInterval[] = r.confidenceIntervals(0.05);
 * assert.ok(ci.name === "a" && ci.lower < ci.value && ci.value < ci.upper);
 * ```
 */
export interface ConfidenceInterval {
  /** Parameter name. */
  readonly name: string;
  /** Estimated value. */
  readonly value: number;
  /** Lower end of the interval. */
  readonly lower: number;
  /** Upper end of the interval. */
  readonly upper: number;
}

/**
 * A quantity derived from the parameters, with its standard error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { DerivedQuantity } from "@nlsq/nlsq";
 * const q: DerivedQuantity = { value: 2.35, stderr: 0.01 };
 * assert.ok(q.stderr < q.value);
 * ```
 */
export interface DerivedQuantity {
  readonly value: number;
  readonly stderr: number;
}

/** Fields of a {@linkcode FitResult}. */
export interface FitResultFields {
  popt: Float64Array;
  paramNames: readonly string[];
  /** Parameters the solver varied (default: all; fewer when some are fixed or tied). */
  nFree?: number;
  /** Derived quantities with standard errors (built-in peak models). */
  derived?: Readonly<Record<string, DerivedQuantity>>;
  pcov: number[][];
  cost: number;
  /** The residual vector, or a function computing it on first access. */
  residuals: Float64Array | null | (() => Float64Array);
  nPoints: number;
  ssRes: number;
  ssTot: number;
  chiSquare: number;
  nfev: number;
  njev: number;
  nit: number;
  status: number;
  message: string;
  method: SolverName;
  strategy: string;
  backend: string;
  preset: string;
  tolerances: { ftol: number; xtol: number; gtol: number };
  starts: StartOutcome[];
  optimality: number;
  activeMask: Int8Array;
  elapsedMs: number;
  notes: string[];
  /** What was fitted, for methods that evaluate or refit it (optional). */
  origin?: FitOrigin;
  /** The model over every parameter (default: `origin.model`, else none). */
  model?: Model | null;
  /** How each parameter took part (default: all varied, no bounds). */
  paramSettings?: readonly ParamSetting[];
  /** The fit was weighted by a sigma (default false). */
  weighted?: boolean;
  /** pcov was not scaled by the reduced chi-square (default false). */
  absoluteSigma?: boolean;
  /** What the data were, or a function computing it on first access (default: none). */
  dataSummary?: DataSummary | null | (() => DataSummary);
  /** The Jacobian over the free parameters at popt, for the diagnostics. */
  jacobianFactor?: JacobianFactor | null;
  /** Least squares (default) or Poisson maximum likelihood (fitBatch). */
  estimator?: "lse" | "poisson";
}

/**
 * What a fit was made of: the model (every parameter), the data (arrays in
 * memory, or the source), and the options as the caller gave them, so that
 * a result can evaluate its model at new x and refit (profile intervals,
 * the bootstrap).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], { p0: [1] });
 * assert.deepStrictEqual(Array.from(r.origin!.data!.y), [2, 4, 6]);
 * assert.strictEqual(r.origin!.model.params[0], "a");
 * ```
 */
export interface FitOrigin {
  /** The model over every parameter (a built-in model keeps its members). */
  readonly model: Model;
  /** The data in memory (unweighted), or null for a source. */
  readonly data: {
    readonly x: readonly Float64Array[];
    readonly y: Float64Array;
    readonly sigma: Float64Array | null;
  } | null;
  /** The data source, or null for arrays. */
  readonly source: BatchSourceLike | null;
  /** The options as given (callbacks and signal included). */
  readonly options: FitOptions;
}

/**
 * What `fit` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = [0, 1, 2, 3, 4];
 * const r = await fit(model("a * x + b"), x, x.map((t) => 2 * t + 1 + (t % 2 ? 0.1 : -0.1)), {
 *   p0: [1, 0],
 * });
 * assert.ok(r.success);
 * assert.ok(Math.abs(r.params.a - 2) < 0.1);
 * const [ci] = r.confidenceIntervals(0.05);
 * assert.ok(ci.lower < r.params.a && r.params.a < ci.upper);
 * ```
 */
export class FitResult {
  /** Optimal parameters. */
  readonly popt: Float64Array;
  /** Parameters by name. */
  readonly params: Readonly<Record<string, number>>;
  /** Parameter names, in the order of `popt`. */
  readonly paramNames: readonly string[];
  /** Covariance of popt (scipy's conventions). */
  readonly pcov: number[][];
  /** Standard errors: sqrt(diag(pcov)). */
  readonly perr: Float64Array;
  /** Standard errors by name (0 for a fixed parameter). */
  readonly stderr: Readonly<Record<string, number>>;
  /** Parameters the solver varied (fixed and tied ones excluded). */
  readonly nFree: number;
  /**
   * Quantities derived from the parameters, with their standard errors by
   * the delta method (built-in peak models: `fwhm`, `height`, ...); empty
   * for other models.
   */
  readonly derived: Readonly<Record<string, DerivedQuantity>>;
  /** Robust cost 0.5 * sum(rho(r_i^2)). */
  readonly cost: number;
  #residuals: Float64Array | null | (() => Float64Array);
  /** Coefficient of determination from unweighted residuals. */
  readonly rSquared: number;
  /** R^2 adjusted for the number of parameters. */
  readonly adjRSquared: number;
  /** Root mean square of the unweighted residuals. */
  readonly rmse: number;
  /** Akaike information criterion n ln(chi2/n) + 2p (lmfit's convention). */
  readonly aic: number;
  /** Bayesian information criterion n ln(chi2/n) + p ln n. */
  readonly bic: number;
  /** Weighted sum of squared residuals. */
  readonly chiSquare: number;
  /** Number of data points used. */
  readonly nPoints: number;
  /** Function evaluations. */
  readonly nfev: number;
  /** Jacobian evaluations. */
  readonly njev: number;
  /** Solver iterations. */
  readonly nit: number;
  /** scipy's status code. */
  readonly status: number;
  /** Human-readable termination reason. */
  readonly message: string;
  /** status > 0. */
  readonly success: boolean;
  /** "trf" or "lm". */
  readonly method: SolverName;
  /** Strategy that ran. */
  readonly strategy: string;
  /** Backend that ran, with precision and adapter. */
  readonly backend: string;
  /** Workflow preset (or "custom"). */
  readonly preset: string;
  /** Tolerances used. */
  readonly tolerances: {
    readonly ftol: number;
    readonly xtol: number;
    readonly gtol: number;
  };
  /** Outcome of every start (one entry without multi-start). */
  readonly starts: readonly StartOutcome[];
  /** Number of starts. */
  readonly nStarts: number;
  /** First-order optimality at the solution. */
  readonly optimality: number;
  /** Active bounds: -1 lower, 1 upper, 0 free. */
  readonly activeMask: Int8Array;
  /** Wall time of the fit. */
  readonly elapsedMs: number;
  /** Notes on decisions taken (fallbacks, selector reasons). */
  readonly notes: readonly string[];
  /** What was fitted (model, data, options); absent on a restored result. */
  readonly origin?: FitOrigin;
  /** How each parameter took part (varied, fixed, tied) and its bounds, model order. */
  readonly paramSettings: readonly ParamSetting[];
  /** Whether the fit was weighted by a sigma. */
  readonly weighted: boolean;
  /** Whether pcov is absolute (not scaled by the reduced chi-square). */
  readonly absoluteSigma: boolean;
  /** Least squares, or Poisson maximum likelihood (a fitBatch of counts). */
  readonly estimator: "lse" | "poisson";
  readonly #fields: FitResultFields;
  readonly #model: Model | null;
  #diagnostics: FitDiagnostics | null = null;
  #dataSummary: DataSummary | null | (() => DataSummary);

  /** Builds the result from its fields, deriving params, perr and the fit statistics. */
  constructor(f: FitResultFields) {
    // Statistics count the parameters that varied.
    const p = f.nFree ?? f.popt.length;
    this.popt = f.popt;
    this.nFree = p;
    this.derived = Object.freeze({ ...(f.derived ?? {}) });
    this.paramNames = f.paramNames;
    const params: Record<string, number> = {};
    f.paramNames.forEach((nm, i) => (params[nm] = f.popt[i]));
    this.params = Object.freeze(params);
    this.pcov = f.pcov;
    // A plain loop: Float64Array.from with a map function is V8's slow path.
    this.perr = new Float64Array(f.popt.length);
    for (let i = 0; i < f.popt.length; i++) {
      this.perr[i] = Math.sqrt(f.pcov[i][i]);
    }
    const stderr: Record<string, number> = {};
    f.paramNames.forEach((nm, i) => (stderr[nm] = this.perr[i]));
    this.stderr = Object.freeze(stderr);
    this.cost = f.cost;
    this.#residuals = f.residuals;
    this.nPoints = f.nPoints;
    this.rSquared = f.ssTot > 0 ? 1 - f.ssRes / f.ssTot : NaN;
    const dof = f.nPoints - p;
    this.adjRSquared = f.ssTot > 0 && dof > 0
      ? 1 - (f.ssRes / dof) / (f.ssTot / (f.nPoints - 1))
      : NaN;
    this.rmse = Math.sqrt(f.ssRes / f.nPoints);
    this.chiSquare = f.chiSquare;
    const n = f.nPoints;
    const nll = n * Math.log(Math.max(f.chiSquare, Number.MIN_VALUE) / n);
    this.aic = nll + 2 * p;
    this.bic = nll + Math.log(n) * p;
    this.nfev = f.nfev;
    this.njev = f.njev;
    this.nit = f.nit;
    this.status = f.status;
    this.message = f.message;
    this.success = f.status > 0;
    this.method = f.method;
    this.strategy = f.strategy;
    this.backend = f.backend;
    this.preset = f.preset;
    this.tolerances = f.tolerances;
    this.starts = f.starts;
    this.nStarts = f.starts.length;
    this.optimality = f.optimality;
    this.activeMask = f.activeMask;
    this.elapsedMs = f.elapsedMs;
    this.notes = f.notes;
    this.origin = f.origin;
    this.#fields = f;
    this.#model = f.model !== undefined ? f.model : f.origin?.model ?? null;
    this.paramSettings = f.paramSettings ??
      f.paramNames.map(() => ({ vary: true, min: -Infinity, max: Infinity }));
    this.weighted = f.weighted ?? false;
    this.absoluteSigma = f.absoluteSigma ?? false;
    this.#dataSummary = f.dataSummary ?? null;
    this.estimator = f.estimator ?? "lse";
  }

  /**
   * The model restored from a saved result. A plain function model cannot
   * be saved: pass it back in `options.model`.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { fit, FitResult, models } from "@nlsq/nlsq";
   * const x = Array.from({ length: 41 }, (_, i) => -4 + i / 5);
   * const y = x.map((t, i) => 3 * Math.exp(-t * t / 2) + 0.5 + 0.01 * Math.sin(7 * i));
   * const r = await fit(models.gaussian().add(models.constant()), x, y);
   * const back = FitResult.fromJSON(JSON.parse(JSON.stringify(r)));
   * assert.deepStrictEqual(back.predict([0.3]).y, r.predict([0.3]).y);
   * assert.strictEqual(back.report(), r.report());
   * ```
   */
  static fromJSON(json: unknown, options?: FromJsonOptions): FitResult {
    return new FitResult(fieldsFromJson(json, options));
  }

  /**
   * What the data were (points, ranges of x and y, whether weighted, the
   * source), or null when unknown. Computed on first access.
   */
  get dataSummary(): DataSummary | null {
    if (typeof this.#dataSummary === "function") {
      this.#dataSummary = this.#dataSummary();
    }
    return this.#dataSummary;
  }

  /**
   * The model's name in a report: its expression, or lmfit's way of naming
   * a built-in model (`Model(gaussian, prefix='g1_') + Model(linear)`);
   * null without a model.
   */
  get modelLabel(): string | null {
    return this.#model ? modelLabel(describeModel(this.#model)) : null;
  }

  /**
   * What the Jacobian at the solution says about the parameters (NLSQ's
   * identifiability report): condition number and numerical rank of the
   * column-scaled Jacobian, the correlation matrix, parameters at bounds,
   * directions the data cannot determine, and warnings in plain words.
   * Computed on first access.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { fit } from "@nlsq/nlsq";
   * const x = [0, 1, 2, 3, 4, 5];
   * const r = await fit("a * exp(b * x)", x, x.map((t) => 2 * Math.exp(0.3 * t)), { p0: [1, 0.1] });
   * const d = r.diagnostics;
   * assert.strictEqual(d.rank, 2);
   * assert.ok(d.conditionNumber > 1 && d.conditionNumber < 1e3);
   * assert.strictEqual(d.correlation[0][0], 1);
   * ```
   */
  get diagnostics(): FitDiagnostics {
    this.#diagnostics ??= fitDiagnostics({
      names: this.paramNames,
      settings: this.paramSettings,
      pcov: this.pcov,
      activeMask: this.activeMask,
      nPoints: this.nPoints,
      factor: this.#fields.jacobianFactor ?? null,
    });
    return this.#diagnostics;
  }

  /**
   * The fitted model at new x (`x` as `fit` takes it: one array, or one
   * per variable); with `options.interval` also a two-sided band
   * `y ± t * sqrt(g' C g)` (confidence) or `y ± t * sqrt(g' C g + s^2)`
   * (prediction), g the model's exact gradient in every parameter, C the
   * covariance (fixed parameters have none; tied ones carry their ties),
   * s^2 the variance of one observation (the reduced chi-square; for a
   * weighted fit, `options.sigma`^2 times it, or without the factor with
   * `absoluteSigma`; for Poisson counts, the model value).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { fit } from "@nlsq/nlsq";
   * const x = [0, 1, 2, 3, 4, 5, 6, 7];
   * const r = await fit("a * x + b", x, x.map((t, i) => 2 * t + 1 + (i % 2 ? 0.1 : -0.1)), {
   *   p0: [1, 0],
   * });
   * const c = r.predict([3.5, 10], { interval: "confidence", level: 0.95 });
   * const p = r.predict([3.5, 10], { interval: "prediction", level: 0.95 });
   * assert.ok(c.lower[0] < c.y[0] && c.y[0] < c.upper[0]);
   * // Narrowest in the middle of the data; a new point spreads wider.
   * assert.ok(c.stderr[0] < c.stderr[1] && p.stderr[0] > c.stderr[0]);
   * ```
   */
  predict(x: XInput): Prediction;
  predict(x: XInput, options: PredictOptions): PredictionBand;
  predict(x: XInput, options?: PredictOptions): Prediction | PredictionBand {
    return predictFit(
      {
        model: this.#model,
        popt: this.popt,
        pcov: this.pcov,
        nPoints: this.nPoints,
        nFree: this.nFree,
        chiSquare: this.chiSquare,
        absoluteSigma: this.absoluteSigma,
        weighted: this.weighted,
        poisson: this.estimator === "poisson",
      },
      x,
      options,
    );
  }

  /**
   * The lmfit-style text report (what `nlsq fit` prints).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { fit } from "@nlsq/nlsq";
   * const r = await fit("a * x + b", [0, 1, 2, 3], [1, 3.1, 4.9, 7], { p0: [1, 0] });
   * assert.match(r.report(), /\[\[Variables\]\]\n {4}a: +1\.9\d+ \+\/- /);
   * ```
   */
  report(context?: ReportContext): string {
    return formatFitReport(this, context);
  }

  /**
   * The parameters as CSV, one row per parameter.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { fit } from "@nlsq/nlsq";
   * const r = await fit("a * x + b", [0, 1, 2, 3], [1, 3.1, 4.9, 7], { p0: [1, 0] });
   * const rows = r.toCSV().trim().split("\n");
   * assert.strictEqual(rows.length, 3);
   * assert.match(rows[2], /^b,/);
   * ```
   */
  toCSV(options?: CsvOptions): string {
    return resultToCsv(this, options);
  }

  /**
   * How a notebook shows the result (Deno's Jupyter kernel): an HTML table
   * of the parameters with their errors (and a plot when one is
   * registered), and the text report.
   */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return resultDisplay(this);
  }

  /**
   * Data minus model, y - f(x, popt), for in-memory data (null for streamed
   * sources). Computed on first access when the fit did not need it.
   */
  get residuals(): Float64Array | null {
    if (typeof this.#residuals === "function") {
      this.#residuals = this.#residuals();
    }
    return this.#residuals;
  }

  /**
   * Two-sided confidence intervals `popt ± t(1 - alpha/2, n - p) * perr`.
   *
   * @param alpha Significance level, 0 < alpha < 1 (default 0.05: 95%).
   */
  confidenceIntervals(alpha = 0.05): ConfidenceInterval[] {
    if (!(alpha > 0 && alpha < 1)) {
      throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
    }
    const dof = this.nPoints - this.nFree;
    const t = dof > 0 ? studentTQuantile(1 - alpha / 2, dof) : Infinity;
    return this.paramNames.map((name, i) => ({
      name,
      value: this.popt[i],
      lower: this.popt[i] - t * this.perr[i],
      upper: this.popt[i] + t * this.perr[i],
    }));
  }

  /**
   * Profile-likelihood intervals `{ name: [lower, upper] }` (lmfit's
   * `conf_interval`, F-test), by refits with one parameter held; see
   * `profileIntervals` in `workflow/profile_intervals.ts`.
   */
  async profileIntervals(options?: ProfileOptions): Promise<ProfileIntervals> {
    // Loaded on use: the refit machinery imports this module.
    const { profileIntervals } = await import("./profile_intervals.ts");
    return await profileIntervals(this, options);
  }

  /**
   * Residual bootstrap through the batch engine: percentile intervals and
   * the bootstrap covariance; see `bootstrap` in `workflow/bootstrap.ts`.
   */
  async bootstrap(options?: BootstrapOptions): Promise<BootstrapResult> {
    const { bootstrap } = await import("./bootstrap.ts");
    return await bootstrap(this, options);
  }

  /**
   * A plain JSON object that `FitResult.fromJSON` restores: the model as
   * an expression or a composite description, the data summary, the
   * parameters with their settings, the covariance and the statistics
   * (residuals and the fit's origin are not kept).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { fit, FitResult } from "@nlsq/nlsq";
   * const x = [0, 1, 2, 3, 4];
   * const r = await fit("a * exp(-b * x)", x, [5, 3.1, 1.8, 1.1, 0.7], { p0: [5, 0.5] });
   * const json = JSON.parse(JSON.stringify(r));
   * assert.deepStrictEqual(json.model, {
   *   kind: "expression", expression: "a * exp(-b * x)", params: ["a", "b"], variables: ["x"],
   * });
   * const back = FitResult.fromJSON(json);
   * const o = { interval: "prediction", level: 0.9 } as const;
   * assert.deepStrictEqual(back.predict([2.5], o), r.predict([2.5], o));
   * ```
   */
  toJSON(): SavedResult {
    return fieldsToJson(
      {
        ...this.#fields,
        model: this.#model,
        paramSettings: this.paramSettings,
        nFree: this.nFree,
        estimator: this.estimator,
        dataSummary: this.dataSummary,
      },
      {
        rSquared: this.rSquared,
        adjRSquared: this.adjRSquared,
        rmse: this.rmse,
        aic: this.aic,
        bic: this.bic,
      },
      this.params,
      this.perr,
    );
  }
}
