/**
 * The memory budget of a fit: how much the data, the Jacobian and the solver
 * need against how much memory is available (NLSQ's `MemoryBudget`).
 *
 * @module
 */

import {
  type AvailableMemoryInfo,
  getAvailableMemoryInfo,
  type MemorySource,
} from "./available_memory.ts";
import {
  assertBoolean,
  assertInteger,
  assertPositiveFinite,
} from "../workflow/_validate.ts";

const BYTES_PER_GB = 2 ** 30;

/**
 * Working copies of the Jacobian during a step (QR/SVD workspace) cost about
 * 30% on top of the Jacobian itself, hence `peak = data + 1.3 * jacobian + …`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(JACOBIAN_PEAK_FACTOR, 1.3);
 * ```
 */
export const JACOBIAN_PEAK_FACTOR = 1.3;

/**
 * Fixed solver overhead in GB (p x p matrices, runtime buffers) added to the
 * peak estimate.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(SOLVER_OVERHEAD_GB, 0.1);
 * ```
 */
export const SOLVER_OVERHEAD_GB = 0.1;

/**
 * Inputs of {@linkcode MemoryBudget.compute}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const options: MemoryBudgetOptions = { nPoints: 1000, nParams: 3, memoryLimitGb: 1 };
 * assert.strictEqual(MemoryBudget.compute(options).availableGb, 1);
 * ```
 */
export interface MemoryBudgetOptions {
  /** Number of data points (rows), an integer >= 1. */
  nPoints: number;
  /** Number of fitted parameters, an integer >= 1. */
  nParams: number;
  /** Number of independent variables per point. Default 1. */
  nFeatures?: number;
  /** Bytes per value: 8 for float64, 4 for float32. Default 8. */
  dtypeBytes?: number;
  /** Fraction of the available memory the fit may plan for, in (0, 1]. Default 0.75. */
  safetyFactor?: number;
  /** Available memory in GB, replacing detection. */
  memoryLimitGb?: number;
  /** Budget against the GPU's memory too (the smaller figure wins). Default false. */
  useGpu?: boolean;
}

/**
 * The fields of a {@linkcode MemoryBudget}; all sizes in GB (2^30 bytes).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const fields: MemoryBudgetFields = {
 *   availableGb: 1, thresholdGb: 0.75, dataGb: 0.1, jacobianGb: 0.2, peakGb: 0.46,
 * };
 * assert.ok(new MemoryBudget(fields).fitsInMemory);
 * ```
 */
export interface MemoryBudgetFields {
  /** Memory the fit may use, in GB. */
  availableGb: number;
  /** `availableGb * safetyFactor`: what the plan must stay under. */
  thresholdGb: number;
  /** The data (x columns and y) in GB. */
  dataGb: number;
  /** The full Jacobian in GB. */
  jacobianGb: number;
  /** The estimated peak of a standard (in-memory) fit in GB. */
  peakGb: number;
  /** Where `availableGb` came from. Default `"memoryLimitGb"`. */
  source?: MemorySource;
  /** How `availableGb` was found. Default none. */
  notes?: readonly string[];
}

/**
 * Memory estimate of a fit against the available memory.
 *
 * - `dataGb = nPoints * (nFeatures + 1) * dtypeBytes / 2^30` (x columns and y),
 * - `jacobianGb = nPoints * nParams * dtypeBytes / 2^30`,
 * - `peakGb = dataGb + 1.3 * jacobianGb + 0.1` (solver overhead),
 * - `thresholdGb = availableGb * safetyFactor`.
 *
 * @example The specification's table (5 parameters, float64)
 * ```ts
 * import assert from "node:assert";
 * const rows = [100_000, 1_000_000, 10_000_000].map((nPoints) => {
 *   const b = MemoryBudget.compute({ nPoints, nParams: 5, memoryLimitGb: 16 });
 *   return [b.dataGb, b.jacobianGb, b.peakGb].map((v) => v.toFixed(4));
 * });
 * assert.deepStrictEqual(rows, [
 *   ["0.0015", "0.0037", "0.1063"],
 *   ["0.0149", "0.0373", "0.1633"],
 *   ["0.1490", "0.3725", "0.7333"],
 * ]);
 * ```
 */
export class MemoryBudget {
  /** Memory the fit may use, in GB. */
  readonly availableGb: number;
  /** `availableGb * safetyFactor`: what the plan must stay under. */
  readonly thresholdGb: number;
  /** The data (x columns and y) in GB. */
  readonly dataGb: number;
  /** The full Jacobian in GB. */
  readonly jacobianGb: number;
  /** The estimated peak of a standard (in-memory) fit in GB. */
  readonly peakGb: number;
  /** Where `availableGb` came from. */
  readonly source: MemorySource;
  /** How `availableGb` was found (skipped sources and why). */
  readonly notes: readonly string[];

