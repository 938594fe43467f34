/**
 * The WebGPU batch engine: the model compiled once into one WGSL kernel
 * (`_wgsl_batch_source.ts`) that runs whole fits on the device, one fit per
 * invocation. A chunk of fits is one upload (its data transposed
 * point-major, so neighbouring invocations read neighbouring values), one
 * or a few dispatches (lavapipe caps a shader's loop iterations: see the
 * kernel), and one readback of every fit's record; chunks are as large as
 * the device's binding and dispatch limits allow, and the next chunk is
 * uploaded while the device works on the previous one.
 *
 * In f64 (devices granting `shader-f64`, lavapipe included) the kernel is
 * the CPU engine's arithmetic and its answers are the CPU engine's to
 * rounding. In f32 the kernel's answer is a start: the CPU engine polishes
 * every fit from it in double precision (its statuses, errors and
 * statistics are the final ones). Fits whose bad points are to be omitted
 * (`nanPolicy: "omit"`) are handed to the CPU engine.
 *
 * @module
 */

import {
  acquireDevice,
  type AcquireDeviceOptions,
  type GpuLimits,
} from "../gpu/device.ts";
import { GpuKernelError } from "../gpu/errors.ts";
import type { Precision } from "../gpu/wgsl_codegen.ts";
import { pipelineFor } from "../gpu/_pipelines.ts";
import { releaseBuffer, takeBuffer } from "../gpu/_buffer_pool.ts";
import { modelSsa } from "../model/model_ssa.ts";
import type { BatchProblem } from "./_input.ts";
import { allocateOutputs, type BatchOutputs } from "./_outputs.ts";
import { runCpuBatch } from "./_cpu_engine.ts";
import {
  type BatchLayout,
  batchWgsl,
  MAX_GPU_FREE,
  POINT_UNROLL,
  STATUS_TO_CPU,
} from "./_wgsl_batch_source.ts";

/** Options of {@linkcode runWebGpuBatch} (tests force small limits). */
export interface WebGpuBatchOptions {
  /** "auto" (default): f64 where the device grants `shader-f64`. */
  readonly precision?: Precision | "auto";
  /** Largest storage binding to use, in bytes (default: the device's). */
  readonly maxBindingBytes?: number;
  /** Most fits per chunk (default {@linkcode DEFAULT_CHUNK_FITS}). */
  readonly maxFitsPerChunk?: number;
  /** Device options (see `acquireDevice`). */
  readonly device?: AcquireDeviceOptions;
  /** Invocations (fits) per workgroup (default {@linkcode WORKGROUP_SIZE}). */
  readonly workgroupSize?: number;
  /** Points per pass of the kernel's point loop (default 4, 1 beyond 4 free parameters). */
  readonly unroll?: number;
  /**
   * Most iterations of a fit per dispatch (default: as many as the
   * adapter allows); tests lower it to make fits continue across
   * dispatches.
   */
  readonly maxItersPerDispatch?: number;
}

/** What the engine did. */
export interface WebGpuBatchRun {
  readonly outputs: BatchOutputs;
  /** Threads of the CPU work (the polish, the fits left to the CPU). */
  readonly threads: number;
  /** How results name the engine. */
  readonly label: string;
  readonly precision: Precision;
  readonly adapterName: string;
  readonly software: boolean;
  /** Chunks of fits (one upload and one readback each). */
  readonly chunks: number;
  /** Most dispatches a chunk needed. */
  readonly dispatches: number;
  /** Fits the CPU engine fitted or polished. */
  readonly cpuFits: number;
}

/** Fits per chunk by default: a few hundred milliseconds on lavapipe. */
export const DEFAULT_CHUNK_FITS = 1 << 16;

/** Fits per workgroup by default. */
export const WORKGROUP_SIZE = 64;
/** Loop iterations a dispatch may spend on lavapipe (its cap is 65535). */
const SOFTWARE_LOOP_BUDGET = 60000;
/** The f32 kernel stops at these tolerances at best; the polish finishes. */
const F32_TOLERANCE = 1e-5;

