/**
 * A multi-threaded in-memory CPU evaluator: the rows are split into
 * contiguous ranges, the main thread and `threads - 1` workers each build the
 * partial TSQR linearization of their range, and the partial factors are
 * merged. Workers read data held in SharedArrayBuffers in place (sources
 * read into memory are); other arrays are copied once per evaluator, each
 * worker's rows only, never per pass.
 *
 * Workers (node:worker_threads, evaluated from self-contained source, so no
 * file-read permission is needed) are pooled for the life of the process and
 * unref'd while idle. Where the runtime has no worker threads (a browser,
 * whose page runs the whole fit in a Web Worker) every pass runs on the
 * calling thread.
 *
 * @module
 */

import type { WeightedData } from "./weights.ts";
import { hardwareConcurrency } from "../runtime/host.ts";
import type { Model } from "../model/types.ts";
import { WorkerPool } from "./_worker_pool.ts";
import type { Evaluation, Evaluator } from "./linearization.ts";
import {
  CPU_EVALUATOR_WORKER_PART,
  linearizeRange,
  mergePartials,
} from "./cpu_evaluator.ts";
import {
  evaluationFromPartial,
  mergeAugmented,
  type PartialLinearization,
} from "./_linearization_forms.ts";
import { autoAccumulation } from "./_accumulation.ts";
import type { LossName } from "./loss.ts";
import { workerSource } from "./_worker_source.ts";
import {
  linearizeTable,
  splitTableRows,
  TABLE_ROWS_WORKER_PART,
  TABLE_SPLIT_ROWS,
} from "./_table_rows.ts";

/** An evaluator that owns threads: call `close()` when done. */
export interface ClosableEvaluator extends Evaluator {
  /** Terminates worker threads (idempotent). */
  close(): void;
  /** Number of threads used (1 = main thread only). */
  readonly threads: number;
  /**
   * One pass in a given accumulation, with no automatic fallback: Gram sums
   * ("normal" linearizations) when `gram`, else QR. For callers that decide
   * globally (the distributed strategy decides on the merged result).
   */
  evaluateForm(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
    gram: boolean,
  ): Promise<Evaluation[]>;
}

/** Options of {@linkcode createParallelEvaluator}. */
export interface ParallelEvaluatorOptions {
  readonly loss?: LossName;
  readonly fScale?: number;
  /** Threads including the main one (default: navigator.hardwareConcurrency). */
  readonly threads?: number;
  readonly blockRows?: number;
  /**
   * "auto" (default): Gram sums where the scaled Jacobian is well
   * conditioned and n >= GRAM_MIN_POINTS, else QR; "qr": always QR.
   */
  readonly accumulation?: "auto" | "qr";
  /**
   * Process the rows in chunks of this many rows, one after the other, each
   * split across the threads (the chunked strategy). Default: one chunk.
   */
  readonly chunkRows?: number;
}

