/**
 * The distributed strategy: one shard of the data per MPI rank.
 *
 * Launch the same script on every rank, `mpiexec -n N deno run -A
 * script.ts` (or `srun` under Slurm), with the same `fit(...)` call. Each
 * rank takes its contiguous shard of the data (its slice of in-memory arrays,
 * or its row range of a source, read with `batches(size, { start, end })`),
 * builds the TSQR factor of `[J f]` over its shard on its CPU cores, and the
 * factors are gathered with one `MPI_Allreduce` per evaluation and merged in
 * rank order on every rank (see `_distributed_gather.ts`), so every rank
 * holds the bit-identical linearization of all the data, takes the same
 * step, and returns the same result.
 *
 * Without an MPI launcher, or with one rank, it is the standard strategy (no
 * MPI library needed). An exception on one rank aborts the whole job
 * (`MPI_Abort`), so the other ranks never hang in a collective.
 *
 * @module
 */

import {
  type BackendDescription,
  backendLabel,
} from "./backend_description.ts";
import { weightsFromSigma, weightsInto } from "../core/weights.ts";
import { linearizeRange } from "../core/cpu_evaluator.ts";
import type { Evaluation } from "../core/linearization.ts";
import {
  evaluationFromPartial,
  partialFromLinearization,
  type PartialLinearization,
} from "../core/_linearization_forms.ts";
import {
  autoAccumulation,
  GRAM_MIN_POINTS,
  type PassOnce,
} from "../core/_accumulation.ts";
import {
  type ClosableEvaluator,
  createParallelEvaluator,
} from "../core/parallel_evaluator.ts";
import { createGpuEvaluator } from "../gpu/evaluator.ts";
import {
  createDistributedConfig,
  shardRange,
} from "../cluster/distributed_config.ts";
import { ClusterDetector } from "../cluster/cluster_detector.ts";
import type { Mpi } from "../cluster/mpi.ts";
import { createCpuBackend, THREADS_MIN_POINTS } from "./_backend.ts";
import {
  gatherLength,
  mergeGathered,
  packPartials,
} from "./_distributed_gather.ts";
import { localRanks, worldComm } from "./_distributed_world.ts";
import {
  type BatchSourceLike,
  type InMemoryData,
  registerStrategy,
  type Strategy,
  type StrategyContext,
  type StrategyEvaluator,
} from "./strategy.ts";

/**
 * Rows per batch when a rank reads its shard of a source (change it with
 * `workflow: { strategy: "distributed", config: { batchSize } }`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(DEFAULT_SHARD_BATCH_SIZE, 65536);
 * ```
 */
export const DEFAULT_SHARD_BATCH_SIZE = 65_536;

/**
 * Timings and counters of a distributed evaluator, per rank. Times are
 * wall-clock milliseconds summed over all evaluations; `allreduceMs`
 * includes waiting for slower ranks (load imbalance shows up there).
 *
 * @example Per-iteration figures of the last distributed fit
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = Array.from({ length: 100 }, (_, i) => i / 10);
 * const r = await fit(model("a * x + b"), x, x.map((t) => 2 * t + 1), {
 *   p0: [1, 0],
 *   workflow: "distributed",
 * });
 * const s: DistributedStats = getDistributedStats()!;
 * const perIteration = s.allreduceMs / Math.max(1, r.nit);
 * assert.strictEqual(perIteration, 0); // one process: no Allreduce
 * assert.deepStrictEqual([s.shardStart, s.shardEnd], [0, 100]);
 * ```
 */
export interface DistributedStats {
  /** This process's rank. */
  readonly rank: number;
  /** Number of ranks (1 without MPI). */
  readonly size: number;
  /** This rank's rows, `[start, end)`. */
  readonly shardStart: number;
  /** One past this rank's last row. */
  readonly shardEnd: number;
  /** CPU threads this rank uses. */
  readonly threads: number;
  /** `evaluate` calls, each one Allreduce (with MPI). */
  readonly evaluations: number;
  /** Parameter vectors evaluated (an evaluation may batch several). */
  readonly points: number;
  /** Time building the local partial linearizations. */
  readonly localMs: number;
  /** Time inside `MPI_Allreduce` (0 without MPI). */
  readonly allreduceMs: number;
  /** Time merging the gathered factors. */
  readonly mergeMs: number;
  /** Doubles in the last Allreduce. */
  readonly allreduceDoubles: number;
  /**
   * Time of each Allreduce, in order. The first one also absorbs the ranks'
   * different start-up times, so the median is the better per-call figure.
   */
  readonly allreduceSamplesMs: readonly number[];
  /** Wall time from the start of the first evaluation to the end of the last. */
  readonly wallMs: number;
}

