/**
 * The WebGPU evaluator: uploads the data once, then evaluates the cost and
 * the normal-form linearization at any number of parameter vectors with one
 * submission and one readback (several trial steps per pass).
 *
 * @module
 */

import type { WeightedData } from "../core/weights.ts";
import type { Model } from "../model/types.ts";
import type { Evaluation, Evaluator } from "../core/linearization.ts";
import { normalFromSums } from "../core/_linearization_forms.ts";
import { type LossName, validateLoss } from "../core/loss.ts";
import {
  acquireDevice,
  type AcquireDeviceOptions,
  type GpuContext,
  type GpuLimits,
} from "./device.ts";
import { GpuDeviceLostError, GpuKernelError } from "./errors.ts";
import {
  chunkConfig,
  type GeneratedKernel,
  generateKernel,
  generateReduceKernel,
  type KernelModel,
  type Precision,
  THETA_HEADER,
} from "./wgsl_codegen.ts";
import { layoutsFor, pipelineFor } from "./_pipelines.ts";
import { releaseBuffer, takeBuffer, uploadColumn } from "./_buffer_pool.ts";

// Usage of the data buffers (a function: the globals exist only with WebGPU).
const dataUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;

/** Options of {@linkcode createGpuEvaluator}. */
export interface GpuEvaluatorOptions {
  /** Robust loss (default "linear"). */
  readonly loss?: LossName;
  /** Soft margin between inlier and outlier residuals (default 1). */
  readonly fScale?: number;
  /**
   * `"f64"` (needs `shader-f64`), `"f32"` (compensated sums; the solver
   * should finish with a CPU double-precision polish), or `"auto"` (f64
   * when the device has it; the default).
   */
  readonly precision?: Precision | "auto";
  /** Threads per workgroup, a power of two (default 64). */
  readonly workgroupSize?: number;
  /**
   * Largest storage binding to use, in bytes (default: the device's
   * `maxStorageBufferBindingSize`). Data larger than this is split into
   * chunks, one binding and one dispatch each; tests lower it to force that.
   */
  readonly maxBindingBytes?: number;
  /**
   * Points each thread handles per dispatch, roughly (default 64; on a
   * software adapter up to 1024, keeping 8 workgroups per core).
   */
  readonly pointsPerThread?: number;
  /**
   * Memory layout of the kernel loop (see `KernelOptions.laneBlock`; default
   * 4 on a software adapter, else 0: grid-stride).
   */
  readonly laneBlock?: number;
  /** Device options (see {@linkcode acquireDevice}). */
  readonly device?: AcquireDeviceOptions;
  /**
   * Skips the check that f64 data are finite, for callers that validated
   * them (`fit` does). f32 data are always checked, since a finite double
   * can overflow f32. Default false.
   */
  readonly assumeFinite?: boolean;
}

/** What an evaluator runs on: for fit results and logs. */
export interface GpuEvaluatorDescription {
  /** Always `"webgpu"`. */
  readonly backend: "webgpu";
  /** The adapter's name. */
  readonly adapterName: string;
  /** True on a software adapter (lavapipe). */
  readonly software: boolean;
  /** Whether the device has `shader-f64`. */
  readonly deviceF64: boolean;
  /** Precision the kernels compute in. */
  readonly precision: Precision;
  /**
   * True for f32 kernels: the linearization is accurate to ~1e-6 relative,
   * so the solver must finish with a double-precision pass on the CPU.
   */
  readonly needsCpuPolish: boolean;
  /** Threads per workgroup. */
  readonly workgroupSize: number;
  /** Number of data chunks (storage bindings). */
  readonly chunks: number;
  /** Workgroup records per parameter vector. */
  readonly recordsPerTheta: number;
  /** Number of points. */
  readonly nPoints: number;
  /** Loss and fScale. */
  readonly loss: LossName;
  /** The soft margin of the loss. */
  readonly fScale: number;
  /** Device limits. */
  readonly limits: GpuLimits;
}

/** An {@linkcode Evaluator} running on WebGPU. */
export interface GpuEvaluator extends Evaluator {
  /** Precision of the kernels. */
  readonly precision: Precision;
  /** What it runs on. */
  describe(): GpuEvaluatorDescription;
  /** Frees the GPU buffers; the evaluator cannot be used afterwards. */
  close(): void;
}

