/**
 * Ranks, shards, chunking and checkpointing for a distributed (MPI) fit.
 *
 * @module
 */

import { isGranted } from "./_env.ts";
import type { ClusterInfo, Scheduler } from "./cluster_info.ts";

/**
 * Options of {@linkcode createDistributedConfig}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo, createDistributedConfig } from "@nlsq/nlsq";
 * import type { DistributedConfigOptions } from "@nlsq/nlsq/cluster";
 * const o: DistributedConfigOptions = { nPoints: 100, checkpointInterval: 10 };
 * const cfg = createDistributedConfig(new ClusterInfo({ nodeCount: 2, gpusPerNode: 2 }), o);
 * assert.strictEqual(cfg.worldSize, 4);
 * ```
 */
export interface DistributedConfigOptions {
  /** MPI ranks; default: `totalGpus`, else scheduler slots, else nodes. */
  worldSize?: number;
  /** Data points to shard over the ranks; omitted: no `shards`. */
  nPoints?: number;
  /** Points per chunk within a rank; default from the memory per rank. */
  chunkSize?: number;
  /** Iterations between checkpoints. Default 50. */
  checkpointInterval?: number;
  /** Where checkpoints go; `null` (default) lets the workflow choose. */
  checkpointDir?: string | null;
  /** Default: on for several nodes or more than 4 GPUs (long jobs). */
  enableCheckpoints?: boolean;
  /** Memory one rank may use, in GiB; overrides the estimate. */
  memoryPerRankGb?: number;
  /** Memory of one GPU in GiB, for GPU ranks. Default 80 (A100/H100). */
  gpuMemoryGb?: number;
  /**
   * Memory of one node in GiB, for CPU ranks. Default: this machine's total
   * (with `--allow-sys=systemMemoryInfo`), else 8.
   */
  nodeMemoryGb?: number;
}

/**
 * The contiguous range of points one rank owns: `[start, end)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo, createDistributedConfig } from "@nlsq/nlsq";
 * import type { Shard } from "@nlsq/nlsq/cluster";
 * const info = new ClusterInfo({ nodeCount: 1, gpusPerNode: 2 });
 * const shards: Shard[] = createDistributedConfig(info, { nPoints: 10 }).shards!;
 * assert.deepStrictEqual(shards.map((s) => s.size), [5, 5]);
 * ```
 */
export interface Shard {
  /** The rank owning the shard. */
  rank: number;
  /** First point (inclusive). */
  start: number;
  /** Last point (exclusive). */
  end: number;
  /** `end - start`. */
  size: number;
}

/**
 * The result of {@linkcode createDistributedConfig}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo, createDistributedConfig } from "@nlsq/nlsq";
 * import type { DistributedConfig } from "@nlsq/nlsq/cluster";
 * const info = new ClusterInfo({ nodeCount: 2, gpusPerNode: 4 });
 * const cfg: DistributedConfig = createDistributedConfig(info);
 * assert.strictEqual(cfg.worldSize, 8);
 * assert.strictEqual(cfg.nodes, 2);
 * ```
 */
export interface DistributedConfig {
  /** MPI ranks in the job. */
  worldSize: number;
  /** Nodes in the job. */
  nodes: number;
  /** Ranks on each node (rounded up). */
  ranksPerNode: number;
  /** GPUs on each node. */
  gpusPerNode: number;
  /** GPUs in the job. */
  totalGpus: number;
  /** `"gpu"` when every rank can have a GPU of its own, else `"cpu"`. */
  rankDevice: "gpu" | "cpu";
  /** Where the cluster description came from. */
  scheduler: Scheduler;
  /** Points sharded, or `null` when not given. */
  nPoints: number | null;
  /** One contiguous shard per rank (empty when `nPoints` is not given). */
  shards: Shard[];
  /** Points per chunk within a rank. */
  chunkSize: number;
  /** Whether to checkpoint. */
  enableCheckpoints: boolean;
  /** Iterations between checkpoints. */
  checkpointInterval: number;
  /** Checkpoint directory, or `null` for the workflow's default. */
  checkpointDir: string | null;
  /** Memory one rank may use, in GiB. */
  memoryPerRankGb: number;
  /** Multi-start count suggested for the job (one per rank, at most 20). */
  nStarts: number;
  /** Optimization goal suggested for distributed jobs. */
  goal: "robust";
  /** Tolerances suggested for distributed jobs (large data). */
  gtol: number;
  /** See `gtol`. */
  ftol: number;
  /** See `gtol`. */
  xtol: number;
}

function int(name: string, v: number, min: number): number {
  if (!Number.isInteger(v)) {
    throw new TypeError(`${name} must be an integer, got ${v}`);
  }
  if (v < min) throw new RangeError(`${name} must be >= ${min}, got ${v}`);
  return v;
}

function positive(name: string, v: number): number {
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
    throw new RangeError(`${name} must be a positive number, got ${v}`);
  }
  return v;
}

