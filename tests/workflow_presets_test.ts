import assert from "node:assert";
import {
  isPresetName,
  resolveWorkflow,
  WORKFLOW_PRESETS,
  workflowTolerances,
} from "../workflow/mod.ts";

Deno.test("WORKFLOW_PRESETS: the eight presets and their settings", () => {
  const summary = Object.fromEntries(
    Object.entries(WORKFLOW_PRESETS).map(([key, p]) => [key, [
      p.name,
      p.strategy,
      p.tolerance,
      p.multiStart && `${p.multiStart.nStarts}/${p.multiStart.sampler}`,
      p.validate,
      p.checkpoints,
    ]]),
  );
  assert.deepStrictEqual(summary, {
    auto: ["auto", "auto", "adaptive", null, false, false],
    standard: ["standard", "standard", 1e-8, null, false, false],
    quality: ["quality", "auto", 1e-10, "20/lhs", true, false],
    fast: ["fast", "auto", 1e-6, null, false, false],
    large_robust: ["large_robust", "chunked", 1e-8, "10/lhs", false, false],
    streaming: ["streaming", "streaming", 1e-7, null, false, false],
    hpc_distributed: [
      "hpc_distributed",
      "distributed",
      1e-6,
      null,
      false,
      true,
    ],
    global: ["global", "auto", "adaptive", null, false, false],
  });
  assert.strictEqual(WORKFLOW_PRESETS.global.globalSearch, true);
  for (const p of Object.values(WORKFLOW_PRESETS)) {
    assert.strictEqual(typeof p.description, "string");
    assert.ok(p.description.length > 10);
  }
});

Deno.test("WORKFLOW_PRESETS is deeply frozen", () => {
  assert.ok(Object.isFrozen(WORKFLOW_PRESETS));
  assert.ok(Object.isFrozen(WORKFLOW_PRESETS.quality));
  assert.ok(Object.isFrozen(WORKFLOW_PRESETS.quality.multiStart));
  assert.throws(() => {
    (WORKFLOW_PRESETS.fast as { tolerance: number }).tolerance = 1;
  }, TypeError);
  assert.strictEqual(WORKFLOW_PRESETS.fast.tolerance, 1e-6);
});

Deno.test("resolveWorkflow: undefined and preset names", () => {
  assert.strictEqual(resolveWorkflow(undefined), WORKFLOW_PRESETS.auto);
  for (const name of Object.keys(WORKFLOW_PRESETS)) {
    assert.ok(isPresetName(name));
    assert.strictEqual(
      resolveWorkflow(name),
      WORKFLOW_PRESETS[name as keyof typeof WORKFLOW_PRESETS],
    );
  }
  assert.strictEqual(isPresetName("toString"), false);
});

Deno.test("resolveWorkflow: strategy names, built-in and registered", () => {
  const chunked = resolveWorkflow("chunked");
  assert.deepStrictEqual({ ...chunked }, {
    name: "chunked",
    description: "the chunked strategy with adaptive tolerances",
    strategy: "chunked",
    tolerance: "adaptive",
    multiStart: null,
    validate: false,
    checkpoints: false,
  });
  assert.ok(Object.isFrozen(chunked));
  assert.strictEqual(resolveWorkflow("distributed").strategy, "distributed");
  assert.throws(() => resolveWorkflow("gpu_tiled"), TypeError);
  const registry = new Set(["gpu_tiled"]);
  const isStrategyName = (name: string) => registry.has(name);
  assert.strictEqual(
    resolveWorkflow("gpu_tiled", { isStrategyName }).strategy,
    "gpu_tiled",
  );
  // A preset name wins over a strategy of the same name.
  assert.strictEqual(
    resolveWorkflow("streaming", { isStrategyName: () => true }),
    WORKFLOW_PRESETS.streaming,
  );
});

Deno.test("resolveWorkflow: an unknown name is a TypeError listing the valid names", () => {
  assert.throws(
    () => resolveWorkflow("qualty"),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message.includes("workflow must be one of") &&
      e.message.includes(
        "auto, standard, quality, fast, large_robust, streaming, hpc_distributed, global",
      ) && e.message.includes('"qualty"'),
  );
  assert.throws(() => resolveWorkflow("AUTO"), TypeError);
  assert.throws(
    () => resolveWorkflow(42 as never),
    /workflow must be an object/,
  );
  assert.throws(() => resolveWorkflow(null as never), TypeError);
});

