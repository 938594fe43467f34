/**
 * Cluster support: PBS / Slurm / local GPU detection, multi-GPU and
 * distributed layouts, and the MPI binding.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const info = await new ClusterDetector({
 *   env: { PBS_JOBID: "7.srv", PBS_NUM_NODES: "2" },
 *   defaultGpusPerNode: 4,
 *   nvidiaSmi: false,
 * }).detect();
 * assert.ok(info !== null);
 * const cfg = createDistributedConfig(info, { nPoints: 100 });
 * assert.strictEqual(cfg.worldSize, 8);
 * assert.strictEqual(cfg.shards[7].end, 100);
 * ```
 *
 * @module
 */

export {
  ClusterDetector,
  type ClusterDetectorOptions,
  type EnvSource,
} from "./cluster_detector.ts";
export {
  ClusterInfo,
  type ClusterInfoInit,
  type Interconnect,
  type Scheduler,
} from "./cluster_info.ts";
export {
  createDistributedConfig,
  type DistributedConfig,
  type DistributedConfigOptions,
  type Shard,
  shardRange,
} from "./distributed_config.ts";
export { expandHostlist, HostlistSyntaxError } from "./hostlist.ts";
export {
  getMultiGpuConfig,
  MultiGPUConfig,
  type MultiGPUConfigInit,
} from "./multi_gpu_config.ts";
export {
  isMpiLaunch,
  Mpi,
  type MpiFlavor,
  type MpiLoadOptions,
  runMpi,
  type RunMpiOptions,
} from "./mpi.ts";
export { guardMpiJob } from "./mpi_guard.ts";
export {
  MPI_INSTALL_HINT,
  MpiError,
  MpiJobError,
  MpiPermissionError,
  MpiUnavailableError,
} from "./mpi_errors.ts";
