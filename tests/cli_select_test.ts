// `nlsq select`: the budget and the strategy, against the selector in-process.

import assert from "node:assert";
import { runCli } from "./_cli.ts";
import { MemoryBudgetSelector } from "../memory/selector.ts";

Deno.test("select follows the decision tree (standard, chunked, streaming)", async () => {
  for (
    const [limit, strategy] of [
      ["1", "standard"],
      ["0.5", "chunked"],
      ["0.1", "streaming"],
    ] as const
  ) {
    const run = await runCli([
      "select",
      "--points",
      "10M",
      "--params",
      "5",
      "--memory-limit-gb",
      limit,
      "--json",
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    const got = JSON.parse(run.stdout);
    const ref = new MemoryBudgetSelector().select({
      nPoints: 10_000_000,
      nParams: 5,
      memoryLimitGb: Number(limit),
    });
    assert.strictEqual(got.strategy, strategy);
    assert.strictEqual(got.strategy, ref.strategy);
    assert.deepStrictEqual(got.config, ref.config);
    assert.strictEqual(got.reason, ref.reason);
    for (
      const k of [
        "dataGb",
        "jacobianGb",
        "peakGb",
        "availableGb",
        "thresholdGb",
      ] as const
    ) {
      assert.strictEqual(got.budget[k], ref.budget[k], k);
    }
  }
});

Deno.test("select prints the budget in GB and the reason", async () => {
  const run = await runCli([
    "select",
    "-n",
    "1e7",
    "-p",
    "5",
    "--features",
    "1",
    "--memory-limit-gb",
    "0.5",
  ]);
  assert.strictEqual(run.code, 0, run.stderr);
  const t = run.stdout;
  assert.match(t, /points += 10000000/);
  assert.match(t, /data += 0\.1490 GB/);
  assert.match(t, /Jacobian += 0\.3725 GB/);
  assert.match(t, /peak += 0\.7333 GB/);
  assert.match(t, /available += 0\.5000 GB \(from memoryLimitGb\)/);
  assert.match(t, /threshold += 0\.3750 GB/);
  assert.match(t, /strategy += chunked/);
  assert.match(t, /chunk size += \d+ rows/);
  assert.match(t, /reason += data \(0\.1490 GB\) fits but the peak/);
});

Deno.test("select: features, float32 and goal are passed on", async () => {
  const run = await runCli([
    "select",
    "--points",
    "2_000_000",
    "--params",
    "4",
    "--features",
    "3",
    "--dtype-bytes",
    "4",
    "--memory-limit-gb",
    "8",
    "--goal",
    "quality",
    "--json",
  ]);
  assert.strictEqual(run.code, 0, run.stderr);
  const got = JSON.parse(run.stdout);
  const ref = new MemoryBudgetSelector().select({
    nPoints: 2e6,
    nParams: 4,
    nFeatures: 3,
    dtypeBytes: 4,
    memoryLimitGb: 8,
    goal: "quality",
  });
  assert.strictEqual(got.budget.dataGb, ref.budget.dataGb);
  assert.strictEqual(got.goal, "quality");
  assert.strictEqual(got.strategy, "standard");
});

Deno.test("select exits 2 on bad input, 0 on --help", async () => {
  const cases: [string[], RegExp][] = [
    [["select", "--params", "3"], /missing --points/],
    [["select", "--points", "100"], /missing --params/],
    [
      ["select", "--points", "ten", "--params", "3"],
      /--points: expected a number/,
    ],
    [
      ["select", "--points", "1.5", "--params", "3"],
      /--points: expected an integer/,
    ],
    [["select", "--points", "100", "--params", "0"], /--params: must be >= 1/],
    [
      ["select", "--points", "100", "--params", "3", "--memory-limit-gb", "0"],
      /must be > 0/,
    ],
    [
      ["select", "--points", "100", "--params", "3", "--goal", "fastest"],
      /goal/i,
    ],
    [
      ["select", "--points", "100", "--params", "3", "--stratgy", "x"],
      /Unknown option '--stratgy'/,
    ],
  ];
  for (const [args, re] of cases) {
    const run = await runCli(args);
    assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, re, args.join(" "));
    assert.doesNotMatch(run.stderr, /^\s+at /m);
  }
  const help = await runCli(["select", "--help"]);
  assert.strictEqual(help.code, 0);
  assert.match(help.stdout, /^Usage: nlsq select --points N --params P/);
});
