import assert from "node:assert";
import {
  calculateAdaptiveTolerances,
  DATASET_SIZE_TIERS,
  datasetSizeTier,
  normalizeGoal,
  OptimizationGoal,
} from "../workflow/mod.ts";

Deno.test("OptimizationGoal values", () => {
  assert.deepStrictEqual({ ...OptimizationGoal }, {
    FAST: "fast",
    ROBUST: "robust",
    GLOBAL: "global",
    MEMORY_EFFICIENT: "memory_efficient",
    QUALITY: "quality",
  });
  assert.ok(Object.isFrozen(OptimizationGoal));
});

Deno.test("normalizeGoal accepts values and case-insensitive strings", () => {
  assert.strictEqual(normalizeGoal(OptimizationGoal.FAST), "fast");
  assert.strictEqual(normalizeGoal("FAST"), "fast");
  assert.strictEqual(normalizeGoal("Quality"), "quality");
  assert.strictEqual(normalizeGoal(" robust "), "robust");
  assert.strictEqual(normalizeGoal("MEMORY_EFFICIENT"), "memory_efficient");
  assert.strictEqual(normalizeGoal("memory-efficient"), "memory_efficient");
  assert.strictEqual(normalizeGoal(OptimizationGoal.GLOBAL), "robust");
  assert.strictEqual(normalizeGoal("Global"), "robust");
});

Deno.test("normalizeGoal rejects unknown goals with a TypeError naming goal", () => {
  for (const bad of ["fastest", "", "q", 3, null, undefined]) {
    assert.throws(
      () => normalizeGoal(bad as never),
      (e: unknown) => e instanceof TypeError && /goal/.test(e.message),
      String(bad),
    );
  }
  assert.throws(() => normalizeGoal("nope"), /fast, robust, global/);
});

Deno.test("calculateAdaptiveTolerances: tiers at their boundaries", () => {
  const cases: [number, number, string][] = [
    [1, 1e-12, "TINY"],
    [999, 1e-12, "TINY"],
    [1000, 1e-10, "SMALL"],
    [9999, 1e-10, "SMALL"],
    [10_000, 1e-9, "MEDIUM"],
    [99_999, 1e-9, "MEDIUM"],
    [100_000, 1e-8, "LARGE"],
    [999_999, 1e-8, "LARGE"],
    [1_000_000, 1e-7, "VERY_LARGE"],
    [9_999_999, 1e-7, "VERY_LARGE"],
    [10_000_000, 1e-6, "HUGE"],
    [99_999_999, 1e-6, "HUGE"],
    [100_000_000, 1e-5, "MASSIVE"],
    [1e12, 1e-5, "MASSIVE"],
  ];
  for (const [n, tol, tier] of cases) {
    assert.deepStrictEqual(
      calculateAdaptiveTolerances(n),
      { gtol: tol, ftol: tol, xtol: tol },
      `n=${n}`,
    );
    assert.strictEqual(datasetSizeTier(n), tier, `n=${n}`);
  }
  assert.deepStrictEqual(DATASET_SIZE_TIERS.map((t) => t.name), [
    "TINY",
    "SMALL",
    "MEDIUM",
    "LARGE",
    "VERY_LARGE",
    "HUGE",
    "MASSIVE",
  ]);
});

Deno.test("calculateAdaptiveTolerances: goals shift one tier, clamped", () => {
  const tol = (n: number, goal?: string) =>
    calculateAdaptiveTolerances(n, goal).gtol;
  assert.strictEqual(tol(5_000_000), 1e-7);
  assert.strictEqual(tol(5_000_000, OptimizationGoal.QUALITY), 1e-8);
  assert.strictEqual(tol(5_000_000, OptimizationGoal.FAST), 1e-6);
  assert.strictEqual(tol(5_000_000, "ROBUST"), 1e-7);
  assert.strictEqual(tol(5_000_000, "global"), 1e-7);
  assert.strictEqual(tol(5_000_000, "memory_efficient"), 1e-7);
  // Clamped at the ends.
  assert.strictEqual(tol(500, "quality"), 1e-12);
  assert.strictEqual(tol(500, "fast"), 1e-10);
  assert.strictEqual(tol(1e9, "fast"), 1e-5);
  assert.strictEqual(tol(1e9, "quality"), 1e-6);
  // QUALITY at SMALL skips nothing: SMALL (1e-10) -> TINY (1e-12).
  assert.strictEqual(tol(1000, "quality"), 1e-12);
  const all = calculateAdaptiveTolerances(50_000, "fast");
  assert.deepStrictEqual(all, { gtol: 1e-8, ftol: 1e-8, xtol: 1e-8 });
});

Deno.test("calculateAdaptiveTolerances rejects bad sizes and goals", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => calculateAdaptiveTolerances(bad), RangeError);
    assert.throws(() => datasetSizeTier(bad), /nPoints/);
  }
  assert.throws(() => calculateAdaptiveTolerances(10, "best"), TypeError);
});
