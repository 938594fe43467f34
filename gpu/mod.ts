/**
 * The WebGPU backend: device acquisition, WGSL kernel generation and the GPU
 * evaluator (docs/architecture.md §5).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * if (await isWebGpuAvailable()) {
 *   const info = await getGpuInfo();
 *   const ev = await createGpuEvaluator(
 *     model("a * exp(-b * x)"),
 *     { x: [new Float64Array([0, 1, 2])], y: new Float64Array([2, 1, 0.5]), w: null },
 *   );
 *   const [e] = await ev.evaluate([new Float64Array([2, Math.LN2])], [true]);
 *   assert.ok(e.cost < 1e-12);
 *   assert.strictEqual(ev.describe().needsCpuPolish, !info.f64);
 *   ev.close();
 * } else {
 *   console.log("no WebGPU adapter: example skipped");
 * }
 * ```
 *
 * @module
 */

export {
  acquireDevice,
  type AcquireDeviceOptions,
  getGpuInfo,
  type GpuContext,
  type GpuInfo,
  type GpuLimits,
  isWebGpuAvailable,
} from "./device.ts";
export {
  GpuDeviceLostError,
  GpuKernelError,
  GpuUnavailableError,
} from "./errors.ts";
export {
  chunkConfig,
  type GeneratedKernel,
  generateKernel,
  generateReduceKernel,
  type KernelModel,
  type KernelOptions,
  type Precision,
  type RowLayout,
  THETA_HEADER,
  wgslSsaEmitter,
} from "./wgsl_codegen.ts";
export { WGSL_FUNCTIONS, wgslLiteral } from "./_wgsl_math.ts";
export {
  createGpuEvaluator,
  type GpuEvaluator,
  type GpuEvaluatorDescription,
  type GpuEvaluatorOptions,
} from "./evaluator.ts";
export {
  POOL_MAX_BYTES,
  pooledBytes,
  releasePooledBuffers,
} from "./_buffer_pool.ts";
export type { WeightedData } from "../core/weights.ts";
