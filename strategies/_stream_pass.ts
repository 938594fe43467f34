/**
 * One pass of the streaming evaluator over the data: every batch read (or
 * read ahead) is linearized at every requested parameter vector, on the
 * threads of a {@linkcode BatchRunner} (columns, or table rows split as they
 * are computed) or on the GPU (uploaded while the batch before computes),
 * and merged into running factors or Gram sums.
 *
 * @module
 */

import type { Evaluation } from "../core/linearization.ts";
import {
  evaluationFromPartial,
  type PartialLinearization,
} from "../core/_linearization_forms.ts";
import { Moments, type MomentsSummary } from "../core/_moments.ts";
import type { BatchRunner } from "../core/parallel_evaluator.ts";
import type { TableRows } from "../data/_binary_source.ts";
import type { RowBlock, StreamingData, TableBlock } from "./_streaming_pass.ts";
import type { GpuBatchRunner, GpuPassRun } from "./_streaming_gpu.ts";
import type { PassProgress } from "./strategy.ts";

/** What the passes of one streaming evaluator share. */
export interface PassContext {
  readonly p: number;
  readonly runner: BatchRunner;
  readonly gpu: GpuBatchRunner | null;
  readonly stream: StreamingData;
  /** Rows of the source, where known before a pass. */
  readonly total: number | undefined;
  readonly signal?: AbortSignal;
  readonly onPass?: (p: PassProgress) => void;
  /** Passes made so far. */
  passes: number;
  /** Rows the last pass read. */
  nResiduals: number;
  /** y's moments, gathered in the first pass. */
  ySummary: MomentsSummary | null;
}

/** The running sums of one pass at each parameter vector. */
class PassSums {
  readonly costs: Float64Array;
  readonly augs: (Float64Array | null)[];
  /** False once a vector met a non-finite residual. */
  readonly live: boolean[];
  /** The pass on the GPU, if it computes there. */
  gpu: GpuPassRun | null = null;

  constructor(
    readonly thetas: readonly Float64Array[],
    readonly withJac: readonly boolean[],
    readonly gram: boolean,
    p: number,
    readonly moments: Moments | null,
  ) {
    const c = p + 1, k = thetas.length;
    this.costs = new Float64Array(k);
    this.augs = withJac.map((j) => (j ? new Float64Array(c * c) : null));
    this.live = new Array<boolean>(k).fill(true);
  }

  /** Indices of the vectors still live. */
  liveIndices(): number[] {
    return this.thetas.map((_, i) => i).filter((i) => this.live[i]);
  }

  add(idx: readonly number[], cs: readonly number[]): void {
    idx.forEach((i, j) => {
      if (!Number.isFinite(cs[j])) {
        this.live[i] = false; // a non-finite residual: the point is rejected
        this.costs[i] = NaN;
      } else this.costs[i] += cs[j];
    });
  }
}

/**
 * Reads the data once and returns the evaluation at each of `thetas` (with
 * the linearization where `withJac`; Gram sums or QR factors by `gram`).
 */
export async function streamPass(
  ctx: PassContext,
  thetas: readonly Float64Array[],
  withJac: readonly boolean[],
  gram: boolean,
): Promise<Evaluation[]> {
  const passNo = ++ctx.passes;
  // y's moments for R², once: the statistics pass then reads nothing. On
  // the GPU the kernels sum y's deviations from a shift near its mean, in
  // the records of the linearization (so in a pass that asks for one).
  const yShift = ctx.gpu && !ctx.ySummary && withJac.some((j) => j)
    ? await shiftOfY(ctx)
    : undefined;
  const sums = new PassSums(
    thetas,
    withJac,
    gram,
    ctx.p,
    ctx.ySummary || yShift !== undefined ? null : new Moments(),
  );
  sums.gpu = ctx.gpu?.begin(thetas, withJac, yShift) ?? null;
  // The CPU threads split tables as they compute; the GPU takes them as
  // rows until one holds a bad value.
  const tables = ctx.gpu === null || ctx.gpu.tables;
  let batch = 0, points = 0;
  try {
    for await (const blk of ctx.stream.blocks(ctx.signal, tables)) {
      // The next batch may already have been read ahead: stop before using it.
      ctx.signal?.throwIfAborted();
      points += await consumeBlock(ctx, sums, blk);
      batch++;
      ctx.onPass?.({
        pass: passNo,
        batch,
        pointsProcessed: points,
        totalPoints: ctx.total,
      });
    }
  } catch (e) {
    sums.gpu?.abort();
    throw e;
  }
  let parts: PartialLinearization[];
  if (sums.gpu) {
    const got = await sums.gpu.finish(points);
    if (got === null) {
      // A table held a value that is not finite: read this pass again as
      // checked columns, which names the value or drops its row.
      ctx.passes--;
      return await streamPass(ctx, thetas, withJac, gram);
    }
    parts = got.parts;
    ctx.ySummary ??= got.y;
  } else {
    parts = thetas.map((_, i) => ({
      cost: sums.costs[i],
      aug: sums.augs[i],
      gram,
    }));
  }
  ctx.nResiduals = points;
  ctx.ySummary ??= sums.moments;
  return parts.map((part) => evaluationFromPartial(part, ctx.p, points));
}

