/**
 * The device-side state of a WebGPU evaluator: the data split into chunks
 * (one storage binding each) and uploaded once, the compiled pipelines, and
 * the per-kind groups of parameter, partial-sum and output buffers that grow
 * with the number of parameter vectors evaluated at once.
 *
 * @module
 */

import type { WeightedData } from "../core/weights.ts";
import type { LossName } from "../core/loss.ts";
import {
  acquireDevice,
  type AcquireDeviceOptions,
  type GpuContext,
} from "./device.ts";
import { GpuKernelError } from "./errors.ts";
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

/** Workgroup size of the reduction kernel. */
export const REDUCE_WG = 64;
// lavapipe stops a shader loop after 65535 iterations, and nested loops (the
// f32 kernels' blocks) hit it sooner: 52000 points per thread measured fine,
// 54000 not. Each thread is given at most this many points.
export const MAX_POINTS_PER_THREAD = 32768;

/** The evaluator's settings, checked. */
export interface EvaluatorSettings {
  readonly loss: LossName;
  readonly fScale: number;
  readonly want: Precision | "auto";
  readonly wg: number;
  readonly pointsPerThread?: number;
  readonly laneBlock?: number;
  readonly maxBindingBytes?: number;
  readonly device?: AcquireDeviceOptions;
  readonly assumeFinite: boolean;
}

/** A contiguous range of points bound and dispatched as one. */
export interface Chunk {
  readonly start: number;
  readonly n: number;
  readonly workgroups: number;
  readonly recordBase: number;
}

/** Buffers for evaluating up to `cap` parameter vectors of one kind. */
export interface Group {
  cap: number;
  theta: GPUBuffer;
  part: GPUBuffer;
  out: GPUBuffer;
  rcfg: GPUBuffer;
  bind: GPUBindGroup[];
  reduceBind: GPUBindGroup;
}

/** Everything an evaluator holds on one device. */
export interface State {
  readonly ctx: GpuContext;
  readonly kernel: GeneratedKernel;
  readonly full: GPUComputePipeline;
  readonly cost: GPUComputePipeline;
  readonly reduce: GPUComputePipeline;
  readonly chunks: readonly Chunk[];
  /** Workgroup records per parameter vector (all chunks). */
  readonly nRec: number;
  readonly data: GPUBuffer[];
  readonly cfg: GPUBuffer[];
  groups: { full: Group | null; cost: Group | null };
  readback: GPUBuffer | null;
}

/**
 * Acquires the device, compiles the kernels and uploads the data.
 * `previous` is the precision of an earlier device: a new device must match.
 */
export async function setupState(
  m: KernelModel,
  data: WeightedData,
  st: EvaluatorSettings,
  previous: Precision | null,
): Promise<State> {
  const ctx = await acquireDevice(st.device);
  const p = choosePrecision(ctx, st.want, previous);
  const lim = ctx.info.limits;
  if (
    st.wg > lim.maxComputeWorkgroupSizeX ||
    st.wg > lim.maxComputeInvocationsPerWorkgroup
  ) {
    throw new RangeError(`workgroupSize ${st.wg} exceeds the device limit`);
  }
  const kernel = buildKernel(m, data, st, p, ctx);
  const chunks = planChunks(
    data.y.length,
    kernel.stride * (p === "f64" ? 8 : 4),
    Math.min(
      lim.maxStorageBufferBindingSize,
      lim.maxBufferSize,
      st.maxBindingBytes ?? Infinity,
    ),
    st.wg,
    pointsPerThread(data.y.length, st, ctx),
    lim.maxComputeWorkgroupsPerDimension,
  );
  const nRec = chunks.reduce((s, c) => s + c.workgroups, 0);
  const { device } = ctx;
  const layouts = layoutsFor(device);
  const [full, cost, reduce] = await Promise.all([
    pipelineFor(device, kernel.code, "full", layouts.mainPipeline),
    pipelineFor(device, kernel.code, "cost", layouts.mainPipeline),
    pipelineFor(
      device,
      generateReduceKernel(p, REDUCE_WG),
      "reduce",
      layouts.reducePipeline,
    ),
  ]);
  const buffers = await uploadChunks(device, chunks, data, kernel, st);
  const cfg = chunks.map((c) => chunkConfigBuffer(device, c, nRec));
  return {
    ctx,
    kernel,
    full,
    cost,
    reduce,
    chunks,
    nRec,
    data: buffers,
    cfg,
    groups: { full: null, cost: null },
    readback: null,
  };
}

function choosePrecision(
  ctx: GpuContext,
  want: Precision | "auto",
  previous: Precision | null,
): Precision {
  const p: Precision = want === "auto" ? (ctx.info.f64 ? "f64" : "f32") : want;
  if (p === "f64" && !ctx.info.f64) {
    throw new GpuKernelError(
      "precision f64 requested but the device has no shader-f64",
    );
  }
  if (previous !== null && p !== previous) {
    throw new GpuKernelError(
      `the new device computes in ${p}, the evaluator was built for ${previous}`,
    );
  }
  return p;
}

