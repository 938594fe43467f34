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
import { type LossName, validateLoss } from "../core/loss.ts";
import type { AcquireDeviceOptions, GpuLimits } from "./device.ts";
import { GpuDeviceLostError } from "./errors.ts";
import type { KernelModel, Precision } from "./wgsl_codegen.ts";
import {
  type EvaluatorSettings,
  releaseState,
  reloadData,
  setupState,
  type State,
} from "./_evaluator_state.ts";
import { evaluatePass } from "./_evaluator_pass.ts";

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

function checkOptions(options: GpuEvaluatorOptions): EvaluatorSettings {
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
  if (
    options.pointsPerThread !== undefined && !(options.pointsPerThread >= 1)
  ) throw new RangeError(`pointsPerThread must be >= 1`);
  return {
    loss,
    fScale,
    want,
    wg: options.workgroupSize ?? 64,
    pointsPerThread: options.pointsPerThread,
    laneBlock: options.laneBlock,
    maxBindingBytes: options.maxBindingBytes,
    device: options.device,
    assumeFinite: options.assumeFinite === true,
  };
}

function checkThetas(
  thetas: readonly Float64Array[],
  withJacobian: readonly boolean[],
  nParams: number,
): void {
  if (thetas.length !== withJacobian.length) {
    throw new RangeError(
      `thetas (${thetas.length}) and withJacobian (${withJacobian.length}) differ in length`,
    );
  }
  for (const t of thetas) {
    if (t.length !== nParams) {
      throw new RangeError(
        `theta has ${t.length} values, the model ${nParams} parameters`,
      );
    }
  }
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
  const st = checkOptions(options);
  const n = checkData(m, data);
  const ev = new WebGpuEvaluator(m, data, st, n);
  await ev.start();
  return ev;
}

/**
 * Replaces the data of a WebGPU evaluator by `data` of the same number of
 * points (and weighted as before, or not), written into the buffers it
 * holds: no new buffers, no pipelines compiled again. Passes asked for
 * before read the old data. The streaming strategy reuses its evaluators
 * this way, batch after batch.
 *
 * @throws {RangeError} when the size or the weighting differs.
 * @throws {TypeError} for an evaluator not made by
 *   {@linkcode createGpuEvaluator}, or a closed one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * import { isWebGpuAvailable } from "./device.ts";
 * if (!(await isWebGpuAvailable())) {
 *   console.log("no WebGPU adapter: example skipped");
 * } else {
 *   const m = model("a * x");
 *   const x = [new Float64Array([1, 2])];
 *   const ev = await createGpuEvaluator(m, { x, y: new Float64Array([2, 4]), w: null });
 *   await reloadGpuEvaluator(ev, { x, y: new Float64Array([3, 6]), w: null });
 *   const [e] = await ev.evaluate([new Float64Array([3])], [false]);
 *   assert.strictEqual(e.cost, 0);
 *   ev.close();
 * }
 * ```
 */
export function reloadGpuEvaluator(
  ev: GpuEvaluator,
  data: WeightedData,
): Promise<void> {
  if (!(ev instanceof WebGpuEvaluator)) {
    throw new TypeError("reloadGpuEvaluator: not a createGpuEvaluator result");
  }
  return ev.reload(data);
}

/** The evaluator: device state rebuilt after a loss, passes queued in order. */
class WebGpuEvaluator implements GpuEvaluator {
  readonly nParams: number;
  #state: State | null = null;
  #precision: Precision | null = null;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();
  /** The last device's state, kept for describe() after close(). */
  #described: State | null = null;
  readonly #model: KernelModel;
  #data: WeightedData;
  readonly #settings: EvaluatorSettings;

  constructor(
    model: KernelModel,
    data: WeightedData,
    settings: EvaluatorSettings,
    readonly nResiduals: number,
  ) {
    this.#model = model;
    this.#data = data;
    this.#settings = settings;
    this.nParams = model.params.length;
  }

  get precision(): Precision {
    return this.#precision as Precision;
  }

  async start(): Promise<void> {
    await this.#ensureState();
  }

  evaluate(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> {
    const r = this.#queue.then(() => this.#run(thetas, withJacobian));
    this.#queue = r.catch(() => {});
    return r;
  }

  reload(data: WeightedData): Promise<void> {
    if (this.#closed) throw new TypeError("GpuEvaluator: used after close()");
    if (checkData(this.#model, data) !== this.nResiduals) {
      throw new RangeError(
        `reload: ${data.y.length} points, the evaluator holds ${this.nResiduals}`,
      );
    }
    if ((data.w === null) !== (this.#data.w === null)) {
      throw new RangeError("reload: weights must be given as before, or not");
    }
    // After the passes already asked for, which read the old data.
    const r = this.#queue.then(() => {
      this.#data = data;
      const s = this.#state;
      // A lost device uploads #data when it is set up again.
      if (s && !s.ctx.lost) {
        reloadData(s, data, this.#settings.assumeFinite);
      }
    });
    this.#queue = r.catch(() => {});
    return r;
  }

  describe(): GpuEvaluatorDescription {
    const s = this.#described!;
    const i = s.ctx.info;
    return {
      backend: "webgpu",
      adapterName: i.adapterName,
      software: i.software,
      deviceF64: i.f64,
      precision: this.precision,
      needsCpuPolish: this.precision === "f32",
      workgroupSize: this.#settings.wg,
      chunks: s.chunks.length,
      recordsPerTheta: s.nRec,
      nPoints: this.nResiduals,
      loss: this.#settings.loss,
      fScale: this.#settings.fScale,
      limits: i.limits,
    };
  }

  close(): void {
    this.#closed = true;
    const s = this.#state;
    this.#state = null;
    if (s) releaseState(s);
  }

  async #ensureState(): Promise<State> {
    const old = this.#state;
    if (old && !old.ctx.lost) return old;
    this.#state = null;
    if (old) { for (const b of old.data) b.destroy(); }
    const s = await setupState(
      this.#model,
      this.#data,
      this.#settings,
      this.#precision,
    );
    this.#precision = s.kernel.precision;
    this.#state = this.#described = s;
    return s;
  }

  async #run(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> {
    if (this.#closed) throw new TypeError("GpuEvaluator: used after close()");
    checkThetas(thetas, withJacobian, this.nParams);
    if (thetas.length === 0) return [];
    const s = await this.#ensureState();
    try {
      return await evaluatePass(
        s,
        thetas,
        withJacobian,
        this.#settings,
        this.nResiduals,
      );
    } catch (e) {
      // The next call acquires a new device and uploads the data again.
      if (e instanceof GpuDeviceLostError && this.#state === s) {
        this.#state = null;
      }
      throw e;
    }
  }
}