interface Chunk {
  readonly start: number;
  readonly n: number;
  readonly workgroups: number;
  readonly recordBase: number;
}

interface Group {
  cap: number;
  theta: GPUBuffer;
  part: GPUBuffer;
  out: GPUBuffer;
  rcfg: GPUBuffer;
  bind: GPUBindGroup[];
  reduceBind: GPUBindGroup;
}

interface State {
  readonly ctx: GpuContext;
  readonly kernel: GeneratedKernel;
  readonly full: GPUComputePipeline;
  readonly cost: GPUComputePipeline;
  readonly reduce: GPUComputePipeline;
  readonly data: GPUBuffer[];
  readonly cfg: GPUBuffer[];
  groups: { full: Group | null; cost: Group | null };
  readback: GPUBuffer | null;
}

const REDUCE_WG = 64;
// lavapipe stops a shader loop after 65535 iterations, and nested loops (the
// f32 kernels' blocks) hit it sooner: 52000 points per thread measured fine,
// 54000 not. Each thread is given at most this many points.
const MAX_POINTS_PER_THREAD = 32768;
const LOSS_GRACE_MS = 200;

function planChunks(
  n: number,
  bytesPerPoint: number,
  maxBinding: number,
  wg: number,
  ppt: number,
  maxWg: number,
): Chunk[] {
  // 256-byte multiples keep every chunk a valid, aligned binding
  // and a multiple of 4 points keeps every column whole vec4s
  const perChunk = Math.floor(
    Math.floor(maxBinding / 256) * 256 / bytesPerPoint / 4,
  ) * 4;
  if (perChunk < 1) {
    throw new RangeError(
      `maxBindingBytes ${maxBinding} cannot hold one point of ${bytesPerPoint} bytes`,
    );
  }
  const chunks: Chunk[] = [];
  let recordBase = 0;
  for (let start = 0; start < n; start += perChunk) {
    const m = Math.min(perChunk, n - start);
    let workgroups = Math.ceil(m / (wg * ppt));
    workgroups = Math.max(
      workgroups,
      Math.ceil(m / (wg * MAX_POINTS_PER_THREAD)),
      1,
    );
    if (workgroups > maxWg) {
      throw new RangeError(
        `chunk of ${m} points needs ${workgroups} workgroups (> ${maxWg}); ` +
          "raise workgroupSize or lower maxBindingBytes",
      );
    }
    chunks.push({ start, n: m, workgroups, recordBase });
    recordBase += workgroups;
  }
  return chunks;
}

/**
 * Points per thread on a software adapter: up to 1024 (measured best on
 * lavapipe, 2 cores, at 1e7 points), but no fewer than 8 workgroups per
 * core, so that smaller problems still reach every core of a larger machine.
 */
function softwarePointsPerThread(n: number, wg: number): number {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const want = n / (wg * 8 * cores);
  return Math.min(1024, Math.max(64, 2 ** Math.floor(Math.log2(want || 1))));
}

/** Bytes of a chunk's data: its columns, each padded to whole vec4s. */
function chunkBytes(c: Chunk, stride: number, p: Precision): number {
  return Math.ceil(c.n / 4) * 4 * stride * (p === "f64" ? 8 : 4);
}

function checkData(m: KernelModel, data: WeightedData): number {
  const n = data.y.length;
  if (data.x.length !== m.variables.length) {
    throw new RangeError(
      `x: the model has ${m.variables.length} variable(s) (${
        m.variables.join(", ")
      }) but ${data.x.length} column(s) were given`,
    );
  }
  for (let j = 0; j < data.x.length; j++) {
    if (data.x[j].length !== n) {
      throw new RangeError(
        `x[${j}] has ${data.x[j].length} points but y has ${n}`,
      );
    }
  }
  if (data.w && data.w.length !== n) {
    throw new RangeError(`w has ${data.w.length} points but y has ${n}`);
  }
  if (n === 0) throw new RangeError("no data points");
  return n;
}

