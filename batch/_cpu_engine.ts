/**
 * The CPU batch engine: the model compiled once into an engine (kernel and
 * solver, `_engine_source.ts`), the fits split into chunks, and the chunks
 * run on the calling thread (`threads: 1`) or handed out to a pool of
 * worker threads as they ask for more (the calling thread then only
 * dispatches). Results are written by the workers straight into shared
 * arrays; the data are read in place when they already live in a
 * SharedArrayBuffer, else each chunk is copied once into a reused shared
 * slot (two per worker, so a worker never waits for its next chunk), which
 * keeps the extra memory to a few chunks whatever the batch size.
 *
 * @module
 */

import { hardwareConcurrency, nodeBuiltin } from "../runtime/host.ts";
import { toShared } from "../core/parallel_evaluator.ts";
import type { BatchProblem } from "./_input.ts";
import { allocateOutputs, type BatchOutputs } from "./_outputs.ts";
import {
  type CompiledEngine,
  compileEngine,
  problemEngineSource,
} from "./_engine_source.ts";
import type { ChunkData, EngineConfig } from "./_engine_state.ts";
import { BATCH_POOL, packArrays } from "./_worker_source.ts";

/** What the engine did. */
export interface CpuBatchRun {
  readonly outputs: BatchOutputs;
  /** Threads that fitted (1: the calling thread). */
  readonly threads: number;
}

/** Below this many points over all fits, worker threads do not pay. */
const MIN_PARALLEL_POINTS = 1 << 17;
/** Points per chunk, about (a few milliseconds of work). */
const CHUNK_POINTS = 1 << 16;

const COMPILED = new Map<string, CompiledEngine>();

function compiled(source: string): CompiledEngine {
  let e = COMPILED.get(source);
  if (!e) {
    e = compileEngine(source);
    if (COMPILED.size >= 8) COMPILED.delete(COMPILED.keys().next().value!);
    COMPILED.set(source, e);
  }
  return e;
}

function threadCount(pr: BatchProblem): number {
  // A browser has no worker threads: the page runs the batch in a Web Worker.
  if (!BATCH_POOL.available) return 1;
  if (typeof pr.threads === "number") return pr.threads;
  if (pr.nFits * pr.nPoints < MIN_PARALLEL_POINTS) return 1;
  const cores = hardwareConcurrency();
  return Math.max(1, Math.min(cores, Math.floor(pr.nFits / 16)));
}

function chunkCapacity(pr: BatchProblem, threads: number): number {
  const max = Math.max(
    16,
    Math.min(4096, Math.floor(CHUNK_POINTS / pr.nPoints)),
  );
  // Several chunks per thread, so threads that finish early take more.
  const even = threads > 1 ? Math.ceil(pr.nFits / (threads * 8)) : max;
  return Math.max(1, Math.min(max, Math.max(16, even), pr.nFits));
}

/** The engine's settings and shared inputs for a problem. */
function engineConfig(
  pr: BatchProblem,
  out: BatchOutputs,
  share: (a: Float64Array) => Float64Array,
): EngineConfig {
  let wShared: Float64Array | null = null;
  if (pr.sigma && !pr.sigmaPerFit) {
    wShared = share(pr.sigma.map((s) => 1 / s));
  }
  return {
    p: pr.model.params.length,
    q: pr.free.length,
    n: pr.nPoints,
    nVars: pr.model.variables.length,
    free: Int32Array.from(pr.free),
    poisson: pr.estimator === "poisson",
    plainCost: pr.estimator === "lse" && pr.loss === "linear" &&
      pr.sigma === null,
    omit: pr.nanPolicy === "omit",
    ftol: pr.ftol,
    xtol: pr.xtol,
    gtol: pr.gtol,
    maxNfev: pr.maxNfev,
    X: pr.xPerFit ? [] : pr.x.map(share),
    xPerFit: pr.xPerFit,
    wShared,
    sigmaPerFit: pr.sigmaPerFit,
    // Per fit, the chunk's (ChunkData) replace these.
    p0: pr.p0PerFit ? new Float64Array(0) : share(pr.p0),
    p0PerFit: pr.p0PerFit,
    lower: pr.lower && !pr.boundsPerFit ? share(pr.lower) : null,
    upper: pr.upper && !pr.boundsPerFit ? share(pr.upper) : null,
    boundsPerFit: pr.boundsPerFit,
    ...out,
  };
}

/** Calls onProgress and checks the signal between chunks. */
class Progress {
  done = 0;
  readonly #pr: BatchProblem;
  readonly #t0 = performance.now();
  constructor(pr: BatchProblem) {
    this.#pr = pr;
  }
  async add(count: number): Promise<void> {
    this.done += count;
    this.#pr.signal?.throwIfAborted();
    if (this.#pr.onProgress) {
      await this.#pr.onProgress({
        done: this.done,
        total: this.#pr.nFits,
        elapsedMs: performance.now() - this.#t0,
      });
    }
  }
}

/**
 * Runs every fit of a problem on the CPU.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveBatch } from "./_input.ts";
 * import { runCpuBatch } from "./_cpu_engine.ts";
 * const pr = resolveBatch("a * x", [1, 2], [[2, 4], [3, 6]], { p0: [1], threads: 1 });
 * const { outputs } = await runCpuBatch(pr);
 * assert.ok(Math.abs(outputs.popt[1] - 3) < 1e-12);
 * ```
 */
