// A fit with the hpc_distributed preset; prints the result's notes and
// strategy as JSON. Run by tests/distributed_hpc_preset_test.ts with fake
// PBS variables.
import { fit, model } from "../../mod.ts";
const dir = Deno.args[0];
const x = Array.from({ length: 2000 }, (_, i) => i / 400);
const y = x.map((t) => 2 * Math.exp(-1.1 * t) + 0.3);
const r = await fit(model("a * exp(-b * x) + c"), x, y, {
  p0: [1, 1, 0],
  workflow: "hpc_distributed",
  checkpointDir: dir,
});
console.log(JSON.stringify({
  strategy: r.strategy,
  preset: r.preset,
  notes: r.notes,
  tol: r.tolerances.ftol,
  b: r.params.b,
}));
