/**
 * Detection of PBS and Slurm allocations and of local GPUs.
 *
 * @module
 */

import {
  Diagnostics,
  type EnvReader,
  envReader,
  type EnvSource,
  hostnameChecked,
  readDirChecked,
  readTextChecked,
  runChecked,
} from "./_env.ts";
import {
  countNvidiaSmiGpus,
  parseCount,
  parseGpuSpec,
  parseNodefile,
  parseTasksPerNode,
  parseVisibleDevices,
} from "./_parse.ts";
import { ClusterInfo, type Interconnect } from "./cluster_info.ts";
import { expandHostlist } from "./hostlist.ts";

export type { EnvSource } from "./_env.ts";

/**
 * Options of {@linkcode ClusterDetector}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ClusterDetectorOptions } from "@nlsq/nlsq/cluster";
 * const o: ClusterDetectorOptions = { env: { PBS_NODEFILE: undefined }, defaultGpusPerNode: 4 };
 * assert.strictEqual(o.defaultGpusPerNode, 4);
 * ```
 */
export interface ClusterDetectorOptions {
  /** GPUs per node assumed on a scheduler node where none can be counted. */
  defaultGpusPerNode?: number;
  /**
   * The environment to read: a record or a getter. Default: `Deno.env`, read
   * one variable at a time after `Deno.permissions.querySync`, so a missing
   * `--allow-env` makes a variable look unset instead of prompting.
   */
  env?: EnvSource;
  /** Print why a probe gave up (missing permission, unreadable file). */
  verbose?: boolean;
  /** Run `nvidia-smi -L` when `--allow-run` permits it. Default `true`. */
  nvidiaSmi?: boolean;
  /** Ask WebGPU for a hardware adapter as a last resort. Default `true`. */
  webgpu?: boolean;
  /** Where InfiniBand devices are listed. Default `/sys/class/infiniband`. */
  infinibandPath?: string;
}

/**
 * Finds out what compute this process has: a PBS or Slurm allocation, or GPUs
 * on the local machine.
 *
 * Everything is read through Deno's permission system with
 * `Deno.permissions.querySync` first: a missing permission never prompts and
 * never throws; the probe falls back (`null`, or a `ClusterInfo` with
 * `partial: true`) and says why in {@linkcode ClusterDetector.diagnostics}
 * (printed to stderr when `verbose`).
 *
 * `detectPbs()` and `detectSlurm()` are synchronous (environment and files
 * only). `detectLocalGpus()` and `detect()` are asynchronous because the last
 * local probe is `navigator.gpu.requestAdapter()`. A software or fallback
 * WebGPU adapter (Mesa's lavapipe/llvmpipe, SwiftShader) does not count as a
 * GPU here: it computes on the CPU cores, so `detect()` returns `null` on a
 * plain CPU machine even where WebGPU works.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const detector = new ClusterDetector({
 *   env: { SLURM_JOB_ID: "77", SLURM_JOB_NODELIST: "gpu[01-02]", SLURM_GPUS_ON_NODE: "4" },
 *   nvidiaSmi: false,
 *   webgpu: false,
 * });
 * const info = await detector.detect();
 * assert.deepStrictEqual(info?.nodeList, ["gpu01", "gpu02"]);
 * assert.strictEqual(info?.totalGpus, 8);
 * ```
 */
export class ClusterDetector {
  readonly #defaultGpusPerNode: number;
  readonly #diag: Diagnostics;
  readonly #env: EnvReader;
  readonly #nvidiaSmi: boolean;
  readonly #webgpu: boolean;
  readonly #infinibandPath: string;

