import assert from "node:assert";
import {
  ClusterInfo,
  createDistributedConfig,
  getMultiGpuConfig,
  MultiGPUConfig,
  shardRange,
} from "../cluster/mod.ts";

const pbs = () =>
  new ClusterInfo({
    nodeCount: 4,
    gpusPerNode: 8,
    nodeList: ["n1", "n2", "n3", "n4"],
    slotsPerNode: [2, 2, 2, 2],
    totalSlots: 8,
    scheduler: "pbs",
    jobId: "123.pbs01",
    interconnect: "infiniband",
  });

Deno.test("ClusterInfo: JSON round-trip keeps every field", () => {
  const info = pbs();
  const json = JSON.stringify(info);
  const back = ClusterInfo.fromJSON(json);
  assert.deepStrictEqual(back, info);
  assert.deepStrictEqual(ClusterInfo.fromJSON(JSON.parse(json)), info);
  assert.strictEqual(back.totalGpus, 32);
  assert.deepStrictEqual(JSON.parse(json), {
    nodeCount: 4,
    gpusPerNode: 8,
    totalGpus: 32,
    nodeList: ["n1", "n2", "n3", "n4"],
    slotsPerNode: [2, 2, 2, 2],
    totalSlots: 8,
    scheduler: "pbs",
    jobId: "123.pbs01",
    interconnect: "infiniband",
    partial: false,
  });
});

Deno.test("ClusterInfo: toJSON returns copies", () => {
  const info = pbs();
  info.toJSON().nodeList.push("intruder");
  assert.strictEqual(info.nodeList.length, 4);
});

Deno.test("ClusterInfo.fromJSON: defaults for the optional fields", () => {
  const info = ClusterInfo.fromJSON({ nodeCount: 2, gpusPerNode: 0 });
  assert.strictEqual(info.totalGpus, 0);
  assert.deepStrictEqual(info.nodeList, []);
  assert.strictEqual(info.scheduler, "unknown");
  assert.strictEqual(info.jobId, null);
  assert.strictEqual(info.interconnect, "unknown");
  assert.strictEqual(info.totalSlots, null);
  assert.strictEqual(info.partial, false);
});

Deno.test("ClusterInfo.fromJSON: rejects bad input with typed errors", () => {
  const ok = { nodeCount: 1, gpusPerNode: 1 };
  const typeErrors: unknown[] = [
    "not json",
    "[1]",
    null,
    42,
    { ...ok, nodeCount: "1" },
    { ...ok, gpusPerNode: 1.5 },
    { ...ok, nodeList: ["a", 3] },
    { ...ok, scheduler: "lsf" },
    { ...ok, interconnect: "carrier pigeon" },
    { ...ok, jobId: 7 },
    { ...ok, partial: "yes" },
  ];
  for (const bad of typeErrors) {
    assert.throws(() => ClusterInfo.fromJSON(bad), TypeError, String(bad));
  }
  const rangeErrors: unknown[] = [
    { ...ok, nodeCount: 0 },
    { ...ok, gpusPerNode: -1 },
    { ...ok, totalGpus: -8 },
    { ...ok, nodeList: ["a"], slotsPerNode: [1, 2] },
  ];
  for (const bad of rangeErrors) {
    assert.throws(() => ClusterInfo.fromJSON(bad), RangeError);
  }
  assert.throws(
    () => ClusterInfo.fromJSON({ ...ok, nodeCount: "1" }),
    /nodeCount/,
  );
});

Deno.test("MultiGPUConfig: totalBatchSize and validation", () => {
  const cfg = new MultiGPUConfig({ nDevices: 3, perDeviceBatchSize: 7 });
  assert.strictEqual(cfg.totalBatchSize, 21);
  assert.deepStrictEqual(cfg.toJSON(), {
    nDevices: 3,
    shardAxis: 0,
    perDeviceBatchSize: 7,
    totalBatchSize: 21,
  });
  assert.throws(() => new MultiGPUConfig({ nDevices: 0 }), RangeError);
  assert.throws(() => new MultiGPUConfig({ nDevices: 2.5 }), TypeError);
  assert.throws(
    () => new MultiGPUConfig({ nDevices: 1, perDeviceBatchSize: 0 }),
    RangeError,
  );
});

Deno.test("getMultiGpuConfig: single node, several nodes, no GPU", async () => {
  const one = await getMultiGpuConfig(
    new ClusterInfo({ nodeCount: 1, gpusPerNode: 2, scheduler: "local" }),
  );
  assert.strictEqual(one?.nDevices, 2);
  assert.strictEqual(one?.perDeviceBatchSize, 10_000);
  assert.strictEqual(one?.totalBatchSize, 20_000);
  const many = await getMultiGpuConfig(pbs());
  assert.strictEqual(many?.nDevices, 8);
  assert.strictEqual(many?.perDeviceBatchSize, 50_000);
  const cpu = new ClusterInfo({ nodeCount: 3, gpusPerNode: 0 });
  assert.strictEqual(await getMultiGpuConfig(cpu), null);
  assert.strictEqual(await getMultiGpuConfig(null), null);
});

