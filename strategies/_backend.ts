/**
 * Picks the arithmetic backend for in-memory data: the multi-threaded CPU
 * evaluator, or WebGPU where requested (or measured faster under "auto").
 *
 * @module
 */

import { backendLabel } from "./backend_description.ts";
import { hardwareConcurrency } from "../runtime/host.ts";
import { createParallelEvaluator } from "../core/parallel_evaluator.ts";
import { createGpuBackend, type GpuPrecisionRequest } from "./_gpu_backend.ts";
import type {
  InMemoryData,
  StrategyContext,
  StrategyEvaluator,
} from "./strategy.ts";

/**
 * Below this many rows the worker round trip (~0.1 ms) costs more than the
 * second core saves: a pass over 50k points of a 3-parameter model takes
 * ~1 ms on one core here.
 */
export const THREADS_MIN_POINTS = 50_000;

/** Builds a CPU evaluator over in-memory data (threads when it pays). */
export function createCpuBackend(
  ctx: StrategyContext,
  data: InMemoryData,
  chunkRows?: number,
): StrategyEvaluator {
  const requested = ctx.threads ?? "auto";
  const threads = requested === "auto"
    ? (data.y.length >= THREADS_MIN_POINTS ? hardwareConcurrency() : 1)
    : requested;
  const ev = createParallelEvaluator(ctx.model, data, {
    loss: ctx.loss,
    fScale: ctx.fScale,
    threads,
    chunkRows,
  });
  const backendInfo = {
    device: "cpu",
    precision: "f64",
    threads: ev.threads,
  } as const;
  return {
    nParams: ev.nParams,
    nResiduals: ev.nResiduals,
    evaluate: (t, w) => ev.evaluate(t, w),
    backend: backendLabel(backendInfo),
    backendInfo,
    close: () => ev.close(),
  };
}

/** Requires in-memory data; strategies that stream say so in the error. */
export function requireMemory(
  ctx: StrategyContext,
  name: string,
): InMemoryData {
  if (ctx.data.kind !== "memory") {
    throw new TypeError(
      `strategy "${name}" needs in-memory data; use the "streaming" strategy for a data source`,
    );
  }
  return ctx.data;
}

/**
 * The `auto` crossover, in points x parameters: below it `auto` runs on the
 * CPU; at or above it on a hardware WebGPU adapter (f64, or f32 + CPU
 * polish without `shader-f64`). A software adapter has its own, larger
 * crossover ({@linkcode WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS}).
 *
 * Measured with `bench/gpu.ts` (per-evaluation timings, and `--crossover`
 * for whole fits) on the development machine: 2 cores, Mesa lavapipe
 * "llvmpipe (LLVM 15.0.6, 256 bits)" with shader-f64, against the 2-thread
 * CPU evaluator, best of 4 (min of several runs):
 *
 * - One GPU evaluation (one submission, one `mapAsync` readback) costs at
 *   least 10.6 ms whatever the size (n = 1e4, f64 and f32). The CPU
 *   evaluator costs 1.6 ns (exp3: 4.8 ms per evaluation with the Jacobian
 *   at 1e6 points) to 1.8 ns (gauss6: 10.9 ms at 1e6 points) per point x
 *   parameter (`bench/pass.ts`). The readback floor alone equals the CPU
 *   time at 5.9e6-6.6e6 points x params, hence 6e6: above it a GPU whose
 *   own compute is small next to the floor (any hardware GPU) wins every
 *   evaluation.
 * - A software adapter (lavapipe) computes on the same cores: see
 *   {@linkcode WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS}.
 */
export const WEBGPU_CROSSOVER_POINT_PARAMS = 6_000_000;

