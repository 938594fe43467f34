/**
 * The WebGPU backend of the in-memory strategies (standard, chunked): wraps
 * {@linkcode createGpuEvaluator} as a {@linkcode StrategyEvaluator}, counts
 * readbacks, fails the fit on a device loss, and offers a CPU polish when the
 * kernels compute in f32.
 *
 * The GPU module is imported lazily, so CPU-only fits never load it.
 *
 * @module
 */

import { backendLabel } from "./backend_description.ts";
import type { Evaluation } from "../core/linearization.ts";
import { scaledCondition } from "../core/_accumulation.ts";
import type {
  InMemoryData,
  PolishInput,
  PolishPlan,
  StrategyContext,
  StrategyEvaluator,
} from "./strategy.ts";

/**
 * f64 WebGPU fits are polished on the CPU (QR) when the column-scaled
 * Jacobian at the solution has a condition number above this: the
 * normal-form sums J^T J square it, and the solver's steps lose the
 * accuracy bar. On the 54 NIST runs the GPU solutions have scaled
 * conditions up to 5.7e4 (Bennett5), all at LRE >= 6; MGH17 from start 1
 * stops at 9.0e7 (LRE -1.7) and is rescued by the polish.
 */
export const POLISH_CONDITION = 1e6;

/**
 * The f32 phase stops at these tolerances (the f32 linearization is good
 * to about 1e-6 relative); the CPU polish applies the requested ones.
 */
export const F32_PHASE_TOL = 1e-6;

/**
 * Evaluation budget of the f32 phase, per parameter plus one. On the NIST
 * runs the f32 phase converges within 210 evaluations, except MGH10 from
 * start 1, which wanders for all of its 5000; past the budget the CPU
 * restarts from the start point.
 */
export const F32_PHASE_NFEV_PER_PARAM = 50;

/**
 * Largest column-scaled condition number of J at which the f32 phase's
 * answer is kept for the CPU polish: 1/sqrt(eps_f32). f32 Gram sums square
 * the condition, so beyond it the smallest direction of J^T J is lost in
 * rounding and the f32 iterates may have drifted to another stationary
 * point (measured: Lanczos3 from start 2 ends at cost 2.2e-6 instead of
 * 8.1e-9, scaled condition 2.5e4). Past it the CPU restarts from the start
 * point. On the NIST runs the well-conditioned ones stay below 2.9e3.
 */
export const F32_MAX_CONDITION = 1 / Math.sqrt(2 ** -23);

/** Precision asked of the GPU kernels (`workflow.config.gpuPrecision`). */
export type GpuPrecisionRequest = "auto" | "f64" | "f32";

/** Options of {@linkcode createGpuBackend}. */
export interface GpuBackendOptions {
  /** Kernel precision (default "auto": f64 where the device has it). */
  readonly precision?: GpuPrecisionRequest;
  /** Notes to start the evaluator's list with (why WebGPU was chosen). */
  readonly notes?: readonly string[];
  /** Builds the CPU evaluator that finishes an f32 fit (the polish). */
  readonly cpuPolish?: () => StrategyEvaluator;
}

/** Readback counters of the WebGPU backend (for benchmarks and tests). */
export interface GpuBackendStats {
  /** GPU submissions read back with `mapAsync`, since the process started. */
  readonly readbacks: number;
  /** Parameter vectors evaluated on the GPU, since the process started. */
  readonly thetas: number;
}

let readbacks = 0;
let thetasEvaluated = 0;

/**
 * Counts of the WebGPU backend's readbacks so far in this process: each
 * `evaluate` call is one submission and one `mapAsync`, whatever the number
 * of parameter vectors it carries. Take the difference around a fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const s = gpuBackendStats();
 * assert.ok(s.readbacks >= 0 && s.thetas >= s.readbacks);
 * ```
 */
export function gpuBackendStats(): GpuBackendStats {
  return { readbacks, thetas: thetasEvaluated };
}

/**
 * Builds the WebGPU evaluator of an in-memory problem. The data is uploaded
 * once and stays on the device for the whole fit; the GPU evaluator splits
 * it across storage bindings where it exceeds the device's binding limit.
 * The Jacobian is never materialized on the GPU (each workgroup reduces its
 * points into p(p+1)/2 + p + 1 partial sums), so GPU memory is the data plus
 * O(workgroups * p^2), for the chunked strategy too.
 *
 * A device lost during the fit fails it with `GpuDeviceLostError` (the next
 * fit acquires a new device). With f32 kernels the evaluator carries a
 * `polish` that `fit()` uses to finish on the CPU in double precision.
 *
 * @throws {GpuUnavailableError} when there is no WebGPU adapter.
 * @throws {TypeError} for a plain-function model.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * import { isWebGpuAvailable } from "../gpu/device.ts";
 * if (!(await isWebGpuAvailable())) {
 *   console.log("no WebGPU adapter: example skipped");
 * } else {
 *   const m = model("a * x + b");
 *   const ev = await createGpuBackend({
 *     model: m,
 *     data: { kind: "memory", x: [new Float64Array([0, 1, 2])], y: new Float64Array([1, 3, 5]), w: null },
 *     loss: "linear",
 *     fScale: 1,
 *     backend: "webgpu",
 *     config: null,
 *     nPoints: 3,
 *     verbose: 0,
 *   }, { kind: "memory", x: [new Float64Array([0, 1, 2])], y: new Float64Array([1, 3, 5]), w: null });
 *   const [e] = await ev.evaluate([new Float64Array([2, 1])], [false]);
 *   assert.ok(e.cost < 1e-12);
 *   assert.match(ev.backend, /^webgpu f(64|32) \(/);
 *   await ev.close();
 * }
 * ```
 */
