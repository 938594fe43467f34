/**
 * Strategy selection from the memory budget (NLSQ's `MemoryBudgetSelector`).
 *
 * @module
 */

import {
  JACOBIAN_PEAK_FACTOR,
  MemoryBudget,
  SOLVER_OVERHEAD_GB,
} from "./memory_budget.ts";
import { normalizeGoal, type OptimizationGoal } from "../workflow/goal.ts";
import {
  assertBoolean,
  assertInteger,
  assertPositiveFinite,
} from "../workflow/_validate.ts";

const BYTES_PER_GB = 2 ** 30;

/**
 * Fraction of the threshold one chunk or batch may use. A quarter leaves room
 * for the data (chunked keeps it in memory), the solver and a prefetched next
 * batch.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(BATCH_MEMORY_FRACTION, 0.25);
 * ```
 */
export const BATCH_MEMORY_FRACTION = 0.25;

/**
 * Smallest chunk or batch in rows: below this, per-chunk overhead (kernel
 * launches, GPU readbacks, QR merges) dominates.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(MIN_BATCH_ROWS, 1_000);
 * ```
 */
export const MIN_BATCH_ROWS = 1_000;

/**
 * Largest chunk or batch in rows: beyond this, larger chunks do not run
 * faster but delay progress reports and cancellation.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(MAX_BATCH_ROWS, 10_000_000);
 * ```
 */
export const MAX_BATCH_ROWS = 10_000_000;

/**
 * Copies of a streamed row held at once, for {@linkcode streamingBatchRows}:
 * the batch being computed, the next one being read (read-ahead), and the
 * file's bytes of the one being read (a table whose rows interleave the
 * columns is split from them). Streaming builds no Jacobian: the kernels
 * work on blocks of 256 rows, so a row costs its values only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(STREAM_ROW_COPIES, 3);
 * ```
 */
export const STREAM_ROW_COPIES = 3;

/**
 * Largest streaming batch in rows (2^20). Larger batches cost memory
 * without saving time: per-batch work (a worker round trip, a `stat` of the
 * file, a read call, about 0.2 ms) is 2% of a batch of 2^20 rows (about 8
 * ns per row with 2 threads), while the first batch of every pass, which
 * no read-ahead hides, and the page faults of fresh buffers grow with the
 * batch, and a batch of 16 MB of rows stays in the cache between its read
 * and its arithmetic. Measured at 1e8 points from NPY, the same passes in
 * one process on the 2-core machine: 47-50 ns per row at 2^20 rows, 52-53
 * at 2^22, 52-55 at 2^18.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(STREAM_MAX_BATCH_ROWS, 1_048_576);
 * ```
 */
export const STREAM_MAX_BATCH_ROWS = 1_048_576;

/**
 * Smallest streaming batch the budget is raised to (2^18 rows): per-batch
 * work stays under 10% of the arithmetic from here on. Below it the batch
 * takes up to half the threshold (instead of
 * {@linkcode BATCH_MEMORY_FRACTION}) before it goes below this floor.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(STREAM_FLOOR_BATCH_ROWS, 262_144);
 * ```
 */
export const STREAM_FLOOR_BATCH_ROWS = 262_144;

/**
 * Rows per streaming batch from a threshold (GB): as many as
 * {@linkcode BATCH_MEMORY_FRACTION} of it holds at {@linkcode STREAM_ROW_COPIES}
 * copies of `nFeatures + 2` doubles per row (x, y, and sigma or weights), up
 * to {@linkcode STREAM_MAX_BATCH_ROWS}; raised towards
 * {@linkcode STREAM_FLOOR_BATCH_ROWS} where half the threshold allows; never
 * under {@linkcode MIN_BATCH_ROWS} nor over `nPoints`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // 16 GB to plan for: the cap.
 * assert.strictEqual(streamingBatchRows(16, 1e8, 1), STREAM_MAX_BATCH_ROWS);
 * // 0.075 GB (memoryLimitGb 0.1): a quarter of it at 72 bytes per row.
 * assert.strictEqual(streamingBatchRows(0.075, 1e8, 1), 279_620);
 * // 0.01 GB: the floor takes half of it.
 * assert.strictEqual(streamingBatchRows(0.01, 1e8, 1), 74_565);
 * assert.strictEqual(streamingBatchRows(16, 5000, 1), 5000);
 * ```
 */
export function streamingBatchRows(
  thresholdGb: number,
  nPoints: number,
  nFeatures: number,
): number {
  const bytesPerRow = STREAM_ROW_COPIES * 8 * (nFeatures + 2);
  const rowsIn = (gb: number) =>
    Math.floor(Math.max(0, gb) * BYTES_PER_GB / bytesPerRow);
  let rows = Math.min(
    STREAM_MAX_BATCH_ROWS,
    rowsIn(BATCH_MEMORY_FRACTION * thresholdGb),
  );
  if (rows < STREAM_FLOOR_BATCH_ROWS) {
    rows = Math.min(STREAM_FLOOR_BATCH_ROWS, rowsIn(0.5 * thresholdGb));
  }
  return Math.min(nPoints, Math.max(MIN_BATCH_ROWS, rows));
}