  /**
   * A budget from already computed figures; use {@linkcode MemoryBudget.compute}
   * to derive them from a problem's size.
   *
   * @throws {RangeError} A figure is negative or not finite.
   */
  constructor(fields: MemoryBudgetFields) {
    for (
      const key of [
        "availableGb",
        "thresholdGb",
        "dataGb",
        "jacobianGb",
        "peakGb",
      ] as const
    ) {
      const value = fields[key];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `${key} must be a finite number >= 0, got ${value}`,
        );
      }
    }
    this.availableGb = fields.availableGb;
    this.thresholdGb = fields.thresholdGb;
    this.dataGb = fields.dataGb;
    this.jacobianGb = fields.jacobianGb;
    this.peakGb = fields.peakGb;
    this.source = fields.source ?? "memoryLimitGb";
    this.notes = Object.freeze([...(fields.notes ?? [])]);
  }

  /**
   * Whether a standard fit fits: `peakGb <= thresholdGb`.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert";
   * const b = MemoryBudget.compute({ nPoints: 10_000_000, nParams: 5, memoryLimitGb: 1 });
   * assert.strictEqual(b.fitsInMemory, true); // 0.7333 <= 0.75
   * ```
   */
  get fitsInMemory(): boolean {
    return this.peakGb <= this.thresholdGb;
  }

  /**
   * Whether the data alone fits: `dataGb <= thresholdGb`.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert";
   * const b = MemoryBudget.compute({ nPoints: 10_000_000, nParams: 5, memoryLimitGb: 0.5 });
   * assert.strictEqual(b.fitsInMemory, false); // 0.7333 > 0.375
   * assert.strictEqual(b.dataFits, true); // 0.1490 <= 0.375
   * ```
   */
  get dataFits(): boolean {
    return this.dataGb <= this.thresholdGb;
  }

  /**
   * Computes the budget of a problem, detecting the available memory with
   * {@linkcode getAvailableMemoryInfo} unless `memoryLimitGb` is given.
   *
   * @example 10M points, 5 parameters, 1 GB available
   * ```ts
   * import assert from "node:assert";
   * const b = MemoryBudget.compute({
   *   nPoints: 10_000_000,
   *   nParams: 5,
   *   memoryLimitGb: 1,
   * });
   * assert.strictEqual(b.thresholdGb, 0.75);
   * assert.strictEqual(b.peakGb.toFixed(4), "0.7333");
   * assert.strictEqual(b.source, "memoryLimitGb");
   * ```
   *
   * @throws {RangeError} `nPoints`, `nParams` or `nFeatures` is not an
   * integer >= 1, `dtypeBytes` is not 4 or 8, `safetyFactor` is outside
   * (0, 1], or `memoryLimitGb` is not a finite number > 0.
   */
  static compute(options: MemoryBudgetOptions): MemoryBudget {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("MemoryBudget.compute options must be an object");
    }
    const nPoints = assertInteger("nPoints", options.nPoints, 1);
    const nParams = assertInteger("nParams", options.nParams, 1);
    const nFeatures = assertInteger("nFeatures", options.nFeatures ?? 1, 1);
    const dtypeBytes = assertInteger("dtypeBytes", options.dtypeBytes ?? 8, 1);
    if (dtypeBytes !== 4 && dtypeBytes !== 8) {
      throw new RangeError(
        `dtypeBytes must be 4 (float32) or 8 (float64), got ${dtypeBytes}`,
      );
    }
    const safetyFactor = options.safetyFactor ?? 0.75;
    assertPositiveFinite("safetyFactor", safetyFactor);
    if (safetyFactor > 1) {
      throw new RangeError(
        `safetyFactor must be in (0, 1], got ${safetyFactor}`,
      );
    }
    const useGpu = assertBoolean("useGpu", options.useGpu ?? false);
    const info: AvailableMemoryInfo = getAvailableMemoryInfo({
      useGpu,
      memoryLimitGb: options.memoryLimitGb,
    });
    const dataGb = nPoints * (nFeatures + 1) * dtypeBytes / BYTES_PER_GB;
    const jacobianGb = nPoints * nParams * dtypeBytes / BYTES_PER_GB;
    return new MemoryBudget({
      availableGb: info.availableGb,
      thresholdGb: info.availableGb * safetyFactor,
      dataGb,
      jacobianGb,
      peakGb: dataGb + JACOBIAN_PEAK_FACTOR * jacobianGb + SOLVER_OVERHEAD_GB,
      source: info.source,
      notes: info.notes,
    });
  }
}
