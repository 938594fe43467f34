/**
 * Batch benchmark (section "batch"): `fitBatch` on 1e3..1e6 independent
 * fits of a 1-D Gaussian (4 parameters) and of `a*exp(-b*x)+c` at 32 and
 * 256 points, and of a 2-D Gaussian spot on 15 x 15 pixels (5 parameters,
 * Gpufit's showcase), with noise and starts within +-20% of the truth;
 * against `scipy.optimize.curve_fit` called in a loop over the same data
 * (the way a Python user fits many datasets; timed on a subset and
 * extrapolated per fit, since its cost per fit does not depend on the
 * batch size). Each row: fits per second (best of several runs, and the
 * spread), mean evaluations, the fraction converged, the growth of the peak
 * RSS during the call (kernel VmHWM after `clear_refs`) beside the size of
 * the data,
 * and the largest relative difference from `fit()` on a sample of the fits.
 * A last row measures 1e6 fits of 32 points in a fresh process, its note the
 * whole peak RSS (runtime, inputs, fitBatch).
 *
 * `deno task bench --only=batch [--quick]`, or `deno run -A bench/batch.ts`.
 *
 * @module
 */

import { fit, fitBatch, model } from "../mod.ts";
import { havePython, pythonCommand } from "../tests/_tools.ts";
import { type BATCH_SHAPES, makeBatch } from "../tests/_batch_data.ts";
import { isWebGpuAvailable } from "../gpu/device.ts";

const gpu = await isWebGpuAvailable();

/** One row of the batch section. */
export interface BatchRow {
  section: string;
  model: string;
  points: number;
  fits: number;
  /** The engine: "cpu", or "webgpu" (its precision and adapter in `note`). */
  backend: string;
  threads: number;
  /** Best of `runs`. */
  fitsPerS: number;
  /** Slowest run's fits per second. */
  fitsPerSWorst: number;
  runs: number;
  meanNfev: number;
  converged: number;
  /** Y: fits x points x 8 bytes. */
  dataMb: number;
  /**
   * Peak RSS during the call above the RSS just before it (the data already
   * in memory; kernel VmHWM after clear_refs), largest over the runs.
   */
  peakGrowthMb: number | null;
  /** Max relative parameter difference from fit() on a sample. */
  maxRelDiffVsFit: number;
  scipyFitsPerS: number | null;
  vsScipy: number | null;
  note: string;
}

interface Case {
  name: string;
  shape: keyof typeof BATCH_SHAPES;
  points: number[];
  noise: number;
  numpy: string;
}

const CASES: Case[] = [
  {
    name: "gaussian",
    shape: "gaussian",
    points: [32, 256],
    noise: 0.01,
    numpy: "lambda x, a, m, s, b: a*np.exp(-(x-m)**2/(2*s**2))+b",
  },
  {
    name: "exp3",
    shape: "exp3",
    points: [32, 256],
    noise: 0.01,
    numpy: "lambda x, a, b, c: a*np.exp(-b*x)+c",
  },
  {
    name: "gaussian2d",
    shape: "gaussian2d",
    points: [225],
    noise: 0.1,
    numpy:
      "lambda X, a, x0, y0, s, b: a*np.exp(-((X[0]-x0)**2+(X[1]-y0)**2)/(2*s**2))+b",
  },
];

const MB = 2 ** 20;

/** VmRSS and VmHWM in bytes, or null without /proc. */
function vm(): { rss: number; hwm: number } | null {
  try {
    const text = Deno.readTextFileSync("/proc/self/status");
    const get = (key: string) =>
      Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))![1]) * 1024;
    return { rss: get("VmRSS"), hwm: get("VmHWM") };
  } catch {
    return null;
  }
}