/** Rows of the sample that picks the shift of y's sums on the GPU. */
const SHIFT_SAMPLE_ROWS = 4096;

/**
 * The median of y over a small sample spread over the data: within a
 * standard deviation of the mean (|median - mean| <= sigma for any
 * distribution), so that the shifted sums lose at most a bit or two; and
 * unlike a sample mean, not moved by one wild value. Undefined (y's
 * moments on the CPU) without random access or a finite sample.
 */
async function shiftOfY(ctx: PassContext): Promise<number | undefined> {
  if (!ctx.stream.randomAccess) return undefined;
  let y: Float64Array;
  try {
    y = (await ctx.stream.sample(SHIFT_SAMPLE_ROWS, ctx.signal)).y;
  } catch {
    // A bad value in the sample: the pass names it (or drops its row).
    return undefined;
  }
  const v = y.filter(Number.isFinite).sort();
  return v.length === 0 ? undefined : v[v.length >> 1];
}

/** Adds one batch to the sums; returns its rows. */
async function consumeBlock(
  ctx: PassContext,
  sums: PassSums,
  blk: RowBlock | TableBlock,
): Promise<number> {
  if (sums.gpu) return await consumeOnGpu(ctx, sums, sums.gpu, blk);
  if (blk.table !== undefined) return await consumeTable(ctx, sums, blk);
  return await consumeColumns(ctx, sums, blk);
}

/**
 * Uploads a batch and submits its kernels; the upload of the next one
 * overlaps them, and nothing is read back before the pass ends.
 */
async function consumeOnGpu(
  ctx: PassContext,
  sums: PassSums,
  run: GpuPassRun,
  blk: RowBlock | TableBlock,
): Promise<number> {
  if (blk.table !== undefined) {
    if (await run.add(blk)) {
      if (sums.moments) addTableY(sums.moments, blk.table);
      return blk.table.rows;
    }
    // A table the kernels cannot read as rows: as columns instead.
    blk = await ctx.stream.columns(blk.first, blk.table.rows);
  }
  sums.moments?.add(blk.data.y, blk.start, blk.end);
  await run.add(blk);
  return blk.end - blk.start;
}

/**
 * Columns of a batch, split between the main thread and the workers.
 * Merging into the running factor is exact TSQR (or a sum of Gram sums):
 * the result equals that of all rows at once, to rounding.
 */
async function consumeColumns(
  ctx: PassContext,
  sums: PassSums,
  blk: RowBlock,
): Promise<number> {
  sums.moments?.add(blk.data.y, blk.start, blk.end);
  const idx = sums.liveIndices();
  const cs = idx.length === 0 ? [] : await ctx.runner.run(
    blk.data,
    blk.start,
    blk.end,
    idx.map((i) => sums.thetas[i]),
    idx.map((i) => sums.augs[i]),
    sums.gram,
  );
  sums.add(idx, cs);
  return blk.end - blk.start;
}

/**
 * Rows as the file holds them: split and checked by the threads as they
 * compute (also with no live point: the check counts).
 */
async function consumeTable(
  ctx: PassContext,
  sums: PassSums,
  blk: TableBlock,
): Promise<number> {
  const t = blk.table;
  const idx = sums.liveIndices();
  const cs = await ctx.runner.runTable(
    t,
    idx.map((i) => sums.thetas[i]),
    idx.map((i) => sums.augs[i]),
    sums.gram,
  );
  if (cs === null) {
    // A bad value: read as columns, which names it (or drops rows).
    const cols = await ctx.stream.columns(blk.first, t.rows);
    return await consumeColumns(ctx, sums, cols);
  }
  if (sums.moments) addTableY(sums.moments, t);
  sums.add(idx, cs);
  return t.rows;
}

/** Adds the y column of table rows to `m`, read in place. */
function addTableY(m: Moments, t: TableRows): void {
  m.addStrided(t.table, t.columns[t.columns.length - 1], t.stride, t.rows);
}
