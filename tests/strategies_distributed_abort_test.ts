// One failing rank ends the whole distributed job, wherever it fails: before
// MPI is initialized, in the input checks, in a pass during the iterations,
// in the final statistics, or when its program ends (normally or not) while
// rank 0 still waits for it. Real `mpiexec -n 2` jobs of
// tests/distributed/fail_script.ts; each must end within seconds (a hang is
// killed after 30 s and fails), with a non-zero status and rank 1's message,
// prefixed with its rank, on stderr. Skipped, with a message, only where
// mpiexec is not installed.
import { hasMpiexec, type Job, runJob } from "./_tools.ts";
import assert from "node:assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeData } from "./distributed/_data.ts";

const SCRIPT = fileURLToPath(
  new URL("./distributed/fail_script.ts", import.meta.url),
);

const ignore = !(await hasMpiexec());
if (ignore) {
  console.log(
    "distributed_abort_test: mpiexec not found, MPI runs skipped " +
      "(apt-get install mpich)",
  );
}

/** Runs fail_script.ts on 2 ranks; killed (and failed) after 30 s. */
function failingJob(where: string, extra: string[] = []): Promise<Job> {
  return runJob(
    "mpiexec",
    [
      "-n",
      "2",
      Deno.execPath(),
      "run",
      "-A",
      SCRIPT,
      "--fail-at",
      where,
      ...extra,
    ],
    30_000,
  );
}

/** The job ended fast and failed, and the failing rank said why. */
function assertAborted(
  j: Job,
  message: RegExp,
  { rank = 1, code }: { rank?: number; code?: number } = {},
): void {
  const all = `exit ${j.code} after ${
    j.seconds.toFixed(1)
  } s\n${j.stdout}${j.stderr}`;
  if (code === undefined) assert.notStrictEqual(j.code, 0, all);
  else assert.strictEqual(j.code, code, all);
  assert.ok(j.seconds < 20, all);
  assert.match(
    j.stderr,
    new RegExp(`\\[nlsq mpi\\] rank ${rank}/2: error, aborting the job:`),
    all,
  );
  assert.match(j.stderr, message, all);
  // Rank 1 never finished (rank 0 may have, when rank 1 failed last).
  assert.doesNotMatch(j.stdout, /"rank":1,"done"/, all);
}

Deno.test({
  name: "abort: rank 1 fails before MPI is initialized (missing file)",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // Rank 0's file exists, rank 1's does not: rank 0 goes on into
      // MPI_Init, where hydra alone would leave it waiting for good.
      const { x, y } = makeData(4000);
      const rows = Array.from(x, (t, i) => `${t},${y[i]}`);
      await Deno.writeTextFile(
        join(dir, "data_0.csv"),
        `x,y\n${rows.join("\n")}\n`,
      );
      const j = await failingJob("open", [
        "--data",
        join(dir, "data_{rank}.csv"),
      ]);
      assertAborted(j, /data_1\.csv/);
      console.log(`  ended in ${j.seconds.toFixed(2)} s`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "abort: a NaN in rank 1's data fails its input check",
  ignore,
  async fn() {
    // First fit: before MPI is initialized. Second fit: rank 0 waits in the
    // first Allreduce of that fit.
    for (const where of ["validation", "validation2"]) {
      const j = await failingJob(where);
      assertAborted(j, /RangeError: y\[3000\] is NaN/);
      console.log(`  ${where}: ended in ${j.seconds.toFixed(2)} s`);
    }
  },
});

Deno.test({
  name: "abort: the model fails on rank 1 in a pass during the iterations",
  ignore,
  async fn() {
    const j = await failingJob("pass");
    assertAborted(j, /Error: model failure on rank 1 at call 24001/);
    // The fit was under way: iterations were reported before the failure.
    const failedAt = j.stderr.indexOf("[nlsq mpi] rank 1/2");
    assert.match(j.stderr.slice(0, failedAt), /nlsq: start 0 iter 2 /);
    console.log(`  ended in ${j.seconds.toFixed(2)} s`);
  },
});

Deno.test({
  name: "abort: rank 1 fails in the final statistics, after the iterations",
  ignore,
  async fn() {
    const j = await failingJob("final");
    assertAborted(j, /Error: model undefined for x = 0 on rank 1/);
    // Only the statistics were left: the solver had converged.
    assert.match(j.stderr, /nlsq: converged/);
    console.log(`  ended in ${j.seconds.toFixed(2)} s`);
  },
});

Deno.test({
  name:
    "abort: rank 1 catches its error and ends normally; rank 0 ends the job",
  ignore,
  async fn() {
    const j = await failingJob("caught");
    // Rank 1 finished; rank 0 learned that it left and reported it.
    assert.match(j.stdout, /"rank":1,"done"/);
    assert.notStrictEqual(j.code, 0, j.stderr);
    assert.ok(j.seconds < 20, `took ${j.seconds} s`);
    assert.match(j.stderr, /\[nlsq mpi\] rank 0\/2: error, aborting the job:/);
    assert.match(
      j.stderr,
      /MpiJobError: rank 1 left the job .* after 0 collective call\(s\), while rank 0 waits for it in collective call 1 \(MPI_Allreduce\)/,
    );
    assert.doesNotMatch(j.stdout, /"rank":0,"done"/);
    console.log(`  ended in ${j.seconds.toFixed(2)} s`);
  },
});

Deno.test({
  name: "abort: Deno.exit(3) on rank 1 between two fits ends the job with 3",
  ignore,
  async fn() {
    const j = await failingJob("exit");
    assertAborted(j, /the process is exiting with status 3/, { code: 3 });
    console.log(`  ended in ${j.seconds.toFixed(2)} s`);
  },
});
