import assert from "node:assert";
import {
  JACOBIAN_PEAK_FACTOR,
  MemoryBudget,
  MemoryBudgetSelector,
  SOLVER_OVERHEAD_GB,
} from "../workflow/mod.ts";

const GB = 2 ** 30;

Deno.test("MemoryBudget.compute reproduces the specification's table", () => {
  const table: [number, string, string, string][] = [
    [100_000, "0.0015", "0.0037", "0.1063"],
    [1_000_000, "0.0149", "0.0373", "0.1633"],
    [10_000_000, "0.1490", "0.3725", "0.7333"],
  ];
  for (const [nPoints, data, jac, peak] of table) {
    const b = MemoryBudget.compute({ nPoints, nParams: 5, memoryLimitGb: 64 });
    assert.deepStrictEqual(
      [b.dataGb.toFixed(4), b.jacobianGb.toFixed(4), b.peakGb.toFixed(4)],
      [data, jac, peak],
      `nPoints=${nPoints}`,
    );
  }
});

Deno.test("MemoryBudget.compute follows the formulas exactly", () => {
  const b = MemoryBudget.compute({
    nPoints: 123_457,
    nParams: 7,
    nFeatures: 3,
    dtypeBytes: 4,
    safetyFactor: 0.6,
    memoryLimitGb: 2.5,
  });
  const data = 123_457 * 4 * 4 / GB;
  const jac = 123_457 * 7 * 4 / GB;
  assert.strictEqual(b.dataGb, data);
  assert.strictEqual(b.jacobianGb, jac);
  assert.strictEqual(b.peakGb, data + 1.3 * jac + 0.1);
  assert.strictEqual(b.availableGb, 2.5);
  assert.strictEqual(b.thresholdGb, 2.5 * 0.6);
  assert.strictEqual(JACOBIAN_PEAK_FACTOR, 1.3);
  assert.strictEqual(SOLVER_OVERHEAD_GB, 0.1);
});

Deno.test("MemoryBudget defaults: 1 feature, float64, safety 0.75", () => {
  const b = MemoryBudget.compute({
    nPoints: 1_000_000,
    nParams: 2,
    memoryLimitGb: 4,
  });
  assert.strictEqual(b.dataGb, 1_000_000 * 2 * 8 / GB);
  assert.strictEqual(b.thresholdGb, 3);
  assert.strictEqual(b.source, "memoryLimitGb");
  assert.ok(b.notes.some((n) => n.includes("memoryLimitGb=4")));
});

Deno.test("fitsInMemory and dataFits at their boundaries", () => {
  const base = MemoryBudget.compute({
    nPoints: 10_000_000,
    nParams: 5,
    memoryLimitGb: 1,
  });
  // safetyFactor 0.5 makes threshold = limit / 2 exact, so equality is exact.
  const at = (memoryLimitGb: number) =>
    MemoryBudget.compute({
      nPoints: 10_000_000,
      nParams: 5,
      safetyFactor: 0.5,
      memoryLimitGb,
    });
  const peakEdge = at(2 * base.peakGb);
  assert.strictEqual(peakEdge.thresholdGb, base.peakGb);
  assert.strictEqual(peakEdge.fitsInMemory, true);
  const belowPeak = at(2 * base.peakGb * (1 - 2 ** -40));
  assert.strictEqual(belowPeak.fitsInMemory, false);
  assert.strictEqual(belowPeak.dataFits, true);
  const dataEdge = at(2 * base.dataGb);
  assert.strictEqual(dataEdge.thresholdGb, base.dataGb);
  assert.strictEqual(dataEdge.dataFits, true);
  assert.strictEqual(at(2 * base.dataGb * (1 - 2 ** -40)).dataFits, false);
});

