/**
 * Data-parallel layout over the GPUs of one node.
 *
 * @module
 */

import { ClusterDetector } from "./cluster_detector.ts";
import type { ClusterInfo } from "./cluster_info.ts";

/**
 * Fields of a {@linkcode MultiGPUConfig}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MultiGPUConfig } from "@nlsq/nlsq";
 * import type { MultiGPUConfigInit } from "@nlsq/nlsq/cluster";
 * const init: MultiGPUConfigInit = { nDevices: 2, perDeviceBatchSize: 1000 };
 * assert.strictEqual(new MultiGPUConfig(init).nDevices, 2);
 * ```
 */
export interface MultiGPUConfigInit {
  /** GPUs the data is split across. */
  nDevices: number;
  /** Axis of the data that is split; 0 is the point (row) axis. */
  shardAxis?: number;
  /** Points each device handles per batch. */
  perDeviceBatchSize?: number;
}

function positiveInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v)) {
    throw new TypeError(`MultiGPUConfig.${name} must be an integer, got ${v}`);
  }
  if (v < min) {
    throw new RangeError(`MultiGPUConfig.${name} must be >= ${min}, got ${v}`);
  }
  return v;
}

/**
 * How data is sharded over several GPUs of one node (the seed's
 * `MultiGPUConfig`; its JAX-only `use_pmap`/`use_pjit` have no meaning here).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const cfg = new MultiGPUConfig({ nDevices: 4, perDeviceBatchSize: 5000 });
 * assert.strictEqual(cfg.totalBatchSize, 20000);
 * assert.strictEqual(cfg.shardAxis, 0);
 * ```
 */
export class MultiGPUConfig {
  /** GPUs the data is split across. */
  readonly nDevices: number;
  /** Axis of the data that is split. */
  readonly shardAxis: number;
  /** Points each device handles per batch. */
  readonly perDeviceBatchSize: number;

  /**
   * Validates and stores the configuration.
   *
   * @param init the fields; `shardAxis` defaults to 0 and
   *   `perDeviceBatchSize` to 10 000
   * @throws {TypeError} when a field is not an integer
   * @throws {RangeError} when `nDevices` or `perDeviceBatchSize` is below 1
   *   or `shardAxis` below 0
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.throws(() => new MultiGPUConfig({ nDevices: 0 }), RangeError);
   * ```
   */
  constructor(init: MultiGPUConfigInit) {
    this.nDevices = positiveInt("nDevices", init.nDevices, 1);
    this.shardAxis = positiveInt("shardAxis", init.shardAxis ?? 0, 0);
    this.perDeviceBatchSize = positiveInt(
      "perDeviceBatchSize",
      init.perDeviceBatchSize ?? 10_000,
      1,
    );
  }

  /**
   * Points per batch over all devices: `nDevices * perDeviceBatchSize`.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.strictEqual(new MultiGPUConfig({ nDevices: 2 }).totalBatchSize, 20000);
   * ```
   */
  get totalBatchSize(): number {
    return this.nDevices * this.perDeviceBatchSize;
  }

  /**
   * A plain object with every field, `totalBatchSize` included.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.strictEqual(new MultiGPUConfig({ nDevices: 3 }).toJSON().totalBatchSize, 30000);
   * ```
   */
  toJSON(): Required<MultiGPUConfigInit> & { totalBatchSize: number } {
    return {
      nDevices: this.nDevices,
      shardAxis: this.shardAxis,
      perDeviceBatchSize: this.perDeviceBatchSize,
      totalBatchSize: this.totalBatchSize,
    };
  }
}

/**
 * The multi-GPU layout for a cluster (TypeScript spelling of the seed's
 * `get_multi_gpu_config`): all GPUs of one node, 10 000 points per device on
 * a single node and 50 000 on several (larger batches amortize the
 * cross-node reduction).
 *
 * Asynchronous because, without `info`, it runs
 * {@linkcode ClusterDetector.detect}, whose last probe is WebGPU.
 *
 * @param info a detected cluster; omitted: detect now; `null`: none
 * @returns the layout, or `null` when there is no GPU
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo } from "./cluster_info.ts";
 * const info = new ClusterInfo({ nodeCount: 2, gpusPerNode: 4 });
 * const cfg = await getMultiGpuConfig(info);
 * assert.strictEqual(cfg?.nDevices, 4);
 * assert.strictEqual(cfg?.perDeviceBatchSize, 50000);
 * assert.strictEqual(await getMultiGpuConfig(null), null);
 * ```
 */
export async function getMultiGpuConfig(
  info?: ClusterInfo | null,
): Promise<MultiGPUConfig | null> {
  const cluster = info === undefined
    ? await new ClusterDetector().detect()
    : info;
  if (cluster === null || cluster.totalGpus === 0) return null;
  if (cluster.gpusPerNode === 0) return null;
  return new MultiGPUConfig({
    nDevices: cluster.gpusPerNode,
    shardAxis: 0,
    perDeviceBatchSize: cluster.nodeCount === 1 ? 10_000 : 50_000,
  });
}