/**
 * The `auto` crossover on a software adapter with `shader-f64` (lavapipe),
 * in points x parameters. lavapipe runs the kernels on the same cores as
 * the CPU evaluator, but LLVM-vectorized, so whole fits get faster than the
 * 2-thread CPU evaluator above a size. Whole fits, CPU / lavapipe f64 in ms,
 * best of 4, `deno run -A bench/gpu.ts --crossover` (2026-11-21, 2 cores):
 * exp3 at 3e5 points 9.4 / 43, 1e6 19.6 / 49, 2e6 38.6 / 73, 5e6 91 / 99,
 * 1e7 178 / 153; gauss6 at 3e5 14.7 / 44, 1e6 40.6 / 59.7, 2e6 77.5 / 76.9,
 * 5e6 183 / 122, 1e7 351 / 193. The two are even at 1.2e7 (gauss6) to about
 * 2e7 (exp3) points x params, hence 2e7. Software adapters without f64 (the
 * GL backend's llvmpipe, f32 + CPU polish) are never chosen.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.ok(WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS > WEBGPU_CROSSOVER_POINT_PARAMS);
 * ```
 */
export const WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS = 20_000_000;

/** What `auto` decided, and why (goes to the fit's notes). */
export interface BackendDecision {
  /** The backend to build. */
  readonly use: "cpu" | "webgpu";
  /** One line for the fit's notes. */
  readonly reason: string;
}

function glRequested(): boolean {
  if (!("Deno" in globalThis)) return false;
  try {
    const q = Deno.permissions.querySync?.({
      name: "env",
      variable: "DENO_WEBGPU_BACKEND",
    });
    if (q && q.state !== "granted") return false;
    return /gl/i.test(Deno.env.get("DENO_WEBGPU_BACKEND") ?? "");
  } catch {
    return false;
  }
}

/**
 * The `auto` rule: CPU for plain-function models and below
 * {@linkcode WEBGPU_CROSSOVER_POINT_PARAMS}; above it WebGPU when a hardware
 * adapter exists, or a software one with f64 (lavapipe) above
 * {@linkcode WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS} unless `memoryBound`
 * (the chunked strategy: a software adapter's buffers are host memory);
 * never Deno's GL backend. Touches the GPU only above the crossover.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * const d = await decideAutoBackend(model("a * x + b"), 1000);
 * assert.strictEqual(d.use, "cpu");
 * assert.match(d.reason, /below the WebGPU crossover/);
 * ```
 */
export async function decideAutoBackend(
  m: StrategyContext["model"],
  nPoints: number,
  options: { memoryBound?: boolean } = {},
): Promise<BackendDecision> {
  if (m.kind !== "expression") {
    return {
      use: "cpu",
      reason: "backend auto: cpu (a plain function model runs on the CPU only)",
    };
  }
  const work = nPoints * m.params.length;
  const cross = WEBGPU_CROSSOVER_POINT_PARAMS.toExponential(0);
  if (!(work >= WEBGPU_CROSSOVER_POINT_PARAMS)) {
    return {
      use: "cpu",
      reason: `backend auto: cpu, since points x params = ${
        work.toExponential(2)
      } is below the WebGPU crossover ${cross} (measured: bench/gpu.ts)`,
    };
  }
  if (glRequested()) {
    return {
      use: "cpu",
      reason:
        "backend auto: cpu, since DENO_WEBGPU_BACKEND selects the GL backend",
    };
  }
  let info: { adapterName: string; software: boolean; f64: boolean };
  try {
    const { getGpuInfo } = await import("../gpu/device.ts");
    info = await getGpuInfo();
  } catch (e) {
    return {
      use: "cpu",
      reason: `backend auto: cpu, since no WebGPU adapter exists (${
        (e as Error).message
      })`,
    };
  }
  if (info.software && !info.f64) {
    return {
      use: "cpu",
      reason:
        `backend auto: cpu, since the WebGPU adapter (${info.adapterName}, ` +
        "no shader-f64) is software: f32 kernels and a CPU polish are " +
        "measured slower than the CPU evaluator (bench/gpu.ts)",
    };
  }
  if (info.software && options.memoryBound) {
    return {
      use: "cpu",
      reason:
        `backend auto: cpu, since the WebGPU adapter (${info.adapterName}) is software, so its buffers would be a second copy of the data in ` +
        "host memory, which the chunked strategy is there to bound",
    };
  }
  if (info.software && !(work >= WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS)) {
    return {
      use: "cpu",
      reason:
        `backend auto: cpu, since the WebGPU adapter (${info.adapterName}) is software and points x params = ${
          work.toExponential(2)
        } is below its crossover ${
          WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS.toExponential(0)
        } (measured: bench/gpu.ts)`,
    };
  }
  return {
    use: "webgpu",
    reason: `backend auto: webgpu, since points x params = ${
      work.toExponential(2)
    } >= the crossover ${
      info.software
        ? `${
          WEBGPU_SOFTWARE_CROSSOVER_POINT_PARAMS.toExponential(0)
        } of a software adapter`
        : cross
    }`,
  };
}