Deno.test("MemoryBudget.compute rejects bad inputs with RangeError naming the option", () => {
  const ok = { nPoints: 1000, nParams: 3, memoryLimitGb: 1 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ nPoints: 0 }, /nPoints/],
    [{ nPoints: -5 }, /nPoints/],
    [{ nPoints: 10.5 }, /nPoints/],
    [{ nPoints: NaN }, /nPoints/],
    [{ nPoints: Infinity }, /nPoints/],
    [{ nParams: 0 }, /nParams/],
    [{ nParams: 2.5 }, /nParams/],
    [{ nFeatures: 0 }, /nFeatures/],
    [{ dtypeBytes: 0 }, /dtypeBytes/],
    [
      { dtypeBytes: 3 },
      /dtypeBytes must be 4 \(float32\) or 8 \(float64\), got 3/,
    ],
    [{ dtypeBytes: 2 }, /dtypeBytes/],
    [{ dtypeBytes: 16 }, /dtypeBytes/],
    [{ dtypeBytes: 8.5 }, /dtypeBytes/],
    [{ safetyFactor: 0 }, /safetyFactor/],
    [{ safetyFactor: -0.5 }, /safetyFactor/],
    [{ safetyFactor: 1.0001 }, /safetyFactor/],
    [{ safetyFactor: NaN }, /safetyFactor/],
    [{ memoryLimitGb: 0 }, /memoryLimitGb/],
    [{ memoryLimitGb: -1 }, /memoryLimitGb/],
    [{ memoryLimitGb: Infinity }, /memoryLimitGb/],
    [{ memoryLimitGb: NaN }, /memoryLimitGb/],
  ];
  for (const [bad, name] of cases) {
    assert.throws(
      () => MemoryBudget.compute({ ...ok, ...bad } as never),
      (e: unknown) => e instanceof RangeError && name.test(e.message),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => MemoryBudget.compute({ ...ok, nPoints: "10" } as never),
    TypeError,
  );
  assert.throws(
    () => MemoryBudget.compute({ ...ok, useGpu: "yes" } as never),
    /useGpu/,
  );
  assert.throws(
    () => MemoryBudget.compute({ ...ok, dtypeBytes: "8" } as never),
    (e: unknown) =>
      e instanceof TypeError &&
      /dtypeBytes must be a number, got "8"/.test(e.message),
  );
  // The selector budgets through compute: the same check.
  assert.throws(
    () => new MemoryBudgetSelector().select({ ...ok, dtypeBytes: 3 }),
    (e: unknown) => e instanceof RangeError && /dtypeBytes/.test(e.message),
  );
  assert.strictEqual(
    MemoryBudget.compute({ ...ok, dtypeBytes: 4 }).dataGb * 2,
    MemoryBudget.compute(ok).dataGb,
  );
  // safetyFactor 1 is the inclusive end of (0, 1].
  assert.strictEqual(
    MemoryBudget.compute({ ...ok, safetyFactor: 1 }).thresholdGb,
    1,
  );
});

Deno.test("memoryLimitGb overrides the GPU figure too", () => {
  const b = MemoryBudget.compute({
    nPoints: 1000,
    nParams: 2,
    memoryLimitGb: 7,
    useGpu: true,
  });
  assert.strictEqual(b.availableGb, 7);
  assert.strictEqual(b.thresholdGb, 5.25);
});

Deno.test("MemoryBudget.compute without an override detects memory", () => {
  const b = MemoryBudget.compute({ nPoints: 1000, nParams: 2 });
  const expected = Deno.systemMemoryInfo().available / GB;
  assert.ok(b.availableGb > 0);
  // Detection may be capped by a cgroup, never raised above the system figure
  // (allowing for the memory that changed between the two reads).
  assert.ok(
    b.availableGb <= expected * 1.05,
    `${b.availableGb} vs ${expected}`,
  );
  assert.strictEqual(b.thresholdGb, b.availableGb * 0.75);
  assert.notStrictEqual(b.source, "memoryLimitGb");
});

Deno.test("new MemoryBudget validates and exposes its fields", () => {
  const b = new MemoryBudget({
    availableGb: 2,
    thresholdGb: 1.5,
    dataGb: 1,
    jacobianGb: 1,
    peakGb: 2.4,
  });
  assert.strictEqual(b.dataFits, true);
  assert.strictEqual(b.fitsInMemory, false);
  assert.strictEqual(b.source, "memoryLimitGb");
  assert.throws(
    () =>
      new MemoryBudget({
        availableGb: 2,
        thresholdGb: 1.5,
        dataGb: -1,
        jacobianGb: 1,
        peakGb: 2.4,
      }),
    /dataGb/,
  );
});
