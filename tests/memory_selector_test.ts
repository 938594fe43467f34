import assert from "node:assert";
import {
  MAX_BATCH_ROWS,
  MemoryBudget,
  MemoryBudgetSelector,
  MIN_BATCH_ROWS,
  OptimizationGoal,
} from "../workflow/mod.ts";
import {
  STREAM_FLOOR_BATCH_ROWS,
  STREAM_MAX_BATCH_ROWS,
  streamingBatchRows,
} from "../memory/selector.ts";

const GB = 2 ** 30;
const N = 10_000_000;
const P = 5;
const ref = MemoryBudget.compute({ nPoints: N, nParams: P, memoryLimitGb: 1 });

Deno.test("select: the decision tree on the specification's 10M-point case", () => {
  const selector = new MemoryBudgetSelector();
  const pick = (memoryLimitGb: number) =>
    selector.select({ nPoints: N, nParams: P, memoryLimitGb });
  assert.strictEqual(pick(16).strategy, "standard");
  assert.strictEqual(pick(1).strategy, "standard"); // 0.7333 <= 0.75
  assert.strictEqual(pick(0.9).strategy, "chunked"); // 0.7333 > 0.675
  assert.strictEqual(pick(0.5).strategy, "chunked");
  assert.strictEqual(pick(0.1).strategy, "streaming"); // 0.1490 > 0.075
  const standard = pick(16);
  assert.strictEqual(standard.config, null);
  assert.strictEqual(standard.budget.availableGb, 16);
});

Deno.test("select: data just fits / just does not (safety 0.75)", () => {
  const selector = new MemoryBudgetSelector({ safetyFactor: 0.75 });
  const limitAtData = ref.dataGb / 0.75;
  const fits = selector.select({
    nPoints: N,
    nParams: P,
    memoryLimitGb: limitAtData * (1 + 1e-9),
  });
  assert.strictEqual(fits.strategy, "chunked");
  assert.ok(fits.budget.dataGb <= fits.budget.thresholdGb);
  const over = selector.select({
    nPoints: N,
    nParams: P,
    memoryLimitGb: limitAtData * (1 - 1e-9),
  });
  assert.strictEqual(over.strategy, "streaming");
  assert.ok(over.budget.dataGb > over.budget.thresholdGb);
});

Deno.test("select: exact equality at the boundaries (safety 0.5)", () => {
  // With safetyFactor 0.5, threshold = limit / 2 exactly.
  const selector = new MemoryBudgetSelector({ safetyFactor: 0.5 });
  const pick = (memoryLimitGb: number) =>
    selector.select({ nPoints: N, nParams: P, memoryLimitGb }).strategy;
  const below = 1 - 2 ** -40;
  assert.strictEqual(pick(2 * ref.dataGb), "chunked"); // data == threshold fits
  assert.strictEqual(pick(2 * ref.dataGb * below), "streaming");
  assert.strictEqual(pick(2 * ref.peakGb), "standard"); // peak == threshold fits
  assert.strictEqual(pick(2 * ref.peakGb * below), "chunked");
});

Deno.test("select: chunk and batch sizes follow the documented formula", () => {
  const selector = new MemoryBudgetSelector();
  const bytesPerRow = 8 * (1.3 * P + 1 + 2);
  const chunked = selector.select({
    nPoints: N,
    nParams: P,
    memoryLimitGb: 0.5,
  });
  assert.strictEqual(chunked.strategy, "chunked");
  // threshold 0.375; min(0.25 * 0.375, 0.375 - data - 0.1) = 0.09375 GB.
  const expectedChunk = Math.floor(0.09375 * GB / bytesPerRow);
  assert.strictEqual(expectedChunk, 1_324_517);
  assert.deepStrictEqual(chunked.config, { chunkSize: expectedChunk });
  assert.match(chunked.reason, /chunks of 1324517 rows/);

  const streaming = selector.select({
    nPoints: N,
    nParams: P,
    memoryLimitGb: 0.1,
  });
  assert.strictEqual(streaming.strategy, "streaming");
  // Streaming holds no Jacobian: 3 copies (batch, read-ahead, file bytes)
  // of x, y and sigma or weights per row.
  const expectedBatch = Math.floor(0.25 * 0.075 * GB / (3 * 8 * 3));
  assert.strictEqual(expectedBatch, 279_620);
  assert.deepStrictEqual(streaming.config, { batchSize: expectedBatch });
  assert.strictEqual(
    selector.streamingBatchSize({ nPoints: N, nParams: P, memoryLimitGb: 0.1 }),
    expectedBatch,
  );
});

Deno.test("streamingBatchRows: the budget, a cap, a floor the budget can afford", () => {
  // Plenty of memory: the cap, never the old fixed 1e5.
  assert.strictEqual(streamingBatchRows(16, 1e9, 1), STREAM_MAX_BATCH_ROWS);
  // A quarter of 0.05 GB is under the floor; half of it holds the floor.
  assert.strictEqual(streamingBatchRows(0.05, 1e9, 1), STREAM_FLOOR_BATCH_ROWS);
  // Half of 0.01 GB is all the floor may take.
  assert.strictEqual(
    streamingBatchRows(0.01, 1e9, 1),
    Math.floor(0.005 * GB / 72),
  );
  // More features, fewer rows.
  assert.strictEqual(
    streamingBatchRows(0.375, 1e9, 3),
    Math.floor(0.25 * 0.375 * GB / (3 * 8 * 5)),
  );
  assert.strictEqual(streamingBatchRows(16, 777, 1), 777);
  assert.strictEqual(streamingBatchRows(1e-9, 1e9, 1), MIN_BATCH_ROWS);
});