function buildKernel(
  m: KernelModel,
  data: WeightedData,
  st: EvaluatorSettings,
  p: Precision,
  ctx: GpuContext,
): GeneratedKernel {
  // Measured on lavapipe at 1e7 points: blocked runs of 4 invocations and
  // 1024 points per thread make the pass 1.5-2x faster than the
  // grid-stride loop with 64 (see KernelOptions.laneBlock; f32 exp3: 68 ->
  // 38 ms). Hardware keeps the grid-stride loop, which coalesces and fills
  // the device.
  return generateKernel(m, {
    precision: p,
    loss: st.loss,
    workgroupSize: st.wg,
    laneBlock: st.laneBlock ?? (ctx.info.software ? 4 : 0),
    weighted: data.w !== null,
    workgroupStorageBytes: ctx.info.limits.maxComputeWorkgroupStorageSize,
  });
}

function pointsPerThread(
  n: number,
  st: EvaluatorSettings,
  ctx: GpuContext,
): number {
  return st.pointsPerThread ??
    (ctx.info.software ? softwarePointsPerThread(n, st.wg) : 64);
}

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
    const workgroups = Math.max(
      Math.ceil(m / (wg * ppt)),
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
export function softwarePointsPerThread(n: number, wg: number): number {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const want = n / (wg * 8 * cores);
  return Math.min(1024, Math.max(64, 2 ** Math.floor(Math.log2(want || 1))));
}

/** Bytes of a chunk's data: its columns, each padded to whole vec4s. */
export function chunkBytes(c: Chunk, stride: number, p: Precision): number {
  return Math.ceil(c.n / 4) * 4 * stride * (p === "f64" ? 8 : 4);
}

function chunkConfigBuffer(
  device: GPUDevice,
  c: Chunk,
  nRec: number,
): GPUBuffer {
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
}

/** Uploads every chunk, reporting an out-of-memory device as a RangeError. */
async function uploadChunks(
  device: GPUDevice,
  chunks: readonly Chunk[],
  data: WeightedData,
  kernel: GeneratedKernel,
  st: EvaluatorSettings,
): Promise<GPUBuffer[]> {
  device.pushErrorScope("out-of-memory");
  const buffers: GPUBuffer[] = [];
  try {
    for (const c of chunks) {
      buffers.push(uploadChunk(device, c, data, kernel, st.assumeFinite));
    }
  } catch (e) {
    for (const b of buffers) releaseBuffer(device, b, dataUsage());
    device.popErrorScope();
    throw e;
  }
  // Start the staged copies now, so the device moves the data while the
  // caller does other work (the first pass would otherwise wait for it).
  device.queue.submit([]);
  const oom = await device.popErrorScope();
  if (oom) {
    for (const b of buffers) b.destroy();
    throw new RangeError(`the data does not fit in GPU memory: ${oom.message}`);
  }
  return buffers;
}

function uploadChunk(
  device: GPUDevice,
  c: Chunk,
  data: WeightedData,
  kernel: GeneratedKernel,
  assumeFinite: boolean,
): GPUBuffer {
  const p = kernel.precision;
  const buf = takeBuffer(device, chunkBytes(c, kernel.stride, p), dataUsage());
  try {
    fillChunk(device, buf, c, data, kernel, assumeFinite);
  } catch (e) {
    releaseBuffer(device, buf, dataUsage());
    throw e;
  }
  return buf;
}

/**
 * Writes new data of the same size and kind (weighted or not) into the data
 * buffers of `s`, in queue order: passes submitted before read the old data.
 */
export function reloadData(
  s: State,
  data: WeightedData,
  assumeFinite: boolean,
): void {
  s.chunks.forEach((c, i) =>
    fillChunk(s.ctx.device, s.data[i], c, data, s.kernel, assumeFinite)
  );
}

function fillChunk(
  device: GPUDevice,
  buf: GPUBuffer,
  c: Chunk,
  data: WeightedData,
  kernel: GeneratedKernel,
  assumeFinite: boolean,
): void {
  const p = kernel.precision;
  const eb = p === "f64" ? 8 : 4;
  // Columns padded to whole vec4s (the kernel reads 4 points at a time).
  const n4 = Math.ceil(c.n / 4) * 4;
  // Column-major within the chunk: x_0 .. x_{v-1}, y, w, each c.n long,
  // written in pieces into a pooled buffer (see _buffer_pool.ts): a
  // mapped-at-creation buffer costs an extra copy of the whole data in
  // Deno (measured 2x slower at 1e7 points).
  const nv = data.x.length;
  const cols = [...data.x, data.y, ...(data.w ? [data.w] : [])];
  // f32 is always checked: a finite double can overflow f32.
  const checkAll = p === "f32" || !assumeFinite;
  cols.forEach((col, j) => {
    const what = j < nv ? `x[${j}]` : j === nv ? "y" : "w";
    const onBad = (i: number, v: number) => {
      throw new RangeError(
        `${what}[${c.start + i}] is not finite (${v})${
          p === "f32" ? " in f32" : ""
        }; remove or fix such points`,
      );
    };
    uploadColumn(
      device,
      buf,
      j * n4 * eb,
      col.subarray(c.start, c.start + c.n),
      p,
      checkAll ? onBad : undefined,
    );
  });
}

/** The group of buffers for `count` parameter vectors of a kind (grown to a power of two). */
export function ensureGroup(
  s: State,
  kind: "full" | "cost",
  count: number,
  nParams: number,
): Group {
  const old = s.groups[kind];
  if (old && old.cap >= count) return old;
  if (old) destroyGroup(old);
  const { device } = s.ctx;
  const cap = Math.max(4, 2 ** Math.ceil(Math.log2(count)));
  const eb = s.kernel.precision === "f64" ? 8 : 4;
  const components = kind === "full" ? s.kernel.nFull : 1;
  const vpr = components * s.kernel.valuesPerComponent;
  const S = GPUBufferUsage.STORAGE;
  const theta = device.createBuffer({
    size: Math.ceil(((THETA_HEADER + cap * nParams) * eb) / 16) * 16,
    usage: S | GPUBufferUsage.COPY_DST,
  });
  const part = device.createBuffer({ size: cap * s.nRec * vpr * eb, usage: S });
  const out = device.createBuffer({
    size: cap * vpr * eb,
    usage: S | GPUBufferUsage.COPY_SRC,
  });
  const rcfg = reduceConfigBuffer(device, s.nRec, vpr, components);
  const g: Group = {
    cap,
    theta,
    part,
    out,
    rcfg,
    bind: s.data.map((_, i) => mainBindGroup(s, i, theta, part)),
    reduceBind: device.createBindGroup({
      layout: layoutsFor(device).reduce,
      entries: [
        { binding: 0, resource: { buffer: part } },
        { binding: 1, resource: { buffer: out } },
        { binding: 2, resource: { buffer: rcfg } },
      ],
    }),
  };
  s.groups[kind] = g;
  s.readback?.destroy();
  s.readback = null;
  return g;
}

function mainBindGroup(
  s: State,
  i: number,
  theta: GPUBuffer,
  part: GPUBuffer,
): GPUBindGroup {
  const size = chunkBytes(s.chunks[i], s.kernel.stride, s.kernel.precision);
  return s.ctx.device.createBindGroup({
    layout: layoutsFor(s.ctx.device).main,
    entries: [
      // Bound at the chunk's own size: a pooled buffer may be larger than
      // the binding limit allows.
      { binding: 0, resource: { buffer: s.data[i], size } },
      { binding: 1, resource: { buffer: theta } },
      { binding: 2, resource: { buffer: part } },
      { binding: 3, resource: { buffer: s.cfg[i] } },
    ],
  });
}

function destroyGroup(g: Group): void {
  for (const b of [g.theta, g.part, g.out, g.rcfg]) b.destroy();
}

/** Writes the loss header and the parameter vectors of a group. */
export function writeThetas(
  s: State,
  g: Group,
  thetas: readonly Float64Array[],
  nParams: number,
  fScale: number,
): void {
  const Arr = s.kernel.precision === "f64" ? Float64Array : Float32Array;
  const buf = new Arr(THETA_HEADER + thetas.length * nParams);
  buf[0] = 1 / fScale;
  buf[1] = fScale * fScale;
  buf[2] = Infinity;
  buf[3] = NaN;
  thetas.forEach((t, i) => buf.set(t, THETA_HEADER + i * nParams));
  s.ctx.device.queue.writeBuffer(g.theta, 0, buf);
}

/** Frees every buffer of a state (data buffers go back to the pool). */
export function releaseState(s: State): void {
  for (const b of s.data) {
    if (s.ctx.lost) b.destroy();
    else releaseBuffer(s.ctx.device, b, dataUsage());
  }
  for (const b of s.cfg) b.destroy();
  for (const g of [s.groups.full, s.groups.cost]) if (g) destroyGroup(g);
  s.readback?.destroy();
}

/**
 * The reduce kernel's uniform: records per group, values per record, and
 * the components summed (the one layout of every pass that reduces).
 */
export function reduceConfigBuffer(
  device: GPUDevice,
  nRec: number,
  valuesPerRecord: number,
  components: number,
): GPUBuffer {
  const rcfg = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(
    rcfg,
    0,
    new Uint32Array([nRec, valuesPerRecord, components, 0]),
  );
  return rcfg;
}
