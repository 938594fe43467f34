/**
 * Per-pass throughput: one evaluation with the Jacobian (cost, J^T J, J^T f)
 * at a fixed point, steady state (best of 5 after a warm-up), on the CPU
 * evaluator (all threads), on WebGPU in f64 and f32, and in a compiled C loop
 * doing the same arithmetic (`bench/c/pass.c`, OpenMP on all cores; skipped
 * when no C compiler is found). `vsC` = time / C time.
 *
 * @module
 */

import { model } from "../mod.ts";
import { CASES, makeData } from "./engine.ts";
import { createParallelEvaluator } from "../core/parallel_evaluator.ts";
import { createGpuEvaluator } from "../gpu/evaluator.ts";
import { isWebGpuAvailable } from "../gpu/device.ts";
import type { Evaluator } from "../core/linearization.ts";

/** One row of the per-pass benchmark. */
export interface PassBenchRow {
  /** Always "pass". */
  section: string;
  /** "exp3" or "gauss6". */
  model: string;
  /** Number of points. */
  n: number;
  /** What ran. */
  engine: string;
  /** Best time of one pass with the Jacobian, in ms. */
  msPerPass: number;
  /** The same per point, in ns. */
  nsPerPointPerPass: number;
  /** This time over the C loop's (null without a C compiler). */
  vsC: number | null;
}

async function bestPass(ev: Evaluator, theta: Float64Array): Promise<number> {
  await ev.evaluate([theta], [true]);
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    await ev.evaluate([theta], [true]);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function cLoop(
  name: string,
  n: number,
): Promise<number | null> {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_pass_" });
  try {
    const exe = `${dir}/pass`;
    const src = new URL("./c/pass.c", import.meta.url).pathname;
    const cc = await new Deno.Command("cc", {
      args: ["-O3", "-march=native", "-fopenmp", src, "-o", exe, "-lm"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!cc.success) {
      console.error(
        "C reference not built:",
        new TextDecoder().decode(cc.stderr),
      );
      return null;
    }
    const out = await new Deno.Command(exe, {
      args: [name, String(n), "5"],
      stdout: "piped",
    }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout)).bestMs;
  } catch (e) {
    console.error(`C reference skipped: ${(e as Error).message}`);
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs the per-pass section at 1e7 points (quick: 1e6) for both models.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runPassBench } from "./pass.ts";
 * // `deno task bench --only=pass` runs it (about 30 s here)
 * assert.strictEqual(typeof runPassBench, "function");
 * ```
 */
export async function runPassBench(
  opts: { quick?: boolean } = {},
): Promise<PassBenchRow[]> {
  const n = opts.quick ? 1e6 : 1e7;
  const gpu = await isWebGpuAvailable();
  const rows: PassBenchRow[] = [];
  for (const c of CASES) {
    const m = model(c.expr);
    const { x, y } = makeData(c, n);
    const theta = Float64Array.from(c.truth);
    const data = { x: [x], y, w: null };
    const c0 = await cLoop(c.name, n);
    const row = (engine: string, ms: number): PassBenchRow => ({
      section: "pass",
      model: c.name,
      n,
      engine,
      msPerPass: ms,
      nsPerPointPerPass: ms * 1e6 / n,
      vsC: c0 === null ? null : ms / c0,
    });
    if (c0 !== null) {
      rows.push(row("C loop (cc -O3 -march=native -fopenmp, all cores)", c0));
    }
    const cpu = createParallelEvaluator(m, data);
    try {
      rows.push(
        row(`cpu (${cpu.threads} threads, f64)`, await bestPass(cpu, theta)),
      );
    } finally {
      cpu.close();
    }
    if (gpu) {
      for (const precision of ["f64", "f32"] as const) {
        const ev = await createGpuEvaluator(m, data, { precision });
        try {
          const d = ev.describe();
          rows.push(
            row(
              `webgpu ${precision} (${d.adapterName}${
                d.software ? ", software" : ""
              })`,
              await bestPass(ev, theta),
            ),
          );
        } finally {
          ev.close();
        }
      }
    }
    console.error(`pass ${c.name} n=${n} done`);
  }
  return rows;
}

if (import.meta.main) {
  console.table(await runPassBench({ quick: Deno.args.includes("--quick") }));
}