// The functions a worker runs come from the modules' own lists (see
// core/_worker_source.ts); only the message loop is written here.
const WORKER_SOURCE = [
  workerSource([CPU_EVALUATOR_WORKER_PART, TABLE_ROWS_WORKER_PART]),
  `
const { parentPort } = require("node:worker_threads");
const tableScratch = new Map();
const contexts = new Map();
const kernels = new Map();
parentPort.on("message", (m) => {
  if (m.type === "init") {
    let kernel = kernels.get(m.kernelSource);
    if (!kernel) {
      kernel = new Function("return " + m.kernelSource)();
      kernels.set(m.kernelSource, kernel);
    }
    // Columns are [buffer, first element, length]: the caller's shared
    // arrays (read in place), or copies of this worker's rows.
    const col = (c) => new Float64Array(c[0], c[1] * 8, c[2]);
    contexts.set(m.ctx, {
      kernel, p: m.p,
      data: {
        x: m.x.map(col),
        y: col(m.y),
        w: m.w ? col(m.w) : null,
      },
      opts: { loss: m.loss, fScale: m.fScale, blockRows: m.blockRows,
        block: new Float64Array(m.blockRows * (m.p + 1)) },
    });
    return;
  }
  if (m.type === "dispose") {
    contexts.delete(m.ctx);
    return;
  }
  if (m.type === "table") {
    // This worker's rows of a table batch: split and computed in pieces.
    let kernel = kernels.get(m.kernelSource);
    if (!kernel) {
      kernel = new Function("return " + m.kernelSource)();
      kernels.set(m.kernelSource, kernel);
    }
    const key = m.nx + "," + (m.sigmaCol >= 0);
    let scratch = tableScratch.get(key);
    if (!scratch) {
      const col = () => new Float64Array(TABLE_SPLIT_ROWS);
      scratch = { X: Array.from({ length: m.nx }, col), Y: col(),
        W: m.sigmaCol >= 0 ? col() : null };
      tableScratch.set(key, scratch);
    }
    const table = new Float64Array(m.table[0], m.table[1] * 8, m.table[2]);
    const c = m.p + 1;
    const augs = m.withJac.map((j) => (j ? new Float64Array(c * c) : null));
    const opts = { loss: m.loss, fScale: m.fScale, blockRows: m.blockRows,
      block: new Float64Array(m.blockRows * c), gram: m.gram === true };
    try {
      const costs = linearizeTable(linearizeRange, splitTableRows, kernel, m.p,
        table, m.stride, m.cols, m.sigmaCol, m.s0, m.s1, m.thetas, augs, opts,
        scratch);
      parentPort.postMessage(costs === null ? { id: m.id, out: null }
        : { id: m.id, out: costs.map((cost, i) => ({ cost, aug: augs[i] })) });
    } catch (e) {
      parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
    }
    return;
  }
  if (m.type === "once") {
    // One batch of rows, no context kept (the streaming strategy).
    let kernel = kernels.get(m.kernelSource);
    if (!kernel) {
      kernel = new Function("return " + m.kernelSource)();
      kernels.set(m.kernelSource, kernel);
    }
    // Columns are [buffer, first element] pairs: the batch's own shared
    // buffers (no copy) or copies of this worker's rows.
    const view = (c) => new Float64Array(c[0], c[1] * 8, m.rows);
    const data = {
      x: m.x.map(view),
      y: view(m.y),
      w: m.w ? view(m.w) : null,
    };
    const opts = { loss: m.loss, fScale: m.fScale, blockRows: m.blockRows,
      block: new Float64Array(m.blockRows * (m.p + 1)), gram: m.gram === true };
    try {
      const out = m.thetas.map((theta, i) => linearizeRange(kernel, m.p, data,
        theta, 0, m.rows, m.withJac[i], opts));
      parentPort.postMessage({ id: m.id, out });
    } catch (e) {
      parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
    }
    return;
  }
  const st = contexts.get(m.ctx);
  st.opts.gram = m.gram === true;
  try {
    const out = m.thetas.map((theta, i) => linearizeRange(st.kernel, st.p, st.data,
      theta, m.start, m.end, m.withJac[i], st.opts));
    parentPort.postMessage({ id: m.id, out });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});`,
].join("\n");

const POOL = new WorkerPool(WORKER_SOURCE);
let nextContext = 0;

// Shared buffers of closed evaluators, kept for the next fit of the same
// size: a fresh buffer costs a page fault per 4 KiB on first write (about
// 1.5 ms per 4 MB, more than the copy itself) and adds GC pressure. Each is
// counted by the bytes written to it (a worker writes its rows only).
const SPARE_SHARED: { buffer: SharedArrayBuffer; used: number }[] = [];
let spareBytes = 0;
/**
 * Most bytes of spare shared buffers kept between fits (enough for the
 * worker's rows of x and y at 1e7 points with 2 threads: 80 MB).
 */
const SPARE_MAX_BYTES = 128 * 2 ** 20;

function takeShared(bytes: number): SharedArrayBuffer {
  const i = SPARE_SHARED.findIndex((b) => b.buffer.byteLength === bytes);
  if (i < 0) return new SharedArrayBuffer(bytes);
  const [spare] = SPARE_SHARED.splice(i, 1);
  spareBytes -= spare.used;
  return spare.buffer;
}

function releaseShared(buffer: SharedArrayBuffer, used: number): void {
  if (used > SPARE_MAX_BYTES) return;
  SPARE_SHARED.push({ buffer, used });
  spareBytes += used;
  while (spareBytes > SPARE_MAX_BYTES) {
    spareBytes -= SPARE_SHARED.shift()!.used;
  }
}