export async function runCpuBatch(pr: BatchProblem): Promise<CpuBatchRun> {
  pr.signal?.throwIfAborted();
  const source = problemEngineSource(pr);
  const wanted = threadCount(pr);
  const capacity = chunkCapacity(pr, wanted);
  // No more threads than chunks.
  const threads = Math.min(wanted, Math.max(1, Math.ceil(pr.nFits / capacity)));
  const p = pr.model.params.length;
  if (threads <= 1) {
    const outputs = allocateOutputs(pr.nFits, p, false);
    await runHere(pr, source, capacity, outputs);
    return { outputs, threads: 1 };
  }
  const outputs = allocateOutputs(pr.nFits, p, true);
  await runOnWorkers(pr, source, capacity, threads, outputs);
  return { outputs, threads };
}

async function runHere(
  pr: BatchProblem,
  source: string,
  capacity: number,
  outputs: BatchOutputs,
): Promise<void> {
  const engine = compiled(source);
  const state = engine.create(engineConfig(pr, outputs, (a) => a), capacity);
  const progress = new Progress(pr);
  const data = inPlace(pr);
  let lastYield = performance.now();
  for (let first = 0; first < pr.nFits; first += capacity) {
    const count = Math.min(capacity, pr.nFits - first);
    engine.runChunk(state, first, count, data, first);
    await progress.add(count);
    // Let timers and abort events run every few tens of milliseconds
    // (setImmediate: setTimeout(0) is clamped to milliseconds when nested).
    if (performance.now() - lastYield > 20) {
      await yieldToEvents();
      pr.signal?.throwIfAborted();
      lastYield = performance.now();
    }
  }
}

let nextContext = 0;

/** The per-fit data of a problem, read in place. */
function inPlace(pr: BatchProblem): ChunkData {
  return {
    y: pr.y,
    x: pr.xPerFit ? [...pr.x] : null,
    s: pr.sigmaPerFit ? pr.sigma : null,
    p0: pr.p0PerFit ? pr.p0 : null,
    lo: pr.boundsPerFit ? pr.lower : null,
    up: pr.boundsPerFit ? pr.upper : null,
  };
}

/** Buffers for a chunk of `capacity` fits (copy mode), reused chunk after chunk. */
function slotFor(pr: BatchProblem, capacity: number): ChunkData {
  const buf = (w: number) =>
    new Float64Array(new SharedArrayBuffer(8 * capacity * w));
  const n = pr.nPoints, p = pr.model.params.length;
  return {
    y: buf(n),
    x: pr.xPerFit ? pr.x.map(() => buf(n)) : null,
    s: pr.sigmaPerFit ? buf(n) : null,
    p0: pr.p0PerFit ? buf(p) : null,
    lo: pr.boundsPerFit ? buf(p) : null,
    up: pr.boundsPerFit ? buf(p) : null,
  };
}

/** Copies fits [first, first + count) of `from` into slot `to`. */
function copyChunk(
  from: ChunkData,
  to: ChunkData,
  first: number,
  count: number,
  n: number,
  p: number,
): void {
  const rows = (a: Float64Array | null, b: Float64Array | null, w: number) =>
    b?.set(a!.subarray(first * w, (first + count) * w));
  rows(from.y, to.y, n);
  to.x?.forEach((col, v) => rows(from.x![v], col, n));
  rows(from.s, to.s, n);
  rows(from.p0, to.p0, p);
  rows(from.lo, to.lo, p);
  rows(from.up, to.up, p);
}

function isShared(a: Float64Array | null): boolean {
  return a === null || a.buffer instanceof SharedArrayBuffer;
}

async function runOnWorkers(
  pr: BatchProblem,
  source: string,
  capacity: number,
  threads: number,
  outputs: BatchOutputs,
): Promise<void> {
  const n = pr.nPoints, p = pr.model.params.length;
  const config = engineConfig(pr, outputs, toShared);
  const data = inPlace(pr);
  const direct = [data.y, data.s, data.p0, data.lo, data.up, ...(data.x ?? [])]
    .every(isShared);
  const workers = BATCH_POOL.get(threads);
  const ctx = nextContext++;
  // Per worker, its two slots (copy mode).
  const slots = workers.map(() =>
    direct ? [] : [slotFor(pr, capacity), slotFor(pr, capacity)]
  );
  await Promise.all(workers.map((w, wi) =>
    BATCH_POOL.request(w, {
      type: "init",
      ctx,
      source,
      config: packArrays(config),
      capacity,
      data: direct ? packArrays(data) : null,
      slots: packArrays(slots[wi]),
    })
  ));
  const progress = new Progress(pr);
  let next = 0;
  let stop = false;
  const lane = async (wi: number, slot: number) => {
    const w = workers[wi];
    while (!stop && next < pr.nFits) {
      const first = next, count = Math.min(capacity, pr.nFits - next);
      next += count;
      if (!direct) copyChunk(data, slots[wi][slot], first, count, n, p);
      await BATCH_POOL.request(w, {
        type: "chunk",
        ctx,
        first,
        count,
        slot: direct ? -1 : slot,
      });
      if (!stop) await progress.add(count);
    }
  };
  // Two lanes per worker: one chunk computing while the next is copied.
  const results = await Promise.allSettled(
    workers.flatMap((_, wi) => [lane(wi, 0), lane(wi, 1)]).map((l) =>
      l.catch((e) => {
        stop = true;
        throw e;
      })
    ),
  );
  for (const w of workers) BATCH_POOL.send(w, { type: "dispose", ctx });
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

// setImmediate where the runtime has it; a browser's setTimeout(0).
function yieldToEvents(): Promise<void> {
  const immediate = nodeBuiltin("node:timers")?.setImmediate;
  return new Promise((r) =>
    immediate ? immediate(() => r()) : setTimeout(r, 0)
  );
}