  /**
   * Creates a detector.
   *
   * @param options see {@linkcode ClusterDetectorOptions}
   * @throws {RangeError} when `defaultGpusPerNode` is not a non-negative integer
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.throws(() => new ClusterDetector({ defaultGpusPerNode: -1 }), RangeError);
   * ```
   */
  constructor(options: ClusterDetectorOptions = {}) {
    const gpus = options.defaultGpusPerNode ?? 8;
    if (!Number.isInteger(gpus) || gpus < 0) {
      throw new RangeError(
        `defaultGpusPerNode must be a non-negative integer, got ${gpus}`,
      );
    }
    this.#defaultGpusPerNode = gpus;
    this.#diag = new Diagnostics(options.verbose ?? false, "[nlsq cluster]");
    this.#env = envReader(options.env, this.#diag);
    this.#nvidiaSmi = options.nvidiaSmi ?? true;
    this.#webgpu = options.webgpu ?? true;
    this.#infinibandPath = options.infinibandPath ?? "/sys/class/infiniband";
  }

  /**
   * Why probes gave up so far (missing permissions, unreadable files,
   * malformed values), oldest first.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const d = new ClusterDetector({ env: { SLURM_JOB_ID: "1", SLURM_GPUS_ON_NODE: "lots" }, nvidiaSmi: false });
   * d.detectSlurm();
   * assert.ok(d.diagnostics.some((m) => m.includes("SLURM_GPUS_ON_NODE")));
   * ```
   */
  get diagnostics(): readonly string[] {
    return this.#diag.messages;
  }

  /**
   * The allocation this process runs in: PBS first, then Slurm, then local
   * GPUs. `null` on a machine with neither a scheduler nor a hardware GPU.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const none = await new ClusterDetector({ env: {}, nvidiaSmi: false, webgpu: false }).detect();
   * assert.strictEqual(none, null);
   * ```
   */
  async detect(): Promise<ClusterInfo | null> {
    if (this.isPbsEnvironment()) return this.detectPbs();
    if (this.isSlurmEnvironment()) return this.detectSlurm();
    return await this.detectLocalGpus();
  }

  /**
   * Whether `PBS_NODEFILE` or `PBS_JOBID` is set (and readable).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.ok(new ClusterDetector({ env: { PBS_JOBID: "9.srv" } }).isPbsEnvironment());
   * assert.ok(!new ClusterDetector({ env: {} }).isPbsEnvironment());
   * ```
   */
  isPbsEnvironment(): boolean {
    return this.#env("PBS_NODEFILE") !== undefined ||
      this.#env("PBS_JOBID") !== undefined;
  }

