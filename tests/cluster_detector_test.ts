import assert from "node:assert";
import { fileURLToPath } from "node:url";
import {
  ClusterDetector,
  type ClusterDetectorOptions,
} from "../cluster/mod.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/cluster/${name}`, import.meta.url));

const NO_INFINIBAND = fixture("no_such_dir");

/** A detector over `env` only: no nvidia-smi, no WebGPU, no real /sys. */
function detector(
  env: Record<string, string>,
  options: ClusterDetectorOptions = {},
): ClusterDetector {
  return new ClusterDetector({
    env,
    nvidiaSmi: false,
    webgpu: false,
    infinibandPath: NO_INFINIBAND,
    ...options,
  });
}

Deno.test("PBS: node file gives unique hosts in order and slots", async () => {
  const d = detector({
    PBS_NODEFILE: fixture("pbs_nodefile_4x2"),
    PBS_JOBID: "4242.pbs-server",
    CUDA_VISIBLE_DEVICES: "0,1,2,3",
  });
  assert.ok(d.isPbsEnvironment());
  const info = await d.detect();
  assert.ok(info);
  assert.strictEqual(info.scheduler, "pbs");
  assert.deepStrictEqual(info.nodeList, [
    "gpu-a01",
    "gpu-a02",
    "gpu-a03",
    "gpu-a04",
  ]);
  assert.deepStrictEqual(info.slotsPerNode, [2, 2, 2, 2]);
  assert.strictEqual(info.totalSlots, 8);
  assert.strictEqual(info.nodeCount, 4);
  assert.strictEqual(info.gpusPerNode, 4);
  assert.strictEqual(info.totalGpus, 16);
  assert.strictEqual(info.jobId, "4242.pbs-server");
  assert.strictEqual(info.interconnect, "ethernet");
  assert.strictEqual(info.partial, false);
});

Deno.test("PBS: CRLF, blank lines, attributes, uneven slots", () => {
  const info = detector({
    PBS_NODEFILE: fixture("pbs_nodefile_uneven"),
  }, { defaultGpusPerNode: 2 }).detectPbs();
  assert.ok(info);
  assert.deepStrictEqual(info.nodeList, [
    "n3.cluster.local",
    "n1.cluster.local",
    "n2.cluster.local",
  ]);
  assert.deepStrictEqual(info.slotsPerNode, [3, 1, 2]);
  assert.strictEqual(info.totalSlots, 6);
  // No GPU count anywhere: the default applies.
  assert.strictEqual(info.gpusPerNode, 2);
  assert.strictEqual(info.totalGpus, 6);
  assert.strictEqual(info.jobId, null);
});

Deno.test("PBS: unreadable or empty node file gives a partial answer", () => {
  for (
    const file of [fixture("missing_nodefile"), fixture("pbs_nodefile_empty")]
  ) {
    const d = detector({
      PBS_NODEFILE: file,
      PBS_JOBID: "1.srv",
      PBS_NUM_NODES: "3",
      PBS_NP: "12",
    }, { defaultGpusPerNode: 4 });
    const info = d.detectPbs();
    assert.ok(info);
    assert.strictEqual(info.partial, true);
    assert.strictEqual(info.nodeCount, 3);
    assert.deepStrictEqual(info.nodeList, []);
    assert.strictEqual(info.totalSlots, 12);
    assert.strictEqual(info.totalGpus, 12);
    assert.ok(d.diagnostics.some((m) => m.includes(file)), file);
  }
});

Deno.test("PBS is preferred over Slurm; neither gives null here", async () => {
  const both = detector({
    PBS_JOBID: "1.srv",
    SLURM_JOB_ID: "2",
    SLURM_JOB_NODELIST: "a[1-2]",
  });
  assert.strictEqual((await both.detect())?.scheduler, "pbs");
  assert.strictEqual(detector({}).detectPbs(), null);
  assert.strictEqual(detector({}).detectSlurm(), null);
  assert.strictEqual(await detector({}).detect(), null);
});

