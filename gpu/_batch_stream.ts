/**
 * Batches streamed through one set of device buffers, summed on the device
 * and read back once per pass (f64 only): the streaming strategy's WebGPU
 * arithmetic.
 *
 * Why, measured on lavapipe (2 cores, batches of 1M rows of `a*exp(-b*x)+c`):
 * a readback (or any wait on the device) costs about 12 ms in Deno however
 * little was computed, and the kernel of a batch about 6 ms; reading back
 * every batch's sums cost twice the kernel. Here every batch is uploaded
 * into the same data buffer (queue order makes a write wait for the
 * kernels before it), its kernels add their sums to a running record on the
 * device (the accumulating reduce kernel), and the CPU waits only to bound
 * the batches in flight, a few batches behind, so the device never idles.
 * A batch of interleaved rows is uploaded as read (`KernelOptions.rows`),
 * and the kernel counts non-finite inputs so that unchecked rows need no
 * CPU check.
 *
 * @module
 */

import type { WeightedData } from "../core/weights.ts";
import type { LossName } from "../core/loss.ts";
import type { GpuContext } from "./device.ts";
import { GpuKernelError } from "./errors.ts";
import {
  type GeneratedKernel,
  generateKernel,
  generateReduceKernel,
  type KernelModel,
  type RowLayout,
  THETA_HEADER,
} from "./wgsl_codegen.ts";
import { layoutsFor, pipelineFor } from "./_pipelines.ts";
import { releaseBuffer, takeBuffer, uploadColumn } from "./_buffer_pool.ts";
import {
  MAX_POINTS_PER_THREAD,
  REDUCE_WG,
  reduceConfigBuffer,
  softwarePointsPerThread,
} from "./_evaluator_state.ts";

/** How a batch's values are laid out: interleaved rows, or columns. */
export type BatchLayout =
  | { readonly kind: "rows"; readonly rows: RowLayout }
  | { readonly kind: "columns"; readonly weighted: boolean };

/** Options of {@linkcode GpuBatchStream.open}. */
export interface BatchStreamOptions {
  readonly loss: LossName;
  readonly fScale: number;
  /** Most rows per upload; larger batches are uploaded in parts. */
  readonly maxRows: number;
  /**
   * Uploads submitted and not yet known finished before the next one waits
   * (default 3: the wait's ~12 ms latency is covered by the kernels of the
   * uploads still queued).
   */
  readonly depth?: number;
  /** Threads per workgroup (default 64). */
  readonly workgroupSize?: number;
}

/** A pass's sums at one parameter vector. */
export interface BatchSums {
  /** The cost (with the loss's scale). */
  readonly cost: number;
  /** `J^T f` then the upper triangle of `J^T J`, or null (cost only). */
  readonly sums: Float64Array | null;
}

/** What a pass read back. */
export interface BatchPassResult {
  /** One per parameter vector, in the order given to `begin`. */
  readonly results: BatchSums[];
  /** Points whose x or y was not finite (counted by the kernels). */
  readonly invalid: number;
  /**
   * With a shift `c` given to `begin` and a vector with the linearization:
   * `[sum(y - c), sum((y - c)^2)]` over the pass's points.
   */
  readonly y: readonly [number, number] | null;
}

/** Buffers of one kind of evaluation (full or cost only). */
interface Group {
  readonly cap: number;
  readonly theta: GPUBuffer;
  readonly part: GPUBuffer;
  readonly out: GPUBuffer;
  readonly rcfg: GPUBuffer;
  readonly bind: GPUBindGroup;
  readonly reduceBind: GPUBindGroup;
}

/** The vectors of the pass in progress, by kind. */
interface PassPlan {
  readonly fullIdx: number[];
  readonly costIdx: number[];
  /** Whether y's shifted sums are gathered. */
  readonly moments: boolean;
}

type GroupKind = "full" | "cost";

/**
 * One kernel layout's buffers and pipelines for streamed batches. Use:
 * `begin(thetas, withJac)`, then `push` every batch, then `finish()`; the
 * next pass begins again.
 */
export class GpuBatchStream {
  readonly kernel: GeneratedKernel;
  /** Rows per upload. */
  readonly slotRows: number;
  readonly #ctx: GpuContext;
  readonly #full: GPUComputePipeline;
  readonly #cost: GPUComputePipeline;
  readonly #reduce: GPUComputePipeline;
  readonly #data: GPUBuffer;
  readonly #dataBytes: number;
  readonly #cfg: GPUBuffer;
  readonly #nWg: number;
  readonly #depth: number;
  readonly #half: number;
  readonly #fScale: number;
  #groups: Record<GroupKind, Group | null> = { full: null, cost: null };
  #readback: GPUBuffer | null = null;
  #plan: PassPlan | null = null;
  #inFlight: Promise<unknown>[] = [];
  #errors: Promise<GPUError | null>[] = [];
  #closed = false;