/**
 * What the distributed strategy's `createEvaluator` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const x = new Float64Array([0, 1, 2, 3]);
 * const ev = await distributedStrategy.createEvaluator({
 *   model: model("a * x + b"),
 *   data: { kind: "memory", x: [x], y: x.map((t) => 2 * t + 1), w: null },
 *   loss: "linear",
 *   fScale: 1,
 *   backend: "cpu",
 *   config: null,
 *   nPoints: 4,
 *   verbose: 0,
 * }) as DistributedEvaluator;
 * try {
 *   assert.strictEqual(ev.isCheckpointWriter, ev.rank === 0);
 *   const [e] = await ev.evaluate([new Float64Array([2, 1])], [true]);
 *   assert.strictEqual(e.cost, 0);
 *   assert.strictEqual(ev.stats.evaluations, 1);
 * } finally {
 *   await ev.close();
 * }
 * ```
 */
export interface DistributedEvaluator extends StrategyEvaluator {
  /** This process's rank (0 without MPI). */
  readonly rank: number;
  /** Number of ranks (1 without MPI). */
  readonly size: number;
  /** Only rank 0 writes checkpoints (every rank holds the same state). */
  readonly isCheckpointWriter: boolean;
  /** A snapshot of the counters and timings so far. */
  readonly stats: DistributedStats;
}

let lastStats: (() => DistributedStats) | null = null;

/**
 * Counters and timings of the most recent distributed evaluator in this
 * process (the one the last `fit` with `workflow: "distributed"` used), or
 * null before any. Benchmarks divide by the fit's `nit` for per-iteration
 * figures.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = Array.from({ length: 200 }, (_, i) => i / 20);
 * const y = x.map((t) => 2 * Math.exp(-0.5 * t) + 1);
 * const r = await fit(model("a * exp(-b * x) + c"), x, y, {
 *   p0: [1, 1, 0],
 *   workflow: "distributed",
 * });
 * const s = getDistributedStats()!;
 * // A plain process is a world of one rank: no Allreduce.
 * assert.strictEqual(s.size, 1);
 * assert.strictEqual(s.allreduceMs, 0);
 * assert.ok(s.evaluations >= r.nit);
 * ```
 */
export function getDistributedStats(): DistributedStats | null {
  return lastStats ? lastStats() : null;
}

interface Config {
  batchSize: number;
  streamShard: boolean;
  detectCluster: boolean;
}

/**
 * With `config.detectCluster` (set by the `hpc_distributed` preset): detects
 * the cluster (PBS, Slurm, local GPUs; permission-checked, never prompts),
 * sizes a distributed configuration for this launch, and reports both.
 */
async function clusterPlan(
  n: number,
  size: number,
): Promise<{ notes: string[]; checkpointEvery?: number }> {
  const detector = new ClusterDetector();
  const info = await detector.detect();
  if (!info) {
    return {
      notes: [
        "cluster detection: no PBS/Slurm job or local GPUs found (or no --allow-env/--allow-read)",
      ],
    };
  }
  // Under mpiexec the launch fixes the world size; otherwise the plan is the
  // configuration's own (what an MPI launch on this allocation would use).
  const dc = createDistributedConfig(
    info,
    size > 1 ? { nPoints: n, worldSize: size } : { nPoints: n },
  );
  const where = info.scheduler === "local"
    ? "local machine"
    : `${info.scheduler} job ${info.jobId ?? "?"}`;
  return {
    notes: [
      `cluster: ${where}, ${info.nodeCount} node(s) [${
        info.nodeList.slice(0, 4).join(", ")
      }${
        info.nodeList.length > 4 ? ", ..." : ""
      }], ${info.totalGpus} GPU(s), ${info.interconnect}${
        info.partial ? " (partial: some permissions missing)" : ""
      }`,
      `distributed config: ${dc.worldSize} rank(s) planned (${size} launched), ${dc.ranksPerNode} per node, shards of about ${
        Math.ceil(n / size)
      } rows, checkpoint every ${dc.checkpointInterval} iteration(s)`,
    ],
    checkpointEvery: dc.checkpointInterval,
  };
}

