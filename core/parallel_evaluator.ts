/**
 * A multi-threaded in-memory CPU evaluator: the rows are split into
 * contiguous ranges, the main thread and `threads - 1` workers each build the
 * partial TSQR linearization of their range, and the partial factors are
 * merged. Data lives in SharedArrayBuffers, so it is not copied per pass.
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
import type { Worker as NodeWorker } from "node:worker_threads";
import { hardwareConcurrency, nodeBuiltin } from "../runtime/host.ts";
import type { Model } from "../model/types.ts";
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
  workerSource([CPU_EVALUATOR_WORKER_PART]),
  `
const { parentPort } = require("node:worker_threads");
const contexts = new Map();
const kernels = new Map();
parentPort.on("message", (m) => {
  if (m.type === "init") {
    let kernel = kernels.get(m.kernelSource);
    if (!kernel) {
      kernel = new Function("return " + m.kernelSource)();
      kernels.set(m.kernelSource, kernel);
    }
    contexts.set(m.ctx, {
      kernel, p: m.p,
      data: {
        x: m.x.map((b) => new Float64Array(b)),
        y: new Float64Array(m.y),
        w: m.w ? new Float64Array(m.w) : null,
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
  if (m.type === "once") {
    // One batch of rows, no context kept (the streaming strategy).
    let kernel = kernels.get(m.kernelSource);
    if (!kernel) {
      kernel = new Function("return " + m.kernelSource)();
      kernels.set(m.kernelSource, kernel);
    }
    const data = {
      x: m.x.map((b) => new Float64Array(b, 0, m.rows)),
      y: new Float64Array(m.y, 0, m.rows),
      w: m.w ? new Float64Array(m.w, 0, m.rows) : null,
    };
    const opts = { loss: m.loss, fScale: m.fScale, blockRows: m.blockRows,
      block: new Float64Array(m.blockRows * (m.p + 1)) };
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

/**
 * A process-wide pool of worker threads, started on first use and kept for
 * later fits (starting a thread costs tens of milliseconds). Idle workers are
 * unref'd so they never keep the process alive.
 */
class WorkerPool {
  #workers: NodeWorker[] = [];
  #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; w: NodeWorker }
  >();
  #inflight = new Map<NodeWorker, number>();
  #nextId = 0;

  /** True when the runtime has worker threads (not in a browser). */
  get available(): boolean {
    return nodeBuiltin("node:worker_threads") !== undefined;
  }

  get(n: number): NodeWorker[] {
    const { Worker } = nodeBuiltin("node:worker_threads")!;
    while (this.#workers.length < n) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      w.on("message", (m: { id: number; out?: unknown; error?: string }) => {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        const left = (this.#inflight.get(w) ?? 1) - 1;
        this.#inflight.set(w, left);
        if (left === 0) w.unref();
        if (m.error !== undefined) {
          p.reject(new Error(`worker thread failed: ${m.error}`));
        } else p.resolve(m.out);
      });
      w.on("error", (e: Error) => {
        for (const [id, p] of this.#pending) {
          if (p.w === w) {
            this.#pending.delete(id);
            p.reject(new Error(`worker thread failed: ${e.message}`));
          }
        }
        this.#workers = this.#workers.filter((x) => x !== w);
      });
      this.#workers.push(w);
    }
    return this.#workers.slice(0, n);
  }

  send(w: NodeWorker, msg: Record<string, unknown>): void {
    w.postMessage(msg);
  }

  request<T>(w: NodeWorker, msg: Record<string, unknown>): Promise<T> {
    const id = this.#nextId++;
    this.#inflight.set(w, (this.#inflight.get(w) ?? 0) + 1);
    w.ref();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        w,
      });
      w.postMessage({ ...msg, id });
    });
  }
}

const POOL = new WorkerPool();
let nextContext = 0;

// Shared buffers of closed evaluators, kept for the next fit of the same
// size: a fresh buffer costs a page fault per 4 KiB on first write (about
// 1.5 ms per 4 MB, more than the copy itself) and adds GC pressure.
const SPARE_SHARED: SharedArrayBuffer[] = [];
let spareBytes = 0;
/**
 * Most bytes of spare shared buffers kept between fits (enough for the
 * worker's rows of x and y at 1e7 points with 2 threads: 80 MB).
 */
