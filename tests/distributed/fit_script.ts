// One rank of a distributed fit, for tests/distributed_fit_test.ts. Run as
// `mpiexec -n N deno run -A fit_script.ts [options]` (or without mpiexec for
// the single-process fallback). Every rank prints one JSON line with its
// rank, popt (as exact hex bit patterns too) and the evaluator's stats.
import { parseArgs } from "node:util";
import { fit, model } from "../../mod.ts";
import { runMpi } from "../../cluster/mod.ts";
import { arraySource } from "../../data/array_source.ts";
import { getDistributedStats } from "../../strategies/distributed.ts";
import { ILL_MODEL, makeData, makeIllData } from "./_data.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string", default: "20000" },
    workflow: { type: "string", default: "distributed" },
    loss: { type: "string", default: "linear" },
    sigma: { type: "boolean", default: false },
    source: { type: "boolean", default: false },
    "stream-shard": { type: "boolean", default: false },
    "throw-rank": { type: "string", default: "" },
    "throw-after-rank": { type: "string", default: "" },
    "run-mpi": { type: "boolean", default: false },
    backend: { type: "string", default: "auto" },
    ill: { type: "boolean", default: false },
  },
});
const n = Number(args.values.n);
const ill = args.values.ill;
const { x, y, sigma } = ill ? makeIllData(n) : makeData(n);
const rankEnv = Deno.env.get("PMI_RANK") ??
  Deno.env.get("OMPI_COMM_WORLD_RANK");
const throwRank = args.values["throw-rank"];

// A plain function model that fails on one rank only: the job must abort.
const m = throwRank !== ""
  ? model((t: number, a: number, b: number, c: number) => {
    if (rankEnv === throwRank) {
      throw new Error(`injected failure on rank ${rankEnv}`);
    }
    return a * Math.exp(-b * t) + c;
  })
  : model(ill ? ILL_MODEL.expression : "a * exp(-b * x) + c");

const options = {
  p0: ill ? ILL_MODEL.p0 : [1, 1, 0],
  workflow: args.values.workflow,
  loss: args.values.loss as "linear",
  backend: args.values.backend as "auto",
  ftol: 1e-15,
  xtol: 1e-15,
  gtol: 1e-15,
};
const workflow = args.values["stream-shard"]
  ? {
    strategy: args.values.workflow,
    config: { streamShard: true, batchSize: 777 },
  }
  : args.values.workflow;
const run = () =>
  args.values.source
    ? fit(m, arraySource(x, y, args.values.sigma ? sigma : undefined), {
      ...options,
      workflow,
    } as never)
    : fit(m, x, y, {
      ...options,
      workflow,
      sigma: args.values.sigma ? sigma : undefined,
    } as never);
// --run-mpi: the user's own runMpi around the fit (it initializes and
// finalizes MPI; the strategy shares that world).
const r = args.values["run-mpi"] ? await runMpi(() => run()) : await run();

if (args.values["throw-after-rank"] === rankEnv) {
  // Outside the evaluator: the uncaught error must still end the job while
  // the other ranks wait in the next fit's first Allreduce.
  throw new Error(`injected failure after the fit on rank ${rankEnv}`);
} else if (args.values["throw-after-rank"] !== "") {
  await fit(m, x, y, { p0: [1, 1, 0], workflow: "distributed" });
}

const hex = (v: number) => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  return b.getBigUint64(0).toString(16);
};
const s = getDistributedStats();
console.log(JSON.stringify({
  rank: s?.rank ?? 0,
  size: s?.size ?? 1,
  popt: Array.from(r.popt),
  bits: Array.from(r.popt, hex).join(","),
  cost: r.cost,
  nit: r.nit,
  success: r.success,
  strategy: r.strategy,
  backend: r.backend,
  notes: r.notes,
  shard: s ? [s.shardStart, s.shardEnd] : null,
  evaluations: s?.evaluations ?? 0,
  allreduceMs: s?.allreduceMs ?? 0,
}));