function readConfig(config: Readonly<Record<string, unknown>> | null): Config {
  const batchSize = config?.batchSize ?? DEFAULT_SHARD_BATCH_SIZE;
  if (
    typeof batchSize !== "number" || !Number.isInteger(batchSize) ||
    batchSize < 1
  ) {
    throw new RangeError(
      `batchSize must be an integer >= 1, got ${batchSize}`,
    );
  }
  const streamShard = config?.streamShard ?? false;
  if (typeof streamShard !== "boolean") {
    throw new TypeError(`streamShard must be a boolean, got ${streamShard}`);
  }
  const detectCluster = config?.detectCluster ?? false;
  if (typeof detectCluster !== "boolean") {
    throw new TypeError(
      `detectCluster must be a boolean, got ${detectCluster}`,
    );
  }
  return { batchSize, streamShard, detectCluster };
}

/** Threads for one rank: its share of the node's cores, when it pays. */
function threadsFor(ctx: StrategyContext, rows: number, size: number): number {
  const requested = ctx.threads ?? "auto";
  if (requested !== "auto") return requested;
  if (rows < THREADS_MIN_POINTS) return 1;
  const cores = navigator.hardwareConcurrency ?? 1;
  return Math.max(1, Math.floor(cores / localRanks(size)));
}

/** Computes this rank's partial linearizations, one per parameter vector. */
type LocalPass = (
  thetas: readonly Float64Array[],
  withJac: readonly boolean[],
  gram: boolean,
) => Promise<PartialLinearization[]>;

/** The partial of one point of a local evaluator's answer. */
function partialOf(
  e: Evaluation,
  withJac: boolean,
  p: number,
): PartialLinearization {
  return withJac && Number.isFinite(e.cost) && e.lin
    ? partialFromLinearization(e.lin, p)
    : { cost: e.cost, aug: null };
}

function sliceData(data: InMemoryData, start: number, end: number) {
  return {
    x: data.x.map((a) => a.subarray(start, end)),
    y: data.y.subarray(start, end),
    w: data.w ? data.w.subarray(start, end) : null,
  };
}

/** A local pass over in-memory rows (the worker-thread evaluator). */
function memoryPass(
  ctx: StrategyContext,
  data: { x: Float64Array[]; y: Float64Array; w: Float64Array | null },
  threads: number,
): { pass: LocalPass; ev: ClosableEvaluator | null } {
  const p = ctx.model.params.length;
  if (data.y.length === 0) {
    // An empty shard (fewer rows than ranks) still joins every Allreduce.
    return {
      pass: (thetas, withJac) =>
        Promise.resolve(thetas.map((_, i) => ({
          cost: 0,
          aug: withJac[i] ? new Float64Array((p + 1) * (p + 1)) : null,
        }))),
      ev: null,
    };
  }
  // The accumulation (Gram sums or QR factors) is decided for all ranks
  // together on the merged result, so the local evaluator never switches.
  const ev = createParallelEvaluator(ctx.model, data, {
    loss: ctx.loss,
    fScale: ctx.fScale,
    threads,
  });
  return {
    ev,
    pass: async (thetas, withJac, gram) =>
      (await ev.evaluateForm(thetas, withJac, gram)).map((e, i) =>
        partialOf(e, withJac[i], p)
      ),
  };
}

/**
 * A local pass on WebGPU (f64 only: every rank must return double-precision
 * Gram sums). The GPU forms no QR factors: when the accumulation policy asks
 * for QR (an ill-conditioned point), the rank computes it on the CPU, with
 * an evaluator made on first use. Returns the reason instead when no f64
 * device is available, so the rank computes on the CPU throughout.
 */
async function gpuPass(
  ctx: StrategyContext,
  data: { x: Float64Array[]; y: Float64Array; w: Float64Array | null },
  threads: number,
  notes: string[],
): Promise<
  | { pass: LocalPass; close: () => void; backend: BackendDescription }
  | { reason: string }
> {
  const p = ctx.model.params.length;
  if (ctx.model.kind !== "expression") {
    return { reason: "plain-function models run on the CPU only" };
  }
  let ev;
  try {
    ev = await createGpuEvaluator(ctx.model, data, {
      loss: ctx.loss,
      fScale: ctx.fScale,
      precision: "f64",
    });
  } catch (e) {
    return { reason: `no f64 WebGPU device (${(e as Error).message})` };
  }
  const d = ev.describe();
  const gev = ev;
  let qr: ReturnType<typeof memoryPass> | null = null;
  return {
    backend: {
      device: "webgpu",
      precision: "f64",
      adapter: d.adapterName,
      software: d.software,
    },
    close: () => {
      gev.close();
      qr?.ev?.close();
    },
    pass: async (thetas, withJac, gram) => {
      if (!gram) {
        if (!qr) {
          notes.push(
            "webgpu: ill-conditioned Jacobian, QR passes on the CPU (the GPU forms Gram sums only)",
          );
          qr = memoryPass(ctx, data, threads);
        }
        return qr.pass(thetas, withJac, false);
      }
      return (await gev.evaluate(thetas, withJac)).map((e, i) =>
        partialOf(e, withJac[i], p)
      );
    },
  };
}

