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
import { type BatchProblem, resolveBatch } from "./_input.ts";
import {
  type BatchOutputs,
  FLAG_COVARIANCE,
  statusMessage,
} from "./_outputs.ts";
import { runCpuBatch } from "./_cpu_engine.ts";
import { runWebGpuBatch } from "./_webgpu_engine.ts";
import { runAutoBatch } from "./_backend_choice.ts";
import { fitCovariance, fitData, singleFitResult } from "./_single_fit.ts";

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
 *   SharedArrayBuffer is also read in place by the worker threads. The body
 *   of a 2-D NPY file of shape (nFits, nPoints) in C order is exactly this
 *   layout (`openSource` reads tables by columns, so such a file is not a
 *   data source yet; the command line's `nlsq batch` is to read it).
 * - `options`: see {@linkcode FitBatchOptions}; `p0` is required.
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
 */
export async function fitBatch(
  modelIn: ModelInput,
  x: FitBatchXInput,
  Y: FitBatchYInput,
  options: FitBatchOptions = {},
): Promise<BatchResult> {
  const t0 = performance.now();
  const pr = resolveBatch(modelIn, x, Y, options);
  const engine = selectEngine(pr);
  const notes: string[] = [];
  const run = await engine.run(pr);
  const { outputs, threads } = run;
  if (run.note) notes.push(run.note);
  fillCovariances(pr, outputs);
  const elapsedMs = performance.now() - t0;
  const backend = run.label ?? engine.label(threads);
  const info = { backend, elapsedMs, notes };
  return new BatchResult({
    params: pr.model.params,
    nPoints: pr.nPoints,
    popt: outputs.popt,
    perr: outputs.perr,
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
        : statusMessage(outputs.status[i], outputs.flags[i]),
    result: (i) => singleFitResult(pr, outputs, i, info),
  });
}