/**
 * Why the WebGPU engine cannot run a problem, or null when it can.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveBatch } from "./_input.ts";
 * import { webGpuUnsupported } from "./_webgpu_engine.ts";
 * const pr = resolveBatch("a * x", [1, 2], [[2, 4]], { p0: [1], estimator: "poisson" });
 * assert.match(webGpuUnsupported(pr)!, /poisson/);
 * ```
 */
export function webGpuUnsupported(pr: BatchProblem): string | null {
  if (pr.estimator !== "lse") return `estimator "${pr.estimator}"`;
  if (pr.loss !== "linear") return `loss "${pr.loss}"`;
  if (pr.free.length > MAX_GPU_FREE) {
    return `${pr.free.length} free parameters (at most ${MAX_GPU_FREE})`;
  }
  return null;
}

// One bind group layout per device: dat, par, shr (read), sta, cfg.
const layouts = new WeakMap<
  GPUDevice,
  { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }
>();

function layoutFor(device: GPUDevice) {
  let l = layouts.get(device);
  if (l) return l;
  const C = GPUShaderStage.COMPUTE;
  const ro = { type: "read-only-storage" } as const;
  const group = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: C, buffer: ro },
      { binding: 1, visibility: C, buffer: ro },
      { binding: 2, visibility: C, buffer: ro },
      { binding: 3, visibility: C, buffer: { type: "storage" } },
      { binding: 4, visibility: C, buffer: { type: "uniform" } },
    ],
  });
  l = {
    group,
    pipeline: device.createPipelineLayout({ bindGroupLayouts: [group] }),
  };
  layouts.set(device, l);
  return l;
}

type Vec = Float64Array | Float32Array;

function vec(precision: Precision, n: number): Vec {
  return precision === "f64" ? new Float64Array(n) : new Float32Array(n);
}

/** The `shr` buffer's values: header, shared x, weights, p0, bounds. */
function sharedValues(
  pr: BatchProblem,
  lay: BatchLayout,
  precision: Precision,
): Float64Array {
  const v = new Float64Array(lay.sharedSize);
  const loose = (t: number) =>
    precision === "f32" ? Math.max(t, F32_TOLERANCE) : t;
  v.set([loose(pr.ftol), loose(pr.xtol), loose(pr.gtol), Infinity, NaN]);
  if (lay.sharedX >= 0) {
    pr.x.forEach((c, i) => v.set(c, lay.sharedX + i * pr.nPoints));
  }
  if (lay.sharedW >= 0) {
    for (let i = 0; i < pr.nPoints; i++) {
      v[lay.sharedW + i] = 1 / pr.sigma![i];
    }
  }
  if (lay.sharedP0 >= 0) v.set(pr.p0, lay.sharedP0);
  if (lay.sharedLower >= 0) {
    v.set(pr.lower!, lay.sharedLower);
    v.set(pr.upper!, lay.sharedUpper);
  }
  return v;
}

/** Chunk data, point-major: (column c, point i, fit k) at (c n + i) cnt + k. */
function packData(
  pr: BatchProblem,
  first: number,
  cnt: number,
  out: Vec,
): void {
  const n = pr.nPoints;
  const cols: Float64Array[] = [pr.y];
  if (pr.xPerFit) cols.push(...pr.x);
  if (pr.sigmaPerFit) cols.push(pr.sigma!);
  cols.forEach((src, c) => {
    const base = c * n * cnt;
    for (let k = 0; k < cnt; k++) {
      const row = (first + k) * n;
      for (let i = 0; i < n; i++) out[base + i * cnt + k] = src[row + i];
    }
  });
}

/** Per-fit p0, lower, upper blocks of a chunk. */
function packParams(
  pr: BatchProblem,
  first: number,
  cnt: number,
  out: Vec,
): void {
  const p = pr.model.params.length;
  const blocks: Float64Array[] = [];
  if (pr.p0PerFit) blocks.push(pr.p0);
  if (pr.lower && pr.boundsPerFit) blocks.push(pr.lower, pr.upper!);
  blocks.forEach((src, b) =>
    out.set(src.subarray(first * p, (first + cnt) * p), b * cnt * p)
  );
}

