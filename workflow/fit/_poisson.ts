/**
 * `fit(..., { estimator: "poisson" })`: Poisson maximum likelihood for one
 * dataset of counts, on the batch engine (`fitBatch` with one fit), which
 * minimizes the deviance with Fisher scoring and Newton steps and reports
 * the inverse Fisher information as the covariance. The workflow machinery
 * (strategies, multi-start, checkpoints) is for least squares: its options
 * are refused here with a message that says so.
 *
 * @module
 */

import type { NumVec } from "../../core/_validate.ts";
import type { BatchSourceLike } from "../../strategies/strategy.ts";
import type { FitOptions, ModelInput } from "../fit_options.ts";
import type { FitResult } from "../fit_result.ts";
import { assertOneOf } from "../_validate.ts";
import type { XInput } from "./_input.ts";
import { isSource } from "./_call.ts";
import { readSourceWhole } from "../../batch/_source_input.ts";

/** Options of `fit` that have no meaning for the Poisson estimator. */
const REFUSED = [
  "sigma",
  "absoluteSigma",
  "xScale",
  "workflow",
  "goal",
  "memoryLimitGb",
  "seed",
  "checkpointDir",
  "checkpointEvery",
  "checkpointKeep",
  "resume",
] as const;

/**
 * The options of a `fit` call when they ask for the Poisson estimator (an
 * unknown estimator throws), else null.
 */
export function poissonOptions(
  xOrSource: unknown,
  yOrOptions: unknown,
  maybeOptions: unknown,
): FitOptions | null {
  const o = (isSource(xOrSource) ? yOrOptions : maybeOptions) as
    | FitOptions
    | undefined;
  if (typeof o !== "object" || o === null || o.estimator === undefined) {
    return null;
  }
  const e = assertOneOf("estimator", o.estimator, ["lse", "poisson"] as const);
  return e === "poisson" ? o : null;
}

/** `fit` with `estimator: "poisson"` (see the module description). */
export async function fitPoisson(
  modelIn: ModelInput,
  xOrSource: XInput | BatchSourceLike,
  yOrOptions: NumVec | FitOptions | undefined,
  options: FitOptions,
): Promise<FitResult> {
  for (const key of REFUSED) {
    if (options[key] !== undefined) {
      throw new TypeError(
        `estimator "poisson" does not take ${key} (${
          key === "sigma" || key === "absoluteSigma"
            ? "the variance of a count is its mean"
            : "the Poisson fit runs on the batch engine, without the least-squares workflow"
        })`,
      );
    }
  }
  if (typeof modelIn === "function") {
    throw new TypeError(
      'estimator "poisson" needs an expression model (a string or model(...)): a plain function has no derivatives for the Fisher information',
    );
  }
  if (options.backend === "webgpu") {
    throw new TypeError(
      'estimator "poisson" runs on the CPU batch engine; backend "webgpu" is not available for it',
    );
  }
  let x: XInput, y: NumVec;
  if (isSource(xOrSource)) {
    const whole = await readSourceWhole(xOrSource, options.signal);
    if (whole.sigma) {
      throw new TypeError(
        'estimator "poisson": the source has a sigma column (the variance of a count is its mean)',
      );
    }
    x = whole.x.length === 1 ? whole.x[0] : whole.x;
    y = whole.y;
  } else {
    x = xOrSource;
    y = yOrOptions as NumVec;
  }
  const { fitBatch } = await import("../../batch/fit_batch.ts");
  const verbose = options.verbose ?? 0;
  const t0 = performance.now();
  const b = await fitBatch(modelIn, x as never, [y], {
    p0: options.p0,
    params: options.params,
    bounds: options.bounds as never,
    estimator: "poisson",
    loss: options.loss,
    fScale: options.fScale,
    method: options.method,
    ftol: options.ftol,
    xtol: options.xtol,
    gtol: options.gtol,
    maxNfev: options.maxNfev,
    nanPolicy: options.nanPolicy === "omit" ? "omit" : "flag",
    backend: options.backend === "cpu" ? "cpu" : "auto",
    threads: 1,
    signal: options.signal,
  });
  // nanPolicy "raise" (fit's default): bad data are an error, not a status.
  if (b.status[0] === -5) {
    throw new RangeError(`y: ${b.message(0)} (nanPolicy "omit" drops it)`);
  }
  const r = b.result(0);
  options.onProgress?.({
    phase: "iteration",
    start: 0,
    nit: r.nit,
    nfev: r.nfev,
    cost: r.cost,
    elapsedMs: performance.now() - t0,
  });
  if (verbose > 0) {
    console.error(
      `nlsq: poisson ${
        r.success ? "converged" : "did not converge"
      } (${r.message}) deviance ${
        (2 * r.cost).toExponential(6)
      }, nfev ${r.nfev}`,
    );
  }
  return r;
}