Deno.test("Slurm: node list, counts, tasks per node, job id", async () => {
  const d = detector({
    SLURM_JOB_ID: "987654",
    SLURM_JOB_NODELIST: "gpu[01-02,07],big[1-2]x",
    SLURM_JOB_NUM_NODES: "5",
    SLURM_NTASKS: "20",
    SLURM_TASKS_PER_NODE: "4(x5)",
    SLURM_GPUS_ON_NODE: "4",
  });
  assert.ok(d.isSlurmEnvironment());
  const info = await d.detect();
  assert.ok(info);
  assert.strictEqual(info.scheduler, "slurm");
  assert.deepStrictEqual(info.nodeList, [
    "gpu01",
    "gpu02",
    "gpu07",
    "big1x",
    "big2x",
  ]);
  assert.strictEqual(info.nodeCount, 5);
  assert.deepStrictEqual(info.slotsPerNode, [4, 4, 4, 4, 4]);
  assert.strictEqual(info.totalSlots, 20);
  assert.strictEqual(info.gpusPerNode, 4);
  assert.strictEqual(info.totalGpus, 20);
  assert.strictEqual(info.jobId, "987654");
  assert.strictEqual(info.partial, false);
});

Deno.test("Slurm: GPU counts in every spelling", () => {
  const cases: [Record<string, string>, number][] = [
    [{ SLURM_GPUS_ON_NODE: "4" }, 4],
    [{ SLURM_GPUS_PER_NODE: "gpu:a100:4" }, 4],
    [{ SLURM_GPUS_PER_NODE: "gpu:2" }, 2],
    [{ SLURM_GPUS_PER_NODE: "h100:8" }, 8],
    [{ SLURM_GPUS_PER_NODE: "gpu:a100:2,gpu:v100:1" }, 3],
    [{ SLURM_GPUS_PER_NODE: "gpu:a100:4(S:0,1)" }, 4],
    // SLURM_GPUS_ON_NODE (what this node got) wins over the request.
    [{ SLURM_GPUS_ON_NODE: "2", SLURM_GPUS_PER_NODE: "gpu:8" }, 2],
    // Nothing declared: the local node's visible devices.
    [{ CUDA_VISIBLE_DEVICES: "GPU-aaaa,GPU-bbbb,GPU-cccc" }, 3],
    [{ CUDA_VISIBLE_DEVICES: "" }, 0],
    [{ ROCR_VISIBLE_DEVICES: "0,1" }, 2],
    // Unreadable: the default.
    [{ SLURM_GPUS_PER_NODE: "gpu:many" }, 6],
    [{}, 6],
  ];
  for (const [vars, gpus] of cases) {
    const info = detector({
      SLURM_JOB_ID: "1",
      SLURM_JOB_NODELIST: "n[1-2]",
      ...vars,
    }, { defaultGpusPerNode: 6 }).detectSlurm();
    assert.strictEqual(info?.gpusPerNode, gpus, JSON.stringify(vars));
    assert.strictEqual(info?.totalGpus, 2 * gpus, JSON.stringify(vars));
  }
});

Deno.test("Slurm: bad or missing node list gives a partial answer", () => {
  const bad = detector({
    SLURM_JOB_ID: "5",
    SLURM_JOB_NODELIST: "n[1-",
    SLURM_JOB_NUM_NODES: "2",
    SLURM_GPUS_ON_NODE: "1",
  });
  const info = bad.detectSlurm();
  assert.strictEqual(info?.partial, true);
  assert.strictEqual(info?.nodeCount, 2);
  assert.deepStrictEqual(info?.nodeList, []);
  assert.ok(bad.diagnostics.some((m) => m.includes('Invalid hostlist "n[1-"')));
  const none = detector({ SLURM_JOBID: "6", SLURM_NNODES: "3" }).detectSlurm();
  assert.strictEqual(none?.partial, true);
  assert.strictEqual(none?.nodeCount, 3);
  assert.strictEqual(none?.jobId, "6");
});

Deno.test("Slurm: the node list wins over a disagreeing node count", () => {
  const d = detector({
    SLURM_JOB_ID: "7",
    SLURM_JOB_NODELIST: "a,b,a",
    SLURM_JOB_NUM_NODES: "5",
    SLURM_GPUS_ON_NODE: "1",
  });
  const info = d.detectSlurm();
  assert.deepStrictEqual(info?.nodeList, ["a", "b"]);
  assert.strictEqual(info?.nodeCount, 2);
  assert.ok(d.diagnostics.some((m) => m.includes("SLURM_JOB_NUM_NODES=5")));
});