Deno.test("resolveWorkflow: config objects extend a preset", () => {
  const custom = resolveWorkflow({ tolerance: 1e-9 });
  assert.deepStrictEqual({ ...custom }, {
    name: "custom",
    description: 'custom workflow based on "auto"',
    strategy: "auto",
    tolerance: 1e-9,
    multiStart: null,
    validate: false,
    globalSearch: false,
    checkpoints: false,
    config: null,
  });
  assert.deepStrictEqual(
    resolveWorkflow({ strategy: "chunked", config: { chunkSize: 500 } }).config,
    { chunkSize: 500 },
  );
  assert.throws(
    () => resolveWorkflow({ config: 3 as never }),
    /workflow.config/,
  );
  const robust = resolveWorkflow({
    extends: "large_robust",
    name: "mine",
    multiStart: { nStarts: 4, sampler: "halton" },
    checkpoints: true,
  });
  assert.strictEqual(robust.name, "mine");
  assert.strictEqual(robust.strategy, "chunked");
  assert.strictEqual(robust.tolerance, 1e-8);
  assert.deepStrictEqual(robust.multiStart, { nStarts: 4, sampler: "halton" });
  assert.strictEqual(robust.checkpoints, true);
  assert.ok(Object.isFrozen(robust.multiStart));
  // The sampler defaults to lhs; null switches multi-start off.
  assert.deepStrictEqual(
    resolveWorkflow({ multiStart: { nStarts: 3 } as never }).multiStart,
    { nStarts: 3, sampler: "lhs" },
  );
  assert.strictEqual(
    resolveWorkflow({ extends: "quality", multiStart: null }).multiStart,
    null,
  );
  assert.strictEqual(
    resolveWorkflow({ strategy: "mine" }, {
      isStrategyName: (n) => n === "mine",
    })
      .strategy,
    "mine",
  );
});

Deno.test("resolveWorkflow: typed errors for bad fields", () => {
  const cases: [unknown, ErrorConstructor | RangeErrorConstructor, RegExp][] = [
    [
      { tolerence: 1e-8 },
      TypeError,
      /workflow\.tolerence is not a workflow field/,
    ],
    [{ extends: "best" }, TypeError, /workflow\.extends must be one of/],
    [{ strategy: "gpu" }, TypeError, /workflow\.strategy must be one of/],
    [{ strategy: 3 }, TypeError, /workflow\.strategy/],
    [
      { tolerance: "tight" },
      TypeError,
      /workflow\.tolerance must be a number or "adaptive"/,
    ],
    [{ tolerance: 0 }, RangeError, /workflow\.tolerance must be in \(0, 1\)/],
    [{ tolerance: 1 }, RangeError, /workflow\.tolerance/],
    [{ tolerance: NaN }, RangeError, /workflow\.tolerance/],
    [
      { multiStart: { nStarts: 0 } },
      RangeError,
      /workflow\.multiStart\.nStarts/,
    ],
    [
      { multiStart: { nStarts: 2.5 } },
      RangeError,
      /workflow\.multiStart\.nStarts/,
    ],
    [
      { multiStart: { nStarts: 3, sampler: "random" } },
      TypeError,
      /workflow\.multiStart\.sampler must be one of lhs, sobol, halton/,
    ],
    [
      { multiStart: { nStarts: 3, seed: 1 } },
      TypeError,
      /workflow\.multiStart\.seed/,
    ],
    [{ multiStart: 5 }, TypeError, /workflow\.multiStart must be an object/],
    [{ validate: "yes" }, TypeError, /workflow\.validate must be a boolean/],
    [{ checkpoints: 1 }, TypeError, /workflow\.checkpoints must be a boolean/],
    [{ name: 5 }, TypeError, /workflow\.name/],
    [{ description: [] }, TypeError, /workflow\.description/],
  ];
  for (const [input, type, message] of cases) {
    assert.throws(
      () => resolveWorkflow(input as never),
      (e: unknown) => e instanceof type && message.test((e as Error).message),
      JSON.stringify(input),
    );
  }
});

Deno.test("workflowTolerances: fixed values or adaptive with the goal", () => {
  assert.deepStrictEqual(workflowTolerances(WORKFLOW_PRESETS.quality, 10), {
    gtol: 1e-10,
    ftol: 1e-10,
    xtol: 1e-10,
  });
  // The goal shifts adaptive tolerances only.
  assert.strictEqual(
    workflowTolerances(WORKFLOW_PRESETS.standard, 5_000_000, "fast").ftol,
    1e-8,
  );
  assert.strictEqual(
    workflowTolerances(WORKFLOW_PRESETS.auto, 5_000_000).ftol,
    1e-7,
  );
  assert.strictEqual(
    workflowTolerances(WORKFLOW_PRESETS.auto, 5_000_000, "fast").ftol,
    1e-6,
  );
  assert.throws(() => workflowTolerances(WORKFLOW_PRESETS.fast, 0), /nPoints/);
});
