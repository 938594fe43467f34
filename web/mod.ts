/**
 * @nlsq/nlsq/web: the library's engine for the browser (a page or a Web
 * Worker). The same model compiler, solvers, in-memory strategies, built-in
 * models and WebGPU backend as the root module, built from modules that
 * import nothing from `node:` and touch no `Deno` global while loading;
 * features that need a file system, worker threads or MPI (data sources on
 * disk, checkpoints, the streaming and distributed strategies, cluster
 * detection) stay in the root module. Worker threads become one thread (run
 * the fit in a Web Worker to keep a page responsive), and WebGPU in a
 * browser computes in f32 and finishes with the CPU polish in f64.
 *
 * Tables come from memory: {@linkcode parseTextTable} (CSV, TSV, pasted
 * columns) and {@linkcode parseNpyTable} (an NPY file's bytes).
 *
 * `deno task build:web` bundles this module (`web/dist/nlsq.js`) and the
 * page into `web/dist/`; the build fails if a bundle imports from `node:`,
 * and `tests/web_page_test.ts` runs `fit` and `fitBatch` from `nlsq.js` in
 * Chromium, where there is no `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, model, parseTextTable } from "@nlsq/nlsq/web";
 * const t = parseTextTable("x,y\n0,1\n1,3\n2,5\n3,7\n");
 * const r = await fit(model("a * x + b"), t.columns[0], t.columns[1], {
 *   p0: [1, 0],
 * });
 * assert.ok(Math.abs(r.params.a - 2) < 1e-10);
 * ```
 *
 * @module
 */

export { model, type ModelOptions } from "../model/model.ts";
export type { Model } from "../model/types.ts";
export { ModelSyntaxError } from "../model/syntax_error.ts";
export {
  type BuiltinModel,
  type DerivedValue,
  models,
  type ParamHint,
  type ParamValues,
} from "../models/mod.ts";
export { fit } from "../workflow/fit.ts";
export type {
  FitOptions,
  FitProgress,
  ModelInput,
} from "../workflow/fit_options.ts";
export type { ParamsInput, ParamSpec } from "../workflow/fit/_params.ts";
export { FitResult } from "../workflow/fit_result.ts";
export { curveFit } from "../workflow/curve_fit.ts";
export { fitBatch } from "../batch/fit_batch.ts";
export { BatchResult } from "../batch/batch_result.ts";
export type { FitBatchOptions } from "../batch/fit_batch_options.ts";
export { OptimizeError } from "../workflow/optimize_error.ts";
export { leastSquares } from "../core/least_squares.ts";
export { METHOD_NAMES, type MethodName } from "../core/solver_options.ts";
export { LOSS_NAMES, type LossName } from "../core/loss.ts";
export { BACKEND_NAMES, type BackendName } from "../strategies/backend_name.ts";
export {
  GpuDeviceLostError,
  GpuKernelError,
  GpuUnavailableError,
} from "../gpu/errors.ts";
export { DataSourceError } from "../data/data_source_error.ts";
export {
  parseNpyTable,
  parseTextTable,
  type Table,
  type TextTableOptions,
} from "../data/table.ts";
export { hostRuntime } from "../runtime/host.ts";