export async function createGpuBackend(
  ctx: StrategyContext,
  data: InMemoryData,
  options: GpuBackendOptions = {},
): Promise<StrategyEvaluator> {
  if (ctx.model.kind !== "expression") {
    throw new TypeError(
      'backend "webgpu" needs an expression model (model("...")): a plain ' +
        'TypeScript function runs on the CPU only; use backend "cpu" or "auto"',
    );
  }
  const gpu = await import("../gpu/mod.ts");
  const precision = options.precision ?? "auto";
  if (ctx.needsF64 && precision !== "f64") {
    const { f64 } = await gpu.getGpuInfo();
    if (precision === "f32" || !f64) {
      throw new RangeError(
        'backend "webgpu": the data or parameters are of extreme magnitude ' +
          "(fitted with scaled residuals or parameters), outside the range " +
          "of f32 kernels (about 1e-38 to 3e38); an adapter with shader-f64 " +
          'or backend "cpu" can fit them',
      );
    }
  }
  let ev: Awaited<ReturnType<typeof gpu.createGpuEvaluator>>;
  try {
    ev = await gpu.createGpuEvaluator(ctx.model, data, {
      loss: ctx.loss,
      fScale: ctx.fScale,
      precision,
      // fit() has checked the data (or dropped non-finite rows).
      assumeFinite: true,
    });
  } catch (e) {
    if (e instanceof gpu.GpuUnavailableError) {
      throw new gpu.GpuUnavailableError(
        `backend "webgpu" was requested but no WebGPU device can be used ` +
          `(${e.message}); use backend "auto" to fall back to the CPU`,
        { cause: e },
      );
    }
    throw e;
  }
  // The device the evaluator runs on (the shared one it just acquired): a
  // loss of it fails this fit rather than silently moving to a new device.
  const dev = await gpu.acquireDevice();
  const d = ev.describe();
  const backendInfo = {
    device: "webgpu",
    precision: d.precision,
    adapter: d.adapterName,
    software: d.software,
  } as const;
  const notes = [...(options.notes ?? [])];
  let calls = 0;
  let closed = false;
  const evaluate = async (
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> => {
    if (dev.lost) throw await dev.whenLost;
    if (thetas.length > 0) {
      calls++;
      readbacks++;
      thetasEvaluated += thetas.length;
    }
    return await ev.evaluate(thetas, withJacobian);
  };
  const cpuPolish = options.cpuPolish;
  const p = ev.nParams;
  const f32 = d.needsCpuPolish;
  const polish = async (r: PolishInput): Promise<PolishPlan | null> => {
    if (!cpuPolish) return null;
    let reason: string, x0 = r.x;
    const c = scaledCondition(r.factor, p);
    if (f32) {
      if (r.status > 0 && c <= F32_MAX_CONDITION) reason = "f32 kernels";
      else if (r.status > 0) {
        x0 = r.start;
        reason = `scaled condition of J ${c.toExponential(1)} > ${
          F32_MAX_CONDITION.toExponential(1)
        }: f32 sums cannot resolve it; restarted from the start point`;
      } else {
        x0 = r.start;
        reason = `the f32 phase did not converge in ${
          F32_PHASE_NFEV_PER_PARAM * (p + 1)
        } evaluations; restarted from the start point`;
      }
    } else {
      if (!(c > POLISH_CONDITION)) return null;
      reason = `scaled condition of J ${c.toExponential(1)} > ${
        POLISH_CONDITION.toExponential(0)
      }: normal-form sums are not accurate enough`;
    }
    return { evaluator: await cpuPolish(), x0, reason };
  };
  return {
    nParams: ev.nParams,
    nResiduals: ev.nResiduals,
    evaluate,
    backend: backendLabel(backendInfo),
    backendInfo,
    notes,
    polish: cpuPolish ? polish : undefined,
    firstPhase: f32
      ? { tol: F32_PHASE_TOL, maxNfev: F32_PHASE_NFEV_PER_PARAM * (p + 1) }
      : undefined,
    close() {
      if (closed) return;
      closed = true;
      notes.push(
        `webgpu: ${calls} readback(s) of ${d.chunks} binding(s), ` +
          `${d.recordsPerTheta} workgroup records per parameter vector`,
      );
      ev.close();
    },
  };
}
