/**
 * `fitBatch()`: many independent fits of one model at once (issue 14), on
 * a batch engine: the model compiled once, every fit's solver state in flat
 * arrays, all cores. The engine is chosen by `backend`: the CPU engine
 * (`_cpu_engine.ts`), the WebGPU engine (`_webgpu_engine.ts`), or "auto"
 * (`_backend_choice.ts`: measured); an engine only has to fill
 * the columnar outputs (`_outputs.ts`).
 *
 * @module
 */

import type { ModelInput } from "../workflow/fit_options.ts";
import type {
  FitBatchOptions,
  FitBatchXInput,
  FitBatchYInput,
} from "./fit_batch_options.ts";
import { BatchResult } from "./batch_result.ts";
import { type BatchProblem, resolveBatch, resolveModel } from "./_input.ts";
import { batchParams, expandOutputs, reduceProblem } from "./_params.ts";
import { isBatchSource, loadFiles, sourceData } from "./_source_input.ts";
import { resolveModel as resolveFitModel } from "../workflow/fit/_call.ts";
import type { BatchSourceLike } from "../strategies/strategy.ts";
import {
  type BatchOutputs,
  FLAG_COVARIANCE,
  statusMessage,
} from "./_outputs.ts";
import { runCpuBatch } from "./_cpu_engine.ts";
import { runWebGpuBatch } from "./_webgpu_engine.ts";
import { runAutoBatch } from "./_backend_choice.ts";
import {
  boundaryNote,
  fitCovariance,
  fitData,
  singleFitResult,
} from "./_single_fit.ts";

/** A batch engine: fills the outputs of every fit of a problem. */
interface BatchEngine {
  run(pr: BatchProblem): Promise<{
    outputs: BatchOutputs;
    threads: number;
    /** Its name in results, when it differs from `label(threads)`. */
    label?: string;
    /** Why "auto" chose it. */
    note?: string;
  }>;
  /** How results name it, given the threads used. */
  label(threads: number): string;
}

const CPU_ENGINE: BatchEngine = {
  run: runCpuBatch,
  label: (threads) =>
    `cpu (batch engine, ${threads} thread${threads === 1 ? "" : "s"}, f64)`,
};

// "auto": the CPU engine, or WebGPU where measured faster (_backend_choice.ts).
function selectEngine(pr: BatchProblem): BatchEngine {
  if (pr.backend === "webgpu") {
    return { run: (p) => runWebGpuBatch(p), label: () => "webgpu" };
  }
  if (pr.backend === "auto") return { ...CPU_ENGINE, run: runAutoBatch };
  return CPU_ENGINE;
}

/** Standard errors the engine left to the SVD path (singular J^T J). */
function fillCovariances(pr: BatchProblem, out: BatchOutputs): void {
  const p = pr.model.params.length;
  for (let i = 0; i < pr.nFits; i++) {
    if (!(out.flags[i] & FLAG_COVARIANCE) || out.status[i] < 0) continue;
    const popt = out.popt.subarray(i * p, (i + 1) * p);
    const { pcov } = fitCovariance(pr, fitData(pr, i), popt);
    for (const j of pr.free) out.perr[i * p + j] = Math.sqrt(pcov[j][j]);
  }
}

/**
 * Fits one model to many datasets, each independently, and returns the
 * results column by column.
 *
 * - `x`: one abscissa shared by every fit (a column, or one column per
 *   variable of the model), or one per fit (each column `nFits * nPoints`
 *   values row-major, or `nFits` rows). A per-fit x given flat needs
 *   `options.nPoints` unless Y is given as rows.
 * - `Y`: `nFits * nPoints` values row-major (fit i is
 *   `Y[i * nPoints .. (i + 1) * nPoints)`), or an array of `nFits` rows of
 *   equal length. A Float64Array is used in place (no copy); one in a
 *   SharedArrayBuffer is also read in place by the worker threads. A path
 *   (string or file URL) opens a 2-D NPY file `(nFits, nPoints)` whose rows
 *   are fits ('<f8' or '<f4', C or Fortran order); x may be an NPY path too
 *   (1-D shared, 2-D per fit).
 * - Or `fitBatch(model, source, { nPoints, ... })`: a data source (a CSV,
 *   HDF5, raw or NPY table opened with `openSource`...) whose rows are
 *   points, fit i being rows `[i * nPoints, (i + 1) * nPoints)`, its x
 *   columns and sigma per fit; read whole.
 * - `options`: see {@linkcode FitBatchOptions}: p0 (one vector, per fit, by
 *   name, or `"auto"`: a built-in model's guess on each fit's data, its
 *   default), `params` by name as `fit`'s (fixed and tied parameters are
 *   substituted into the model, results list every parameter), bounds,
 *   sigma, a `fixed` mask, `estimator: "poisson"` for counts, loss, method,
 *   tolerances, backend, threads, signal, onProgress.
 *
 * The CPU engine compiles the model once into a kernel that computes a
 * fit's cost, `J^T J` and `J^T r` in one loop over its points, and runs
 * Levenberg-Marquardt with Moré's scaling on the normal equations for all
 * fits in lockstep, chunk by chunk, across all cores. Converged answers
 * equal `fit()`'s (same tolerances) to rounding. A fit whose data are bad
 * gets its own status and message; the others are fitted.
 *
 * @throws {TypeError} an argument of the wrong kind, an unknown option, a
 *   function model, or `backend: "webgpu"` for a problem the WebGPU engine
 *   does not take (Poisson, a robust loss, more than 12 free parameters).
 * @throws {GpuUnavailableError} `backend: "webgpu"` without a WebGPU device.
 * @throws {RangeError} sizes that do not match (ragged Y, p0 of the wrong
 *   length...), or a shared value out of range.
 *
 * @example Gaussian peaks, one fit per row
 * ```ts
 * import assert from "node:assert";
 * import { fitBatch, model } from "@nlsq/nlsq";
 * const m = model("a * exp(-(x - m)^2 / (2 * s^2)) + b");
 * const x = Array.from({ length: 32 }, (_, i) => i / 31);
 * const truth = [[2, 0.4, 0.1, 0.5], [1, 0.6, 0.2, 0.1]];
 * const Y = truth.map(([a, mu, s, b]) =>
 *   x.map((t) => a * Math.exp(-((t - mu) ** 2) / (2 * s * s)) + b)
 * );
 * const r = await fitBatch(m, x, Y, { p0: [1.5, 0.5, 0.15, 0.3] });
 * assert.deepStrictEqual(Array.from(r.success), [1, 1]);
 * assert.ok(Math.abs(r.popt[4 + 1] - 0.6) < 1e-9); // m of fit 1
 * assert.strictEqual(r.result(0).params.a.toFixed(6), "2.000000");
 * ```
 *
 * @example A built-in model, its guess per fit, a fixed background
 * ```ts
 * import assert from "node:assert";
 * import { fitBatch, models } from "@nlsq/nlsq";
 * const m = models.gaussian().add(models.constant());
 * const x = Array.from({ length: 41 }, (_, i) => -4 + i / 5);
 * const Y = [[3, 0.5, 1], [2, -1, 0.7]].map(([amp, c, s]) =>
 *   x.map((t) => amp / (s * Math.sqrt(2 * Math.PI)) * Math.exp(-((t - c) ** 2) / (2 * s * s)) + 0.2)
 * );
 * const r = await fitBatch(m, x, Y, { params: { c: { value: 0.2, vary: false } } });
 * assert.deepStrictEqual(r.params, ["amplitude", "center", "sigma", "c"]);
 * assert.ok(Math.abs(r.column("center")[1] + 1) < 1e-8);
 * assert.deepStrictEqual(Array.from(r.column("c", "perr")), [0, 0]);
 * ```
 */