/** Whether every column of `data` lives in shared memory. */
function allShared(data: WeightedData): boolean {
  const shared = (a: Float64Array) => a.buffer instanceof SharedArrayBuffer;
  return data.x.every(shared) && shared(data.y) &&
    (data.w === null || shared(data.w));
}

/** Copies an array into a SharedArrayBuffer unless it already is in one. */
export function toShared(a: Float64Array): Float64Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Float64Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/**
 * Creates an evaluator that uses all cores for a model with `kernelSource`
 * (expression models). Falls back to one thread when the model has no
 * source or `threads` is 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = model("a * x + b");
 * const x = new Float64Array(1000).map((_, i) => i / 1000);
 * const y = x.map((t) => 2 * t + 1);
 * const ev = createParallelEvaluator(m, { x: [x], y, w: null }, { threads: 2 });
 * try {
 *   const [e] = await ev.evaluate([new Float64Array([2, 1])], [true]);
 *   assert.strictEqual(e.cost, 0);
 * } finally {
 *   ev.close();
 * }
 * ```
 */
export function createParallelEvaluator(
  model: Model,
  data: WeightedData,
  options: ParallelEvaluatorOptions = {},
): ClosableEvaluator {
  return new ParallelEvaluator(model, data, options);
}

/**
 * Per chunk of `chunkRows`, the row bounds of each thread's contiguous
 * range (`threads + 1` values), the first ranges a row longer.
 */
function threadBounds(
  n: number,
  chunkRows: number,
  threads: number,
): number[][] {
  const chunks: number[][] = [];
  for (let c0 = 0; c0 < n; c0 += chunkRows) {
    const len = Math.min(chunkRows, n - c0);
    const b = [c0];
    for (let t = 0; t < threads; t++) {
      b.push(b[t] + Math.floor(len / threads) + (t < len % threads ? 1 : 0));
    }
    chunks.push(b);
  }
  return chunks;
}

/** The options of the main thread's part of a pass. */
interface MainPassOptions {
  readonly loss?: LossName;
  readonly fScale?: number;
  readonly blockRows: number;
  readonly block: Float64Array;
  readonly gram: boolean;
}

/** The multi-threaded evaluator: workers hold their rows for its lifetime. */
class ParallelEvaluator implements ClosableEvaluator {
  readonly nParams: number;
  readonly nResiduals: number;
  readonly threads: number;
  readonly #model: Model;
  readonly #data: WeightedData;
  readonly #opts: MainPassOptions;
  readonly #chunks: number[][];
  readonly #ctxId = nextContext++;
  readonly #workers: ReturnType<typeof POOL.get> = [];
  /** Shared copies of the workers' rows, released on close. */
  readonly #owned: [SharedArrayBuffer, number][] = [];
  /** One thread, one chunk: the pass runs synchronously. */
  readonly #inline: boolean;
  readonly #inlineAug: Float64Array;
  readonly #evaluate: Evaluator["evaluate"];
  #closed = false;

