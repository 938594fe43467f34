// One rank of a distributed global fit, for tests/workflow_fit_global_test.ts:
// `mpiexec -n N deno run -A global_script.ts`; prints one JSON line per rank.
import { fitGlobal } from "../../mod.ts";

const n = 20_000;
const x = Float64Array.from({ length: n }, (_, i) => (i / n) * 5);
const wiggle = (i: number) => 0.02 * Math.sin(12.9898 * (i + 1));
const ya = x.map((t, i) => 3 * Math.exp(-0.6 * t) + 0.4 + wiggle(i));
const yb = x.map((t, i) => 1.5 * Math.exp(-0.6 * t) - wiggle(i + 7));
const r = await fitGlobal([
  { model: "a * exp(-k * x) + c", x, y: ya },
  { model: "a * exp(-k * x)", x, y: yb },
], {
  shared: ["k"],
  params: { a_0: 1, k: 1, c_0: 0, a_1: 1 },
  workflow: Deno.args[0] ?? "distributed",
  ftol: 1e-15,
  xtol: 1e-15,
  gtol: 1e-15,
});
const rank = Deno.env.get("PMI_RANK") ?? Deno.env.get("OMPI_COMM_WORLD_RANK");
console.log(JSON.stringify({
  rank: Number(rank ?? 0),
  popt: Array.from(r.popt),
  strategy: r.strategy,
  success: r.success,
}));