/** A local pass that re-reads the shard of a source every time. */
function streamPass(
  ctx: StrategyContext,
  src: BatchSourceLike,
  start: number,
  end: number,
  batchSize: number,
): LocalPass {
  const p = ctx.model.params.length;
  const c = p + 1;
  const opts = {
    loss: ctx.loss,
    fScale: ctx.fScale,
    blockRows: 256,
    block: new Float64Array(256 * c),
  };
  return async (thetas, withJac, gram) => {
    const parts: PartialLinearization[] = thetas.map((_, i) => ({
      cost: 0,
      aug: withJac[i] ? new Float64Array(c * c) : null,
      gram,
    }));
    if (end <= start) return parts;
    for await (
      const b of src.batches(batchSize, { start, end, signal: ctx.signal })
    ) {
      const data = {
        x: b.x,
        y: b.y,
        w: weightsFromSigma(b.sigma),
      };
      thetas.forEach((theta, i) => {
        if (!Number.isFinite(parts[i].cost)) return;
        const r = linearizeRange(
          ctx.model.kernel,
          p,
          data,
          theta,
          0,
          b.y.length,
          withJac[i],
          // Accumulates into the running factor (TSQR across batches) or
          // the running Gram sums.
          { ...opts, aug: parts[i].aug ?? undefined, gram },
        );
        parts[i].cost = Number.isFinite(r.cost) ? parts[i].cost + r.cost : NaN;
      });
    }
    return parts;
  };
}

/** Reads rows [start, end) of a source into memory. */
async function loadShard(
  src: BatchSourceLike,
  start: number,
  end: number,
  batchSize: number,
  signal: AbortSignal | undefined,
): Promise<{ x: Float64Array[]; y: Float64Array; w: Float64Array | null }> {
  const n = end - start;
  const x = Array.from({ length: src.nFeatures }, () => new Float64Array(n));
  const y = new Float64Array(n);
  const w = src.hasSigma ? new Float64Array(n) : null;
  let at = 0;
  if (n > 0) {
    for await (const b of src.batches(batchSize, { start, end, signal })) {
      const k = b.y.length;
      if (at + k > n) {
        throw new RangeError(
          `the source returned more than the ${n} rows asked for`,
        );
      }
      b.x.forEach((col, j) => x[j].set(col, at));
      y.set(b.y, at);
      if (w) {
        if (!b.sigma) throw new TypeError("the source lost its sigma column");
        weightsInto(b.sigma, w, at);
      }
      at += k;
    }
  }
  if (at !== n) {
    throw new RangeError(
      `the source returned ${at} rows for the range [${start}, ${end})`,
    );
  }
  return { x, y, w };
}

/**
 * Runs `step` of this rank's part of a fit. Under MPI an error ends the whole
 * job (printed with the rank, then `MPI_Abort`): the other ranks would wait
 * for this one in their next collective forever.
 */
async function onThisRank<T>(
  comm: Mpi | null,
  step: () => T | Promise<T>,
): Promise<T> {
  if (!comm || comm.size === 1) return await step();
  try {
    return await step();
  } catch (e) {
    return comm.abortWithError(e);
  }
}

async function createDistributedEvaluator(
  ctx: StrategyContext,
): Promise<DistributedEvaluator> {
  const cfg = readConfig(ctx.config);
  const comm: Mpi | null = worldComm();
  const ev = await onThisRank(comm, () => buildEvaluator(ctx, cfg, comm));
  return {
    ...ev,
    get stats() {
      return ev.stats;
    },
    evaluate: (thetas, withJac) =>
      onThisRank(comm, () => ev.evaluate(thetas, withJac)),
    close: () => onThisRank(comm, () => ev.close()),
  };
}

