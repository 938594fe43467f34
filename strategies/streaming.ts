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
import type { Evaluation, Evaluator } from "../core/linearization.ts";
import { evaluationFromPartial } from "../core/_linearization_forms.ts";
import type { LossName } from "../core/loss.ts";
import { readBatches } from "../data/_batching.ts";
import { rowBlocks } from "./_streaming_pass.ts";
import { fitSample, guardWarmStart, sampleRows } from "./_warm_start.ts";
import { createBatchRunner } from "../core/parallel_evaluator.ts";
import {
  type GpuBatchRunner,
  type NormalAccumulator,
  openGpuBatchRunner,
} from "./_streaming_gpu.ts";
import {
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

/** Largest default warm-start subsample, in rows. */
const WARM_START_MAX_ROWS = 300_000;

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
  /** "webgpu" runs each batch on the GPU when it computes in f64. */
  readonly backend?: BackendName;
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

/** Counts rows with one pass (for producers of unknown length). */
async function countRows(
  data: StrategyData,
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  let n = 0;
  for await (const b of rowBlocks(data, batchSize, signal)) {
    n += b.end - b.start;
  }
  return n;
}

/**
 * Creates the evaluator of the streaming strategy over a data source or
 * in-memory arrays. Memory is O(batchSize * (features + p)); each call of
 * `evaluate` reads the data once and evaluates all requested parameter
 * vectors in that pass (results of the last few vectors are reused when the
 * solver asks for them again).
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
export async function createStreamingEvaluator(
  model: Model,
  data: StrategyData,
  options: StreamingEvaluatorOptions = {},
): Promise<StreamingEvaluator> {
  const p = model.params.length;
  const c = p + 1;
  const batchSize = batchSizeOf({ batchSize: options.batchSize });
  const blockRows = options.blockRows ?? 256;
  const loss = options.loss ?? "linear";
  const fScale = options.fScale ?? 1;
  const signal = options.signal;
  const runner = createBatchRunner(model, { loss, fScale, blockRows });
  const total = data.kind === "memory" ? data.y.length : data.length;
  let nResiduals = total ?? await countRows(data, batchSize, signal);
  const gpu: GpuBatchRunner | null = options.backend === "webgpu"
    ? await openGpuBatchRunner(model, loss, fScale)
    : null;
  let passes = 0;
  const cache = new EvaluationCache(CACHE_SIZE);
  const cpuBackend: BackendDescription = {
    device: "cpu",
    precision: "f64",
    threads: runner.threads,
    detail: `streaming, batches of ${batchSize}`,
  };

  async function pass(
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
  ): Promise<Evaluation[]> {
    const k = thetas.length;
    const costs = new Float64Array(k);
    const augs = withJac.map((j) => (j ? new Float64Array(c * c) : null));
    const normal: NormalAccumulator[] = withJac.map((j) => ({
      cost: 0,
      aug: j ? new Float64Array(c * c) : null,
      gram: true,
    }));
    const live = new Array<boolean>(k).fill(true);
    const passNo = ++passes;
    let batch = 0, points = 0;
    for await (const blk of rowBlocks(data, batchSize, signal)) {
      // The next batch may already have been read ahead: stop before using it.
      signal?.throwIfAborted();
      if (gpu) {
        await gpu.run(blk, thetas, withJac, normal);
      } else {
        // Merging into the running factor is exact TSQR: the result equals
        // the factor of all rows at once, to rounding. Each batch is split
        // between the main thread and a worker.
        const idx = thetas.map((_, i) => i).filter((i) => live[i]);
        const cs = idx.length === 0 ? [] : await runner.run(
          blk.data,
          blk.start,
          blk.end,
          idx.map((i) => thetas[i]),
          idx.map((i) => augs[i]),
        );
        idx.forEach((i, j) => {
          if (!Number.isFinite(cs[j])) {
            live[i] = false; // a non-finite residual: the point is rejected
            costs[i] = NaN;
          } else costs[i] += cs[j];
        });
      }
      batch++;
      points += blk.end - blk.start;
      options.onPass?.({
        pass: passNo,
        batch,
        pointsProcessed: points,
        totalPoints: total,
      });
    }
    nResiduals = points;
    return thetas.map((_, i): Evaluation =>
      evaluationFromPartial(
        gpu ? normal[i] : { cost: costs[i], aug: augs[i] },
        p,
        points,
      )
    );
  }

  return {
    nParams: p,
    get nResiduals() {
      return nResiduals;
    },
    batchSize,
    get passes() {
      return passes;
    },
    backend: gpu ? backendLabel(gpu.backend) : backendLabel(cpuBackend) +
      (options.backend === "webgpu" ? "; no f64 WebGPU device" : ""),
    backendInfo: gpu ? gpu.backend : cpuBackend,
    evaluate(thetas, withJacobian) {
      // The solver may ask again for a point it just had (after a warm
      // start, or in multi-start); reuse it rather than read the data again.
      return cache.through(thetas, withJacobian, pass);
    },
    close() {
      cache.clear();
    },
  };
}

/** The in-memory subsample the warm start fits on. */
async function warmStartSample(
  ctx: StrategyContext,
  rows: number,
  batchSize: number,
): Promise<WeightedData> {
  const data = ctx.data;
  // Arrays allow an evenly spread sample, which represents the whole range.
  if (data.kind === "memory") return sampleRows(data, rows);
  // A source is read from the start: the first few batches.
  const b = await readBatches(data, batchSize, {
    maxRows: rows,
    signal: ctx.signal,
  });
  return { x: b.x, y: b.y, w: weightsFromSigma(b.sigma) };
}

/**
 * The "streaming" strategy (registered on import). Configuration:
 * `batchSize` (rows per batch), `warmStart` (default true) and
 * `warmStartRows` (subsample size, default three batches, at most 300k rows).
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
    const ev = await createStreamingEvaluator(ctx.model, ctx.data, {
      loss: ctx.loss,
      fScale: ctx.fScale,
      batchSize: batchSizeOf(ctx.config),
      backend: ctx.backend,
      signal: ctx.signal,
      onPass: ctx.onPass,
    });
    ev.warmStart = (p0, solveOn) => streamingWarmStart(ctx, ev, p0, solveOn);
    return ev;
  },
};

/**
 * The streaming warm start: a fit on a sample of rows spread over the
 * source, kept only if a guard pass finds it no worse on all the data (its
 * linearization then serves the solver's first request from the cache).
 */
async function streamingWarmStart(
  ctx: StrategyContext,
  ev: StreamingEvaluator,
  p0: Float64Array,
  solveOn: (ev: Evaluator, x0: Float64Array) => Promise<Float64Array>,
): Promise<Float64Array> {
  const cfg = ctx.config ?? {};
  if (cfg.warmStart === false) return p0;
  const batchSize = batchSizeOf(cfg);
  const rows = typeof cfg.warmStartRows === "number"
    ? cfg.warmStartRows
    : Math.min(3 * batchSize, WARM_START_MAX_ROWS);
  if (!Number.isSafeInteger(rows) || rows < 1) {
    throw new RangeError(
      `warmStartRows must be an integer >= 1, got ${rows}`,
    );
  }
  const n = ctx.data.kind === "memory" ? ctx.data.y.length : ctx.data.length;
  // No saving when the sample is not much smaller than the data.
  if (n !== undefined && rows * 2 > n) return p0;
  const sample = await warmStartSample(ctx, rows, batchSize);
  const f = await fitSample(ctx, p0, solveOn, sample);
  if (f === null) return p0;
  const g = await guardWarmStart(ev, p0, f.x, f.costP0, f.rows, ev.nResiduals);
  return g.start;
}

registerStrategy(streamingStrategy);