/**
 * A problem of some of the fits of `pr` (rows copied; `fits: null` keeps
 * them all), with new starts (`nFits * p` values) or its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveBatch } from "./_input.ts";
 * import { subProblem } from "./_webgpu_engine.ts";
 * const pr = resolveBatch("a * x", [1, 2], [[2, 4], [3, 6], [4, 8]], { p0: [1] });
 * const sub = subProblem(pr, [2, 0], null);
 * assert.deepStrictEqual([sub.nFits, ...sub.y], [2, 4, 8, 2, 4]);
 * ```
 */
export function subProblem(
  pr: BatchProblem,
  fits: readonly number[] | null,
  p0: Float64Array | null,
): BatchProblem {
  const p = pr.model.params.length, n = pr.nPoints;
  const rows = (a: Float64Array, w: number) => {
    if (fits === null) return a;
    const out = new Float64Array(fits.length * w);
    fits.forEach((f, i) => out.set(a.subarray(f * w, (f + 1) * w), i * w));
    return out;
  };
  return {
    ...pr,
    nFits: fits?.length ?? pr.nFits,
    y: rows(pr.y, n),
    x: pr.xPerFit ? pr.x.map((c) => rows(c, n)) : pr.x,
    sigma: pr.sigma && pr.sigmaPerFit ? rows(pr.sigma, n) : pr.sigma,
    p0: p0 ?? (pr.p0PerFit ? rows(pr.p0, p) : pr.p0),
    p0PerFit: p0 !== null || pr.p0PerFit,
    lower: pr.lower && pr.boundsPerFit ? rows(pr.lower, p) : pr.lower,
    upper: pr.upper && pr.boundsPerFit ? rows(pr.upper, p) : pr.upper,
    onProgress: undefined,
  };
}

/**
 * Copies fit `from` of `src` into fit `to` of `dst` (every column).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { allocateOutputs } from "./_outputs.ts";
 * import { copyFit } from "./_webgpu_engine.ts";
 * const a = allocateOutputs(2, 1, false), b = allocateOutputs(2, 1, false);
 * a.popt[1] = 3;
 * a.status[1] = 2;
 * copyFit(a, 1, b, 0, 1);
 * assert.deepStrictEqual([b.popt[0], b.status[0]], [3, 2]);
 * ```
 */
export function copyFit(
  src: BatchOutputs,
  from: number,
  dst: BatchOutputs,
  to: number,
  p: number,
): void {
  dst.popt.set(src.popt.subarray(from * p, (from + 1) * p), to * p);
  dst.perr.set(src.perr.subarray(from * p, (from + 1) * p), to * p);
  dst.cost[to] = src.cost[from];
  dst.rsq[to] = src.rsq[from];
  dst.nfev[to] = src.nfev[from];
  dst.nit[to] = src.nit[from];
  dst.status[to] = src.status[from];
  dst.flags[to] = src.flags[from];
}

/** Writes a chunk's records into the outputs; returns fits left to the CPU. */
function decode(
  rec: Vec,
  lay: BatchLayout,
  first: number,
  cnt: number,
  p: number,
  out: BatchOutputs,
  toCpu: number[],
): void {
  const r = lay.record;
  for (let k = 0; k < cnt; k++) {
    const o = k * r.size, fit = first + k;
    const status = rec[o + r.status];
    if (status === STATUS_TO_CPU) {
      toCpu.push(fit);
      continue;
    }
    for (let j = 0; j < p; j++) {
      out.popt[fit * p + j] = rec[o + r.popt + j];
      out.perr[fit * p + j] = rec[o + r.perr + j];
    }
    out.cost[fit] = rec[o + r.cost];
    out.rsq[fit] = rec[o + r.rsq];
    out.nfev[fit] = rec[o + r.nfev];
    out.nit[fit] = rec[o + r.nit];
    out.status[fit] = status;
    out.flags[fit] = rec[o + r.flags];
  }
}

/** Whether a fit of a chunk's records is still running. */
function anyRunning(rec: Vec, lay: BatchLayout, cnt: number): boolean {
  const r = lay.record;
  for (let k = 0; k < cnt; k++) {
    if (rec[k * r.size + r.phase] === 1) return true;
  }
  return false;
}