/**
 * The strategies the memory decision tree chooses between.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const name: MemoryStrategy = "chunked";
 * assert.strictEqual(name, "chunked");
 * ```
 */
export type MemoryStrategy = "standard" | "chunked" | "streaming";

/**
 * Configuration of the chunked strategy.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const config: ChunkedConfig = { chunkSize: 100_000 };
 * assert.strictEqual(config.chunkSize, 100_000);
 * ```
 */
export interface ChunkedConfig {
  /** Rows per chunk. */
  chunkSize: number;
}

/**
 * Configuration of the streaming strategy.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const config: StreamingConfig = { batchSize: 50_000 };
 * assert.strictEqual(config.batchSize, 50_000);
 * ```
 */
export interface StreamingConfig {
  /** Rows per batch read from the source. */
  batchSize: number;
}

/**
 * Inputs of {@linkcode MemoryBudgetSelector.select}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const options: SelectOptions = { nPoints: 1_000, nParams: 3, memoryLimitGb: 4 };
 * assert.strictEqual(new MemoryBudgetSelector().select(options).strategy, "standard");
 * ```
 */
export interface SelectOptions {
  /** Number of data points. */
  nPoints: number;
  /** Number of parameters. */
  nParams: number;
  /** Independent variables per point. Default 1. */
  nFeatures?: number;
  /** Bytes per value: 8 (float64) or 4 (float32). Default 8. */
  dtypeBytes?: number;
  /** Available memory in GB, replacing detection. */
  memoryLimitGb?: number;
  /** Recorded in the result; does not change the strategy. */
  goal?: OptimizationGoal | string;
  /** Budget against GPU memory too. Default false. */
  useGpu?: boolean;
  /** Log the budget and the reason on stderr. Default false. */
  verbose?: boolean;
}

/**
 * Fields common to every {@linkcode Selection}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MemoryBudgetSelector } from "@nlsq/nlsq";
 * import type { SelectionBase } from "@nlsq/nlsq/workflow";
 * const s: SelectionBase = new MemoryBudgetSelector().select({ nPoints: 1000, nParams: 2, memoryLimitGb: 8 });
 * assert.match(s.reason, /fits/);
 * assert.strictEqual(s.goal, undefined);
 * ```
 */
export interface SelectionBase {
  /** The budget the decision was made on. */
  budget: MemoryBudget;
  /** One sentence: why this strategy. */
  reason: string;
  /** The normalized goal, when one was given. */
  goal: OptimizationGoal | undefined;
}

/**
 * The selected strategy and its configuration.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const s: Selection = new MemoryBudgetSelector().select({
 *   nPoints: 10_000_000, nParams: 5, memoryLimitGb: 0.5,
 * });
 * if (s.strategy === "chunked") assert.ok(s.config.chunkSize >= 1_000);
 * else assert.fail(s.strategy);
 * ```
 */
export type Selection =
  | SelectionBase & { strategy: "standard"; config: null }
  | SelectionBase & { strategy: "chunked"; config: ChunkedConfig }
  | SelectionBase & { strategy: "streaming"; config: StreamingConfig };

/**
 * Picks the strategy of a fit from its {@linkcode MemoryBudget}:
 *
 * 1. the data does not fit (`dataGb > thresholdGb`): `"streaming"`;
 * 2. else the peak does not fit (`peakGb > thresholdGb`): `"chunked"`;
 * 3. else `"standard"`.
 *
 * Chunks are sized so that one chunk's Jacobian (with its 1.3x work
 * factor), data and residual rows use {@linkcode BATCH_MEMORY_FRACTION} of
 * the threshold (at most what the in-memory data and solver leave), clamped
 * to [{@linkcode MIN_BATCH_ROWS}, {@linkcode MAX_BATCH_ROWS}] and to
 * `nPoints`; streaming batches by {@linkcode streamingBatchRows}.
 *
 * @example The decision tree at 10M points, 5 parameters
 * ```ts
 * import assert from "node:assert";
 * const selector = new MemoryBudgetSelector({ safetyFactor: 0.75 });
 * const pick = (memoryLimitGb: number) =>
 *   selector.select({ nPoints: 10_000_000, nParams: 5, memoryLimitGb }).strategy;
 * assert.strictEqual(pick(1), "standard"); // peak 0.7333 <= 0.75
 * assert.strictEqual(pick(0.5), "chunked"); // data 0.1490 <= 0.375 < peak
 * assert.strictEqual(pick(0.1), "streaming"); // data 0.1490 > 0.075
 * ```
 */
export class MemoryBudgetSelector {
  /** Fraction of available memory to plan for, in (0, 1]. */
  readonly safetyFactor: number;

  /**
   * Creates a selector.
   *
   * @param options `safetyFactor` in (0, 1], default 0.75.
   * @throws {RangeError} `safetyFactor` is outside (0, 1].
   */
  constructor(options: { safetyFactor?: number } = {}) {
    const safetyFactor = options.safetyFactor ?? 0.75;
    assertPositiveFinite("safetyFactor", safetyFactor);
    if (safetyFactor > 1) {
      throw new RangeError(
        `safetyFactor must be in (0, 1], got ${safetyFactor}`,
      );
    }
    this.safetyFactor = safetyFactor;
  }

