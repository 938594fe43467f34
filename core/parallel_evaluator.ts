/**
 * A multi-threaded in-memory CPU evaluator: the rows are split into
 * contiguous ranges, the main thread and `threads - 1` workers each build the
 * partial TSQR linearization of their range, and the partial factors are
 * merged. Data lives in SharedArrayBuffers, so it is not copied per pass.
 *
 * Workers are built from a Blob URL of self-contained code, so no file-read
 * permission is needed to start them.
 *
 * @module
 */

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
let st = null;
self.onmessage = (e) => {
  const m = e.data;
  if (m.type === "init") {
    const kernel = new Function("return " + m.kernelSource)();
    const c = m.p + 1;
    st = {
      kernel, p: m.p,
      data: {
        x: m.x.map((b) => new Float64Array(b)),
        y: new Float64Array(m.y),
        w: m.w ? new Float64Array(m.w) : null,
      },
      opts: { loss: m.loss, fScale: m.fScale, blockRows: m.blockRows,
        block: new Float64Array(m.blockRows * c) },
    };
    return;
  }
  const out = m.thetas.map((theta, i) => linearizeRange(st.kernel, st.p, st.data,
    theta, m.start, m.end, m.withJac[i], st.opts));
  self.postMessage({ id: m.id, out });
};`,
].join("\n");

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
  const workers: Worker[] = [];
  let url: string | null = null;
  if (threads > 1) {
    url = URL.createObjectURL(
      new Blob([WORKER_SOURCE], { type: "text/javascript" }),
    );
    for (let t = 1; t < threads; t++) {
      const w = new Worker(url, { type: "module" });
      w.postMessage({
        type: "init",
        kernelSource: model.kernelSource,
        p,
        x: shared.x.map((a) => a.buffer),
        y: shared.y.buffer,
        w: shared.w ? shared.w.buffer : null,
        loss: options.loss ?? "linear",
        fScale: options.fScale ?? 1,
        blockRows,
      });
      workers.push(w);
    }
  }
  let nextId = 0;
  let closed = false;
  const ask = (
    w: Worker,
    thetas: readonly Float64Array[],
    withJac: readonly boolean[],
    start: number,
    end: number,
  ) =>
    new Promise<PartialLinearization[]>((resolve, reject) => {
      const id = nextId++;
      w.onmessage = (e) => {
        if (e.data.id === id) resolve(e.data.out);
      };
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`worker thread failed: ${e.message}`));
      };
      w.postMessage({ type: "eval", id, thetas, withJac, start, end });
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
      for (const w of workers) w.terminate();
      if (url) URL.revokeObjectURL(url);
    },
  };
}