/** Fits per chunk allowed by the binding limit, the dispatch grid and the option. */
function chunkCapacity(
  pr: BatchProblem,
  lay: BatchLayout,
  eb: number,
  limits: GpuLimits,
  o: WebGpuBatchOptions,
): number {
  const p = pr.model.params.length;
  const perFit = Math.max(
    lay.dataColumns * pr.nPoints,
    lay.paramBlocks * p,
    lay.record.size,
  ) * eb;
  const binding = Math.min(
    limits.maxStorageBufferBindingSize,
    limits.maxBufferSize,
    o.maxBindingBytes ?? Infinity,
  );
  const cap = Math.min(
    Math.floor(binding / perFit),
    limits.maxComputeWorkgroupsPerDimension ** 2 *
      (o.workgroupSize ?? WORKGROUP_SIZE),
    o.maxFitsPerChunk ?? DEFAULT_CHUNK_FITS,
  );
  if (!(cap >= 1)) {
    throw new RangeError(
      `the WebGPU batch engine cannot hold one fit (${perFit} bytes) in a binding of ${binding} bytes`,
    );
  }
  return cap;
}

/** Buffers and the readback of one chunk in flight. */
interface InFlight {
  first: number;
  cnt: number;
  buffers: [GPUBuffer, number][];
  bind: GPUBindGroup;
  /** The chunk's uniform (destroyed with the readback). */
  cfg: GPUBuffer;
  sta: GPUBuffer;
  staBytes: number;
  readback: GPUBuffer;
  /** Dispatches so far. */
  dispatched: number;
  done: Promise<void>;
}

/**
 * Runs every fit of a problem on the WebGPU device.
 *
 * @throws {TypeError} for a problem the kernel does not take (see
 *   {@linkcode webGpuUnsupported}).
 * @throws {GpuUnavailableError} without a WebGPU adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isWebGpuAvailable } from "../gpu/device.ts";
 * import { resolveBatch } from "./_input.ts";
 * import { runWebGpuBatch } from "./_webgpu_engine.ts";
 * if (await isWebGpuAvailable()) {
 *   const pr = resolveBatch("a * x", [1, 2], [[2, 4], [3, 6]], { p0: [1] });
 *   const { outputs } = await runWebGpuBatch(pr);
 *   assert.ok(Math.abs(outputs.popt[1] - 3) < 1e-6);
 * } else console.log("no WebGPU adapter: example skipped");
 * ```
 */