/**
 * Creates a WebGPU evaluator for an expression model: acquires the device,
 * compiles the model's kernels (f64 where the device grants `shader-f64`,
 * else f32 with compensated sums), uploads the data once, and returns an
 * {@linkcode Evaluator} whose `evaluate` runs every requested parameter
 * vector in one submission with one readback.
 *
 * After a device loss the call in flight rejects with
 * {@linkcode GpuDeviceLostError}; the next call acquires a new device and
 * uploads the data again.
 *
 * @throws {GpuUnavailableError} when there is no WebGPU adapter.
 * @throws {GpuKernelError} when a kernel does not compile.
 * @throws {TypeError} for a plain-function model or bad options.
 * @throws {RangeError} for data of inconsistent sizes or non-finite values.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * import { isWebGpuAvailable } from "./device.ts";
 * if (!(await isWebGpuAvailable())) {
 *   console.log("no WebGPU adapter: example skipped");
 * } else {
 *   const m = model("a * x + b");
 *   const x = [new Float64Array([0, 1, 2, 3])];
 *   const y = new Float64Array([1, 3, 5, 7]);
 *   const ev = await createGpuEvaluator(m, { x, y, w: null });
 *   const [exact, off] = await ev.evaluate(
 *     [new Float64Array([2, 1]), new Float64Array([2, 0])],
 *     [false, true],
 *   );
 *   assert.strictEqual(exact.cost, 0);
 *   assert.ok(Math.abs(off.cost - 2) < 1e-6); // 0.5 * 4 residuals of -1
 *   ev.close();
 * }
 * ```
 */