const SPARE_MAX_BYTES = 128 * 2 ** 20;

function takeShared(bytes: number): SharedArrayBuffer {
  const i = SPARE_SHARED.findIndex((b) => b.byteLength === bytes);
  if (i < 0) return new SharedArrayBuffer(bytes);
  spareBytes -= bytes;
  return SPARE_SHARED.splice(i, 1)[0];
}

function releaseShared(b: SharedArrayBuffer): void {
  if (b.byteLength > SPARE_MAX_BYTES) return;
  SPARE_SHARED.push(b);
  spareBytes += b.byteLength;
  while (spareBytes > SPARE_MAX_BYTES) {
    spareBytes -= SPARE_SHARED.shift()!.byteLength;
  }
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
  const p = model.params.length;
  const n = data.y.length;
  const blockRows = options.blockRows ?? 256;
  let threads = Math.max(
    1,
    Math.floor(options.threads ?? hardwareConcurrency()),
  );
  if (!model.kernelSource || !POOL.available) threads = 1;
  threads = Math.min(threads, Math.max(1, Math.floor(n / blockRows)));
  const opts = {
    loss: options.loss,
    fScale: options.fScale,
    blockRows,
    block: new Float64Array(blockRows * (p + 1)),
    gram: false,
  };
  const chunkRows = Math.max(1, Math.floor(options.chunkRows ?? n));
  // Per chunk, contiguous ranges per thread, the first ones a row longer.
  const chunks: number[][] = [];
  for (let c0 = 0; c0 < n; c0 += chunkRows) {
    const len = Math.min(chunkRows, n - c0);
    const b = [c0];
    for (let t = 0; t < threads; t++) {
      b.push(b[t] + Math.floor(len / threads) + (t < len % threads ? 1 : 0));
    }
    chunks.push(b);
  }
  // Each worker gets a shared copy of its own rows only (the main thread
  // reads the caller's arrays), so threads cost (threads-1)/threads of the
  // data in memory, not a whole second copy.
  const ctxId = nextContext++;
  const workers = threads > 1 ? POOL.get(threads - 1) : [];
  const local: number[][] = workers.map(() => []);
  const owned: SharedArrayBuffer[] = [];
  workers.forEach((w, wi) => {
    const t = wi + 1;
    let rows = 0;
    for (const b of chunks) {
      local[wi].push(rows);
      rows += b[t + 1] - b[t];
    }
    const copy = (a: Float64Array) => {
      const out = new Float64Array(takeShared(rows * 8));
      owned.push(out.buffer as SharedArrayBuffer);
      let o = 0;
      for (const b of chunks) {
        out.set(a.subarray(b[t], b[t + 1]), o);
        o += b[t + 1] - b[t];
      }
      return out;
    };
    POOL.send(w, {
      type: "init",
      ctx: ctxId,
      kernelSource: model.kernelSource,
      p,
      x: data.x.map((a) => copy(a).buffer),
      y: copy(data.y).buffer,
      w: data.w ? copy(data.w).buffer : null,
      loss: options.loss ?? "linear",
      fScale: options.fScale ?? 1,
      blockRows,
    });
  });
  let closed = false;
  const passOnce = async (
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
    gram: boolean,
  ): Promise<Evaluation[]> => {
    // Per pass, not shared: passes may overlap (multi-start warm starts),
    // and a later one must not switch this one's accumulation mid-way.
    const passOpts = { ...opts, gram };
    const parts: PartialLinearization[][] = thetas.map(() => []);
    for (const [ci, bounds] of chunks.entries()) {
      const pending = workers.map((w, wi) => {
        const t = wi + 1, off = local[wi][ci];
        return POOL.request<PartialLinearization[]>(w, {
          type: "eval",
          ctx: ctxId,
          thetas,
          withJac: withJacobian,
          start: off,
          end: off + bounds[t + 1] - bounds[t],
          gram,
        });
      });
      const mine = thetas.map((theta, i) =>
        linearizeRange(
          model.kernel,
          p,
          data,
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
    return thetas.map((_, i) => evaluationFromPartial(parts[i][0], p, n));
  };
  const evaluate = autoAccumulation(
    n,
    p,
    options.accumulation !== "qr",
    passOnce,
  );
  return {
    nParams: p,
    nResiduals: n,
    threads,
    evaluateForm(thetas, withJacobian, gram) {
      if (closed) throw new Error("evaluator is closed");
      return passOnce(thetas, withJacobian, gram);
    },
    evaluate(thetas, withJacobian): Promise<Evaluation[]> {
      if (closed) throw new Error("evaluator is closed");
      return evaluate(thetas, withJacobian);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const w of workers) POOL.send(w, { type: "dispose", ctx: ctxId });
      // Messages are ordered: the workers drop these before any later init.
      for (const b of owned) releaseShared(b);
    },
  };
}

/** Runs batches of rows on the main thread and a pooled worker together. */
export interface BatchRunner {
  /** Threads used (1: the main thread only). */
  readonly threads: number;
  /**
   * Evaluates rows [start, end) of `data` at each theta. The cost of each is
   * returned (NaN when a residual is not finite) and, where `augs[i]` is
   * given, the rows' triangular factor is merged into it (TSQR).
   */
  run(
    data: WeightedData,
    start: number,
    end: number,
    thetas: readonly Float64Array[],
    augs: readonly (Float64Array | null)[],
  ): Promise<number[]>;
}

/**
 * A {@linkcode BatchRunner} for a model: each batch's rows are split between
 * the main thread and `threads - 1` pooled workers (each worker's share is
 * copied into a reused shared buffer), and the triangular factors are
 * merged. Used by the streaming strategy, whose batches come and go.
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
  const p = model.params.length;
  const c = p + 1;
  const blockRows = options.blockRows ?? 256;
  const loss = options.loss ?? "linear";
  const fScale = options.fScale ?? 1;
  const threads = model.kernelSource && POOL.available
    ? Math.max(1, Math.floor(options.threads ?? hardwareConcurrency()))
    : 1;
  const block = new Float64Array(blockRows * c);
  const main = (
    data: WeightedData,
    start: number,
    end: number,
    thetas: readonly Float64Array[],
    augs: readonly (Float64Array | null)[],
  ) =>
    thetas.map((t, i) =>
      linearizeRange(model.kernel, p, data, t, start, end, augs[i] !== null, {
        loss,
        fScale,
        blockRows,
        block,
        aug: augs[i] ?? undefined,
      }).cost
    );
  return {
    threads,
    async run(data, start, end, thetas, augs) {
      const rows = end - start;
      // Each share at least a few blocks: a message round trip costs more
      // than a small share.
      const parts = Math.min(threads, Math.floor(rows / (4 * blockRows)));
      if (parts <= 1) return main(data, start, end, thetas, augs);
      const workers = POOL.get(parts - 1);
      const bounds = [start];
      for (let t = 0; t < parts; t++) {
        bounds.push(
          bounds[t] + Math.floor(rows / parts) + (t < rows % parts ? 1 : 0),
        );
      }
      const held: SharedArrayBuffer[] = [];
      try {
        const pending = workers.map((w, wi) => {
          const s0 = bounds[wi + 1], s1 = bounds[wi + 2], n = s1 - s0;
          const copy = (a: Float64Array) => {
            const b = takeShared(n * 8);
            held.push(b);
            new Float64Array(b).set(a.subarray(s0, s1));
            return b;
          };
          return POOL.request<PartialLinearization[]>(w, {
            type: "once",
            kernelSource: model.kernelSource,
            p,
            rows: n,
            x: data.x.map(copy),
            y: copy(data.y),
            w: data.w ? copy(data.w) : null,
            loss,
            fScale,
            blockRows,
            thetas,
            withJac: augs.map((a) => a !== null),
          });
        });
        const costs = main(data, start, bounds[1], thetas, augs);
        const theirs = await Promise.all(pending);
        return costs.map((cost, i) => {
          let total = cost;
          for (const o of theirs) total += o[i].cost;
          const a = augs[i];
          if (a && Number.isFinite(total)) {
            a.set(
              mergeAugmented([a, ...theirs.map((o) => o[i].aug!)], p, false),
            );
          }
          return total;
        });
      } finally {
        for (const b of held) releaseShared(b);
      }
    },
  };
}
