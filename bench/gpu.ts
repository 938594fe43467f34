/**
 * WebGPU benchmark: whole fits of the engine benchmark's models (`exp3`,
 * `gauss6`, same data as `bench/engine.ts`) on WebGPU in f64, in f32 with the
 * CPU polish, on the CPU, and with scipy's `curve_fit`, reporting time, nfev,
 * time per point per pass, readbacks (`mapAsync` calls) per fit, and the
 * ratio to scipy.
 *
 * `deno run -A bench/gpu.ts [--quick]` prints the table;
 * `deno run -A bench/gpu.ts --crossover` sweeps sizes for the `auto`
 * backend's crossover (`WEBGPU_CROSSOVER_POINT_PARAMS`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fit, model } from "../mod.ts";
import { CASES, makeData } from "./engine.ts";
import { gpuBackendStats } from "../strategies/_gpu_backend.ts";
import { isWebGpuAvailable } from "../gpu/device.ts";
import { havePython } from "../tests/_tools.ts";
import { runScipyCurveFit } from "./_scipy.ts";

/** One row of the WebGPU benchmark. */
export interface GpuBenchRow {
  /** Always "webgpu". */
  section: string;
  /** "exp3" or "gauss6". */
  model: string;
  /** Number of points. */
  n: number;
  /** What ran (the fit result's backend string, or scipy). */
  engine: string;
  /** Best wall time of a whole fit, in ms. */
  timeMs: number;
  /**
   * Wall time of the first fit at this size, in ms: it also pays for fresh
   * memory (on WebGPU the data buffers come from the pool afterwards).
   */
  firstMs: number | null;
  /** Function evaluations (passes over the data). */
  nfev: number | null;
  /** Final cost. */
  cost: number | null;
  /** Largest relative parameter difference from the CPU fit. */
  maxRelDiffVsCpu: number | null;
  /** Wall time per point per pass, in ns. */
  nsPerPointPerPass: number | null;
  /** GPU readbacks (`mapAsync` calls) per fit. */
  readbacks: number | null;
  /** scipy time / this time (> 1: faster than scipy). */
  vsScipy: number | null;
}

type Row = GpuBenchRow;

type Engine = { backend: "cpu" | "webgpu"; precision: "f64" | "f32" };

async function timeFit(
  m: ReturnType<typeof model>,
  x: Float64Array,
  y: Float64Array,
  p0: number[],
  e: Engine,
  reps: number,
): Promise<
  {
    t: number;
    first: number;
    r: Awaited<ReturnType<typeof fit>>;
    readbacks: number;
  }
> {
  let best: {
    t: number;
    r: Awaited<ReturnType<typeof fit>>;
    readbacks: number;
  } | null = null;
  let first = NaN;
  for (let k = 0; k < reps; k++) {
    const rb0 = gpuBackendStats().readbacks;
    const t0 = performance.now();
    const r = await fit(m, x, y, {
      p0,
      backend: e.backend,
      workflow: { strategy: "standard", config: { gpuPrecision: e.precision } },
    });
    const t = performance.now() - t0;
    const readbacks = gpuBackendStats().readbacks - rb0;
    if (k === 0) first = t;
    if (!best || t < best.t) best = { t, r, readbacks };
  }
  return { ...best!, first };
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  }
  return m;
}

/**
 * Runs the WebGPU section: 1e6 and 1e7 points (quick: 1e5 and 1e6) of both
 * models, rows for WebGPU f64, WebGPU f32 + CPU polish, the CPU and scipy.
 * Without a WebGPU adapter only the CPU and scipy rows are produced.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runGpuBench } from "./gpu.ts";
 * // `deno task bench --only=webgpu` runs it (about 2 minutes here)
 * assert.strictEqual(typeof runGpuBench, "function");
 * ```
 */
