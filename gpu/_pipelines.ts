/**
 * Compiled pipelines and bind group layouts, cached per device: a model's
 * kernel is compiled once per (device, WGSL source, entry point), however
 * many evaluators use it.
 *
 * @module
 */

import { GpuKernelError } from "./errors.ts";

/** The two bind group layouts the kernels use. */
export interface Layouts {
  /** data, theta, partials, chunk uniform (see `GeneratedKernel`). */
  readonly main: GPUBindGroupLayout;
  /** partials, output, reduce uniform. */
  readonly reduce: GPUBindGroupLayout;
  /** Pipeline layouts built on them. */
  readonly mainPipeline: GPUPipelineLayout;
  /** Pipeline layout of the reduce kernel. */
  readonly reducePipeline: GPUPipelineLayout;
}

const layoutCache = new WeakMap<GPUDevice, Layouts>();
const pipelineCache = new WeakMap<
  GPUDevice,
  Map<string, Promise<GPUComputePipeline>>
>();

/** The bind group layouts of a device (created once). */
export function layoutsFor(device: GPUDevice): Layouts {
  let l = layoutCache.get(device);
  if (l) return l;
  const C = GPUShaderStage.COMPUTE;
  const main = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: C, buffer: { type: "read-only-storage" } },
      { binding: 1, visibility: C, buffer: { type: "read-only-storage" } },
      { binding: 2, visibility: C, buffer: { type: "storage" } },
      { binding: 3, visibility: C, buffer: { type: "uniform" } },
    ],
  });
  const reduce = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: C, buffer: { type: "read-only-storage" } },
      { binding: 1, visibility: C, buffer: { type: "storage" } },
      { binding: 2, visibility: C, buffer: { type: "uniform" } },
    ],
  });
  l = {
    main,
    reduce,
    mainPipeline: device.createPipelineLayout({ bindGroupLayouts: [main] }),
    reducePipeline: device.createPipelineLayout({ bindGroupLayouts: [reduce] }),
  };
  layoutCache.set(device, l);
  return l;
}

async function compile(
  device: GPUDevice,
  code: string,
  entryPoint: string,
  layout: GPUPipelineLayout,
): Promise<GPUComputePipeline> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code });
  let pipeline: GPUComputePipeline | null = null;
  let failure: unknown = null;
  try {
    pipeline = await device.createComputePipelineAsync({
      layout,
      compute: { module, entryPoint },
    });
  } catch (e) {
    failure = e;
  }
  const err = await device.popErrorScope();
  if (err || failure || !pipeline) {
    const info = await module.getCompilationInfo();
    const diag = info.messages
      .map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`)
      .join("\n");
    throw new GpuKernelError(
      `WGSL kernel "${entryPoint}" failed to compile: ${
        diag || err?.message || (failure as Error)?.message || "unknown error"
      }`,
      { cause: failure ?? err },
    );
  }
  return pipeline;
}

/**
 * The compute pipeline for `code` / `entryPoint` on `device`, compiled on
 * first request.
 *
 * @throws {GpuKernelError} when the WGSL does not compile or validate.
 */
export function pipelineFor(
  device: GPUDevice,
  code: string,
  entryPoint: string,
  layout: GPUPipelineLayout,
): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(device);
  if (!cache) {
    cache = new Map();
    pipelineCache.set(device, cache);
  }
  const key = `${entryPoint}\n${code}`;
  let p = cache.get(key);
  if (!p) {
    p = compile(device, code, entryPoint, layout);
    cache.set(key, p);
    // A failed compile is not cached, so a fixed driver can retry.
    p.catch(() => cache.delete(key));
  }
  return p;
}