export async function runWebGpuBatch(
  pr: BatchProblem,
  options: WebGpuBatchOptions = {},
): Promise<WebGpuBatchRun> {
  const why = webGpuUnsupported(pr);
  if (why !== null) {
    throw new TypeError(
      `backend "webgpu": the WebGPU batch engine does not take ${why}; use backend "cpu" or "auto"`,
    );
  }
  pr.signal?.throwIfAborted();
  const ctx = await acquireDevice(options.device);
  const want = options.precision ?? "auto";
  const precision: Precision = want === "auto"
    ? (ctx.info.f64 ? "f64" : "f32")
    : want;
  if (precision === "f64" && !ctx.info.f64) {
    throw new GpuKernelError(
      "precision f64 requested but the device has no shader-f64",
    );
  }
  const { device } = ctx;
  const p = pr.model.params.length, n = pr.nPoints;
  const wg = options.workgroupSize ?? WORKGROUP_SIZE;
  // Unrolling the point loop pays little and costs compile time, which
  // grows fast with the free parameters (lavapipe, q = 6: 0.7 s unrolled
  // by 1, 2 s by 4): unrolled for the small models only.
  const unroll = options.unroll ?? (pr.free.length <= 4 ? POINT_UNROLL : 1);
  const { code, layout: lay } = batchWgsl({
    ssa: modelSsa(pr.model),
    nParams: p,
    nVars: pr.model.variables.length,
    nPoints: n,
    free: pr.free,
    precision,
    bounded: pr.lower !== null,
    boundsPerFit: pr.boundsPerFit,
    p0PerFit: pr.p0PerFit,
    xPerFit: pr.xPerFit,
    weightShared: pr.sigma !== null && !pr.sigmaPerFit,
    sigmaPerFit: pr.sigmaPerFit,
    omit: pr.nanPolicy === "omit",
    workgroupSize: wg,
    unroll,
  });
  const { group, pipeline: pipelineLayout } = layoutFor(device);
  const pipeline = await pipelineFor(device, code, "main", pipelineLayout);
  // Iterations per dispatch: every fit's on hardware; on a software
  // adapter as many as its loop cap allows (see the kernel's module doc).
  const pointPasses = Math.max(1, Math.floor(n / unroll));
  // The kernel counts evaluations in u32.
  const maxNfev = Math.min(pr.maxNfev, 2 ** 31);
  const iters = Math.min(
    options.maxItersPerDispatch ?? Infinity,
    ctx.info.software
      ? Math.min(
        maxNfev,
        Math.floor(SOFTWARE_LOOP_BUDGET / Math.max(pointPasses + 1, 64)),
      )
      : maxNfev,
  );
  if (iters < 1) {
    throw new RangeError(
      `the WebGPU batch engine on a software adapter takes at most ${
        SOFTWARE_LOOP_BUDGET * unroll
      } points per fit, got ${n}`,
    );
  }
  // Dispatches that let every fit use all of maxNfev (its kernel stops it
  // there); issued in rounds, until no fit of the chunk is running.
  const maxDispatches = Math.max(1, Math.ceil(maxNfev / iters));
  let dispatches = 0;
  const eb = precision === "f64" ? 8 : 4;
  const capacity = chunkCapacity(pr, lay, eb, ctx.info.limits, options);
  const maxWg = ctx.info.limits.maxComputeWorkgroupsPerDimension;

  const usageIn = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const usageSta = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
    GPUBufferUsage.COPY_DST;
  const usageRead = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  const write = (buf: GPUBuffer, v: Vec) =>
    device.queue.writeBuffer(buf, 0, v as Float64Array<ArrayBuffer>);
  const toVec = (a: Float64Array) => {
    if (precision === "f64") return a;
    return Float32Array.from(a);
  };
  const shared = sharedValues(pr, lay, precision);
  const shr = takeBuffer(device, Math.max(16, shared.length * eb), usageIn);
  write(shr, toVec(shared));

  const gpuOut = allocateOutputs(pr.nFits, p, false);
  const toCpu: number[] = [];
  const lost = ctx.whenLost.then((e) => {
    throw e;
  });
  lost.catch(() => {});
  let chunks = 0;
  const t0 = performance.now();
  let done = 0;

  const submit = (first: number, cnt: number): InFlight => {
    const dat = vec(precision, lay.dataColumns * n * cnt);
    packData(pr, first, cnt, dat);
    const par = vec(precision, Math.max(2, lay.paramBlocks * p * cnt));
    packParams(pr, first, cnt, par);
    const staBytes = lay.record.size * cnt * eb;
    const bufs: [GPUBuffer, number][] = [
      [takeBuffer(device, dat.byteLength, usageIn), usageIn],
      [takeBuffer(device, Math.max(16, par.byteLength), usageIn), usageIn],
      [takeBuffer(device, staBytes, usageSta), usageSta],
    ];
    const [bDat, bPar, bSta] = bufs.map((b) => b[0]);
    write(bDat, dat);
    write(bPar, par);
    const cfg = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(
      cfg,
      0,
      new Uint32Array([cnt, iters, maxNfev, 0]),
    );
    const readback = device.createBuffer({ size: staBytes, usage: usageRead });
    const bind = device.createBindGroup({
      layout: group,
      entries: [
        { binding: 0, resource: { buffer: bDat, size: dat.byteLength } },
        { binding: 1, resource: { buffer: bPar } },
        { binding: 2, resource: { buffer: shr } },
        { binding: 3, resource: { buffer: bSta, size: staBytes } },
        { binding: 4, resource: { buffer: cfg } },
      ],
    });
    chunks++;
    const f: InFlight = {
      first,
      cnt,
      buffers: bufs,
      bind,
      cfg,
      sta: bSta,
      staBytes,
      readback,
      dispatched: 0,
      done: Promise.resolve(),
    };
    round(f, true);
    return f;
  };

  // One round: a few dispatches (two at first, then twice as many as
  // before) and the readback of the records.
  const round = (f: InFlight, first: boolean) => {
    const count = Math.min(
      maxDispatches - f.dispatched,
      Math.max(2, f.dispatched),
    );
    const enc = device.createCommandEncoder();
    if (first) enc.clearBuffer(f.sta, 0, f.staBytes);
    const wgs = Math.ceil(f.cnt / wg);
    const gx = Math.min(wgs, maxWg), gy = Math.ceil(wgs / gx);
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, f.bind);
    for (let d = 0; d < count; d++) pass.dispatchWorkgroups(gx, gy);
    pass.end();
    enc.copyBufferToBuffer(f.sta, 0, f.readback, 0, f.staBytes);
    device.queue.submit([enc.finish()]);
    f.dispatched += count;
    dispatches = Math.max(dispatches, f.dispatched);
    f.done = f.readback.mapAsync(GPUMapMode.READ);
  };

  const finish = async (f: InFlight) => {
    try {
      for (;;) {
        await Promise.race([f.done, lost]);
        const range = f.readback.getMappedRange();
        const rec = precision === "f64"
          ? new Float64Array(range)
          : new Float32Array(range);
        const running = anyRunning(rec, lay, f.cnt);
        if (!running || f.dispatched >= maxDispatches) {
          decode(rec, lay, f.first, f.cnt, p, gpuOut, toCpu);
          f.readback.unmap();
          break;
        }
        f.readback.unmap();
        round(f, false);
      }
    } finally {
      f.readback.destroy();
      f.cfg.destroy();
      if (!ctx.lost) {
        for (const [b, u] of f.buffers) releaseBuffer(device, b, u);
      }
    }
    done += f.cnt;
    if (precision === "f64" && pr.onProgress) {
      await pr.onProgress({
        done,
        total: pr.nFits,
        elapsedMs: performance.now() - t0,
      });
    }
  };

  let pending: InFlight | null = null;
  try {
    for (let first = 0; first < pr.nFits; first += capacity) {
      pr.signal?.throwIfAborted();
      const next = submit(first, Math.min(capacity, pr.nFits - first));
      if (pending) await finish(pending);
      pending = next;
    }
    if (pending) await finish(pending);
    pending = null;
  } finally {
    if (pending) {
      pending.done.then(() => pending!.readback.destroy(), () => {});
    }
    if (!ctx.lost) releaseBuffer(device, shr, usageIn);
  }

  let outputs = gpuOut, threads = 1, cpuFits = 0;
  if (precision === "f32") {
    // The polish: the CPU engine from the kernel's answers (inside the
    // f64 bounds: an f32 bound can round outward).
    const p0 = new Float64Array(pr.nFits * p);
    for (let i = 0; i < pr.nFits; i++) {
      for (let j = 0; j < p; j++) {
        const o = i * p + j;
        let v = gpuOut.popt[o];
        const start = pr.p0PerFit ? pr.p0[o] : pr.p0[j];
        if (!Number.isFinite(v) || pr.fixed[j]) v = start;
        if (pr.lower) {
          const b = pr.boundsPerFit ? o : j;
          v = Math.min(Math.max(v, pr.lower[b]), pr.upper![b]);
        }
        p0[o] = v;
      }
    }
    const polish = await runCpuBatch({
      ...subProblem(pr, null, p0),
      onProgress: pr.onProgress,
    });
    outputs = polish.outputs;
    threads = polish.threads;
    cpuFits = pr.nFits;
    for (let i = 0; i < pr.nFits; i++) outputs.nfev[i] += gpuOut.nfev[i];
  } else if (toCpu.length > 0) {
    const cpu = await runCpuBatch(subProblem(pr, toCpu, null));
    toCpu.forEach((fit, i) => copyFit(cpu.outputs, i, gpuOut, fit, p));
    threads = cpu.threads;
    cpuFits = toCpu.length;
  }
  const name = ctx.info.adapterName;
  return {
    outputs,
    threads,
    label: precision === "f64"
      ? `webgpu (batch engine, ${name}, f64)`
      : `webgpu (batch engine, ${name}, f32 + CPU polish)`,
    precision,
    adapterName: name,
    software: ctx.info.software,
    chunks,
    dispatches,
    cpuFits,
  };
}