  /**
   * Rows per batch of a streaming fit of this size, whichever strategy the
   * decision tree would pick: the fit's workflow may name "streaming" for
   * data that would fit in memory (see {@linkcode streamingBatchRows}).
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert";
   * const rows = new MemoryBudgetSelector().streamingBatchSize({
   *   nPoints: 1e8, nParams: 3, memoryLimitGb: 0.1,
   * });
   * assert.strictEqual(rows, 279_620);
   * ```
   *
   * @throws {RangeError} As {@linkcode MemoryBudget.compute}.
   */
  streamingBatchSize(options: SelectOptions): number {
    const budget = MemoryBudget.compute({
      nPoints: options.nPoints,
      nParams: options.nParams,
      nFeatures: options.nFeatures,
      dtypeBytes: options.dtypeBytes,
      safetyFactor: this.safetyFactor,
      memoryLimitGb: options.memoryLimitGb,
      useGpu: options.useGpu,
    });
    return streamingBatchRows(
      budget.thresholdGb,
      options.nPoints,
      assertInteger("nFeatures", options.nFeatures ?? 1, 1),
    );
  }

  /**
   * Computes the budget and applies the decision tree.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert";
   * const s = new MemoryBudgetSelector().select({
   *   nPoints: 100_000, nParams: 5, memoryLimitGb: 16, goal: "quality",
   * });
   * assert.strictEqual(s.strategy, "standard");
   * assert.strictEqual(s.config, null);
   * assert.strictEqual(s.goal, "quality");
   * assert.match(s.reason, /fits/);
   * ```
   *
   * @throws {RangeError} As {@linkcode MemoryBudget.compute}.
   * @throws {TypeError} `goal` names no goal, or `verbose` is not a boolean.
   */
  select(options: SelectOptions): Selection {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("select options must be an object");
    }
    const goal = options.goal === undefined
      ? undefined
      : normalizeGoal(options.goal);
    const verbose = assertBoolean("verbose", options.verbose ?? false);
    const budget = MemoryBudget.compute({
      nPoints: options.nPoints,
      nParams: options.nParams,
      nFeatures: options.nFeatures,
      dtypeBytes: options.dtypeBytes,
      safetyFactor: this.safetyFactor,
      memoryLimitGb: options.memoryLimitGb,
      useGpu: options.useGpu,
    });
    const nFeatures = assertInteger("nFeatures", options.nFeatures ?? 1, 1);
    const dtypeBytes = options.dtypeBytes ?? 8;
    // Per row: Jacobian row with its work factor, x columns and y, residual.
    const bytesPerRow = dtypeBytes *
      (JACOBIAN_PEAK_FACTOR * options.nParams + nFeatures + 2);
    const rowsFor = (gb: number) =>
      Math.min(
        options.nPoints,
        Math.max(
          MIN_BATCH_ROWS,
          Math.min(
            MAX_BATCH_ROWS,
            Math.floor(Math.max(0, gb) * BYTES_PER_GB / bytesPerRow),
          ),
        ),
      );
    const fmt = (gb: number) => `${gb.toFixed(4)} GB`;
    let selection: Selection;
    if (!budget.dataFits) {
      const batchSize = streamingBatchRows(
        budget.thresholdGb,
        options.nPoints,
        nFeatures,
      );
      selection = {
        strategy: "streaming",
        config: { batchSize },
        budget,
        goal,
        reason: `data (${fmt(budget.dataGb)}) exceeds the threshold (${
          fmt(budget.thresholdGb)
        }), so it is streamed in batches of ${batchSize} rows`,
      };
    } else if (!budget.fitsInMemory) {
      const chunkSize = rowsFor(Math.min(
        BATCH_MEMORY_FRACTION * budget.thresholdGb,
        budget.thresholdGb - budget.dataGb - SOLVER_OVERHEAD_GB,
      ));
      selection = {
        strategy: "chunked",
        config: { chunkSize },
        budget,
        goal,
        reason: `data (${fmt(budget.dataGb)}) fits but the peak (${
          fmt(budget.peakGb)
        }) exceeds the threshold (${
          fmt(budget.thresholdGb)
        }), so the Jacobian is built in chunks of ${chunkSize} rows`,
      };
    } else {
      selection = {
        strategy: "standard",
        config: null,
        budget,
        goal,
        reason: `the peak (${fmt(budget.peakGb)}) fits within the threshold (${
          fmt(budget.thresholdGb)
        })`,
      };
    }
    if (verbose) {
      console.error(
        `[nlsq] memory budget: available ${
          fmt(budget.availableGb)
        } (${budget.source}), threshold ${fmt(budget.thresholdGb)}, data ${
          fmt(budget.dataGb)
        }, Jacobian ${fmt(budget.jacobianGb)}, peak ${fmt(budget.peakGb)}`,
      );
      console.error(
        `[nlsq] strategy ${selection.strategy}: ${selection.reason}`,
      );
    }
    return selection;
  }
}
