// One rank of a distributed fit that fails on rank 1 at a chosen point, for
// tests/distributed_abort_test.ts:
//
//   mpiexec -n 2 deno run -A fail_script.ts --fail-at WHERE [--data PATH]
//
// WHERE (each failure is rank 1's own; rank 0 goes on and waits for it):
//   open         rank 1 opens a file that does not exist (PATH with {rank}
//                replaced by the rank): openSource throws before any MPI call
//   validation   rank 1's copy of y holds a NaN: fit's input check throws,
//                before the strategy initializes MPI
//   validation2  the same in a second fit, while MPI is initialized and rank 0
//                waits in that fit's first Allreduce
//   pass         the model throws on rank 1 on its 24001st call: three
//                evaluations with Jacobian of rank 1's 2000 rows (4 calls a
//                row) succeed, the fourth fails, during the iterations
//   final        the model throws on rank 1 for x < 5: only the final
//                statistics pass (which evaluates all the data on every rank)
//                gets there
//   caught       as validation, but rank 1 catches the error and its program
//                ends normally
//   exit         rank 1 calls Deno.exit(3) between two fits
//
// A rank that finishes prints one JSON line {"rank", "done": true}. Verbose
// level 2 prints every iteration on stderr, showing how far the fit got.
import { parseArgs } from "node:util";
import { fit, model, openSource } from "../../mod.ts";
import { makeData } from "./_data.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    "fail-at": { type: "string", default: "" },
    data: { type: "string", default: "" },
  },
});
const where = args.values["fail-at"];
const rank = Deno.env.get("PMI_RANK") ?? Deno.env.get("OMPI_COMM_WORLD_RANK");
const onRank1 = rank === "1";
const { x, y, sigma } = makeData(4000);

let calls = 0;
const m = model((t: number, a: number, b: number, c: number) => {
  if (onRank1 && where === "pass" && ++calls > 24_000) {
    throw new Error(`model failure on rank 1 at call ${calls}`);
  }
  if (onRank1 && where === "final" && t < 5) {
    throw new Error(`model undefined for x = ${t} on rank 1`);
  }
  return a * Math.exp(-b * t) + c;
});
// sigma: the final statistics evaluate the model (with unit weights and the
// linear loss they reuse the solver's cost instead).
const options = {
  p0: [1, 1, 0],
  workflow: "distributed",
  verbose: 2 as const,
  sigma,
};

if (where === "open") {
  const source = await openSource(
    args.values.data.replace("{rank}", rank ?? "0"),
    { x: "x", y: "y" },
  );
  try {
    await fit(m, source, { p0: [1, 1, 0], workflow: "distributed" });
  } finally {
    await source.close();
  }
} else if (where === "validation" || where === "caught") {
  const bad = y.slice();
  if (onRank1) bad[3000] = NaN;
  try {
    await fit(m, x, bad, options);
  } catch (e) {
    if (where !== "caught") throw e;
    console.error(`rank ${rank} caught: ${(e as Error).message}`);
  }
} else {
  await fit(m, x, y, options);
  if (where === "exit" && onRank1) Deno.exit(3);
  if (where === "validation2" || where === "exit") {
    const bad = y.slice();
    if (onRank1) bad[3000] = NaN;
    await fit(m, x, bad, options);
  }
}
console.log(JSON.stringify({ rank: Number(rank ?? 0), done: true }));
