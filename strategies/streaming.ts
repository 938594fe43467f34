/**
 * The streaming strategy: the data is read batch by batch on every pass (from
 * a file, a producer, or in-memory arrays), so memory is bounded by the batch
 * size, not the data. Each `evaluate()` is one pass that evaluates every
 * requested parameter vector; the linearization is built exactly, batch by
 * batch (tall-skinny QR merges), so the fit converges to the same minimum as
 * an in-memory fit. A warm start on a subsample (the first few batches) saves
 * most of the full passes.
 *
 * @module
 */

import {
  type BackendDescription,
  backendLabel,
} from "./backend_description.ts";
import { EvaluationCache } from "../core/_evaluation_cache.ts";
import type { WeightedData } from "../core/weights.ts";
import { weightsFromSigma } from "../core/weights.ts";
import type { Model } from "../model/types.ts";
import type { Evaluator } from "../core/linearization.ts";
import type { LossName } from "../core/loss.ts";
import { readBatches } from "../data/_batching.ts";
import { StreamingData } from "./_streaming_pass.ts";
import {
  type PrimedEvaluator,
  subsampleWarmStart,
  warmStartRowsOf,
} from "./_warm_start.ts";
import { createBatchRunner } from "../core/parallel_evaluator.ts";
import { autoAccumulation } from "../core/_accumulation.ts";
import { type PassContext, streamPass } from "./_stream_pass.ts";
import { type GpuBatchRunner, openGpuBatchRunner } from "./_streaming_gpu.ts";
import { decideAutoBackend } from "./_backend.ts";
import {
  type BatchSourceLike,
  type PassProgress,
  registerStrategy,
  type Strategy,
  type StrategyContext,
  type StrategyData,
  type StrategyEvaluator,
} from "./strategy.ts";
import type { BackendName } from "./backend_name.ts";

/**
 * Default rows per batch when the configuration gives none.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(batchSizeOf({}), DEFAULT_BATCH_SIZE);
 * ```
 */
export const DEFAULT_BATCH_SIZE = 100_000;

/** Parameter vectors whose last full evaluation is kept for reuse. */
const CACHE_SIZE = 8;

/**
 * Reads and checks the batch size of a strategy configuration
 * (`config.batchSize`, default {@linkcode DEFAULT_BATCH_SIZE}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(batchSizeOf({ batchSize: 5000 }), 5000);
 * assert.strictEqual(batchSizeOf(null), DEFAULT_BATCH_SIZE);
 * assert.throws(() => batchSizeOf({ batchSize: 0 }), RangeError);
 * ```
 */
export function batchSizeOf(
  config: Readonly<Record<string, unknown>> | null | undefined,
): number {
  const b = config?.batchSize ?? DEFAULT_BATCH_SIZE;
  if (typeof b !== "number" || !Number.isSafeInteger(b) || b < 1) {
    throw new RangeError(`batchSize must be an integer >= 1, got ${b}`);
  }
  return b;
}

/**
 * Options of {@linkcode createStreamingEvaluator}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * let batches = 0;
 * const options: StreamingEvaluatorOptions = {
 *   batchSize: 2,
 *   loss: "soft_l1",
 *   onPass: () => batches++,
 * };
 * const data = {
 *   kind: "memory" as const,
 *   x: [new Float64Array([0, 1, 2, 3, 4])],
 *   y: new Float64Array([0, 2, 4, 6, 8]),
 *   w: null,
 * };
 * const ev = await createStreamingEvaluator(model("a * x"), data, options);
 * await ev.evaluate([new Float64Array([2])], [true]);
 * assert.strictEqual(batches, 3);
 * ```
 */
export interface StreamingEvaluatorOptions {
  /** Robust loss (default "linear"). */
  readonly loss?: LossName;
  /** Soft margin of the loss (default 1). */
  readonly fScale?: number;
  /** Rows per batch (default {@linkcode DEFAULT_BATCH_SIZE}). */
  readonly batchSize?: number;
  /** Rows per kernel block inside a batch (default 256). */
  readonly blockRows?: number;
  /**
   * "webgpu" runs each batch on the GPU when it computes in f64; "auto" does
   * where an in-memory fit of the same size would run on WebGPU; default cpu.
   */
  readonly backend?: BackendName;
  /** CPU threads including the main one (default: all cores). */
  readonly threads?: number | "auto";
  /** Stops a pass between batches (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Called after every batch of every pass. */
  readonly onPass?: (p: PassProgress) => void;
}

/**
 * A streaming evaluator: every `evaluate` is one pass over the data.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { arraySource } from "../data/mod.ts";
 * const ev: StreamingEvaluator = await createStreamingEvaluator(
 *   model("a * x"),
 *   arraySource([1, 2, 3], [2, 4, 6]),
 *   { batchSize: 2 },
 * );
 * await ev.evaluate([new Float64Array([1]), new Float64Array([2])], [true, true]);
 * assert.strictEqual(ev.passes, 1);
 * assert.strictEqual(ev.batchSize, 2);
 * assert.match(ev.backend, /^cpu \(streaming/);
 * ```
 */
