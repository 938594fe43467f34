/** The hpc_distributed preset wires cluster detection, the distributed strategy and checkpoints. */

import assert from "node:assert";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(
  new URL("./distributed/hpc_preset_script.ts", import.meta.url),
);
const NODEFILE = fileURLToPath(
  new URL("./fixtures/cluster/pbs_nodefile_4x2", import.meta.url),
);

async function run(
  env: Record<string, string>,
  perms: (dir: string) => string[],
) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_hpc_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...perms(dir), SCRIPT, dir],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    return { ...JSON.parse(text.trim().split("\n").pop()!), files };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("hpc_distributed: a PBS job is detected, the plan reported, checkpoints written", async () => {
  const r = await run(
    {
      PBS_JOBID: "4242.pbs01",
      PBS_NODEFILE: NODEFILE,
      PATH: Deno.env.get("PATH") ?? "",
    },
    () => [`--allow-env`, `--allow-read`, `--allow-write`, `--allow-sys`],
  );
  assert.strictEqual(r.strategy, "distributed");
  assert.strictEqual(r.preset, "hpc_distributed");
  assert.strictEqual(r.tol, 1e-6);
  assert.ok(Math.abs(r.b - 1.1) < 1e-5);
  const cluster = r.notes.find((n: string) => n.startsWith("cluster: "));
  assert.match(cluster, /pbs job 4242\.pbs01, 4 node\(s\)/);
  assert.ok(
    r.notes.some((n: string) =>
      /^distributed config: \d+ rank\(s\) planned/.test(n)
    ),
  );
  assert.ok(
    r.files.some((f: string) => /^checkpoint_[\w-]+_\d{8}\.nlsq$/.test(f)),
    r.files.join(),
  );
});

Deno.test("hpc_distributed: without env/read permissions detection says so and the fit still runs", async () => {
  // Checkpoints need their own directory only.
  const r = await run(
    {},
    (dir) => [`--allow-write=${dir}`, `--allow-read=${dir}`],
  );
  assert.strictEqual(r.strategy, "distributed");
  assert.ok(
    r.notes.some((n: string) =>
      /^cluster detection: no PBS\/Slurm job/.test(n)
    ),
    r.notes.join("\n"),
  );
});