async function buildEvaluator(
  ctx: StrategyContext,
  cfg: Config,
  comm: Mpi | null,
): Promise<DistributedEvaluator> {
  const p = ctx.model.params.length;
  const rank = comm ? comm.rank : 0;
  const size = comm ? comm.size : 1;
  const n = knownLength(ctx);
  const shard = shardRange(n, size, rank);
  const plan = cfg.detectCluster ? await clusterPlan(n, size) : { notes: [] };
  const counters = new PassCounters(rank, size, shard);
  lastStats = () => counters.stats();
  if (size === 1 && ctx.data.kind === "memory") {
    return singleRankEvaluator(ctx, plan, counters);
  }
  const notes = [...plan.notes];
  const local = await localPass(ctx, cfg, shard, size, rank, notes);
  counters.threads = local.threads;
  const backendInfo: BackendDescription = {
    ...(local.gpu ??
      { device: "cpu", precision: "f64", threads: local.threads }),
    ...(comm ? { mpi: { flavor: comm.flavor, size } } : {}),
  };
  if (ctx.verbose > 0 && rank === 0) {
    console.error(
      `nlsq: distributed over ${size} rank(s), ${shard.size} rows on rank 0, ${local.threads} thread(s) per rank; TSQR factors gathered with MPI_Allreduce`,
    );
  }
  const passOnce: PassOnce = async (thetas, withJac, gram) => {
    const t0 = performance.now();
    const parts = await local.pass(thetas, withJac, gram);
    const t1 = performance.now();
    let merged = parts;
    let t2 = t1;
    if (comm && size > 1) {
      const buf = packPartials(parts, withJac, p, rank, size);
      comm.allreduceSum(buf);
      t2 = performance.now();
      merged = mergeGathered(buf, withJac, p, size, gram);
      counters.allreduce(t2 - t1, gatherLength(p, size, withJac));
    }
    counters.pass(t0, t1, t2, thetas.length);
    return merged.map((m) => evaluationFromPartial(m, p, n));
  };
  // The accumulation policy of the standard strategy, decided on the merged
  // linearizations, which are the same bits on every rank: the ranks cannot
  // disagree about the form of the next pass. With backend "webgpu" Gram
  // sums (the GPU's form) are tried whatever the size.
  const evaluateAll = autoAccumulation(
    n,
    p,
    true,
    passOnce,
    ctx.backend === "webgpu" ? 0 : GRAM_MIN_POINTS,
  );
  return {
    nParams: p,
    nResiduals: n,
    backend: backendLabel(backendInfo),
    backendInfo,
    rank,
    size,
    isCheckpointWriter: rank === 0,
    notes,
    checkpointEvery: plan.checkpointEvery,
    get stats() {
      return counters.stats();
    },
    evaluate: (thetas, withJac) => evaluateAll(thetas, withJac),
    close() {
      local.close();
      if (ctx.verbose > 0 && rank === 0 && comm && size > 1) {
        const s = counters.stats();
        console.error(
          `nlsq: distributed: ${s.evaluations} Allreduce(s), ${
            (s.allreduceMs / Math.max(1, s.evaluations)).toFixed(3)
          } ms each (incl. waiting), local ${s.localMs.toFixed(1)} ms`,
        );
      }
    },
  };
}

/** Rows of the data: known for arrays, required of a source. */
function knownLength(ctx: StrategyContext): number {
  const n = ctx.data.kind === "memory" ? ctx.data.y.length : ctx.data.length;
  if (n === undefined || !Number.isInteger(n)) {
    throw new RangeError(
      "the distributed strategy needs a source of known length to split it into shards",
    );
  }
  return n;
}

/** Timing and volume of the passes, for `getDistributedStats`. */
class PassCounters {
  evaluations = 0;
  points = 0;
  localMs = 0;
  allreduceMs = 0;
  mergeMs = 0;
  allreduceDoubles = 0;
  firstAt = NaN;
  lastAt = NaN;
  threads = 1;
  readonly samples: number[] = [];

  constructor(
    readonly rank: number,
    readonly size: number,
    readonly shard: { start: number; end: number },
  ) {}

  /** One pass: started at t0, local work done at t1, gathered at t2. */
  pass(t0: number, t1: number, t2: number, points: number): void {
    this.localMs += t1 - t0;
    this.lastAt = performance.now();
    if (Number.isNaN(this.firstAt)) this.firstAt = t0;
    this.mergeMs += this.lastAt - t2;
    this.evaluations++;
    this.points += points;
  }

  /** One Allreduce of `doubles` values that took `ms`. */
  allreduce(ms: number, doubles: number): void {
    this.allreduceMs += ms;
    this.samples.push(ms);
    this.allreduceDoubles = doubles;
  }