  /**
   * Reads a PBS allocation: unique hosts of `PBS_NODEFILE` in order with
   * their slot counts, `PBS_JOBID`, `PBS_NUM_NODES` / `PBS_NP`. GPUs per node
   * come from the local node (visible devices, `nvidia-smi`), else
   * `defaultGpusPerNode`. When the node file cannot be read the answer is
   * partial: `nodeList` is empty and `nodeCount` comes from `PBS_NUM_NODES`
   * (or is 1).
   *
   * @returns the allocation, or `null` outside PBS
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const d = new ClusterDetector({
   *   env: { PBS_JOBID: "5.srv", PBS_NUM_NODES: "3" },
   *   nvidiaSmi: false,
   *   defaultGpusPerNode: 2,
   * });
   * const info = d.detectPbs();
   * assert.strictEqual(info?.nodeCount, 3);
   * assert.strictEqual(info?.totalGpus, 6);
   * assert.strictEqual(info?.partial, true);
   * ```
   */
  detectPbs(): ClusterInfo | null {
    if (!this.isPbsEnvironment()) return null;
    const env = this.#env;
    let partial = false;
    let hosts: string[] = [];
    let slots: number[] = [];
    const nodefile = env("PBS_NODEFILE");
    if (nodefile === undefined) {
      this.#diag.note("PBS_NODEFILE unset: node list unknown");
      partial = true;
    } else {
      const text = readTextChecked(nodefile, this.#diag);
      if (text === null) {
        partial = true;
      } else {
        ({ hosts, slots } = parseNodefile(text));
        if (hosts.length === 0) {
          this.#diag.note(`PBS_NODEFILE ${nodefile} lists no hosts`);
          partial = true;
        }
      }
    }
    const numNodes = this.#count("PBS_NUM_NODES");
    const np = this.#count("PBS_NP");
    const slotSum = slots.reduce((a, b) => a + b, 0);
    const nodeCount = hosts.length || numNodes || 1;
    const gpusPerNode = this.#schedulerNodeGpus(null);
    return new ClusterInfo({
      nodeCount,
      gpusPerNode,
      nodeList: hosts,
      slotsPerNode: slots,
      totalSlots: slotSum || np,
      scheduler: "pbs",
      jobId: env("PBS_JOBID") ?? null,
      interconnect: this.#interconnect(),
      partial,
    });
  }

  /**
   * Whether `SLURM_JOB_ID` (or the older `SLURM_JOBID`) is set.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.ok(new ClusterDetector({ env: { SLURM_JOB_ID: "1" } }).isSlurmEnvironment());
   * ```
   */
  isSlurmEnvironment(): boolean {
    return this.#env("SLURM_JOB_ID") !== undefined ||
      this.#env("SLURM_JOBID") !== undefined;
  }

  /**
   * Reads a Slurm allocation: `SLURM_JOB_NODELIST` expanded with the full
   * hostlist syntax, `SLURM_JOB_NUM_NODES`, `SLURM_NTASKS`,
   * `SLURM_TASKS_PER_NODE`, and GPUs per node from `SLURM_GPUS_ON_NODE` or
   * `SLURM_GPUS_PER_NODE` (`4`, `gpu:4`, `gpu:a100:4`), else the local node,
   * else `defaultGpusPerNode`.
   *
   * @returns the allocation, or `null` outside Slurm
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const info = new ClusterDetector({
   *   env: {
   *     SLURM_JOB_ID: "31",
   *     SLURM_JOB_NODELIST: "rack[1-2]-n[01-02]",
   *     SLURM_GPUS_PER_NODE: "gpu:a100:4",
   *     SLURM_NTASKS: "16",
   *   },
   *   nvidiaSmi: false,
   * }).detectSlurm();
   * assert.strictEqual(info?.nodeCount, 4);
   * assert.strictEqual(info?.totalGpus, 16);
   * assert.strictEqual(info?.nodeList[3], "rack2-n02");
   * ```
   */
  detectSlurm(): ClusterInfo | null {
    if (!this.isSlurmEnvironment()) return null;
    const env = this.#env;
    let partial = false;
    let hosts: string[] = [];
    const nodelist = env("SLURM_JOB_NODELIST") ?? env("SLURM_NODELIST");
    if (nodelist === undefined) {
      this.#diag.note("SLURM_JOB_NODELIST unset: node list unknown");
      partial = true;
    } else {
      try {
        // A node appears once per allocation even if listed twice.
        hosts = [...new Set(expandHostlist(nodelist))];
      } catch (e) {
        this.#diag.note((e as Error).message);
        partial = true;
      }
    }
    const numNodes = this.#count("SLURM_JOB_NUM_NODES") ??
      this.#count("SLURM_NNODES");
    if (numNodes !== null && hosts.length > 0 && numNodes !== hosts.length) {
      this.#diag.note(
        `SLURM_JOB_NUM_NODES=${numNodes} but the node list has ` +
          `${hosts.length} hosts; using the node list`,
      );
    }
    const nodeCount = hosts.length || numNodes || 1;
    let slots = parseTasksPerNode(env("SLURM_TASKS_PER_NODE")) ?? [];
    if (slots.length !== hosts.length) slots = [];
    const gpuVar = env("SLURM_GPUS_ON_NODE") !== undefined
      ? "SLURM_GPUS_ON_NODE"
      : "SLURM_GPUS_PER_NODE";
    const gpuText = env(gpuVar);
    let gpus = parseGpuSpec(gpuText);
    if (gpuText !== undefined && gpus === null) {
      this.#diag.note(`${gpuVar}="${gpuText}" is not a GPU count`);
    }
    gpus = this.#schedulerNodeGpus(gpus);
    return new ClusterInfo({
      nodeCount,
      gpusPerNode: gpus,
      nodeList: hosts,
      slotsPerNode: slots,
      totalSlots: this.#count("SLURM_NTASKS") ?? this.#count("SLURM_NPROCS") ??
        (slots.length > 0 ? slots.reduce((a, b) => a + b, 0) : null),
      scheduler: "slurm",
      jobId: env("SLURM_JOB_ID") ?? env("SLURM_JOBID") ?? null,
      interconnect: this.#interconnect(),
      partial,
    });
  }