function gpuPrecisionOf(ctx: StrategyContext): GpuPrecisionRequest {
  const p = ctx.config?.gpuPrecision ?? "auto";
  if (p !== "auto" && p !== "f64" && p !== "f32") {
    throw new RangeError(
      `config.gpuPrecision must be "auto", "f64" or "f32", got ${
        JSON.stringify(p)
      }`,
    );
  }
  return p;
}

/** Adds notes to an evaluator that has none of its own. */
function withNotes(
  ev: StrategyEvaluator,
  notes: string[],
): StrategyEvaluator {
  return notes.length ? { ...ev, notes: [...notes, ...(ev.notes ?? [])] } : ev;
}

/**
 * Builds the evaluator of the in-memory strategies on the requested backend:
 * "cpu"; "webgpu" (throws `GpuUnavailableError` without an adapter, and a
 * `TypeError` for a plain-function model); or "auto" (see
 * {@linkcode decideAutoBackend}, falling back to the CPU with a note when
 * the GPU cannot be set up). `ctx.config.gpuPrecision` ("auto", "f64",
 * "f32") picks the kernel precision; f32 fits finish with a CPU polish.
 *
 * On WebGPU `chunkRows` does not apply: the kernels reduce each workgroup's
 * points to p-sized partial sums and never hold a Jacobian chunk, so GPU
 * memory is the data plus O(workgroups * p^2); the polish (if any) runs the
 * chunked CPU evaluator.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * const data = {
 *   kind: "memory" as const,
 *   x: [new Float64Array([0, 1, 2])],
 *   y: new Float64Array([1, 3, 5]),
 *   w: null,
 * };
 * const ev = await createBackend({
 *   model: model("a * x + b"),
 *   data,
 *   loss: "linear",
 *   fScale: 1,
 *   backend: "auto",
 *   config: null,
 *   nPoints: 3,
 *   verbose: 0,
 * }, data);
 * assert.match(ev.backend, /^cpu/);
 * assert.match(ev.notes?.[0] ?? "", /below the WebGPU crossover/);
 * await ev.close();
 * ```
 */
export async function createBackend(
  ctx: StrategyContext,
  data: InMemoryData,
  chunkRows?: number,
): Promise<StrategyEvaluator> {
  const precision = gpuPrecisionOf(ctx);
  const cpu = () => createCpuBackend(ctx, data, chunkRows);
  if (ctx.backend === "cpu") return cpu();
  if (ctx.backend === "webgpu") {
    return await createGpuBackend(ctx, data, { precision, cpuPolish: cpu });
  }
  const d = await decideAutoBackend(ctx.model, data.y.length, {
    memoryBound: chunkRows !== undefined,
  });
  if (d.use === "cpu") return withNotes(cpu(), [d.reason]);
  try {
    return await createGpuBackend(ctx, data, {
      precision,
      cpuPolish: cpu,
      notes: [d.reason],
    });
  } catch (e) {
    return withNotes(cpu(), [
      `backend auto: cpu, since the WebGPU evaluator could not be set up (${
        (e as Error).message
      })`,
    ]);
  }
}
