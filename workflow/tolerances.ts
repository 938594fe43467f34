/**
 * Tolerances that scale with the size of the data set: with more points,
 * statistical noise in the estimate exceeds what tighter tolerances buy, and
 * every extra iteration costs a pass over the data.
 *
 * @module
 */

import { normalizeGoal, OptimizationGoal } from "./goal.ts";
import { assertInteger } from "./_validate.ts";

/**
 * The name of a data-set size tier.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const tier: DatasetSizeTier = datasetSizeTier(5_000_000);
 * assert.strictEqual(tier, "VERY_LARGE");
 * ```
 */
export type DatasetSizeTier =
  | "TINY"
  | "SMALL"
  | "MEDIUM"
  | "LARGE"
  | "VERY_LARGE"
  | "HUGE"
  | "MASSIVE";

/**
 * One size tier: data sets with fewer than `maxPoints` points (and at least
 * the previous tier's bound) get `tolerance`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const tier: DatasetSizeTierInfo = DATASET_SIZE_TIERS[0];
 * assert.deepStrictEqual(tier, { name: "TINY", maxPoints: 1000, tolerance: 1e-12 });
 * ```
 */
export interface DatasetSizeTierInfo {
  /** Tier name. */
  readonly name: DatasetSizeTier;
  /** Exclusive upper bound on the number of points (Infinity for the last). */
  readonly maxPoints: number;
  /** Tolerance used for gtol, ftol and xtol in this tier. */
  readonly tolerance: number;
}

/**
 * The tiers, smallest first: TINY < 1e3 (1e-12), SMALL < 1e4 (1e-10),
 * MEDIUM < 1e5 (1e-9), LARGE < 1e6 (1e-8), VERY_LARGE < 1e7 (1e-7),
 * HUGE < 1e8 (1e-6), MASSIVE (1e-5).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(
 *   DATASET_SIZE_TIERS.map((t) => t.tolerance),
 *   [1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5],
 * );
 * ```
 */
export const DATASET_SIZE_TIERS: readonly DatasetSizeTierInfo[] = Object
  .freeze(
    ([
      ["TINY", 1e3, 1e-12],
      ["SMALL", 1e4, 1e-10],
      ["MEDIUM", 1e5, 1e-9],
      ["LARGE", 1e6, 1e-8],
      ["VERY_LARGE", 1e7, 1e-7],
      ["HUGE", 1e8, 1e-6],
      ["MASSIVE", Infinity, 1e-5],
    ] as const).map(([name, maxPoints, tolerance]) =>
      Object.freeze({ name, maxPoints, tolerance })
    ),
  );

/**
 * The size tier of a data set of `nPoints` points.
 *
 * @example Boundaries
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(datasetSizeTier(999), "TINY");
 * assert.strictEqual(datasetSizeTier(1000), "SMALL");
 * assert.strictEqual(datasetSizeTier(100_000_000), "MASSIVE");
 * ```
 *
 * @throws {RangeError} `nPoints` is not an integer >= 1.
 */
export function datasetSizeTier(nPoints: number): DatasetSizeTier {
  return DATASET_SIZE_TIERS[tierIndex(nPoints)].name;
}

/**
 * Tolerances `ftol`, `xtol`, `gtol` (all equal) for a fit, as in scipy's
 * `least_squares`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const tol: AdaptiveTolerances = calculateAdaptiveTolerances(10);
 * assert.deepStrictEqual(tol, { gtol: 1e-12, ftol: 1e-12, xtol: 1e-12 });
 * ```
 */
export interface AdaptiveTolerances {
  /** Gradient tolerance. */
  gtol: number;
  /** Relative cost tolerance. */
  ftol: number;
  /** Relative step tolerance. */
  xtol: number;
}

/**
 * Tolerances from the size tier of the data set ({@linkcode DATASET_SIZE_TIERS});
 * `QUALITY` takes the next tighter tier, `FAST` the next looser one (clamped
 * at the ends); other goals take the tier's own value.
 *
 * @example 5M points
 * ```ts
 * import assert from "node:assert";
 * import { OptimizationGoal } from "./goal.ts";
 * assert.strictEqual(calculateAdaptiveTolerances(5_000_000).gtol, 1e-7);
 * assert.strictEqual(calculateAdaptiveTolerances(5_000_000, "quality").gtol, 1e-8);
 * assert.strictEqual(calculateAdaptiveTolerances(5_000_000, OptimizationGoal.FAST).ftol, 1e-6);
 * ```
 *
 * @throws {RangeError} `nPoints` is not an integer >= 1.
 * @throws {TypeError} `goal` names no {@linkcode OptimizationGoal}.
 */
export function calculateAdaptiveTolerances(
  nPoints: number,
  goal?: OptimizationGoal | string,
): AdaptiveTolerances {
  let index = tierIndex(nPoints);
  if (goal !== undefined) {
    const normalized = normalizeGoal(goal);
    if (normalized === OptimizationGoal.QUALITY) index = Math.max(0, index - 1);
    if (normalized === OptimizationGoal.FAST) {
      index = Math.min(DATASET_SIZE_TIERS.length - 1, index + 1);
    }
  }
  const tol = DATASET_SIZE_TIERS[index].tolerance;
  return { gtol: tol, ftol: tol, xtol: tol };
}

function tierIndex(nPoints: number): number {
  assertInteger("nPoints", nPoints, 1);
  return DATASET_SIZE_TIERS.findIndex((tier) => nPoints < tier.maxPoints);
}