  /**
   * GPUs on this machine: `CUDA_VISIBLE_DEVICES` / `ROCR_VISIBLE_DEVICES` /
   * `HIP_VISIBLE_DEVICES` when set, else `nvidia-smi -L` when installed and
   * allowed, else one device if WebGPU offers a hardware adapter. Software
   * adapters (lavapipe, llvmpipe, SwiftShader) do not count.
   *
   * @returns a single-node `ClusterInfo` with `scheduler: "local"`, or `null`
   *   when no GPU is found
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const info = await new ClusterDetector({ env: { CUDA_VISIBLE_DEVICES: "0,1" } }).detectLocalGpus();
   * assert.strictEqual(info?.gpusPerNode, 2);
   * assert.strictEqual(info?.scheduler, "local");
   * ```
   */
  async detectLocalGpus(): Promise<ClusterInfo | null> {
    let gpus = this.#localGpusSync();
    if (gpus === null && this.#webgpu) gpus = await this.#webgpuGpus();
    if (!gpus) return null;
    return new ClusterInfo({
      nodeCount: 1,
      gpusPerNode: gpus,
      nodeList: [hostnameChecked(this.#diag)],
      scheduler: "local",
      jobId: null,
      interconnect: this.#interconnect(),
    });
  }

  #count(name: string): number | null {
    const text = this.#env(name);
    const n = parseCount(text);
    if (text !== undefined && n === null) {
      this.#diag.note(`${name}="${text}" is not a count; ignored`);
    }
    return n;
  }

  /** GPUs on a scheduler node: declared, else counted here, else default. */
  #schedulerNodeGpus(declared: number | null): number {
    if (declared !== null) return declared;
    const local = this.#localGpusSync();
    if (local !== null) return local;
    this.#diag.note(
      `GPUs per node unknown; assuming defaultGpusPerNode=${this.#defaultGpusPerNode}`,
    );
    return this.#defaultGpusPerNode;
  }

  /** Visible-devices variables, then nvidia-smi; `null` when neither tells. */
  #localGpusSync(): number | null {
    for (
      const name of [
        "CUDA_VISIBLE_DEVICES",
        "ROCR_VISIBLE_DEVICES",
        "HIP_VISIBLE_DEVICES",
      ]
    ) {
      const text = this.#env(name);
      if (text !== undefined) return parseVisibleDevices(text);
    }
    if (this.#nvidiaSmi) {
      const out = runChecked("nvidia-smi", ["-L"], this.#diag);
      if (out !== null) return countNvidiaSmiGpus(out);
    }
    return null;
  }

  async #webgpuGpus(): Promise<number | null> {
    if (!(globalThis.navigator as { gpu?: GPU } | undefined)?.gpu) {
      this.#diag.note("WebGPU: navigator.gpu is not available");
      return null;
    }
    try {
      const { describeAdapter, probeAdapter } = await import(
        "../gpu/device.ts"
      );
      const adapter = await probeAdapter({
        powerPreference: "high-performance",
      });
      const { name, software } = describeAdapter(adapter);
      if (software) {
        this.#diag.note(
          `WebGPU: "${name}" is a software adapter, not counted as a GPU`,
        );
        return null;
      }
      return 1;
    } catch (e) {
      this.#diag.note(`WebGPU: ${(e as Error).message}`);
      return null;
    }
  }

  #interconnect(): Interconnect {
    const entries = readDirChecked(this.#infinibandPath, this.#diag);
    if (entries === null) return "unknown";
    return entries.length > 0 ? "infiniband" : "ethernet";
  }
}
