/**
 * A multi-threaded in-memory CPU evaluator: the rows are split into
 * contiguous ranges, the main thread and `threads - 1` workers each build the
 * partial TSQR linearization of their range, and the partial factors are
 * merged. Data lives in SharedArrayBuffers, so it is not copied per pass.
 *
 * Workers (node:worker_threads, evaluated from self-contained source, so no
 * file-read permission is needed) are pooled for the life of the process and
 * unref'd while idle.
 *
 * @module
 */

import { Worker as NodeWorker } from "node:worker_threads";
import type { Model } from "../model/types.ts";
import type { Evaluation, Evaluator } from "./linearization.ts";
import {
  type CpuData,
  linearizeRange,
  mergePartials,
  type PartialLinearization,
  qrFromAugmented,
} from "./cpu_evaluator.ts";
import { householderMergeRows } from "./linalg.ts";
import { applyLossToBlock, type LossName, lossRho } from "./loss.ts";

/** An evaluator that owns threads: call `close()` when done. */
export interface ClosableEvaluator extends Evaluator {
  /** Terminates worker threads (idempotent). */
  close(): void;
  /** Number of threads used (1 = main thread only). */
  readonly threads: number;
}

/** Options of {@linkcode createParallelEvaluator}. */
export interface ParallelEvaluatorOptions {
  readonly loss?: LossName;
  readonly fScale?: number;
  /** Threads including the main one (default: navigator.hardwareConcurrency). */
  readonly threads?: number;
  readonly blockRows?: number;
  /**
   * Process the rows in chunks of this many rows, one after the other, each
   * split across the threads (the chunked strategy). Default: one chunk.
   */
  readonly chunkRows?: number;
}

const WORKER_SOURCE = [
  "const EPS = 2.220446049250313e-16;",
  hypotColumnSource(),
  householderMergeRows.toString(),
  lossRho.toString(),
  applyLossToBlock.toString(),
  linearizeRange.toString(),
  `
const { parentPort } = require("node:worker_threads");
const contexts = new Map();
parentPort.on("message", (m) => {
  if (m.type === "init") {
    const kernel = new Function("return " + m.kernelSource)();
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
  const st = contexts.get(m.ctx);
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

  get(n: number): NodeWorker[] {
    while (this.#workers.length < n) {
      const w = new NodeWorker(WORKER_SOURCE, { eval: true });
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

// The overflow-safe helper householderMergeRows calls, by name.
function hypotColumnSource(): string {
  return `function hypotColumn(x0, B, bj, n) {
  let scale = Math.abs(x0);
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(B[bj + i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = (x0 / scale) ** 2;
  for (let i = 0; i < n; i++) s += (B[bj + i] / scale) ** 2;
  return scale * Math.sqrt(s);
}`;
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
  data: CpuData,
  options: ParallelEvaluatorOptions = {},
): ClosableEvaluator {
  const p = model.params.length;
  const n = data.y.length;
  const blockRows = options.blockRows ?? 256;
  let threads = Math.max(
    1,
    Math.floor(options.threads ?? navigator.hardwareConcurrency ?? 1),
  );
  if (!model.kernelSource) threads = 1;
  threads = Math.min(threads, Math.max(1, Math.floor(n / blockRows)));
  const shared: CpuData = threads > 1
    ? {
      x: data.x.map(toShared),
      y: toShared(data.y),
      w: data.w ? toShared(data.w) : null,
    }
    : data;
  const opts = {
    loss: options.loss,
    fScale: options.fScale,
    blockRows,
    block: new Float64Array(blockRows * (p + 1)),
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
  const ctxId = nextContext++;
  const workers = threads > 1 ? POOL.get(threads - 1) : [];
  for (const w of workers) {
    POOL.send(w, {
      type: "init",
      ctx: ctxId,
      kernelSource: model.kernelSource,
      p,
      x: shared.x.map((a) => a.buffer),
      y: shared.y.buffer,
      w: shared.w ? shared.w.buffer : null,
      loss: options.loss ?? "linear",
      fScale: options.fScale ?? 1,
      blockRows,
    });
  }
  let closed = false;
  const ask = (
    w: NodeWorker,
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
    start: number,
    end: number,
  ) =>
    POOL.request<PartialLinearization[]>(w, {
      type: "eval",
      ctx: ctxId,
      thetas,
      withJac,
      start,
      end,
    });
  return {
    nParams: p,
    nResiduals: n,
    threads,
    async evaluate(thetas, withJacobian): Promise<Evaluation[]> {
      if (closed) throw new Error("evaluator is closed");
      const parts: PartialLinearization[][] = thetas.map(() => []);
      for (const bounds of chunks) {
        const pending = workers.map((w, t) =>
          ask(w, thetas, withJacobian, bounds[t + 1], bounds[t + 2])
        );
        const mine = thetas.map((theta, i) =>
          linearizeRange(
            model.kernel,
            p,
            shared,
            theta,
            bounds[0],
            bounds[1],
            withJacobian[i],
            opts,
          )
        );
        const others = await Promise.all(pending);
        thetas.forEach((_, i) => {
          const merged = mergePartials(
            [mine[i], ...others.map((o) => o[i])],
            p,
          );
          parts[i] = parts[i].length
            ? [mergePartials([parts[i][0], merged], p)]
            : [merged];
        });
      }
      return thetas.map((_, i) => {
        const merged = parts[i][0];
        return merged.aug
          ? {
            cost: merged.cost,
            lin: qrFromAugmented(merged.aug, p, merged.cost, n),
          }
          : { cost: merged.cost };
      });
    },
    close() {
      if (closed) return;
      closed = true;
      for (const w of workers) POOL.send(w, { type: "dispose", ctx: ctxId });
    },
  };
}
