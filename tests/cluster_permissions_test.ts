// Detection in a real subprocess with restricted permissions: no prompt, no
// exception, a null or partial answer with the reason in verbose output.
import assert from "node:assert";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(
  new URL("./fixtures/cluster/detect_script.ts", import.meta.url),
);
const nodefile = fileURLToPath(
  new URL("./fixtures/cluster/pbs_nodefile_4x2", import.meta.url),
);

/** The child's environment: only what Deno needs plus the PBS variables. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PBS_NODEFILE: nodefile,
    PBS_JOBID: "777.pbs-test",
    PBS_NUM_NODES: "4",
  };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return env;
}

async function detectWith(flags: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-lock", ...flags, script, "--verbose"],
    env: childEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.strictEqual(out.code, 0, `child failed:\n${stderr}`);
  const lines = stdout.trim().split("\n");
  return { result: JSON.parse(lines[lines.length - 1]), stderr };
}

/** Whether WebGPU offers a hardware adapter (then detect() finds 1 GPU). */
async function hardwareAdapter(): Promise<boolean> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return false;
  const info = adapter.info as {
    description?: string;
    isFallbackAdapter?: boolean;
  };
  return !info.isFallbackAdapter &&
    !/llvmpipe|lavapipe|swiftshader|software/i.test(info.description ?? "");
}

Deno.test("no --allow-env/--allow-read: detect() is null, no prompt", async () => {
  const { result, stderr } = await detectWith([]);
  if (await hardwareAdapter()) {
    assert.strictEqual(result.info.scheduler, "local");
  } else {
    assert.strictEqual(result.info, null);
  }
  assert.ok(
    result.diagnostics.includes(
      "env PBS_NODEFILE: no --allow-env permission, treated as unset",
    ),
  );
  assert.match(stderr, /\[nlsq cluster\] env PBS_JOBID: no --allow-env/);
  assert.doesNotMatch(stderr, /NotCapable|Uncaught/);
});

Deno.test("--allow-env without read access: a partial PBS answer", async () => {
  const { result, stderr } = await detectWith(["--allow-env"]);
  const info = result.info;
  assert.strictEqual(info.scheduler, "pbs");
  assert.strictEqual(info.partial, true);
  assert.strictEqual(info.jobId, "777.pbs-test");
  assert.strictEqual(info.nodeCount, 4);
  assert.deepStrictEqual(info.nodeList, []);
  assert.strictEqual(info.totalGpus, 32);
  // /sys/class/infiniband may not be read either.
  assert.strictEqual(info.interconnect, "unknown");
  assert.ok(stderr.includes(`read ${nodefile}: no --allow-read permission`));
});

Deno.test("--allow-env and read access to the node file: full answer", async () => {
  const { result } = await detectWith([
    "--allow-env",
    `--allow-read=${nodefile}`,
  ]);
  assert.strictEqual(result.info.partial, false);
  assert.deepStrictEqual(result.info.nodeList, [
    "gpu-a01",
    "gpu-a02",
    "gpu-a03",
    "gpu-a04",
  ]);
  assert.deepStrictEqual(result.info.slotsPerNode, [2, 2, 2, 2]);
});