  stats(): DistributedStats {
    return {
      rank: this.rank,
      size: this.size,
      shardStart: this.shard.start,
      shardEnd: this.shard.end,
      threads: this.threads,
      evaluations: this.evaluations,
      points: this.points,
      localMs: this.localMs,
      allreduceMs: this.allreduceMs,
      mergeMs: this.mergeMs,
      allreduceDoubles: this.allreduceDoubles,
      allreduceSamplesMs: this.samples.slice(),
      wallMs: this.evaluations ? this.lastAt - this.firstAt : 0,
    };
  }
}

/** One rank with the data in memory: exactly the standard strategy's evaluator. */
function singleRankEvaluator(
  ctx: StrategyContext,
  plan: { notes: string[]; checkpointEvery?: number },
  counters: PassCounters,
): DistributedEvaluator {
  const std = createCpuBackend(ctx, ctx.data as InMemoryData);
  counters.threads = std.backendInfo?.threads ?? 1;
  return {
    nParams: std.nParams,
    nResiduals: std.nResiduals,
    backend: std.backend,
    backendInfo: std.backendInfo,
    rank: 0,
    size: 1,
    isCheckpointWriter: true,
    notes: plan.notes,
    checkpointEvery: plan.checkpointEvery,
    get stats() {
      return counters.stats();
    },
    async evaluate(thetas, withJac) {
      const t0 = performance.now();
      const out = await std.evaluate(thetas, withJac);
      const t1 = performance.now();
      counters.pass(t0, t1, t1, thetas.length);
      return out;
    },
    close: () => std.close(),
  };
}

/**
 * This rank's pass over its shard: on WebGPU (where asked and possible),
 * else the CPU over the shard in memory, or read from the source on every
 * pass (`streamShard`).
 */
async function localPass(
  ctx: StrategyContext,
  cfg: Config,
  shard: { start: number; end: number; size: number },
  size: number,
  rank: number,
  notes: string[],
): Promise<{
  pass: LocalPass;
  close: () => void;
  threads: number;
  gpu: BackendDescription | null;
}> {
  if (ctx.data.kind !== "memory" && cfg.streamShard) {
    const pass = streamPass(
      ctx,
      ctx.data as BatchSourceLike,
      shard.start,
      shard.end,
      cfg.batchSize,
    );
    return { pass, close: () => {}, threads: 1, gpu: null };
  }
  const shardData = ctx.data.kind === "memory"
    ? sliceData(ctx.data, shard.start, shard.end)
    : await loadShard(
      ctx.data as BatchSourceLike,
      shard.start,
      shard.end,
      cfg.batchSize,
      ctx.signal,
    );
  const threads = threadsFor(ctx, shard.size, size);
  if (ctx.data.kind === "memory") {
    const g = ctx.backend === "webgpu" && shard.size > 0
      ? await gpuPass(ctx, shardData, threads, notes)
      : null;
    if (g && "pass" in g) {
      return { pass: g.pass, close: g.close, threads, gpu: g.backend };
    }
    if (g) notes.push(`rank ${rank}: ${g.reason}; computing on the CPU`);
  }
  const local = memoryPass(ctx, shardData, threads);
  return {
    pass: local.pass,
    close: () => local.ev?.close(),
    threads: local.ev ? local.ev.threads : threads,
    gpu: null,
  };
}

/**
 * The "distributed" strategy (registered on import): one shard per MPI
 * rank, partial TSQR factors gathered with `MPI_Allreduce` and merged
 * identically on every rank. Accepts in-memory arrays (every rank holds them
 * and uses its slice) and sources of known length (every rank reads only its
 * row range, into memory once, or on every pass with `config.streamShard`).
 * Without an MPI launcher it runs as the standard strategy.
 *
 * @example The same call runs on one process or on every rank of `mpiexec`
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = Array.from({ length: 1000 }, (_, i) => i / 100);
 * const y = x.map((t) => 3 * Math.exp(-0.7 * t) + 0.5);
 * const r = await fit(model("a * exp(-b * x) + c"), x, y, {
 *   p0: [1, 1, 0],
 *   workflow: "distributed",
 * });
 * assert.strictEqual(r.strategy, distributedStrategy.name);
 * assert.ok(Math.abs(r.params.b - 0.7) < 1e-8);
 * ```
 */
export const distributedStrategy: Strategy = {
  name: "distributed",
  description:
    "one shard per MPI rank, TSQR factors gathered with MPI_Allreduce",
  accepts: ["memory", "source"],
  createEvaluator: createDistributedEvaluator,
};

registerStrategy(distributedStrategy);