  constructor(
    model: Model,
    data: WeightedData,
    options: ParallelEvaluatorOptions,
  ) {
    const p = model.params.length;
    const n = data.y.length;
    this.#model = model;
    this.#data = data;
    this.nParams = p;
    this.nResiduals = n;
    const blockRows = options.blockRows ?? 256;
    let threads = Math.max(
      1,
      Math.floor(options.threads ?? hardwareConcurrency()),
    );
    if (!model.kernelSource || !POOL.available) threads = 1;
    this.threads = threads = Math.min(
      threads,
      Math.max(1, Math.floor(n / blockRows)),
    );
    // Fewer rows than a block: a block of exactly those rows (the same sums;
    // a small fit does not allocate and zero a 256-row block).
    const ownRows = Math.max(1, Math.min(blockRows, n));
    // Shared scratch only for generated kernels: a plain-function model runs
    // the caller's code inside the pass, which could start another pass.
    const generated = Boolean(model.kernelSource);
    this.#opts = {
      loss: options.loss,
      fScale: options.fScale,
      blockRows: ownRows,
      block: generated
        ? mainThreadScratch("block", ownRows * (p + 1))
        : new Float64Array(ownRows * (p + 1)),
      gram: false,
    };
    this.#chunks = threadBounds(
      n,
      Math.max(1, Math.floor(options.chunkRows ?? n)),
      threads,
    );
    if (threads > 1) this.#startWorkers(options, blockRows);
    this.#inline = this.#workers.length === 0 && this.#chunks.length === 1;
    // The augmented form of inline passes: a view of the shared scratch, made
    // once (should the scratch grow later, this view keeps the old buffer,
    // still used only synchronously).
    const c2 = (p + 1) * (p + 1);
    this.#inlineAug = this.#inline && generated
      ? mainThreadScratch("aug", c2).subarray(0, c2)
      : new Float64Array(this.#inline ? c2 : 0);
    this.#evaluate = autoAccumulation(
      n,
      p,
      options.accumulation !== "qr",
      (t, j, gram) => this.#passOnce(t, j, gram),
    );
  }

  /**
   * Workers read columns in shared memory in place. Other columns cannot be
   * read by another thread: each worker gets a shared copy of its own rows
   * only, at their own positions in a buffer as long as the column (pages
   * never written cost no memory), so threads cost (threads-1)/threads of
   * a copied column, not a whole second copy, and every worker indexes all
   * its columns alike.
   */
  #startWorkers(options: ParallelEvaluatorOptions, blockRows: number): void {
    const data = this.#data, chunks = this.#chunks;
    this.#workers.push(...POOL.get(this.threads - 1));
    this.#workers.forEach((w, wi) => {
      const t = wi + 1;
      const column = (a: Float64Array): [SharedArrayBuffer, number, number] => {
        if (a.buffer instanceof SharedArrayBuffer) {
          return [a.buffer, a.byteOffset / 8, a.length];
        }
        const out = new Float64Array(takeShared(a.length * 8));
        let rows = 0;
        for (const b of chunks) {
          out.set(a.subarray(b[t], b[t + 1]), b[t]);
          rows += b[t + 1] - b[t];
        }
        this.#owned.push([out.buffer as SharedArrayBuffer, rows * 8]);
        return [out.buffer as SharedArrayBuffer, 0, a.length];
      };
      POOL.send(w, {
        type: "init",
        ctx: this.#ctxId,
        kernelSource: this.#model.kernelSource,
        p: this.nParams,
        x: data.x.map(column),
        y: column(data.y),
        w: data.w ? column(data.w) : null,
        loss: options.loss ?? "linear",
        fScale: options.fScale ?? 1,
        blockRows,
      });
    });
  }

  #passOnce(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
    gram: boolean,
  ): Promise<Evaluation[]> {
    if (!this.#inline) return this.#passAcross(thetas, withJacobian, gram);
    try {
      return Promise.resolve(this.#passInline(thetas, withJacobian, gram));
    } catch (e) {
      // As from the async pass: a failure is a rejection.
      return Promise.reject(e);
    }
  }

  /**
   * One thread, one chunk: the pass is synchronous, and merging one partial
   * only turns a non-finite cost into NaN. The augmented form is scratch:
   * evaluationFromPartial copies R and Q^T f out of it.
   */
  #passInline(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
    gram: boolean,
  ): Evaluation[] {
    const [lo, hi] = this.#chunks[0];
    const aug = this.#inlineAug;
    const o = { ...this.#opts, gram, aug };
    const p = this.nParams;
    return thetas.map((theta, i) => {
      aug.fill(0);
      const part = linearizeRange(
        this.#model.kernel,
        p,
        this.#data,
        theta,
        lo,
        hi,
        withJacobian[i],
        o,
      );
      return evaluationFromPartial(
        Number.isFinite(part.cost) ? part : { cost: NaN, aug: null },
        p,
        this.nResiduals,
      );
    });
  }

  async #passAcross(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
    gram: boolean,
  ): Promise<Evaluation[]> {
    const p = this.nParams;
    // Per pass, not shared: passes may overlap (multi-start warm starts),
    // and a later one must not switch this one's accumulation mid-way.
    const passOpts = { ...this.#opts, gram };
    const parts: PartialLinearization[][] = thetas.map(() => []);
    for (const bounds of this.#chunks) {
      const pending = this.#workers.map((w, wi) =>
        POOL.request<PartialLinearization[]>(w, {
          type: "eval",
          ctx: this.#ctxId,
          thetas,
          withJac: withJacobian,
          start: bounds[wi + 1],
          end: bounds[wi + 2],
          gram,
        })
      );
      const mine = thetas.map((theta, i) =>
        linearizeRange(
          this.#model.kernel,
          p,
          this.#data,
          theta,
          bounds[0],
          bounds[1],
          withJacobian[i],
          passOpts,
        )
      );
      const others = await Promise.all(pending);
      thetas.forEach((_, i) => {
        const merged = mergePartials([mine[i], ...others.map((o) => o[i])], p);
        parts[i] = parts[i].length
          ? [mergePartials([parts[i][0], merged], p)]
          : [merged];
      });
    }
    return thetas.map((_, i) =>
      evaluationFromPartial(parts[i][0], p, this.nResiduals)
    );
  }

  evaluateForm(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
    gram: boolean,
  ): Promise<Evaluation[]> {
    if (this.#closed) throw new Error("evaluator is closed");
    return this.#passOnce(thetas, withJacobian, gram);
  }

  evaluate(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]> {
    if (this.#closed) throw new Error("evaluator is closed");
    return this.#evaluate(thetas, withJacobian);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) {
      POOL.send(w, { type: "dispose", ctx: this.#ctxId });
    }
    // Messages are ordered: the workers drop these before any later init.
    for (const [b, used] of this.#owned) releaseShared(b, used);
  }
}

const MAIN_SCRATCH = { block: new Float64Array(0), aug: new Float64Array(0) };

/**
 * A block or an augmented form for the main thread's part of a pass: one
 * array per kind shared by every evaluator, since that part runs
 * synchronously from the kernel to the merge (nothing of it outlives the
 * call). Large ones are the caller's own.
 */
function mainThreadScratch(
  kind: keyof typeof MAIN_SCRATCH,
  length: number,
): Float64Array {
  if (length > 1 << 16) return new Float64Array(length);
  if (MAIN_SCRATCH[kind].length < length) {
    MAIN_SCRATCH[kind] = new Float64Array(length);
  }
  return MAIN_SCRATCH[kind];
}

/** Runs batches of rows on the main thread and a pooled worker together. */
export interface BatchRunner {
  /** Threads used (1: the main thread only). */
  readonly threads: number;
  /**
   * Evaluates rows [start, end) of `data` at each theta. The cost of each is
   * returned (NaN when a residual is not finite) and, where `augs[i]` is
   * given, the rows' triangular factor is merged into it (TSQR), or with
   * `gram` their Gram sums are added to it.
   */
  run(
    data: WeightedData,
    start: number,
    end: number,
    thetas: readonly Float64Array[],
    augs: readonly (Float64Array | null)[],
    gram?: boolean,
  ): Promise<number[]>;
  /**
   * As `run`, for the rows of an interleaved table in shared memory: every
   * thread splits its share into columns as it computes (see
   * `core/_table_rows.ts`). Resolves to null, with `augs` unchanged, when
   * a value is not finite or a sigma not positive.
   */
  runTable(
    rows: TableBatch,
    thetas: readonly Float64Array[],
    augs: readonly (Float64Array | null)[],
    gram?: boolean,
  ): Promise<number[] | null>;
}

/** Rows of an interleaved f64 table, as `BatchRunner.runTable` takes them. */
export interface TableBatch {
  /** `rows * stride` values, in shared memory. */
  readonly table: Float64Array;
  readonly stride: number;
  /** Column of each x, then of y. */
  readonly columns: readonly number[];
  /** Column of sigma, or -1. */
  readonly sigmaColumn: number;
  readonly rows: number;
}

/**
 * Merges the batch's factors (or Gram sums) `parts[k][i]` into the running
 * `augs[i]` where the cost is finite; returns the costs.
 */
function mergeInto(
  augs: readonly (Float64Array | null)[],
  parts: readonly (readonly (Float64Array | null)[])[],
  costs: number[],
  gram: boolean,
): number[] {
  augs.forEach((a, i) => {
    if (!a || !Number.isFinite(costs[i])) return;
    const p = Math.round(Math.sqrt(a.length)) - 1;
    a.set(mergeAugmented([a, ...parts.map((q) => q[i]!)], p, gram));
  });
  return costs;
}

/**
 * A {@linkcode BatchRunner} for a model: each batch's rows are split between
 * the main thread and `threads - 1` pooled workers, and the partial factors
 * (or Gram sums) are merged. Workers read a batch held in shared memory in
 * place (the streaming strategy reads its batches into shared buffers);
 * other arrays are copied, the worker's share only, into reused shared
 * buffers. Used by the streaming strategy, whose batches come and go.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = model("a * x + b");
 * const x = new Float64Array(20000).map((_, i) => i / 1000);
 * const y = x.map((t) => 2 * t + 1);
 * const runner = createBatchRunner(m, { threads: 2 });
 * const aug = new Float64Array(9);
 * const [cost] = await runner.run({ x: [x], y, w: null }, 0, 20000,
 *   [new Float64Array([2, 0])], [aug]);
 * assert.ok(Math.abs(cost - 0.5 * 20000) < 1e-6); // residuals of -1
 * // The factor keeps column norms: |f|^2 = 20000 residuals of -1.
 * assert.ok(Math.abs(aug[2] ** 2 + aug[5] ** 2 + aug[8] ** 2 - 20000) < 1e-6);
 * ```
 */
export function createBatchRunner(
  model: Model,
  options: {
    readonly loss?: LossName;
    readonly fScale?: number;
    readonly threads?: number;
    readonly blockRows?: number;
  } = {},
): BatchRunner {
  const blockRows = options.blockRows ?? 256;
  const p = model.params.length;
  const ctx: RunnerContext = {
    model,
    p,
    blockRows,
    loss: options.loss ?? "linear",
    fScale: options.fScale ?? 1,
    threads: model.kernelSource && POOL.available
      ? Math.max(1, Math.floor(options.threads ?? hardwareConcurrency()))
      : 1,
    block: new Float64Array(blockRows * (p + 1)),
    scratch: {
      X: Array.from({ length: model.variables.length }, scratchColumn),
      Y: scratchColumn(),
      W: null,
    },
  };
  return {
    threads: ctx.threads,
    runTable: (b, thetas, augs, gram = false) =>
      runTableBatch(ctx, b, thetas, augs, gram),
    run: (data, start, end, thetas, augs, gram = false) =>
      runColumnBatch(ctx, data, start, end, thetas, augs, gram),
  };
}

/** What a batch runner keeps between batches. */
interface RunnerContext {
  readonly model: Model;
  readonly p: number;
  readonly blockRows: number;
  readonly loss: LossName;
  readonly fScale: number;
  readonly threads: number;
  /** The main thread's kernel block. */
  readonly block: Float64Array;
  /** The main thread's columns of table rows, split a piece at a time. */
  readonly scratch: {
    X: Float64Array[];
    Y: Float64Array;
    W: Float64Array | null;
  };
}

const scratchColumn = () => new Float64Array(TABLE_SPLIT_ROWS);

/**
 * Rows [start, start + rows) in contiguous shares, the first ones a row
 * longer; each share at least a few blocks (a message round trip costs more
 * than a small share).
 */
function shareBounds(
  ctx: RunnerContext,
  start: number,
  rows: number,
): { parts: number; bounds: number[] } {
  const parts = Math.max(
    1,
    Math.min(ctx.threads, Math.floor(rows / (4 * ctx.blockRows))),
  );
  const bounds = [start];
  for (let t = 0; t < parts; t++) {
    bounds.push(
      bounds[t] + Math.floor(rows / parts) + (t < rows % parts ? 1 : 0),
    );
  }
  return { parts, bounds };
}

/** The main thread's share of a batch of columns. */
function mainShare(
  ctx: RunnerContext,
  data: WeightedData,
  start: number,
  end: number,
  thetas: readonly Float64Array[],
  augs: readonly (Float64Array | null)[],
  gram: boolean,
): number[] {
  const { model, p, loss, fScale, blockRows, block } = ctx;
  return thetas.map((t, i) =>
    linearizeRange(model.kernel, p, data, t, start, end, augs[i] !== null, {
      loss,
      fScale,
      blockRows,
      block,
      aug: augs[i] ?? undefined,
      gram,
    }).cost
  );
}

/** The main thread's share of table rows [s0, s1), into `mine`. */
function mainTableShare(
  ctx: RunnerContext,
  b: TableBatch,
  s0: number,
  s1: number,
  thetas: readonly Float64Array[],
  mine: (Float64Array | null)[],
  gram: boolean,
): number[] | null {
  const { loss, fScale, blockRows, block } = ctx;
  return linearizeTable(
    linearizeRange as never,
    splitTableRows,
    ctx.model.kernel,
    ctx.p,
    b.table,
    b.stride,
    b.columns,
    b.sigmaColumn,
    s0,
    s1,
    thetas,
    mine,
    { loss, fScale, blockRows, block, gram },
    ctx.scratch,
  );
}

async function runTableBatch(
  ctx: RunnerContext,
  b: TableBatch,
  thetas: readonly Float64Array[],
  augs: readonly (Float64Array | null)[],
  gram: boolean,
): Promise<number[] | null> {
  const c = ctx.p + 1;
  const { parts, bounds } = shareBounds(ctx, 0, b.rows);
  const mine = augs.map((a) => (a ? new Float64Array(c * c) : null));
  ctx.scratch.W = b.sigmaColumn >= 0
    ? (ctx.scratch.W ?? scratchColumn())
    : null;
  if (parts <= 1) {
    const costs = mainTableShare(ctx, b, 0, b.rows, thetas, mine, gram);
    return costs && mergeInto(augs, [mine], costs, gram);
  }
  const ref: [SharedArrayBuffer, number, number] = [
    b.table.buffer as SharedArrayBuffer,
    b.table.byteOffset / 8,
    b.table.length,
  ];
  const pending = POOL.get(parts - 1).map((w, wi) =>
    POOL.request<PartialLinearization[] | null>(w, {
      type: "table",
      kernelSource: ctx.model.kernelSource,
      p: ctx.p,
      nx: ctx.model.variables.length,
      table: ref,
      stride: b.stride,
      cols: b.columns,
      sigmaCol: b.sigmaColumn,
      s0: bounds[wi + 1],
      s1: bounds[wi + 2],
      loss: ctx.loss,
      fScale: ctx.fScale,
      blockRows: ctx.blockRows,
      gram,
      thetas,
      withJac: augs.map((a) => a !== null),
    })
  );
  const costs = mainTableShare(ctx, b, 0, bounds[1], thetas, mine, gram);
  const theirs = await Promise.all(pending);
  if (costs === null || theirs.some((o) => o === null)) return null;
  const all = [mine, ...theirs.map((o) => o!.map((e) => e.aug))];
  return mergeInto(
    augs,
    all,
    costs.map((cost, i) => theirs.reduce((t, o) => t + o![i].cost, cost)),
    gram,
  );
}

async function runColumnBatch(
  ctx: RunnerContext,
  data: WeightedData,
  start: number,
  end: number,
  thetas: readonly Float64Array[],
  augs: readonly (Float64Array | null)[],
  gram: boolean,
): Promise<number[]> {
  const { parts, bounds } = shareBounds(ctx, start, end - start);
  if (parts <= 1) return mainShare(ctx, data, start, end, thetas, augs, gram);
  const shared = allShared(data);
  const held: SharedArrayBuffer[] = [];
  try {
    const pending = POOL.get(parts - 1).map((w, wi) => {
      const s0 = bounds[wi + 1], s1 = bounds[wi + 2], n = s1 - s0;
      const column = (a: Float64Array): [SharedArrayBuffer, number] => {
        if (shared) {
          return [a.buffer as SharedArrayBuffer, a.byteOffset / 8 + s0];
        }
        const b = takeShared(n * 8);
        held.push(b);
        new Float64Array(b).set(a.subarray(s0, s1));
        return [b, 0];
      };
      return POOL.request<PartialLinearization[]>(w, {
        type: "once",
        kernelSource: ctx.model.kernelSource,
        p: ctx.p,
        rows: n,
        x: data.x.map(column),
        y: column(data.y),
        w: data.w ? column(data.w) : null,
        loss: ctx.loss,
        fScale: ctx.fScale,
        blockRows: ctx.blockRows,
        gram,
        thetas,
        withJac: augs.map((a) => a !== null),
      });
    });
    const costs = mainShare(ctx, data, start, bounds[1], thetas, augs, gram);
    const theirs = await Promise.all(pending);
    const total = costs.map((cost, i) =>
      theirs.reduce((t, o) => t + o[i].cost, cost)
    );
    return mergeInto(augs, theirs.map((o) => o.map((e) => e.aug)), total, gram);
  } finally {
    for (const b of held) releaseShared(b, b.byteLength);
  }
}