export async function fitBatch(
  modelIn: ModelInput,
  source: BatchSourceLike,
  options: FitBatchOptions,
): Promise<BatchResult>;
export async function fitBatch(
  modelIn: ModelInput,
  x: FitBatchXInput,
  Y: FitBatchYInput,
  options?: FitBatchOptions,
): Promise<BatchResult>;
export async function fitBatch(
  modelIn: ModelInput,
  xOrSource: FitBatchXInput | BatchSourceLike,
  YOrOptions?: FitBatchYInput | FitBatchOptions,
  maybeOptions?: FitBatchOptions,
): Promise<BatchResult> {
  const t0 = performance.now();
  const source = isBatchSource(xOrSource) ? xOrSource : null;
  let options = (source ? YOrOptions : maybeOptions) as FitBatchOptions ?? {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError("fitBatch: options must be an object");
  }
  let x = xOrSource as FitBatchXInput, Y = YOrOptions as FitBatchYInput;
  if (source) {
    const read = await sourceData(source, options, maybeOptions);
    ({ x, Y, options } = read);
  }
  const full = resolveModel(
    source ? resolveFitModel(modelIn, source) : modelIn,
  );
  const bp = batchParams(full, options);
  const files = await loadFiles(x, Y);
  const o = files.nPoints !== undefined && options.nPoints === undefined
    ? { ...options, nPoints: files.nPoints }
    : options;
  const prFull = resolveBatch(full, files.x, files.Y, o, {
    startsLater: bp.startsLater,
    nFree: bp.plan?.free.length,
  });
  const pr = bp.plan || bp.auto || bp.startsLater
    ? reduceProblem(prFull, bp, options)
    : prFull;
  const engine = selectEngine(pr);
  const notes: string[] = [];
  const run = await engine.run(pr);
  const { outputs, threads } = run;
  if (run.note) notes.push(run.note);
  if (bp.auto) notes.push("start: the model's guess from each fit's data");
  fillCovariances(pr, outputs);
  const expanded = bp.plan
    ? expandOutputs(pr, bp.plan, outputs, full.params.length)
    : { popt: outputs.popt, perr: outputs.perr };
  const elapsedMs = performance.now() - t0;
  const backend = run.label ?? engine.label(threads);
  const q = pr.model.params.length;
  const refit = {
    estimator: pr.estimator,
    loss: pr.loss,
    fScale: pr.fScale,
    method: pr.method,
    ftol: pr.ftol,
    xtol: pr.xtol,
    gtol: pr.gtol,
    maxNfev: pr.maxNfev,
    params: options.params,
  };
  const info = {
    backend,
    elapsedMs,
    notes,
    fullModel: full,
    plan: bp.plan,
    refit,
  };
  return new BatchResult({
    params: full.params,
    nPoints: pr.nPoints,
    popt: expanded.popt,
    perr: expanded.perr,
    cost: outputs.cost,
    rSquared: outputs.rsq,
    nfev: outputs.nfev,
    nit: outputs.nit,
    status: outputs.status,
    estimator: pr.estimator,
    method: pr.method,
    backend,
    threads,
    elapsedMs,
    tolerances: { ftol: pr.ftol, xtol: pr.xtol, gtol: pr.gtol },
    notes,
    message: (i) =>
      outputs.status[i] < 0
        ? singleFitResult(pr, outputs, i, info).message
        : statusMessage(outputs.status[i], outputs.flags[i]) +
          boundaryNote(pr, i, outputs.popt.subarray(i * q, (i + 1) * q)),
    result: (i) => singleFitResult(pr, outputs, i, info),
  });
}