export interface StreamingEvaluator extends StrategyEvaluator {
  /** Rows per batch. */
  readonly batchSize: number;
  /** Passes made so far. */
  readonly passes: number;
}

/** What the strategy's warm start needs of its evaluator besides. */
type StreamingEvaluatorImpl = StreamingEvaluator & PrimedEvaluator & {
  /** The data and the buffers the passes reuse. */
  readonly stream: StreamingData;
};

/** Counts rows with one pass (for producers of unknown length). */
async function countRows(
  stream: StreamingData,
  signal?: AbortSignal,
): Promise<number> {
  let n = 0;
  for await (const b of stream.blocks(signal)) n += b.end - b.start;
  return n;
}

/**
 * Creates the evaluator of the streaming strategy over a data source or
 * in-memory arrays. Memory is O(batchSize * (features + p)); each call of
 * `evaluate` reads the data once and evaluates all requested parameter
 * vectors in that pass (results of the last few vectors are reused when the
 * solver asks for them again). A source with random access is read ahead
 * into reused shared buffers (see `strategies/_streaming_pass.ts`); the CPU
 * passes accumulate like the in-memory evaluators (Gram sums while the
 * scaled Jacobian is well conditioned, else QR: `core/_accumulation.ts`).
 *
 * @example A source read in batches of 64 rows
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { arraySource } from "../data/mod.ts";
 * const x = Float64Array.from({ length: 1000 }, (_, i) => i / 100);
 * const y = x.map((t) => 2 * t + 1);
 * const ev = await createStreamingEvaluator(model("a * x + b"), arraySource(x, y), {
 *   batchSize: 64,
 * });
 * const [exact, off] = await ev.evaluate(
 *   [new Float64Array([2, 1]), new Float64Array([2, 0])],
 *   [true, false],
 * );
 * assert.strictEqual(exact.cost, 0);
 * assert.strictEqual(off.cost, 500); // 0.5 * 1000 residuals of -1
 * assert.strictEqual(ev.passes, 1);
 * await ev.close();
 * ```
 */
export function createStreamingEvaluator(
  model: Model,
  data: StrategyData,
  options: StreamingEvaluatorOptions = {},
): Promise<StreamingEvaluator> {
  return openStreamingEvaluator(model, data, options);
}

async function openStreamingEvaluator(
  model: Model,
  data: StrategyData,
  options: StreamingEvaluatorOptions,
): Promise<StreamingEvaluatorImpl> {
  const p = model.params.length;
  const batchSize = batchSizeOf({ batchSize: options.batchSize });
  const blockRows = options.blockRows ?? 256;
  const loss = options.loss ?? "linear";
  const fScale = options.fScale ?? 1;
  const signal = options.signal;
  const runner = createBatchRunner(model, {
    loss,
    fScale,
    blockRows,
    threads: options.threads === "auto" ? undefined : options.threads,
  });
  const total = data.kind === "memory" ? data.y.length : data.length;
  const notes: string[] = [];
  const gpu = await streamingGpu(
    model,
    options.backend,
    total,
    { loss, fScale, batchSize },
    notes,
  );
  const stream = new StreamingData(data, batchSize, gpu === null);
  const ctx: PassContext = {
    p,
    runner,
    gpu,
    stream,
    total,
    signal,
    onPass: options.onPass,
    passes: 0,
    nResiduals: total ?? await countRows(stream, signal),
    ySummary: null,
  };
  const passOnce = (
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
    gram: boolean,
  ) => streamPass(ctx, thetas, withJac, gram);
  const cache = new EvaluationCache(CACHE_SIZE);
  const cpuBackend: BackendDescription = {
    device: "cpu",
    precision: "f64",
    threads: runner.threads,
    detail: `streaming, batches of ${batchSize}`,
  };

  const gpuBackend: BackendDescription | null = gpu && {
    ...gpu.backend,
    detail: `streaming, batches of ${batchSize}`,
  };
  // The GPU kernels form Gram sums only (f64: streaming has no polish).
  const evaluateAll = gpu
    ? (t: readonly Float64Array[], j: readonly boolean[]) =>
      passOnce(t, j, true)
    : autoAccumulation(ctx.nResiduals, p, true, passOnce);

  return {
    nParams: p,
    get nResiduals() {
      return ctx.nResiduals;
    },
    batchSize,
    get passes() {
      return ctx.passes;
    },
    backend: gpuBackend ? backendLabel(gpuBackend) : backendLabel(cpuBackend) +
      (options.backend === "webgpu" ? "; no f64 WebGPU device" : ""),
    backendInfo: gpuBackend ?? cpuBackend,
    get notes() {
      return notes;
    },
    get ySummary() {
      return ctx.ySummary;
    },
    stream,
    evaluate(thetas, withJacobian) {
      // The solver may ask again for a point it just had (after a warm
      // start, or in multi-start); reuse it rather than read the data again.
      return cache.through(thetas, withJacobian, evaluateAll);
    },
    prime(theta, e) {
      cache.store(theta, e);
    },
    addNote(note) {
      notes.push(note);
    },
    async close() {
      cache.clear();
      gpu?.close();
      await stream.close();
    },
  };
}