Deno.test("shardRange: contiguous, balanced, covering", () => {
  for (const [n, size] of [[10, 3], [7, 7], [3, 5], [0, 2], [1_000_003, 8]]) {
    let next = 0;
    for (let r = 0; r < size; r++) {
      const s = shardRange(n, size, r);
      assert.strictEqual(s.start, next);
      assert.strictEqual(s.size, s.end - s.start);
      // The first n % size ranks take one point more.
      assert.strictEqual(
        s.size,
        Math.floor(n / size) + (r < n % size ? 1 : 0),
      );
      next = s.end;
    }
    assert.strictEqual(next, n);
  }
  assert.throws(() => shardRange(10, 3, 3), RangeError);
  assert.throws(() => shardRange(10, 0, 0), RangeError);
  assert.throws(() => shardRange(-1, 2, 0), RangeError);
  assert.throws(() => shardRange(1.5, 2, 0), TypeError);
});

Deno.test("createDistributedConfig: GPU ranks from totalGpus", () => {
  const cfg = createDistributedConfig(pbs(), {
    nPoints: 100,
    checkpointDir: "/scratch/ckpt",
  });
  assert.strictEqual(cfg.worldSize, 32);
  assert.strictEqual(cfg.ranksPerNode, 8);
  assert.strictEqual(cfg.rankDevice, "gpu");
  assert.strictEqual(cfg.memoryPerRankGb, 80);
  assert.strictEqual(cfg.shards.length, 32);
  assert.deepStrictEqual(cfg.shards.slice(0, 5).map((s) => s.size), [
    4,
    4,
    4,
    4,
    3,
  ]);
  assert.strictEqual(cfg.shards[31].end, 100);
  // Chunks never exceed the largest shard.
  assert.strictEqual(cfg.chunkSize, 4);
  assert.strictEqual(cfg.enableCheckpoints, true);
  assert.strictEqual(cfg.checkpointInterval, 50);
  assert.strictEqual(cfg.checkpointDir, "/scratch/ckpt");
  assert.strictEqual(cfg.nStarts, 20);
  assert.strictEqual(cfg.scheduler, "pbs");
});

Deno.test("createDistributedConfig: CPU ranks from scheduler slots", () => {
  const info = new ClusterInfo({
    nodeCount: 2,
    gpusPerNode: 0,
    nodeList: ["c1", "c2"],
    slotsPerNode: [4, 4],
    scheduler: "slurm",
  });
  const cfg = createDistributedConfig(info, {
    nodeMemoryGb: 64,
    nPoints: 10_000_000,
  });
  assert.strictEqual(cfg.worldSize, 8);
  assert.strictEqual(cfg.ranksPerNode, 4);
  assert.strictEqual(cfg.rankDevice, "cpu");
  assert.strictEqual(cfg.memoryPerRankGb, 16);
  // 16 GB at 800 bytes per point is 20M points, clamped to 1M.
  assert.strictEqual(cfg.chunkSize, 1_000_000);
  assert.strictEqual(cfg.shards[7].size, 1_250_000);
  assert.strictEqual(cfg.enableCheckpoints, true);
});

Deno.test("createDistributedConfig: options override the defaults", () => {
  const info = new ClusterInfo({ nodeCount: 1, gpusPerNode: 2 });
  const cfg = createDistributedConfig(info, {
    worldSize: 3,
    memoryPerRankGb: 0.01,
    checkpointInterval: 5,
    enableCheckpoints: true,
  });
  assert.strictEqual(cfg.worldSize, 3);
  // More ranks than GPUs: the ranks compute on CPUs.
  assert.strictEqual(cfg.rankDevice, "cpu");
  assert.strictEqual(cfg.memoryPerRankGb, 0.01);
  // 0.01 GB / 800 B = 12 500 points, clamped up to 100 000.
  assert.strictEqual(cfg.chunkSize, 100_000);
  assert.strictEqual(cfg.checkpointInterval, 5);
  assert.strictEqual(cfg.enableCheckpoints, true);
  assert.strictEqual(cfg.nPoints, null);
  assert.deepStrictEqual(cfg.shards, []);
  const small = createDistributedConfig(info);
  assert.strictEqual(small.worldSize, 2);
  assert.strictEqual(small.enableCheckpoints, false);
  assert.throws(
    () => createDistributedConfig(info, { worldSize: 0 }),
    RangeError,
  );
  assert.throws(
    () => createDistributedConfig(info, { memoryPerRankGb: -1 }),
    RangeError,
  );
  assert.throws(
    () => createDistributedConfig(info, { nPoints: 2.5 }),
    TypeError,
  );
});
