/**
 * A distributed fit over MPI ranks: every rank runs this same script, takes
 * its shard of the data, and rank 0 prints the result (every rank holds the
 * same one).
 *
 * One machine, two ranks:
 *
 *   mpiexec -n 2 deno run -A examples/distributed_fit.ts
 *
 * A cluster: see examples/pbs_job.sh and examples/slurm_job.sh. Without
 * mpiexec it runs as one process (the standard strategy).
 *
 * Options:
 *   --n N             points to generate (default 2000000), when no --data
 *   --data PATH       read the data from a file instead (.npy, .csv, .h5, ...):
 *                     every rank reads only its own row range
 *   --x NAME --y NAME --sigma NAME   columns (or datasets) of that file
 *   --workflow NAME   "hpc_distributed" (default: tolerance 1e-6 and
 *                     checkpoints) or "distributed"
 *   --checkpoint-dir DIR   where rank 0 writes checkpoints
 *   --threads K       CPU threads per rank (default: the node's cores shared
 *                     among the ranks on it)
 *   --verbose         a start and an end line per rank, on stderr
 *
 * Permissions: --allow-ffi (the MPI library), --allow-env (the launcher's
 * variables, NLSQ_MPI_LIBRARY), --allow-read (the MPI library, the data),
 * --allow-write (checkpoints).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fit, type FitOptions, model } from "../mod.ts";
import { openSource } from "../data/open_source.ts";
import { getDistributedStats } from "../strategies/distributed.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string", default: "2000000" },
    data: { type: "string" },
    x: { type: "string", default: "x" },
    y: { type: "string", default: "y" },
    sigma: { type: "string" },
    workflow: { type: "string", default: "hpc_distributed" },
    "checkpoint-dir": { type: "string" },
    threads: { type: "string", default: "auto" },
    verbose: { type: "boolean", default: false },
  },
});

const m = model("a * exp(-b * x) + c");
const options: FitOptions = {
  p0: [1, 1, 0],
  workflow: values.workflow,
  checkpointDir: values["checkpoint-dir"],
  threads: values.threads === "auto" ? "auto" : Number(values.threads),
  verbose: values.verbose ? 1 : 0,
};

const t0 = performance.now();
let result;
if (values.data) {
  // Each rank reads only rows [start, end) of the file.
  const source = await openSource(values.data, {
    x: values.x,
    y: values.y,
    sigma: values.sigma,
  });
  try {
    result = await fit(m, source, options);
  } finally {
    await source.close();
  }
} else {
  // Every rank generates the same arrays (deterministic) and fits its slice.
  const n = Number(values.n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (10 * i) / n;
    const noise = 0.02 * Math.sin(12.9898 * i + 78.233 * Math.sin(i));
    y[i] = 2.5 * Math.exp(-1.3 * x[i]) + 0.5 + noise;
  }
  result = await fit(m, x, y, options);
}
const seconds = (performance.now() - t0) / 1000;

const stats = getDistributedStats();
if ((stats?.rank ?? 0) === 0) {
  console.log(
    `${result.strategy} fit on ${
      stats?.size ?? 1
    } rank(s), backend ${result.backend}`,
  );
  Object.entries(result.params).forEach(([name, value], i) => {
    console.log(
      `  ${name} = ${value.toPrecision(10)} +- ${
        result.perr[i].toPrecision(3)
      }`,
    );
  });
  console.log(
    `  cost ${result.cost.toExponential(6)}, ${result.nit} iterations, ${
      seconds.toFixed(2)
    } s, ${result.message}`,
  );
  if (stats && stats.size > 1) {
    console.log(
      `  MPI_Allreduce: ${
        (stats.allreduceMs / Math.max(1, stats.evaluations)).toFixed(3)
      } ms per evaluation (incl. waiting for other ranks), ${stats.allreduceDoubles} doubles`,
    );
  }
}
