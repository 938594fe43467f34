// Measures the streaming evaluator's cost per point per pass (with the
// Jacobian, 3-parameter model) against the in-memory CPU evaluators.
//
//   deno run -A tests/streaming/throughput.ts [N] [BATCH]

import { join } from "node:path";
import { model } from "../../model/model.ts";
import { openSource } from "../../data/mod.ts";
import { createCpuEvaluator } from "../../core/cpu_evaluator.ts";
import { createParallelEvaluator } from "../../core/parallel_evaluator.ts";
import { createStreamingEvaluator } from "../../strategies/streaming.ts";
import type { Evaluator } from "../../core/linearization.ts";
import { decayData, writeRawF64 } from "./data_files.ts";

const n = Number(Deno.args[0] ?? 2_000_000);
const batch = Number(Deno.args[1] ?? 100_000);
const m = model("a * exp(-b * x) + c");
const d = decayData(n);
const theta = [Float64Array.from([2.9, 0.71, 0.49])];

async function nsPerPoint(ev: Evaluator, reps = 5): Promise<number> {
  await ev.evaluate(theta, [true]); // warm-up (JIT)
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    // A new vector each time: the streaming cache must not serve it.
    const t = [Float64Array.from([2.9 + (r + 1) * 1e-6, 0.71, 0.49])];
    const t0 = performance.now();
    await ev.evaluate(t, [true]);
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1e6) / n;
}

const dir = await Deno.makeTempDir();
try {
  const path = join(dir, "data.f64");
  await writeRawF64(path, [d.x, d.y]);
  const mem = { kind: "memory" as const, x: [d.x], y: d.y, w: null };
  const rows: [string, number][] = [];
  rows.push([
    "in-memory CPU, 1 thread",
    await nsPerPoint(createCpuEvaluator(m, mem)),
  ]);
  const par = createParallelEvaluator(m, mem, { threads: 2 });
  rows.push(["in-memory CPU, 2 threads", await nsPerPoint(par)]);
  par.close();
  rows.push([
    `streaming, arrays, batch ${batch}`,
    await nsPerPoint(
      await createStreamingEvaluator(m, mem, { batchSize: batch }),
    ),
  ]);
  const src = await openSource(path, { columns: 2 });
  rows.push([
    `streaming, raw f64 file, batch ${batch}`,
    await nsPerPoint(
      await createStreamingEvaluator(m, src, { batchSize: batch }),
    ),
  ]);
  await src.close();
  console.log(`${n} points, 3 parameters, cost + Jacobian (TSQR) per pass`);
  for (const [name, ns] of rows) {
    console.log(`${name.padEnd(40)} ${ns.toFixed(1)} ns/point/pass`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