export async function createGpuEvaluator(
  m: Model | KernelModel,
  data: WeightedData,
  options: GpuEvaluatorOptions = {},
): Promise<GpuEvaluator> {
  const loss = validateLoss(options.loss);
  const fScale = options.fScale ?? 1;
  if (!(fScale > 0) || !Number.isFinite(fScale)) {
    throw new RangeError(`fScale must be a positive number, got ${fScale}`);
  }
  const want = options.precision ?? "auto";
  if (want !== "auto" && want !== "f64" && want !== "f32") {
    throw new TypeError(
      `precision must be "f64", "f32" or "auto", got ${want}`,
    );
  }
  const wg = options.workgroupSize ?? 64;
  if (
    options.pointsPerThread !== undefined && !(options.pointsPerThread >= 1)
  ) throw new RangeError(`pointsPerThread must be >= 1`);
  const n = checkData(m, data);
  const P = m.params.length;
  const weighted = data.w !== null;
  let precision: Precision | null = null;
  let state: State | null = null;
  let closed = false;
  let chunks: Chunk[] = [];
  let nRec = 0;
  let info: GpuContext["info"] | null = null;

  async function setup(): Promise<State> {
    const ctx = await acquireDevice(options.device);
    const p: Precision = want === "auto"
      ? (ctx.info.f64 ? "f64" : "f32")
      : want;
    if (p === "f64" && !ctx.info.f64) {
      throw new GpuKernelError(
        "precision f64 requested but the device has no shader-f64",
      );
    }
    if (precision !== null && p !== precision) {
      throw new GpuKernelError(
        `the new device computes in ${p}, the evaluator was built for ${precision}`,
      );
    }
    precision = p;
    info = ctx.info;
    const { device } = ctx;
    const lim = ctx.info.limits;
    if (
      wg > lim.maxComputeWorkgroupSizeX ||
      wg > lim.maxComputeInvocationsPerWorkgroup
    ) {
      throw new RangeError(`workgroupSize ${wg} exceeds the device limit`);
    }
    // Measured on lavapipe at 1e7 points: blocked runs of 4 invocations and
    // 1024 points per thread make the pass 1.5-2x faster than the
    // grid-stride loop with 64 (see KernelOptions.laneBlock; f32 exp3: 68 ->
    // 38 ms). Hardware keeps the grid-stride loop, which coalesces and fills
    // the device.
    const soft = ctx.info.software;
    const ppt = options.pointsPerThread ??
      (soft ? softwarePointsPerThread(n, wg) : 64);
    const kernel = generateKernel(m, {
      precision: p,
      loss,
      workgroupSize: wg,
      laneBlock: options.laneBlock ?? (soft ? 4 : 0),
      weighted,
      workgroupStorageBytes: lim.maxComputeWorkgroupStorageSize,
    });
    const eb = p === "f64" ? 8 : 4;
    const maxBinding = Math.min(
      lim.maxStorageBufferBindingSize,
      lim.maxBufferSize,
      options.maxBindingBytes ?? Infinity,
    );
    chunks = planChunks(
      n,
      kernel.stride * eb,
      maxBinding,
      wg,
      ppt,
      lim.maxComputeWorkgroupsPerDimension,
    );
    nRec = chunks.reduce((s, c) => s + c.workgroups, 0);
    const layouts = layoutsFor(device);
    const reduceCode = generateReduceKernel(p, REDUCE_WG);
    const [full, cost, reduce] = await Promise.all([
      pipelineFor(device, kernel.code, "full", layouts.mainPipeline),
      pipelineFor(device, kernel.code, "cost", layouts.mainPipeline),
      pipelineFor(device, reduceCode, "reduce", layouts.reducePipeline),
    ]);
    device.pushErrorScope("out-of-memory");
    const buffers: GPUBuffer[] = [];
    try {
      for (const c of chunks) buffers.push(upload(device, c, kernel.stride, p));
    } catch (e) {
      for (const b of buffers) releaseBuffer(device, b, dataUsage());
      device.popErrorScope();
      throw e;
    }
    const cfg = chunks.map((c) => {
      const b = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(
        b,
        0,
        chunkConfig(c.n, c.recordBase, nRec, c.workgroups),
      );
      return b;
    });
    // Start the staged copies now, so the device moves the data while the
    // caller does other work (the first pass would otherwise wait for it).
    device.queue.submit([]);
    const oom = await device.popErrorScope();
    if (oom) {
      for (const b of buffers) b.destroy();
      throw new RangeError(
        `the data does not fit in GPU memory: ${oom.message}`,
      );
    }
    return {
      ctx,
      kernel,
      full,
      cost,
      reduce,
      data: buffers,
      cfg,
      groups: { full: null, cost: null },
      readback: null,
    };
  }

  function upload(
    device: GPUDevice,
    c: Chunk,
    stride: number,
    p: Precision,
  ): GPUBuffer {
    const eb = p === "f64" ? 8 : 4;
    // Columns padded to whole vec4s (the kernel reads 4 points at a time).
    const n4 = Math.ceil(c.n / 4) * 4;
    const size = chunkBytes(c, stride, p);
    // Column-major within the chunk: x_0 .. x_{v-1}, y, w, each c.n long,
    // written in pieces into a pooled buffer (see _buffer_pool.ts): a
    // mapped-at-creation buffer costs an extra copy of the whole data in
    // Deno (measured 2x slower at 1e7 points).
    const nv = data.x.length;
    const cols = [...data.x, data.y, ...(data.w ? [data.w] : [])];
    const buf = takeBuffer(device, size, dataUsage());
    const checkAll = p === "f32" || options.assumeFinite !== true;
    try {
      cols.forEach((col, j) => {
        const what = j < nv ? `x[${j}]` : j === nv ? "y" : "w";
        uploadColumn(
          device,
          buf,
          j * n4 * eb,
          col.subarray(c.start, c.start + c.n),
          p,
          checkAll
            ? (i, v) => {
              throw new RangeError(
                `${what}[${c.start + i}] is not finite (${v})${
                  p === "f32" ? " in f32" : ""
                }; remove or fix such points`,
              );
            }
            : undefined,
        );
      });
    } catch (e) {
      releaseBuffer(device, buf, dataUsage());
      throw e;
    }
    return buf;
  }

  function ensureGroup(s: State, kind: "full" | "cost", count: number): Group {
    const old = s.groups[kind];
    if (old && old.cap >= count) return old;
    if (old) {
      for (const b of [old.theta, old.part, old.out, old.rcfg]) b.destroy();
    }
    const { device } = s.ctx;
    const cap = Math.max(4, 2 ** Math.ceil(Math.log2(count)));
    const eb = s.kernel.precision === "f64" ? 8 : 4;
    const vpr = (kind === "full" ? s.kernel.nFull : 1) *
      s.kernel.valuesPerComponent;
    const S = GPUBufferUsage.STORAGE;
    const theta = device.createBuffer({
      size: Math.ceil(((THETA_HEADER + cap * P) * eb) / 16) * 16,
      usage: S | GPUBufferUsage.COPY_DST,
    });
    const part = device.createBuffer({ size: cap * nRec * vpr * eb, usage: S });
    const out = device.createBuffer({
      size: cap * vpr * eb,
      usage: S | GPUBufferUsage.COPY_SRC,
    });
    const rcfg = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(
      rcfg,
      0,
      new Uint32Array([nRec, vpr, kind === "full" ? s.kernel.nFull : 1, 0]),
    );
    const layouts = layoutsFor(device);
    const bind = s.data.map((d, i) =>
      device.createBindGroup({
        layout: layouts.main,
        entries: [
          // Bound at the chunk's own size: a pooled buffer may be larger
          // than the binding limit allows.
          {
            binding: 0,
            resource: {
              buffer: d,
              size: chunkBytes(chunks[i], s.kernel.stride, s.kernel.precision),
            },
          },
          { binding: 1, resource: { buffer: theta } },
          { binding: 2, resource: { buffer: part } },
          { binding: 3, resource: { buffer: s.cfg[i] } },
        ],
      })
    );
    const reduceBind = device.createBindGroup({
      layout: layouts.reduce,
      entries: [
        { binding: 0, resource: { buffer: part } },
        { binding: 1, resource: { buffer: out } },
        { binding: 2, resource: { buffer: rcfg } },
      ],
    });
    const g: Group = { cap, theta, part, out, rcfg, bind, reduceBind };
    s.groups[kind] = g;
    s.readback?.destroy();
    s.readback = null;
    return g;
  }

  function writeThetas(
    s: State,
    g: Group,
    thetas: readonly Float64Array[],
  ): void {
    const Arr = s.kernel.precision === "f64" ? Float64Array : Float32Array;
    const buf = new Arr(THETA_HEADER + thetas.length * P);
    buf[0] = 1 / fScale;
    buf[1] = fScale * fScale;
    buf[2] = Infinity;
    buf[3] = NaN;
    thetas.forEach((t, i) => buf.set(t, THETA_HEADER + i * P));
    s.ctx.device.queue.writeBuffer(g.theta, 0, buf);
  }

  async function run(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> {
    if (closed) throw new TypeError("GpuEvaluator: used after close()");
    if (thetas.length !== withJacobian.length) {
      throw new RangeError(
        `thetas (${thetas.length}) and withJacobian (${withJacobian.length}) differ in length`,
      );
    }
    for (const t of thetas) {
      if (t.length !== P) {
        throw new RangeError(
          `theta has ${t.length} values, the model ${P} parameters`,
        );
      }
    }
    if (thetas.length === 0) return [];
    if (!state || state.ctx.lost) {
      const old = state;
      state = null;
      if (old) { for (const b of old.data) b.destroy(); }
      state = await setup();
    }
    const s = state;
    const { device } = s.ctx;
    const fullIdx: number[] = [], costIdx: number[] = [];
    withJacobian.forEach((j, i) => (j ? fullIdx : costIdx).push(i));
    const gf = fullIdx.length ? ensureGroup(s, "full", fullIdx.length) : null;
    const gc = costIdx.length ? ensureGroup(s, "cost", costIdx.length) : null;
    const vpc = s.kernel.valuesPerComponent;
    const eb = s.kernel.precision === "f64" ? 8 : 4;
    const fullBytes = (s.groups.full?.cap ?? 0) * s.kernel.nFull * vpc * eb;
    const costBytes = (s.groups.cost?.cap ?? 0) * vpc * eb;
    if (!s.readback) {
      s.readback = device.createBuffer({
        size: Math.max(16, fullBytes + costBytes),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
    const readback = s.readback;
    device.pushErrorScope("validation");
    if (gf) writeThetas(s, gf, fullIdx.map((i) => thetas[i]));
    if (gc) writeThetas(s, gc, costIdx.map((i) => thetas[i]));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (
      const [g, pipe, count] of [
        [gf, s.full, fullIdx.length],
        [gc, s.cost, costIdx.length],
      ] as const
    ) {
      if (!g) continue;
      pass.setPipeline(pipe);
      chunks.forEach((c, i) => {
        pass.setBindGroup(0, g.bind[i]);
        pass.dispatchWorkgroups(c.workgroups, count);
      });
    }
    pass.setPipeline(s.reduce);
    if (gf) {
      pass.setBindGroup(0, gf.reduceBind);
      pass.dispatchWorkgroups(fullIdx.length);
    }
    if (gc) {
      pass.setBindGroup(0, gc.reduceBind);
      pass.dispatchWorkgroups(costIdx.length);
    }
    pass.end();
    const fullOut = fullIdx.length * s.kernel.nFull * vpc * eb;
    if (gf) enc.copyBufferToBuffer(gf.out, 0, readback, 0, fullOut);
    if (gc) {
      enc.copyBufferToBuffer(
        gc.out,
        0,
        readback,
        fullBytes,
        costIdx.length * vpc * eb,
      );
    }
    device.queue.submit([enc.finish()]);
    const errScope = device.popErrorScope();
    let raw: Float64Array;
    try {
      const mapped = readback.mapAsync(GPUMapMode.READ);
      const lost = await Promise.race([
        mapped.then(() => null),
        s.ctx.whenLost,
      ]);
      if (lost) throw lost;
      const err = await errScope;
      if (err) {
        readback.unmap();
        throw new GpuKernelError(`WebGPU validation error: ${err.message}`);
      }
      const bytes = readback.getMappedRange(0, fullBytes + costBytes);
      raw = Float64Array.from(
        s.kernel.precision === "f64"
          ? new Float64Array(bytes)
          : new Float32Array(bytes),
      );
      readback.unmap();
    } catch (e) {
      if (e instanceof GpuDeviceLostError) {
        if (state === s) state = null;
        throw e;
      }
      // A destroyed device fails mapAsync before device.lost settles: give
      // the loss a moment to be reported so the caller sees the real cause.
      const lost = await Promise.race([
        s.ctx.whenLost,
        new Promise<null>((r) => setTimeout(() => r(null), LOSS_GRACE_MS)),
      ]);
      if (lost) {
        if (state === s) state = null;
        throw lost;
      }
      throw e;
    }
    const out = new Array<Evaluation>(thetas.length);
    const fs2 = fScale * fScale;
    const nf = s.kernel.nFull;
    const value = (off: number, c: number) =>
      vpc === 1 ? raw[off + c] : raw[off + 2 * c] + raw[off + 2 * c + 1];
    fullIdx.forEach((ti, k) => {
      const off = k * nf * vpc;
      const cost = (loss === "linear" ? 0.5 : 0.5 * fs2) * value(off, 0);
      if (!Number.isFinite(cost)) {
        out[ti] = { cost };
        return;
      }
      // The record after the cost: J^T f, then the upper triangle of J^T J.
      const sums = Float64Array.from(
        { length: nf - 1 },
        (_, c) => value(off, 1 + c),
      );
      out[ti] = { cost, lin: normalFromSums(sums, P, cost, n) };
    });
    costIdx.forEach((ti, k) => {
      const off = fullBytes / eb + k * vpc;
      out[ti] = { cost: (loss === "linear" ? 0.5 : 0.5 * fs2) * value(off, 0) };
    });
    return out;
  }

  let queue: Promise<unknown> = Promise.resolve();
  const evaluate = (
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> => {
    const r = queue.then(() => run(thetas, withJacobian));
    queue = r.catch(() => {});
    return r;
  };

  state = await setup();

  return {
    nParams: P,
    nResiduals: n,
    get precision() {
      return precision as Precision;
    },
    evaluate,
    describe(): GpuEvaluatorDescription {
      const i = info!;
      return {
        backend: "webgpu",
        adapterName: i.adapterName,
        software: i.software,
        deviceF64: i.f64,
        precision: precision as Precision,
        needsCpuPolish: precision === "f32",
        workgroupSize: wg,
        chunks: chunks.length,
        recordsPerTheta: nRec,
        nPoints: n,
        loss,
        fScale,
        limits: i.limits,
      };
    },
    close(): void {
      closed = true;
      const s = state;
      state = null;
      if (!s) return;
      for (const b of s.data) {
        if (s.ctx.lost) b.destroy();
        else releaseBuffer(s.ctx.device, b, dataUsage());
      }
      for (const b of s.cfg) b.destroy();
      for (const g of [s.groups.full, s.groups.cost]) {
        if (g) {
          for (const b of [g.theta, g.part, g.out, g.rcfg]) b.destroy();
        }
      }
      s.readback?.destroy();
    },
  };
}
