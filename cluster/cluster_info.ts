/**
 * What a cluster detector found: nodes, GPUs, scheduler, interconnect.
 *
 * @module
 */

/**
 * The resource manager a {@linkcode ClusterInfo} was read from.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo } from "@nlsq/nlsq";
 * import type { Scheduler } from "@nlsq/nlsq/cluster";
 * const s: Scheduler = new ClusterInfo({ nodeCount: 1, gpusPerNode: 0 }).scheduler;
 * assert.ok(["pbs", "slurm", "local", "unknown"].includes(s));
 * ```
 */
export type Scheduler = "pbs" | "slurm" | "local" | "unknown";

/**
 * The node-to-node fabric, as far as it can be told from this node.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo } from "@nlsq/nlsq";
 * import type { Interconnect } from "@nlsq/nlsq/cluster";
 * const ic: Interconnect = new ClusterInfo({ nodeCount: 1, gpusPerNode: 0 }).interconnect;
 * assert.ok(["infiniband", "ethernet", "unknown"].includes(ic));
 * ```
 */
export type Interconnect = "infiniband" | "ethernet" | "unknown";

/**
 * Fields of a {@linkcode ClusterInfo}, also its JSON form.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ClusterInfo } from "@nlsq/nlsq";
 * import type { ClusterInfoInit } from "@nlsq/nlsq/cluster";
 * const init: ClusterInfoInit = { nodeCount: 2, gpusPerNode: 4 };
 * assert.strictEqual(new ClusterInfo(init).totalGpus, 8);
 * ```
 */
export interface ClusterInfoInit {
  /** Number of nodes in the allocation. */
  nodeCount: number;
  /** GPUs on each node (0 on CPU-only nodes). */
  gpusPerNode: number;
  /** GPUs in the allocation; defaults to `nodeCount * gpusPerNode`. */
  totalGpus?: number;
  /** Host names, unique, in allocation order; `[]` when unknown. */
  nodeList?: string[];
  /** Scheduler slots (tasks, cores) per host, aligned with `nodeList`. */
  slotsPerNode?: number[];
  /** Scheduler slots in the whole allocation, when known. */
  totalSlots?: number | null;
  /** Where the information came from. */
  scheduler?: Scheduler;
  /** The scheduler's job id, when known. */
  jobId?: string | null;
  /** The fabric between nodes. */
  interconnect?: Interconnect;
  /** True when a permission or a file was missing and fields are guessed. */
  partial?: boolean;
}

const SCHEDULERS: readonly Scheduler[] = ["pbs", "slurm", "local", "unknown"];
const INTERCONNECTS: readonly Interconnect[] = [
  "infiniband",
  "ethernet",
  "unknown",
];

function count(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`ClusterInfo.${name} must be an integer, got ${v}`);
  }
  if (v < min) {
    throw new RangeError(`ClusterInfo.${name} must be >= ${min}, got ${v}`);
  }
  return v;
}

function strings(name: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    throw new TypeError(`ClusterInfo.${name} must be an array of strings`);
  }
  return [...v];
}

function counts(name: string, v: unknown): number[] {
  if (!Array.isArray(v)) {
    throw new TypeError(`ClusterInfo.${name} must be an array of integers`);
  }
  return v.map((x, i) => count(`${name}[${i}]`, x, 0));
}

function oneOf<T extends string>(
  name: string,
  v: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(v as T)) {
    throw new TypeError(
      `ClusterInfo.${name} must be one of ${allowed.join(", ")}, got ${v}`,
    );
  }
  return v as T;
}

/**
 * A description of the compute allocation this process runs in.
 *
 * The constructor validates its input (`TypeError` for a wrong type,
 * `RangeError` for a negative count), so an instance is always consistent;
 * `toJSON()` and {@linkcode ClusterInfo.fromJSON} round-trip it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const info = new ClusterInfo({
 *   nodeCount: 2,
 *   gpusPerNode: 4,
 *   nodeList: ["n01", "n02"],
 *   scheduler: "slurm",
 *   jobId: "42",
 * });
 * assert.strictEqual(info.totalGpus, 8);
 * const back = ClusterInfo.fromJSON(JSON.parse(JSON.stringify(info)));
 * assert.deepStrictEqual(back, info);
 * ```
 */