Deno.test("Local GPUs: visible-device variables", async () => {
  const cases: [Record<string, string>, number | null][] = [
    [{ CUDA_VISIBLE_DEVICES: "0,1,2" }, 3],
    [{ CUDA_VISIBLE_DEVICES: "0,-1,2" }, 1],
    [{ CUDA_VISIBLE_DEVICES: "-1" }, null],
    [{ CUDA_VISIBLE_DEVICES: "NoDevFiles" }, null],
    [{ ROCR_VISIBLE_DEVICES: "0" }, 1],
    [{ HIP_VISIBLE_DEVICES: "0,1" }, 2],
    [{}, null],
  ];
  for (const [env, gpus] of cases) {
    const info = await detector(env).detectLocalGpus();
    assert.strictEqual(info?.gpusPerNode ?? null, gpus, JSON.stringify(env));
    if (info) {
      assert.strictEqual(info.scheduler, "local");
      assert.strictEqual(info.nodeCount, 1);
      assert.strictEqual(info.nodeList.length, 1);
      assert.strictEqual(
        await detector(env).detect().then((i) => i?.totalGpus),
        gpus,
      );
    }
  }
});

Deno.test("Local GPUs: a software WebGPU adapter is not a GPU", async () => {
  // On a GPU-less machine this asks lavapipe/llvmpipe (or nothing) and must
  // not count it; on a real GPU machine the adapter counts as one device.
  const d = detector({}, { webgpu: true });
  const info = await d.detectLocalGpus();
  const adapter = await navigator.gpu?.requestAdapter();
  const info2 = adapter?.info as {
    description?: string;
    isFallbackAdapter?: boolean;
  } | undefined;
  const software = !adapter || info2?.isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader/i.test(info2?.description ?? "");
  if (software) {
    assert.strictEqual(info, null);
    assert.ok(d.diagnostics.some((m) => m.startsWith("WebGPU:")));
  } else {
    assert.strictEqual(info?.gpusPerNode, 1);
  }
});

Deno.test("Interconnect: InfiniBand when the class directory lists devices", async () => {
  const ib = await detector({ PBS_JOBID: "1" }, {
    infinibandPath: fixture("infiniband"),
  }).detect();
  assert.strictEqual(ib?.interconnect, "infiniband");
  const empty = await Deno.makeTempDir();
  try {
    const eth = detector({ PBS_JOBID: "1" }, { infinibandPath: empty })
      .detectPbs();
    assert.strictEqual(eth?.interconnect, "ethernet");
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("env may be a getter; verbose prints the reasons", () => {
  const asked: string[] = [];
  const d = new ClusterDetector({
    env: (name) => {
      asked.push(name);
      return name === "PBS_JOBID" ? "9.srv" : undefined;
    },
    nvidiaSmi: false,
    webgpu: false,
    defaultGpusPerNode: 1,
    verbose: true,
    infinibandPath: NO_INFINIBAND,
  });
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  let info;
  try {
    info = d.detectPbs();
  } finally {
    console.error = original;
  }
  assert.strictEqual(info?.jobId, "9.srv");
  assert.ok(asked.includes("PBS_NODEFILE"));
  assert.ok(
    lines.some((l) =>
      l.startsWith("[nlsq cluster]") && l.includes("PBS_NODEFILE unset")
    ),
  );
  assert.deepStrictEqual(lines.map((l) => l.replace("[nlsq cluster] ", "")), [
    ...d.diagnostics,
  ]);
});

Deno.test("nvidia-smi is skipped with a reason when absent", () => {
  const d = new ClusterDetector({
    env: { SLURM_JOB_ID: "1" },
    webgpu: false,
    defaultGpusPerNode: 3,
    infinibandPath: NO_INFINIBAND,
  });
  const info = d.detectSlurm();
  const smi = (() => {
    try {
      const out = new Deno.Command("nvidia-smi", { args: ["-L"] })
        .outputSync();
      return out.success ? new TextDecoder().decode(out.stdout) : null;
    } catch {
      return null;
    }
  })();
  if (smi === null) {
    assert.strictEqual(info?.gpusPerNode, 3);
    assert.ok(d.diagnostics.some((m) => m.startsWith("run nvidia-smi")));
  } else {
    const listed = smi.split("\n").filter((l) => /^GPU \d+:/.test(l)).length;
    assert.strictEqual(info?.gpusPerNode, listed);
  }
});

Deno.test("defaultGpusPerNode must be a non-negative integer", () => {
  assert.throws(
    () => new ClusterDetector({ defaultGpusPerNode: 1.5 }),
    RangeError,
  );
  assert.strictEqual(
    detector({ PBS_JOBID: "1" }, { defaultGpusPerNode: 0 }).detectPbs()
      ?.totalGpus,
    0,
  );
});