/**
 * The shard of `nPoints` that `rank` owns among `worldSize` ranks:
 * contiguous and balanced, the first `nPoints % worldSize` ranks taking one
 * point more.
 *
 * @param nPoints points to share
 * @param worldSize number of ranks
 * @param rank the rank, `0 <= rank < worldSize`
 * @throws {RangeError} on a negative count, a world size below 1 or a rank
 *   outside the world
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // 10 points over 3 ranks: 4, 3, 3.
 * assert.deepStrictEqual(shardRange(10, 3, 0), { rank: 0, start: 0, end: 4, size: 4 });
 * assert.deepStrictEqual(shardRange(10, 3, 2), { rank: 2, start: 7, end: 10, size: 3 });
 * ```
 */
export function shardRange(
  nPoints: number,
  worldSize: number,
  rank: number,
): Shard {
  int("nPoints", nPoints, 0);
  int("worldSize", worldSize, 1);
  int("rank", rank, 0);
  if (rank >= worldSize) {
    throw new RangeError(`rank ${rank} is outside a world of ${worldSize}`);
  }
  const base = Math.floor(nPoints / worldSize);
  const extra = nPoints % worldSize;
  const start = rank * base + Math.min(rank, extra);
  const size = base + (rank < extra ? 1 : 0);
  return { rank, start, end: start + size, size };
}

function thisNodeMemoryGb(): number {
  if (isGranted({ name: "sys", kind: "systemMemoryInfo" })) {
    try {
      return Deno.systemMemoryInfo().total / 1024 ** 3;
    } catch {
      // Fall through to the conservative default.
    }
  }
  return 8;
}

/**
 * The distributed layout for a cluster (TypeScript spelling of the seed's
 * `create_distributed_config`): how many MPI ranks, which points each one
 * owns, the chunk size within a rank, checkpointing and memory per rank.
 *
 * The chunk size follows the seed: about 800 bytes of working memory per
 * point, clamped to [100 000, 1 000 000] and never above the largest shard.
 *
 * @param info the cluster, e.g. from {@linkcode ClusterDetector.detect}
 * @param options see {@linkcode DistributedConfigOptions}
 * @throws {TypeError} when a count is not an integer
 * @throws {RangeError} when a count or size is out of range
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo } from "./cluster_info.ts";
 * const info = new ClusterInfo({ nodeCount: 2, gpusPerNode: 4, scheduler: "slurm" });
 * const cfg = createDistributedConfig(info, { nPoints: 1_000_003 });
 * assert.strictEqual(cfg.worldSize, 8);
 * assert.strictEqual(cfg.shards[0].size, 125_001);
 * assert.strictEqual(cfg.shards[7].end, 1_000_003);
 * assert.strictEqual(cfg.memoryPerRankGb, 80);
 * ```
 */
export function createDistributedConfig(
  info: ClusterInfo,
  options: DistributedConfigOptions = {},
): DistributedConfig {
  const slots = info.totalSlots ??
    (info.slotsPerNode.length > 0
      ? info.slotsPerNode.reduce((a, b) => a + b, 0)
      : null);
  const worldSize = int(
    "worldSize",
    options.worldSize ??
      (info.totalGpus > 0 ? info.totalGpus : slots || info.nodeCount),
    1,
  );
  const nodes = info.nodeCount;
  const ranksPerNode = Math.ceil(worldSize / nodes);
  const rankDevice = info.gpusPerNode > 0 && ranksPerNode <= info.gpusPerNode
    ? "gpu"
    : "cpu";

  let memoryPerRankGb: number;
  if (options.memoryPerRankGb !== undefined) {
    memoryPerRankGb = positive("memoryPerRankGb", options.memoryPerRankGb);
  } else if (rankDevice === "gpu") {
    memoryPerRankGb = positive("gpuMemoryGb", options.gpuMemoryGb ?? 80);
  } else {
    const node = positive(
      "nodeMemoryGb",
      options.nodeMemoryGb ?? thisNodeMemoryGb(),
    );
    memoryPerRankGb = node / ranksPerNode;
  }

  const nPoints = options.nPoints === undefined
    ? null
    : int("nPoints", options.nPoints, 0);
  const shards: Shard[] = [];
  if (nPoints !== null) {
    for (let r = 0; r < worldSize; r++) {
      shards.push(shardRange(nPoints, worldSize, r));
    }
  }

  let chunkSize: number;
  if (options.chunkSize !== undefined) {
    chunkSize = int("chunkSize", options.chunkSize, 1);
  } else {
    const byMemory = Math.floor(memoryPerRankGb * 1e9 / 800);
    chunkSize = Math.min(1_000_000, Math.max(100_000, byMemory));
    if (shards.length > 0) {
      // No point in chunks larger than the shard they cut.
      chunkSize = Math.max(1, Math.min(chunkSize, shards[0].size));
    }
  }

  return {
    worldSize,
    nodes,
    ranksPerNode,
    gpusPerNode: info.gpusPerNode,
    totalGpus: info.totalGpus,
    rankDevice,
    scheduler: info.scheduler,
    nPoints,
    shards,
    chunkSize,
    enableCheckpoints: options.enableCheckpoints ??
      (nodes > 1 || info.totalGpus > 4),
    checkpointInterval: int(
      "checkpointInterval",
      options.checkpointInterval ?? 50,
      1,
    ),
    checkpointDir: options.checkpointDir ?? null,
    memoryPerRankGb,
    nStarts: Math.min(worldSize, 20),
    goal: "robust",
    gtol: 1e-6,
    ftol: 1e-6,
    xtol: 1e-6,
  };
}