/** Resets the kernel's peak-RSS counter; false where it cannot. */
function resetPeak(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** scipy's curve_fit over the first `k` fits: fits per second. */
async function scipyRate(
  d: ReturnType<typeof makeBatch>,
  numpy: string,
  k: number,
): Promise<{ fitsPerS: number; converged: number } | null> {
  if (!havePython("numpy, scipy")) return null;
  const dir = await Deno.makeTempDir({ prefix: "nlsq_batch_bench_" });
  try {
    const x = new Float64Array(d.x.length * d.nPoints);
    d.x.forEach((c, v) => x.set(c, v * d.nPoints));
    const p = d.p0.length / d.nFits;
    await Deno.writeFile(`${dir}/x.f64`, new Uint8Array(x.buffer));
    await Deno.writeFile(
      `${dir}/y.f64`,
      new Uint8Array(d.y.buffer, 0, k * d.nPoints * 8),
    );
    await Deno.writeFile(
      `${dir}/p0.f64`,
      new Uint8Array(d.p0.buffer, 0, k * p * 8),
    );
    const proc = new Deno.Command(pythonCommand(), {
      args: [new URL("./scipy_batch_runner.py", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = proc.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify({
      x: `${dir}/x.f64`,
      y: `${dir}/y.f64`,
      p0: `${dir}/p0.f64`,
      nVars: d.x.length,
      nPoints: d.nPoints,
      nFits: k,
      nParams: p,
      numpy,
    })));
    await w.close();
    const out = await proc.output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    return { fitsPerS: r.fits / r.seconds, converged: r.converged / r.fits };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Largest relative difference from fit() over `sample` evenly spread fits. */
async function diffVsFit(
  m: ReturnType<typeof model>,
  d: ReturnType<typeof makeBatch>,
  popt: Float64Array,
  fits: number,
  sample: number,
): Promise<number> {
  const n = d.nPoints, p = m.params.length;
  let worst = 0;
  for (let s = 0; s < sample; s++) {
    const i = Math.floor(s * fits / sample);
    const r = await fit(
      m,
      d.x.length === 1 ? d.x[0] : d.x,
      d.y.subarray(i * n, (i + 1) * n),
      {
        p0: d.p0.subarray(i * p, (i + 1) * p),
      },
    );
    if (!r.success) continue;
    for (let j = 0; j < p; j++) {
      const diff = Math.abs(popt[i * p + j] - r.popt[j]) /
        Math.max(Math.abs(r.popt[j]), 1e-3);
      if (diff > worst || Number.isNaN(diff)) worst = diff;
    }
  }
  return worst;
}

async function runCase(
  c: Case,
  points: number,
  sizes: number[],
  backends: readonly ("cpu" | "webgpu")[] = ["cpu"],
): Promise<BatchRow[]> {
  const max = Math.max(...sizes);
  const d = makeBatch(c.shape, max, points, { seed: 1, noise: c.noise });
  const m = model(d.expr, { variables: d.variables });
  const p = m.params.length;
  const k = Math.min(max, points > 100 ? 500 : 1000);
  const scipy = await scipyRate(d, c.numpy, k);
  const rows: BatchRow[] = [];
  for (const backend of backends) {
    // Warm up: the engine compiled and optimized, the worker threads started
    // (a fresh worker runs its first ~1e5 fits slower, while V8 optimizes),
    // or the WebGPU kernel compiled.
    const w = Math.min(max, points > 100 ? 20_000 : 100_000);
    await fitBatch(m, d.x, d.y.subarray(0, w * d.nPoints), {
      p0: d.p0.subarray(0, w * p),
      backend,
    });
    for (const fits of sizes) {
      const y = d.y.subarray(0, fits * d.nPoints);
      const p0 = d.p0.subarray(0, fits * p);
      const runs = fits >= 1e6 ? 2 : fits >= 1e5 ? 3 : 5;
      const rates: number[] = [];
      let growth: number | null = null;
      let last;
      for (let r = 0; r < runs; r++) {
        const before = vm();
        const canPeak = resetPeak();
        const t0 = performance.now();
        last = await fitBatch(m, d.x, y, { p0, backend });
        rates.push(fits / ((performance.now() - t0) / 1000));
        const v = vm();
        if (canPeak && v && before) {
          growth = Math.max(growth ?? 0, v.hwm - before.rss);
        }
      }
      const b = last!;
      let nfev = 0;
      for (const v of b.nfev) nfev += v;
      const best = Math.max(...rates);
      rows.push({
        section: "batch",
        model: c.name,
        points: d.nPoints,
        fits,
        backend,
        threads: b.threads,
        fitsPerS: Math.round(best),
        fitsPerSWorst: Math.round(Math.min(...rates)),
        runs,
        meanNfev: nfev / fits,
        converged: b.nSuccess / fits,
        dataMb: fits * d.nPoints * 8 / MB,
        peakGrowthMb: growth === null ? null : growth / MB,
        maxRelDiffVsFit: await diffVsFit(m, d, b.popt, fits, 40),
        scipyFitsPerS: scipy ? Math.round(scipy.fitsPerS) : null,
        vsScipy: scipy ? best / scipy.fitsPerS : null,
        note: (backend === "cpu" ? "" : `${b.backend}; `) +
          (scipy
            ? `scipy: curve_fit loop timed on ${k} fits (${
              (100 * scipy.converged).toFixed(1)
            }% converged), per-fit rate extrapolated`
            : "scipy not available"),
      });
      console.error(
        `batch: ${c.name} ${d.nPoints} points, ${fits} fits, ${backend}: ${
          Math.round(best)
        } fits/s`,
      );
    }
  }
  return rows;
}

/** 1e6 fits of 32 points in a fresh process: peak RSS against the data. */
async function memoryRow(): Promise<BatchRow | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--memory-child",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    console.error(new TextDecoder().decode(out.stderr));
    return null;
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The child of {@linkcode memoryRow}. */
async function memoryChild(): Promise<void> {
  const fits = 1e6;
  const gc = (globalThis as { gc?: () => void }).gc!;
  const settle = async () => {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  };
  // The runtime with the engine compiled and the worker threads started.
  const small = makeBatch("gaussian", 4096, 32, { seed: 3, noise: 0.01 });
  const m = model(small.expr);
  await fitBatch(m, small.x[0], small.y, { p0: small.p0, backend: "cpu" });
  await settle();
  const runtime = vm()!.rss;
  const d = makeBatch("gaussian", fits, 32, { seed: 2, noise: 0.01 });
  await settle();
  const before = vm()!.rss;
  resetPeak();
  const t0 = performance.now();
  const b = await fitBatch(m, d.x[0], d.y, { p0: d.p0, backend: "cpu" });
  const rate = fits / ((performance.now() - t0) / 1000);
  const peak = vm()!.hwm;
  const dataMb = fits * 32 * 8 / MB;
  const mb = (v: number) => (v / MB).toFixed(0);
  const row: BatchRow = {
    section: "batch",
    model: "gaussian (fresh process)",
    points: 32,
    fits,
    backend: "cpu",
    threads: b.threads,
    fitsPerS: Math.round(rate),
    fitsPerSWorst: Math.round(rate),
    runs: 1,
    meanNfev: b.nfev.reduce((s, v) => s + v, 0) / fits,
    converged: b.nSuccess / fits,
    dataMb,
    peakGrowthMb: (peak - before) / MB,
    maxRelDiffVsFit: NaN,
    scipyFitsPerS: null,
    vsScipy: null,
    note: `peak RSS ${mb(peak)} MB: runtime ${
      mb(runtime)
    } MB, then the inputs ${mb(before - runtime)} MB (Y ${
      dataMb.toFixed(0)
    } MB, p0 and the truth ${
      (2 * fits * 4 * 8 / MB).toFixed(0)
    } MB), then fitBatch ${mb(peak - before)} MB (results ${
      (fits * (2 * 4 * 8 + 2 * 8 + 2 * 4 + 2) / MB).toFixed(0)
    } MB); above the runtime ${
      ((peak - runtime) / MB / dataMb).toFixed(2)
    } x the data`,
  };
  console.log(JSON.stringify(row));
}

/**
 * Runs the batch section (quick: up to 1e5 fits, no fresh-process row):
 * the CPU engine, and the WebGPU engine beside it where there is a device
 * (`--only-backend=cpu|webgpu` keeps one).
 */
export async function runBatchBench(
  opts: { quick?: boolean; backends?: ("cpu" | "webgpu")[] } = {},
): Promise<BatchRow[]> {
  const sizes = opts.quick ? [1e3, 1e4, 1e5] : [1e3, 1e4, 1e5, 1e6];
  const backends = (opts.backends ?? ["cpu", "webgpu"]).filter((b) =>
    b === "cpu" || gpu
  );
  const rows: BatchRow[] = [];
  for (const c of CASES) {
    for (const points of c.points) {
      rows.push(...await runCase(c, points, sizes, backends));
    }
  }
  if (!opts.quick) {
    const r = await memoryRow();
    if (r) rows.push(r);
  }
  return rows;
}

if (import.meta.main) {
  if (Deno.args.includes("--memory-child")) await memoryChild();
  else {
    const only = Deno.args.find((a) => a.startsWith("--only-backend="));
    const rows = await runBatchBench({
      quick: Deno.args.includes("--quick"),
      backends: only ? [only.split("=")[1] as "cpu" | "webgpu"] : undefined,
    });
    console.table(rows.map(({ section: _, note: __, ...r }) => r));
    for (const r of rows) {
      console.log(`${r.model} ${r.points} ${r.fits}: ${r.note}`);
    }
  }
}