export class ClusterInfo {
  /** Number of nodes in the allocation. */
  readonly nodeCount: number;
  /** GPUs on each node. */
  readonly gpusPerNode: number;
  /** GPUs in the allocation. */
  readonly totalGpus: number;
  /** Host names, unique, in allocation order; `[]` when unknown. */
  readonly nodeList: string[];
  /** Scheduler slots per host, aligned with `nodeList`; `[]` when unknown. */
  readonly slotsPerNode: number[];
  /** Scheduler slots in the allocation, or `null` when unknown. */
  readonly totalSlots: number | null;
  /** Where the information came from. */
  readonly scheduler: Scheduler;
  /** The scheduler's job id, or `null`. */
  readonly jobId: string | null;
  /** The fabric between nodes. */
  readonly interconnect: Interconnect;
  /** True when some field had to be guessed (missing permission or file). */
  readonly partial: boolean;

  /**
   * Validates and stores the cluster description.
   *
   * @param init the fields; see {@linkcode ClusterInfoInit}
   * @throws {TypeError} when a field has the wrong type
   * @throws {RangeError} when a count is out of range
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.throws(() => new ClusterInfo({ nodeCount: 0, gpusPerNode: 1 }), RangeError);
   * ```
   */
  constructor(init: ClusterInfoInit) {
    if (typeof init !== "object" || init === null) {
      throw new TypeError("ClusterInfo needs an object of fields");
    }
    this.nodeCount = count("nodeCount", init.nodeCount, 1);
    this.gpusPerNode = count("gpusPerNode", init.gpusPerNode, 0);
    this.totalGpus = init.totalGpus === undefined
      ? this.nodeCount * this.gpusPerNode
      : count("totalGpus", init.totalGpus, 0);
    this.nodeList = strings("nodeList", init.nodeList ?? []);
    this.slotsPerNode = counts("slotsPerNode", init.slotsPerNode ?? []);
    if (
      this.slotsPerNode.length > 0 &&
      this.slotsPerNode.length !== this.nodeList.length
    ) {
      throw new RangeError(
        `ClusterInfo.slotsPerNode has ${this.slotsPerNode.length} entries ` +
          `but nodeList has ${this.nodeList.length}`,
      );
    }
    this.totalSlots = init.totalSlots === undefined || init.totalSlots === null
      ? null
      : count("totalSlots", init.totalSlots, 0);
    this.scheduler = oneOf(
      "scheduler",
      init.scheduler ?? "unknown",
      SCHEDULERS,
    );
    const jobId = init.jobId ?? null;
    if (jobId !== null && typeof jobId !== "string") {
      throw new TypeError(`ClusterInfo.jobId must be a string or null`);
    }
    this.jobId = jobId;
    this.interconnect = oneOf(
      "interconnect",
      init.interconnect ?? "unknown",
      INTERCONNECTS,
    );
    if (init.partial !== undefined && typeof init.partial !== "boolean") {
      throw new TypeError("ClusterInfo.partial must be a boolean");
    }
    this.partial = init.partial ?? false;
  }

  /**
   * A plain JSON-safe object with every field.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const json = new ClusterInfo({ nodeCount: 1, gpusPerNode: 2 }).toJSON();
   * assert.strictEqual(json.totalGpus, 2);
   * assert.strictEqual(json.scheduler, "unknown");
   * ```
   */
  toJSON(): Required<ClusterInfoInit> {
    return {
      nodeCount: this.nodeCount,
      gpusPerNode: this.gpusPerNode,
      totalGpus: this.totalGpus,
      nodeList: [...this.nodeList],
      slotsPerNode: [...this.slotsPerNode],
      totalSlots: this.totalSlots,
      scheduler: this.scheduler,
      jobId: this.jobId,
      interconnect: this.interconnect,
      partial: this.partial,
    };
  }

  /**
   * Rebuilds a {@linkcode ClusterInfo} from `toJSON()` output (or a JSON
   * string of it), validating every field.
   *
   * @param json an object as produced by `toJSON()`, or its JSON text
   * @throws {TypeError} when the input is not an object or a field has the
   *   wrong type (including unparseable JSON text)
   * @throws {RangeError} when a count is out of range
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * const info = ClusterInfo.fromJSON('{"nodeCount":3,"gpusPerNode":8,"scheduler":"pbs"}');
   * assert.strictEqual(info.totalGpus, 24);
   * assert.throws(() => ClusterInfo.fromJSON({ nodeCount: "3" }), TypeError);
   * ```
   */
  static fromJSON(json: unknown): ClusterInfo {
    let value = json;
    if (typeof value === "string") {
      try {
        value = JSON.parse(value);
      } catch (e) {
        throw new TypeError(
          `ClusterInfo.fromJSON: not valid JSON (${(e as Error).message})`,
        );
      }
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TypeError("ClusterInfo.fromJSON expects an object");
    }
    return new ClusterInfo(value as ClusterInfoInit);
  }
}