  private constructor(
    ctx: GpuContext,
    kernel: GeneratedKernel,
    pipes: GPUComputePipeline[],
    slotRows: number,
    nWg: number,
    opts: BatchStreamOptions,
  ) {
    this.#ctx = ctx;
    this.kernel = kernel;
    [this.#full, this.#cost, this.#reduce] = pipes;
    this.slotRows = slotRows;
    this.#nWg = nWg;
    this.#depth = opts.depth ?? 3;
    this.#fScale = opts.fScale;
    this.#half = opts.loss === "linear" ? 0.5 : 0.5 * opts.fScale ** 2;
    const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    this.#dataBytes = Math.ceil(slotRows / 4) * 4 * kernel.stride * 8;
    this.#data = takeBuffer(ctx.device, this.#dataBytes, S);
    this.#cfg = ctx.device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** Compiles the kernels of `layout` and allocates the buffers. */
  static async open(
    ctx: GpuContext,
    model: KernelModel,
    layout: BatchLayout,
    opts: BatchStreamOptions,
  ): Promise<GpuBatchStream> {
    if (!ctx.info.f64) {
      throw new GpuKernelError("streamed batches need a device with f64");
    }
    const wg = opts.workgroupSize ?? 64;
    const kernel = generateKernel(model, {
      precision: "f64",
      loss: opts.loss,
      workgroupSize: wg,
      laneBlock: ctx.info.software ? 4 : 0,
      weighted: layout.kind === "columns" && layout.weighted,
      rows: layout.kind === "rows" ? layout.rows : undefined,
      countInvalid: true,
      yMoments: true,
      workgroupStorageBytes: ctx.info.limits.maxComputeWorkgroupStorageSize,
    });
    const lim = ctx.info.limits;
    const maxBytes = Math.min(
      lim.maxStorageBufferBindingSize,
      lim.maxBufferSize,
    );
    const fit = Math.floor(maxBytes / 256 / (kernel.stride * 8)) * 256;
    const slotRows = Math.max(4, Math.min(opts.maxRows, fit));
    const ppt = ctx.info.software ? softwarePointsPerThread(slotRows, wg) : 64;
    const nWg = Math.max(
      Math.ceil(slotRows / (wg * ppt)),
      Math.ceil(slotRows / (wg * MAX_POINTS_PER_THREAD)),
      1,
    );
    if (nWg > lim.maxComputeWorkgroupsPerDimension) {
      throw new RangeError(
        `batches of ${slotRows} rows need too many workgroups`,
      );
    }
    const { device } = ctx;
    const layouts = layoutsFor(device);
    const pipes = await Promise.all([
      pipelineFor(device, kernel.code, "full", layouts.mainPipeline),
      pipelineFor(device, kernel.code, "cost", layouts.mainPipeline),
      pipelineFor(
        device,
        generateReduceKernel("f64", REDUCE_WG, true),
        "reduce",
        layouts.reducePipeline,
      ),
    ]);
    return new GpuBatchStream(ctx, kernel, pipes, slotRows, nWg, opts);
  }

  /**
   * Starts a pass: the vectors written, the running sums set to zero. With
   * `yShift`, the pass also sums y's deviations from it (see
   * {@linkcode BatchPassResult.y}).
   */
  begin(
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
    yShift?: number,
  ): void {
    this.#assertOpen();
    const fullIdx: number[] = [], costIdx: number[] = [];
    withJac.forEach((j, i) => (j ? fullIdx : costIdx).push(i));
    // y's sums come with the full records: none without one.
    const moments = yShift !== undefined && fullIdx.length > 0;
    this.#plan = { fullIdx, costIdx, moments };
    this.#inFlight = [];
    this.#errors = [];
    const p = this.kernel.nParams;
    const enc = this.#ctx.device.createCommandEncoder();
    for (const [kind, idx] of [["full", fullIdx], ["cost", costIdx]] as const) {
      if (idx.length === 0) continue;
      const g = this.#group(kind, idx.length);
      const buf = new Float64Array(g.theta.size / 8);
      buf.set([1 / this.#fScale, this.#fScale ** 2, Infinity, NaN]);
      idx.forEach((i, k) => buf.set(thetas[i], THETA_HEADER + k * p));
      // The shift of y's sums is the buffer's last value.
      buf[buf.length - 1] = yShift ?? 0;
      this.#ctx.device.queue.writeBuffer(g.theta, 0, buf);
      enc.clearBuffer(g.out);
    }
    this.#ctx.device.queue.submit([enc.finish()]);
  }

  /**
   * Uploads `rows` rows (from row `start` of `data`: an interleaved table
   * for a "rows" layout, columns otherwise) and submits their kernels. The
   * arrays may be reused once this resolves.
   */
  async push(
    data: Float64Array | WeightedData,
    rows: number,
    start = 0,
  ): Promise<void> {
    if (!this.#plan) throw new Error("push() before begin()");
    for (let s = start; s < start + rows; s += this.slotRows) {
      const n = Math.min(this.slotRows, start + rows - s);
      // Bound the uploads whose staging memory is still held. Deno settles
      // the wait after a device loss too; the race is for runtimes that
      // leave it pending.
      while (this.#inFlight.length >= this.#depth) {
        const lost = await Promise.race([
          this.#inFlight.shift()!.then(() => null),
          this.#ctx.whenLost,
        ]);
        if (lost) throw lost;
      }
      this.#assertOpen();
      this.#upload(data, s, n);
      this.#submit(n);
    }
  }

  /** Reads back the pass's sums (one wait for everything submitted). */
  async finish(): Promise<BatchPassResult> {
    const plan = this.#plan;
    if (!plan) throw new Error("finish() before begin()");
    this.#plan = null;
    const { device } = this.#ctx;
    // Records: the sums, the count of bad inputs, y's two sums (full).
    const nf = this.kernel.nFull + 3, nc = 2;
    const fullBytes = plan.fullIdx.length * nf * 8;
    const bytes = fullBytes + plan.costIdx.length * nc * 8;
    if (!this.#readback || this.#readback.size < bytes) {
      this.#readback?.destroy();
      this.#readback = device.createBuffer({
        size: Math.max(16, bytes),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
    const rb = this.#readback;
    const enc = device.createCommandEncoder();
    if (plan.fullIdx.length) {
      enc.copyBufferToBuffer(this.#groups.full!.out, 0, rb, 0, fullBytes);
    }
    if (plan.costIdx.length) {
      enc.copyBufferToBuffer(
        this.#groups.cost!.out,
        0,
        rb,
        fullBytes,
        bytes - fullBytes,
      );
    }
    device.queue.submit([enc.finish()]);
    const mapped = rb.mapAsync(GPUMapMode.READ, 0, bytes);
    const lost = await Promise.race([
      mapped.then(() => null),
      this.#ctx.whenLost,
    ]);
    if (lost) throw lost;
    const raw = new Float64Array(rb.getMappedRange(0, bytes).slice(0));
    rb.unmap();
    this.#inFlight = [];
    const errs = await Promise.all(this.#errors.splice(0));
    const err = errs.find((e) => e !== null);
    if (err) {
      throw new GpuKernelError(`WebGPU validation error: ${err.message}`);
    }
    const results = new Array<BatchSums>(
      plan.fullIdx.length + plan.costIdx.length,
    );
    let invalid = 0;
    plan.fullIdx.forEach((ti, k) => {
      const o = k * nf;
      results[ti] = {
        cost: this.#half * raw[o],
        sums: raw.slice(o + 1, o + nf - 3),
      };
      invalid = Math.max(invalid, raw[o + nf - 3]);
    });
    plan.costIdx.forEach((ti, k) => {
      const o = plan.fullIdx.length * nf + k * nc;
      results[ti] = { cost: this.#half * raw[o], sums: null };
      invalid = Math.max(invalid, raw[o + 1]);
    });
    const y = plan.moments ? [raw[nf - 2], raw[nf - 1]] as const : null;
    return { results, invalid, y };
  }

  /** Drops the pass in progress (after an error); `begin` starts anew. */
  abort(): void {
    this.#plan = null;
    this.#inFlight = [];
    for (const e of this.#errors.splice(0)) e.catch(() => {});
  }

  /** Frees the buffers (the data buffer goes back to the pool). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.abort();
    const { device } = this.#ctx;
    if (this.#ctx.lost) this.#data.destroy();
    else {
      releaseBuffer(
        device,
        this.#data,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      );
    }
    this.#cfg.destroy();
    for (const g of Object.values(this.#groups)) if (g) destroyGroup(g);
    this.#readback?.destroy();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TypeError("GpuBatchStream: used after close()");
  }

  // Rows [s, s + n) of `data` into the data buffer: the table's rows as
  // they are, or each column padded to whole vec4s (the kernel's layout).
  // Each 4 MiB piece is submitted at once: measured on lavapipe, 32
  // batches of 1M rows took 1027-1217 ms so against 1120-1627 ms with a
  // submission every two pieces (the in-memory upload's default).
  #upload(data: Float64Array | WeightedData, s: number, n: number): void {
    const { device } = this.#ctx;
    const put = (offset: number, src: Float64Array) =>
      uploadColumn(device, this.#data, offset, src, "f64", undefined, 1);
    if (data instanceof Float64Array) {
      const S = this.kernel.stride;
      put(0, data.subarray(s * S, (s + n) * S));
      return;
    }
    const n4 = Math.ceil(n / 4) * 4;
    const cols = [...data.x, data.y, ...(data.w ? [data.w] : [])];
    cols.forEach((c, j) => put(j * n4 * 8, c.subarray(s, s + n)));
  }

  #submit(n: number): void {
    const { device } = this.#ctx;
    const plan = this.#plan!;
    device.pushErrorScope("validation");
    device.queue.writeBuffer(
      this.#cfg,
      0,
      new Uint32Array([n, 0, this.#nWg, this.#nWg]),
    );
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const kinds = [
      [this.#groups.full, this.#full, plan.fullIdx.length],
      [this.#groups.cost, this.#cost, plan.costIdx.length],
    ] as const;
    for (const [g, pipe, count] of kinds) {
      if (!g || count === 0) continue;
      pass.setPipeline(pipe);
      pass.setBindGroup(0, g.bind);
      pass.dispatchWorkgroups(this.#nWg, count);
    }
    pass.setPipeline(this.#reduce);
    for (const [g, , count] of kinds) {
      if (!g || count === 0) continue;
      pass.setBindGroup(0, g.reduceBind);
      pass.dispatchWorkgroups(count);
    }
    pass.end();
    device.queue.submit([enc.finish()]);
    this.#errors.push(device.popErrorScope());
    this.#inFlight.push(device.queue.onSubmittedWorkDone());
  }

  // The buffers for `count` vectors of a kind (capacity a power of two).
  #group(kind: GroupKind, count: number): Group {
    const old = this.#groups[kind];
    if (old && old.cap >= count) return old;
    if (old) destroyGroup(old);
    const { device } = this.#ctx;
    const cap = Math.max(4, 2 ** Math.ceil(Math.log2(count)));
    // The count of bad inputs after the sums; y's two sums after a full's.
    const comps = kind === "full" ? this.kernel.nFull + 3 : 2;
    const p = this.kernel.nParams;
    const S = GPUBufferUsage.STORAGE, D = GPUBufferUsage.COPY_DST;
    // The header, the vectors, and y's shift last.
    const theta = device.createBuffer({
      size: Math.ceil(((THETA_HEADER + cap * p + 1) * 8) / 16) * 16,
      usage: S | D,
    });
    const part = device.createBuffer({
      size: cap * this.#nWg * comps * 8,
      usage: S,
    });
    const out = device.createBuffer({
      size: cap * comps * 8,
      usage: S | D | GPUBufferUsage.COPY_SRC,
    });
    const rcfg = reduceConfigBuffer(device, this.#nWg, comps, comps);
    const layouts = layoutsFor(device);
    const g: Group = {
      cap,
      theta,
      part,
      out,
      rcfg,
      bind: device.createBindGroup({
        layout: layouts.main,
        entries: [
          // At its own size: a pooled buffer may be larger.
          {
            binding: 0,
            resource: { buffer: this.#data, size: this.#dataBytes },
          },
          { binding: 1, resource: { buffer: theta } },
          { binding: 2, resource: { buffer: part } },
          { binding: 3, resource: { buffer: this.#cfg } },
        ],
      }),
      reduceBind: device.createBindGroup({
        layout: layouts.reduce,
        entries: [
          { binding: 0, resource: { buffer: part } },
          { binding: 1, resource: { buffer: out } },
          { binding: 2, resource: { buffer: rcfg } },
        ],
      }),
    };
    this.#groups[kind] = g;
    return g;
  }
}

function destroyGroup(g: Group): void {
  for (const b of [g.theta, g.part, g.out, g.rcfg]) b.destroy();
}
