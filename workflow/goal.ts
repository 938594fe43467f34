/**
 * Optimization goals: what the user cares about most in a fit.
 *
 * @module
 */

/**
 * What the user cares about most. `GLOBAL` is an alias of `ROBUST` (see
 * {@linkcode normalizeGoal}); goals shift tolerances and presets, never the
 * memory strategy.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(OptimizationGoal.MEMORY_EFFICIENT, "memory_efficient");
 * const goal: OptimizationGoal = OptimizationGoal.QUALITY;
 * assert.strictEqual(goal, "quality");
 * ```
 */
export const OptimizationGoal: {
  readonly FAST: "fast";
  readonly ROBUST: "robust";
  readonly GLOBAL: "global";
  readonly MEMORY_EFFICIENT: "memory_efficient";
  readonly QUALITY: "quality";
} = Object.freeze(
  {
    /** Looser tolerances (one tier), fewest evaluations. */
    FAST: "fast",
    /** Default tolerances; multi-start where the preset asks for it. */
    ROBUST: "robust",
    /** Alias of ROBUST, kept for the seed API's `GLOBAL`. */
    GLOBAL: "global",
    /** Default tolerances; prefer the smaller-memory strategies' settings. */
    MEMORY_EFFICIENT: "memory_efficient",
    /** Tighter tolerances (one tier). */
    QUALITY: "quality",
  } as const,
);

/**
 * One of the {@linkcode OptimizationGoal} values.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const goal: OptimizationGoal = "fast";
 * assert.strictEqual(goal, OptimizationGoal.FAST);
 * ```
 */
export type OptimizationGoal =
  typeof OptimizationGoal[keyof typeof OptimizationGoal];

const VALUES: readonly OptimizationGoal[] = Object.values(OptimizationGoal);

/**
 * Validates a goal given as an {@linkcode OptimizationGoal} value or a
 * case-insensitive string (`"Quality"`, `"MEMORY_EFFICIENT"`,
 * `"memory-efficient"`), mapping `GLOBAL` to `ROBUST`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(normalizeGoal("QUALITY"), OptimizationGoal.QUALITY);
 * assert.strictEqual(normalizeGoal(OptimizationGoal.GLOBAL), OptimizationGoal.ROBUST);
 * assert.strictEqual(normalizeGoal("Memory-Efficient"), "memory_efficient");
 * assert.throws(() => normalizeGoal("fastest"), TypeError);
 * ```
 *
 * @throws {TypeError} `goal` is not a string or names no goal.
 */
export function normalizeGoal(
  goal: OptimizationGoal | string,
): OptimizationGoal {
  if (typeof goal !== "string") {
    throw new TypeError(`goal must be a string, got ${typeof goal}`);
  }
  const key = goal.trim().toLowerCase().replaceAll("-", "_");
  const found = VALUES.find((value) => value === key);
  if (found === undefined) {
    throw new TypeError(
      `goal must be one of ${VALUES.join(", ")} (any case), got "${goal}"`,
    );
  }
  return found === OptimizationGoal.GLOBAL ? OptimizationGoal.ROBUST : found;
}
