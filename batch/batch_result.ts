/**
 * The result of `fitBatch`: columnar arrays over the fits, and any one fit
 * as a full `FitResult` on demand.
 *
 * @module
 */

import type { FitResult } from "../workflow/fit_result.ts";
import type { XInput } from "../workflow/fit/_input.ts";
import type {
  Prediction,
  PredictionBand,
  PredictOptions,
} from "../workflow/prediction.ts";

/**
 * What a {@linkcode BatchResult} is built from (by `fitBatch`; a test or an
 * engine may build one too). The arrays have one row per fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BatchResult } from "@nlsq/nlsq";
 * import type { BatchResultInit } from "@nlsq/nlsq/workflow";
 * import type { FitResult } from "@nlsq/nlsq";
 * const init: BatchResultInit = {
 *   params: ["a"], nPoints: 3, popt: new Float64Array([2]),
 *   perr: new Float64Array([0.1]), cost: new Float64Array([0.5]),
 *   rSquared: new Float64Array([0.9]), nfev: new Int32Array([4]),
 *   nit: new Int32Array([3]), status: new Int8Array([2]),
 *   estimator: "lse", method: "trf", backend: "test", threads: 1,
 *   elapsedMs: 1, tolerances: { ftol: 1e-12, xtol: 1e-12, gtol: 1e-12 },
 *   notes: [], message: () => "done",
 *   result: () => { throw new Error("not here"); },
 * };
 * const b = new BatchResult(init);
 * assert.deepStrictEqual([b.nFits, b.nSuccess, b.message(0)], [1, 1, "done"]);
 * ```
 */
export interface BatchResultInit {
  /** Parameter names, in the order of each row of `popt`. */
  readonly params: readonly string[];
  /** Points per fit. */
  readonly nPoints: number;
  /** nFits * p parameters, row-major. */
  readonly popt: Float64Array;
  /** nFits * p standard errors. */
  readonly perr: Float64Array;
  /** Final cost per fit. */
  readonly cost: Float64Array;
  /** R^2 per fit. */
  readonly rSquared: Float64Array;
  /** Function evaluations per fit. */
  readonly nfev: Int32Array;
  /** Accepted steps per fit. */
  readonly nit: Int32Array;
  /** Status code per fit (its length is the number of fits). */
  readonly status: Int8Array;
  /** "lse" or "poisson". */
  readonly estimator: "lse" | "poisson";
  /** The method's conventions. */
  readonly method: "trf" | "lm";
  /** The engine that ran. */
  readonly backend: string;
  /** Threads that fitted. */
  readonly threads: number;
  /** Wall time of the batch. */
  readonly elapsedMs: number;
  /** Tolerances used. */
  readonly tolerances: {
    readonly ftol: number;
    readonly xtol: number;
    readonly gtol: number;
  };
  /** Notes on decisions taken. */
  readonly notes: readonly string[];
  /** Fit i's status message. */
  readonly message: (i: number) => string;
  /** Fit i as a FitResult. */
  readonly result: (i: number) => FitResult;
}

/**
 * What `fitBatch` returns: one row per fit in every array.
 *
 * Status codes (`status[i]`): scipy's 0 (maxNfev reached), 1 (gtol), 2
 * (ftol), 3 (xtol), 4 (ftol and xtol); and for a fit that was not fitted
 * (its `popt`, `perr`, `cost`, `rSquared` are NaN): -3 fewer usable points
 * than free parameters, -4 an unusable start (p0 not finite or outside the
 * bounds, or the model not finite at p0), -5 NaN or Infinity in its data
 * (nanPolicy "flag"). `message(i)` says which, with the offending value.
 * A Poisson fit that stopped with the model ~0 at a point with a count of 0
 * (the boundary of the likelihood, which the solver does not follow) keeps
 * its status and says so in `message(i)`: its optimum may lie further along
 * the boundary.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fitBatch } from "@nlsq/nlsq";
 * const x = [0, 1, 2, 3];
 * const Y = [[1, 3, 5, 7], [0, 1, 2, NaN], [2, 2, 2, 2]];
 * const b = await fitBatch("a * x + b", x, Y, { p0: [1, 0] });
 * assert.strictEqual(b.nFits, 3);
 * assert.ok(Math.abs(b.column("a")[0] - 2) < 1e-12);
 * assert.deepStrictEqual(Array.from(b.success), [1, 0, 1]);
 * assert.strictEqual(b.status[1], -5);
 * assert.match(b.message(1), /y\[3\] = NaN/);
 * const r = b.result(2);
 * assert.ok(Math.abs(r.params.b - 2) < 1e-12 && r.success);
 * ```
 */