export async function runGpuBench(
  opts: { quick?: boolean } = {},
): Promise<GpuBenchRow[]> {
  const sizes = opts.quick ? [1e5, 1e6] : [1e6, 1e7];
  const gpu = await isWebGpuAvailable();
  if (!gpu) console.error("no WebGPU adapter: webgpu rows skipped");
  const py = havePython();
  if (!py) console.error("scipy not found: scipy rows skipped");
  const engines: Engine[] = [
    ...(gpu
      ? [
        { backend: "webgpu", precision: "f64" },
        { backend: "webgpu", precision: "f32" },
      ] as const
      : []),
    { backend: "cpu", precision: "f64" },
  ];
  const rows: Row[] = [];
  for (const c of CASES) {
    const m = model(c.expr);
    for (const n of sizes) {
      const { x, y } = makeData(c, n);
      const reps = n >= 1e7 ? 2 : 3;
      // Warm-up: compiles the kernels and starts the workers.
      if (n < 1e7) {
        for (const e of engines) await timeFit(m, x, y, c.p0, e, 1);
      }
      const here: Row[] = [];
      let cpuPopt: Float64Array | null = null;
      for (const e of [...engines].reverse()) {
        const { t, first, r, readbacks } = await timeFit(
          m,
          x,
          y,
          c.p0,
          e,
          reps,
        );
        if (e.backend === "cpu") cpuPopt = r.popt;
        here.unshift({
          section: "webgpu",
          model: c.name,
          n,
          engine: r.backend,
          timeMs: t,
          firstMs: first,
          nfev: r.nfev,
          cost: r.cost,
          maxRelDiffVsCpu: cpuPopt ? maxRelDiff(r.popt, cpuPopt) : null,
          nsPerPointPerPass: t * 1e6 / (n * r.nfev),
          readbacks: e.backend === "webgpu" ? readbacks : null,
          vsScipy: null,
        });
      }
      if (py) {
        const s = await runScipyCurveFit(x, y, c.numpy, c.p0, 2);
        for (const r of here) r.vsScipy = s.time * 1000 / r.timeMs;
        here.push({
          section: "webgpu",
          model: c.name,
          n,
          engine: "scipy curve_fit (lm, 2-point jac)",
          timeMs: s.time * 1000,
          firstMs: null,
          nfev: s.nfev,
          cost: s.cost,
          maxRelDiffVsCpu: cpuPopt ? maxRelDiff(s.popt, cpuPopt) : null,
          nsPerPointPerPass: s.time * 1e9 / (n * s.nfev),
          readbacks: null,
          vsScipy: 1,
        });
      }
      rows.push(...here);
      console.error(`webgpu ${c.name} n=${n} done`);
    }
  }
  return rows;
}

/**
 * The crossover sweep behind `WEBGPU_CROSSOVER_POINT_PARAMS`: best-of-`reps`
 * whole-fit times on the CPU and on WebGPU f64 over a range of sizes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runCrossoverSweep } from "./gpu.ts";
 * // `deno run -A bench/gpu.ts --crossover` runs it
 * assert.strictEqual(typeof runCrossoverSweep, "function");
 * ```
 */
export async function runCrossoverSweep(
  sizes = [1e5, 3e5, 5e5, 1e6, 2e6, 3e6],
  reps = 3,
): Promise<
  {
    model: string;
    n: number;
    pointParams: number;
    cpuMs: number;
    gpuMs: number;
  }[]
> {
  const out = [];
  for (const c of CASES) {
    const m = model(c.expr);
    for (const n of sizes) {
      const { x, y } = makeData(c, n);
      const cpu = await timeFit(m, x, y, c.p0, {
        backend: "cpu",
        precision: "f64",
      }, reps + 1);
      const gpu = await timeFit(m, x, y, c.p0, {
        backend: "webgpu",
        precision: "f64",
      }, reps + 1);
      const row = {
        model: c.name,
        n,
        pointParams: n * c.p0.length,
        cpuMs: cpu.t,
        gpuMs: gpu.t,
      };
      console.error(JSON.stringify(row));
      out.push(row);
    }
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean" },
      crossover: { type: "boolean" },
      sizes: { type: "string" },
    },
  });
  if (values.crossover) {
    console.table(
      await runCrossoverSweep(
        values.sizes ? values.sizes.split(",").map(Number) : undefined,
      ),
    );
  } else console.table(await runGpuBench({ quick: values.quick }));
}