Deno.test("select: the chunk leaves room for the in-memory data", () => {
  // threshold 0.375 * 0.8 = 0.3; data 0.1490 + overhead 0.1 leaves 0.0510 GB,
  // less than the quarter-threshold share (0.075 GB).
  const s = new MemoryBudgetSelector({ safetyFactor: 0.8 }).select({
    nPoints: N,
    nParams: P,
    memoryLimitGb: 0.375,
  });
  assert.strictEqual(s.strategy, "chunked");
  const left = s.budget.thresholdGb - s.budget.dataGb - 0.1;
  assert.ok(left < 0.25 * s.budget.thresholdGb);
  assert.deepStrictEqual(s.config, {
    chunkSize: Math.floor(left * GB / (8 * (1.3 * P + 3))),
  });
});

Deno.test("select: sizes are clamped to [1e3, 1e7] and to nPoints", () => {
  const selector = new MemoryBudgetSelector();
  // 1e5 parameters: one row is ~1 MB, the budget allows ~193 rows.
  const wide = selector.select({
    nPoints: 10_000_000,
    nParams: 100_000,
    memoryLimitGb: 1,
  });
  assert.strictEqual(wide.strategy, "chunked");
  assert.deepStrictEqual(wide.config, { chunkSize: MIN_BATCH_ROWS });
  // 1 parameter, 30 GB: the budget allows ~175M rows.
  const tall = selector.select({
    nPoints: 1_000_000_000,
    nParams: 1,
    memoryLimitGb: 30,
  });
  assert.strictEqual(tall.strategy, "chunked");
  assert.deepStrictEqual(tall.config, { chunkSize: MAX_BATCH_ROWS });
  assert.strictEqual(MIN_BATCH_ROWS, 1000);
  assert.strictEqual(MAX_BATCH_ROWS, 10_000_000);
  // Never more rows than the data has.
  const few = selector.select({
    nPoints: 500,
    nParams: 1,
    memoryLimitGb: 1e-6,
  });
  assert.strictEqual(few.strategy, "streaming");
  assert.deepStrictEqual(few.config, { batchSize: 500 });
  const floor = selector.select({
    nPoints: 2000,
    nParams: 1,
    memoryLimitGb: 1e-6,
  });
  assert.deepStrictEqual(floor.config, { batchSize: 1000 });
});

Deno.test("select: the goal is recorded but never changes the strategy", () => {
  const selector = new MemoryBudgetSelector();
  for (const memoryLimitGb of [16, 0.5, 0.1]) {
    const plain = selector.select({ nPoints: N, nParams: P, memoryLimitGb });
    for (const goal of Object.values(OptimizationGoal)) {
      const s = selector.select({
        nPoints: N,
        nParams: P,
        memoryLimitGb,
        goal,
      });
      assert.strictEqual(
        s.strategy,
        plain.strategy,
        `${goal} ${memoryLimitGb}`,
      );
      assert.deepStrictEqual(s.config, plain.config);
    }
  }
  const global = selector.select({
    nPoints: 10,
    nParams: 1,
    memoryLimitGb: 1,
    goal: "GLOBAL",
  });
  assert.strictEqual(global.goal, "robust");
  assert.throws(
    () =>
      selector.select({ nPoints: 10, nParams: 1, memoryLimitGb: 1, goal: "x" }),
    (e: unknown) => e instanceof TypeError && /goal/.test(e.message),
  );
});

Deno.test("select: reasons are sentences about the figures", () => {
  const selector = new MemoryBudgetSelector();
  const reason = (memoryLimitGb: number) =>
    selector.select({ nPoints: N, nParams: P, memoryLimitGb }).reason;
  assert.match(
    reason(16),
    /peak \(0\.7333 GB\) fits within the threshold \(12\.0000 GB\)/,
  );
  assert.match(
    reason(0.5),
    /data \(0\.1490 GB\) fits but the peak \(0\.7333 GB\) exceeds/,
  );
  assert.match(
    reason(0.1),
    /data \(0\.1490 GB\) exceeds the threshold \(0\.0750 GB\)/,
  );
});

Deno.test("select: verbose logs the budget and the reason on stderr", () => {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    const s = new MemoryBudgetSelector().select({
      nPoints: N,
      nParams: P,
      memoryLimitGb: 0.5,
      verbose: true,
    });
    assert.strictEqual(lines.length, 2);
    assert.match(lines[0], /available 0\.5000 GB \(memoryLimitGb\)/);
    assert.match(lines[0], /threshold 0\.3750 GB.*peak 0\.7333 GB/);
    assert.ok(lines[1].includes(s.reason));
    assert.match(lines[1], /strategy chunked/);
    lines.length = 0;
    new MemoryBudgetSelector().select({
      nPoints: N,
      nParams: P,
      memoryLimitGb: 0.5,
    });
    assert.strictEqual(lines.length, 0);
  } finally {
    console.error = original;
  }
});

Deno.test("MemoryBudgetSelector validates its options", () => {
  for (const safetyFactor of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => new MemoryBudgetSelector({ safetyFactor }),
      (e: unknown) => e instanceof RangeError && /safetyFactor/.test(e.message),
    );
  }
  assert.strictEqual(new MemoryBudgetSelector().safetyFactor, 0.75);
  const selector = new MemoryBudgetSelector();
  assert.throws(
    () => selector.select({ nPoints: 0, nParams: 1, memoryLimitGb: 1 }),
    /nPoints/,
  );
  assert.throws(
    () => selector.select({ nPoints: 10, nParams: 1, memoryLimitGb: -2 }),
    /memoryLimitGb/,
  );
  assert.throws(
    () =>
      selector.select({
        nPoints: 10,
        nParams: 1,
        memoryLimitGb: 1,
        verbose: 1 as never,
      }),
    /verbose/,
  );
});
