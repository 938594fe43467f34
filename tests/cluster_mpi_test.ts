// The MPI binding against a real `mpiexec` (MPICH's hydra or Open MPI).
// Skipped, with a message, only where mpiexec is not installed.
import { hasMpiexec, runJob } from "./_tools.ts";
import assert from "node:assert";
import { fileURLToPath } from "node:url";

const script = (name: string) =>
  fileURLToPath(new URL(`./mpi/${name}`, import.meta.url));

const ignore = !(await hasMpiexec());
if (ignore) {
  console.log(
    "cluster_mpi_test: mpiexec not found, MPI tests skipped " +
      "(apt-get install mpich)",
  );
}

const deno = ["run", "-A", "--no-lock"];

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l)
  );
}

for (const n of [2, 3]) {
  Deno.test({
    name: `mpiexec -n ${n}: allreduce, broadcast, barrier`,
    ignore,
    async fn() {
      const r = await runJob(
        "mpiexec",
        ["-n", String(n), Deno.execPath(), ...deno, script("collectives.ts")],
        60_000,
      );
      assert.strictEqual(r.code, 0, r.stderr);
      const ranks = jsonLines(r.stdout).sort((a, b) =>
        (a.rank as number) - (b.rank as number)
      );
      assert.deepStrictEqual(ranks.map((x) => x.rank), [...Array(n).keys()]);
      for (const x of ranks) {
        assert.strictEqual(x.size, n);
        const sum = x.sum as number[];
        assert.strictEqual(sum[0], n * (n + 1) / 2);
        assert.strictEqual(sum[1], n * (n + 1) * (2 * n + 1) / 6);
        assert.strictEqual(sum[2], n / 2);
        assert.ok(Math.abs(sum[3] - n / 3) < 1e-15);
        assert.deepStrictEqual(x.max, [n - 1, 0]);
        assert.deepStrictEqual(x.bcast, [3.25, -1e300, n - 1]);
        assert.deepStrictEqual(x.view, [n * (n + 1) / 2]);
        assert.deepStrictEqual(x.backing, [99, n * (n + 1) / 2, 99]);
      }
    },
  });
}

for (const mode of ["throw", "uncaught"]) {
  Deno.test({
    name: `mpiexec -n 3: an error on rank 1 (${mode}) aborts the job fast`,
    ignore,
    async fn() {
      const r = await runJob(
        "mpiexec",
        [
          "-n",
          "3",
          Deno.execPath(),
          ...deno,
          script("rank_throws.ts"),
          mode,
        ],
        30_000,
      );
      assert.notStrictEqual(r.code, 0);
      assert.ok(r.seconds < 15, `took ${r.seconds.toFixed(1)} s`);
      // The rank reported its error and took the MPI_Abort path.
      assert.match(r.stderr, /\[nlsq mpi\] rank 1\/3: error, aborting/);
      assert.match(r.stderr, /failure on rank 1/);
      assert.doesNotMatch(r.stdout, /passedBarrier/);
    },
  });
}

// Before the job guard and departure notices, each of these hung until
// killed: hydra does not end ranks waiting in MPI_Init when a process exits
// before initializing, and MPI_Finalize on one rank waits for the others.
for (
  const [n, mode, leaver] of [
    [3, "finalize", 2],
    [3, "finalize", 0],
    [2, "never-init", 1],
  ] as const
) {
  Deno.test({
    name:
      `mpiexec -n ${n}: rank ${leaver} leaves (${mode}) while the others wait: the job ends`,
    ignore,
    async fn() {
      const r = await runJob(
        "mpiexec",
        [
          "-n",
          String(n),
          Deno.execPath(),
          ...deno,
          script("rank_leaves.ts"),
          mode,
          String(leaver),
        ],
        30_000,
      );
      assert.notStrictEqual(r.code, 0, r.stderr);
      assert.ok(r.seconds < 15, `took ${r.seconds.toFixed(1)} s`);
      const made = mode === "finalize" ? 1 : 0;
      // Every waiting rank that learns of it says who left and when; rank 0
      // hears of everyone, the others of rank 0.
      const waiter = leaver === 0 ? "[1-9]" : "0";
      assert.match(
        r.stderr,
        new RegExp(
          `\\[nlsq mpi\\] rank ${waiter}/${n}: error, aborting the job:\\n` +
            `MpiJobError: rank ${leaver} left the job .* after ${made} ` +
            `collective call\\(s\\), while rank ${waiter} waits for it in ` +
            `collective call ${made + 1} \\(MPI_Barrier\\)`,
        ),
      );
      assert.doesNotMatch(r.stdout, /passed/);
    },
  });
}

Deno.test({
  name: "NLSQ_MPI_LIBRARY=/nonexistent.so: MpiUnavailableError with a hint",
  ignore,
  async fn() {
    const r = await runJob(
      Deno.execPath(),
      [...deno, script("load_library.ts")],
      30_000,
      { NLSQ_MPI_LIBRARY: "/nonexistent.so" },
    );
    assert.strictEqual(r.code, 0, r.stderr);
    const [res] = jsonLines(r.stdout);
    assert.strictEqual(res.ok, false);
    assert.strictEqual(res.name, "MpiUnavailableError");
    const message = res.message as string;
    assert.ok(message.includes("/nonexistent.so"), message);
    assert.ok(message.includes("apt-get install mpich"), message);
    assert.ok(message.includes("NLSQ_MPI_LIBRARY"), message);
  },
});

Deno.test({
  name: "without --allow-ffi: MpiPermissionError, no prompt",
  ignore,
  async fn() {
    const r = await runJob(
      Deno.execPath(),
      [
        "run",
        "--no-prompt",
        "--no-lock",
        "--allow-env",
        script("load_library.ts"),
      ],
      30_000,
    );
    assert.strictEqual(r.code, 0, r.stderr);
    const [res] = jsonLines(r.stdout);
    assert.strictEqual(res.ok, false);
    assert.strictEqual(res.name, "MpiPermissionError");
    assert.match(res.message as string, /--allow-ffi/);
  },
});

Deno.test({
  name: "outside mpiexec MPI runs as a singleton of size 1",
  ignore,
  async fn() {
    const r = await runJob(
      Deno.execPath(),
      [...deno, script("collectives.ts")],
      60_000,
    );
    assert.strictEqual(r.code, 0, r.stderr);
    const [x] = jsonLines(r.stdout);
    assert.strictEqual(x.size, 1);
    assert.deepStrictEqual(x.sum, [1, 1, 0.5, 1 / 3]);
  },
});

Deno.test({
  name: "MPI_Allreduce of p*p+p+1 doubles between 2 ranks (timing)",
  ignore,
  async fn() {
    const r = await runJob(
      "mpiexec",
      [
        "-n",
        "2",
        Deno.execPath(),
        ...deno,
        script("allreduce_bench.ts"),
        "2000",
      ],
      120_000,
    );
    assert.strictEqual(r.code, 0, r.stderr);
    const [res] = jsonLines(r.stdout);
    const results = res.results as {
      p: number;
      doubles: number;
      medianUs: number;
      correct: boolean;
    }[];
    assert.deepStrictEqual(results.map((x) => x.doubles), [13, 43, 421]);
    for (const x of results) {
      assert.ok(x.correct);
      assert.ok(x.medianUs > 0 && x.medianUs < 10_000, `${x.medianUs} us`);
      console.log(
        `  allreduce p=${x.p} (${x.doubles} doubles): ${
          x.medianUs.toFixed(2)
        } us`,
      );
    }
  },
});