export class BatchResult {
  /** Number of fits. */
  readonly nFits: number;
  /** Points per fit. */
  readonly nPoints: number;
  /** Parameter names, in the order of each row of `popt` and `perr`. */
  readonly params: readonly string[];
  /** nFits * p parameters, row-major (fit i at `i * p`). */
  readonly popt: Float64Array;
  /**
   * nFits * p standard errors: the square roots of the diagonal of the
   * covariance (least squares: scaled by the reduced chi-square, as
   * `curve_fit`; Poisson: the inverse Fisher information); 0 for a fixed
   * parameter.
   */
  readonly perr: Float64Array;
  /** Final cost: 0.5 * sum(rho(r^2)) (least squares), half the deviance (Poisson). */
  readonly cost: Float64Array;
  /** R^2 from the unweighted residuals. */
  readonly rSquared: Float64Array;
  /** Function evaluations per fit. */
  readonly nfev: Int32Array;
  /** Accepted steps per fit. */
  readonly nit: Int32Array;
  /** Status code per fit (see the class description). */
  readonly status: Int8Array;
  /** 1 where the fit converged (status > 0). */
  readonly success: Uint8Array;
  /** "lse" or "poisson". */
  readonly estimator: "lse" | "poisson";
  /** The method's conventions ("trf" or "lm"). */
  readonly method: "trf" | "lm";
  /** The engine that ran. */
  readonly backend: string;
  /** Threads that fitted. */
  readonly threads: number;
  /** Wall time of the batch. */
  readonly elapsedMs: number;
  /** Tolerances used. */
  readonly tolerances: {
    readonly ftol: number;
    readonly xtol: number;
    readonly gtol: number;
  };
  /** Notes on decisions taken. */
  readonly notes: readonly string[];
  readonly #message: (i: number) => string;
  readonly #result: (i: number) => FitResult;

  /** Builds the result (`fitBatch` does). */
  constructor(init: BatchResultInit) {
    this.params = init.params;
    this.nPoints = init.nPoints;
    this.nFits = init.status.length;
    this.popt = init.popt;
    this.perr = init.perr;
    this.cost = init.cost;
    this.rSquared = init.rSquared;
    this.nfev = init.nfev;
    this.nit = init.nit;
    this.status = init.status;
    // A plain loop: Uint8Array.from with a map function is slow per element.
    const success = new Uint8Array(init.status.length);
    for (let i = 0; i < success.length; i++) {
      success[i] = init.status[i] > 0 ? 1 : 0;
    }
    this.success = success;
    this.estimator = init.estimator;
    this.method = init.method;
    this.backend = init.backend;
    this.threads = init.threads;
    this.elapsedMs = init.elapsedMs;
    this.tolerances = init.tolerances;
    this.notes = init.notes;
    this.#message = init.message;
    this.#result = init.result;
  }

  /** Number of fits that converged. */
  get nSuccess(): number {
    let k = 0;
    for (const s of this.success) k += s;
    return k;
  }

  #check(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.nFits) {
      throw new RangeError(`fit index ${i} is out of range [0, ${this.nFits})`);
    }
    return i;
  }

  /** Why fit i stopped (or was not fitted). */
  message(i: number): string {
    return this.#message(this.#check(i));
  }

  /**
   * Fit i as a full `FitResult` (covariance from an SVD of its Jacobian at
   * popt, residuals, statistics), computed on each call.
   */
  result(i: number): FitResult {
    return this.#result(this.#check(i));
  }

  /**
   * Fit i's model at new x, with its confidence or prediction band
   * (`result(i).predict(x, options)`: fit i's own parameters and
   * covariance).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { fitBatch } from "@nlsq/nlsq";
   * const x = [0, 1, 2, 3, 4];
   * const b = await fitBatch("a * x + b", x, [[1, 3.1, 4.9, 7.2, 8.8], [0, 1.1, 1.9, 3.1, 3.9]], { p0: [1, 0] });
   * const band = b.predict(1, [2, 6], { interval: "confidence" });
   * assert.ok(Math.abs(band.y[0] - (2 * b.popt[2] + b.popt[3])) < 1e-12);
   * assert.ok(band.upper[1] - band.lower[1] > band.upper[0] - band.lower[0]);
   * ```
   */
  predict(i: number, x: XInput): Prediction;
  predict(i: number, x: XInput, options: PredictOptions): PredictionBand;
  predict(
    i: number,
    x: XInput,
    options?: PredictOptions,
  ): Prediction | PredictionBand {
    const r = this.result(i);
    return options === undefined ? r.predict(x) : r.predict(x, options);
  }

  /** The values of one parameter over all fits. */
  column(name: string, of: "popt" | "perr" = "popt"): Float64Array {
    const j = this.params.indexOf(name);
    if (j < 0) {
      throw new RangeError(
        `unknown parameter "${name}" (parameters: ${this.params.join(", ")})`,
      );
    }
    const p = this.params.length, src = of === "perr" ? this.perr : this.popt;
    return Float64Array.from({ length: this.nFits }, (_, i) => src[i * p + j]);
  }
}