/**
 * The GPU runner of a streaming evaluator: with "webgpu", wherever the device
 * computes in f64; with "auto", where the in-memory fit of the same size
 * would run on WebGPU ({@linkcode decideAutoBackend}, not memory bound: a
 * pass holds two batches), so that a streamed fit and an in-memory one
 * compute alike. The decision goes to `notes`.
 */
async function streamingGpu(
  model: Model,
  backend: BackendName | undefined,
  total: number | undefined,
  o: { loss: LossName; fScale: number; batchSize: number },
  notes: string[],
): Promise<GpuBatchRunner | null> {
  if (backend === "webgpu") {
    return await openGpuBatchRunner(model, o.loss, o.fScale, o.batchSize);
  }
  if (backend !== "auto" || total === undefined) return null;
  const d = await decideAutoBackend(model, total);
  if (d.use === "cpu") {
    notes.push(d.reason);
    return null;
  }
  const gpu = await openGpuBatchRunner(model, o.loss, o.fScale, o.batchSize);
  notes.push(
    gpu ? d.reason : `${d.reason}; but the device has no f64 kernels: cpu`,
  );
  return gpu;
}

/** The in-memory subsample the warm start fits on, and how it was taken. */
async function warmStartSample(
  ctx: StrategyContext,
  stream: StreamingData,
  rows: number,
  batchSize: number,
): Promise<{ sample: WeightedData; what: string }> {
  if (stream.randomAccess) {
    const sample = await stream.sample(rows, ctx.signal);
    return {
      sample,
      what: `an evenly spread sample of ${sample.y.length} rows`,
    };
  }
  // A producer is read from the start: the first few batches.
  const data = ctx.data as BatchSourceLike;
  const b = await readBatches(data, batchSize, {
    maxRows: rows,
    signal: ctx.signal,
  });
  return {
    sample: { x: b.x, y: b.y, w: weightsFromSigma(b.sigma) },
    what: `the first ${b.y.length} rows`,
  };
}

/**
 * The "streaming" strategy (registered on import). Configuration:
 * `batchSize` (rows per batch), `warmStart` (default true) and
 * `warmStartRows` (subsample size; default as in memory, n / 50 rows within
 * [20k, 50k] from 200k rows on, spread evenly over arrays and sources with
 * random access, the first rows of a producer).
 *
 * @example A streaming fit of in-memory data in batches of 500 rows
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = Array.from({ length: 5000 }, (_, i) => i / 500);
 * const y = x.map((t) => 3 * Math.exp(-0.7 * t) + 0.5);
 * const r = await fit(model("a * exp(-b * x) + c"), x, y, {
 *   p0: [1, 1, 0],
 *   workflow: { extends: "streaming", strategy: "streaming" },
 * });
 * assert.strictEqual(r.strategy, "streaming");
 * assert.ok(Math.abs(r.params.b - 0.7) < 1e-8);
 * ```
 */
export const streamingStrategy: Strategy = {
  name: "streaming",
  description:
    "data read batch by batch on every pass (file, producer or arrays); memory bounded by the batch size",
  accepts: ["source", "memory"],
  async createEvaluator(ctx) {
    const ev = await openStreamingEvaluator(ctx.model, ctx.data, {
      loss: ctx.loss,
      fScale: ctx.fScale,
      batchSize: batchSizeOf(ctx.config),
      backend: ctx.backend,
      threads: ctx.threads,
      signal: ctx.signal,
      onPass: ctx.onPass,
    });
    ev.warmStart = (p0, solveOn) =>
      streamingWarmStart(ctx, ev, ev.stream, p0, solveOn);
    return ev;
  },
};

/**
 * The streaming warm start, as in memory: a fit on about n / 50 rows (20k to
 * 50k, or `warmStartRows`) spread evenly over a source with random access
 * (else its first rows), kept only if a guard pass finds it no worse on all
 * the data; its linearization then serves the solver's first request.
 */
async function streamingWarmStart(
  ctx: StrategyContext,
  ev: StreamingEvaluatorImpl,
  stream: StreamingData,
  p0: Float64Array,
  solveOn: (ev: Evaluator, x0: Float64Array) => Promise<Float64Array>,
): Promise<Float64Array> {
  const n = ctx.data.kind === "memory" ? ctx.data.y.length : ctx.data.length;
  const rows = warmStartRowsOf(ctx.config, n ?? Number.POSITIVE_INFINITY);
  // No saving when the sample is not much smaller than the data.
  if (rows === null || (n !== undefined && rows * 2 > n)) return p0;
  const { sample, what } = await warmStartSample(
    ctx,
    stream,
    rows,
    ev.batchSize,
  );
  return await subsampleWarmStart(ctx, p0, solveOn, ev, sample, what);
}

registerStrategy(streamingStrategy);
