/**
 * Batch benchmark (section "batch"): `fitBatch` on 1e3..1e6 independent
 * fits of a 1-D Gaussian (4 parameters) and of `a*exp(-b*x)+c` at 32 and
 * 256 points, and of a 2-D Gaussian spot on 15 x 15 pixels (5 parameters,
 * Gpufit's showcase), with noise and starts within +-20% of the truth;
 * against `scipy.optimize.curve_fit` called in a loop over the same data
 * (the way a Python user fits many datasets; timed on a subset and
 * extrapolated per fit, since its cost per fit does not depend on the
 * batch size). Each row: fits per second on all cores (best of several
 * runs, and the slowest), on one thread, and per CPU-second (the process's
 * CPU time, worker threads included: what a core does, whatever else loads
 * the machine), the load average, mean evaluations, the fraction converged,
 * the growth of the peak RSS during the call (kernel VmHWM after
 * `clear_refs`) beside the size of the data, the largest relative
 * difference from `fit()` on a sample of the fits, and, at the largest size
 * of each case, the engine with its JavaScript kernel instead of the
 * WebAssembly one (the baseline of the same run). scipy's rate is per
 * second and per CPU-second too. A last row measures 1e6 fits of 32 points
 * in a fresh process, its note the whole peak RSS (runtime, inputs,
 * fitBatch).
 *
 * `deno task bench --only=batch [--quick]`, or `deno run -A bench/batch.ts`.
 *
 * @module
 */

import process from "node:process";
import { fit, fitBatch, model } from "../mod.ts";
import { ENGINE_CHOICES } from "../batch/_engine_source.ts";
import { havePython, pythonCommand } from "../tests/_tools.ts";
import { type BATCH_SHAPES, makeBatch } from "../tests/_batch_data.ts";
import { isWebGpuAvailable } from "../gpu/device.ts";
import { runCpufit } from "./_cpufit.ts";

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
  /** Fits per CPU-second of the best run (all threads' CPU time). */
  fitsPerCpuS: number;
  /** One thread (`threads: 1`): best fits per second and per CPU-second. */
  oneThreadFitsPerS: number;
  oneThreadFitsPerCpuS: number;
  /** One thread with the JavaScript kernel (largest size only), per CPU-second. */
  jsKernelFitsPerCpuS: number | null;
  /** 1-minute load average when the row was measured. */
  load: number;
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
  scipyFitsPerCpuS: number | null;
  /** Fits per CPU-second against scipy's (one thread each). */
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
): Promise<
  { fitsPerS: number; fitsPerCpuS: number; converged: number } | null
> {
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
    return {
      fitsPerS: r.fits / r.seconds,
      fitsPerCpuS: r.fits / r.cpuSeconds,
      converged: r.converged / r.fits,
    };
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

/** Fits per second and per CPU-second of `runs` calls (best), and the slowest. */
async function timed(
  runs: number,
  fits: number,
  call: () => Promise<unknown>,
  peak?: (growth: number) => void,
) {
  let best = 0, worst = Infinity, bestCpu = 0;
  for (let r = 0; r < runs; r++) {
    const before = vm();
    const canPeak = peak !== undefined && resetPeak();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await call();
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    best = Math.max(best, fits / s);
    worst = Math.min(worst, fits / s);
    bestCpu = Math.max(bestCpu, fits / ((c.user + c.system) / 1e6));
    const v = vm();
    if (canPeak && v && before) peak!(v.hwm - before.rss);
  }
  return { best, worst, bestCpu };
}

/** Rows of the WebGPU batch engine (wall-clock fits per second only). */
async function runGpuRows(
  c: Case,
  d: ReturnType<typeof makeBatch>,
  m: ReturnType<typeof model>,
  sizes: number[],
  scipy: Awaited<ReturnType<typeof scipyRate>>,
): Promise<BatchRow[]> {
  const p = m.params.length;
  const backend = "webgpu";
  // Warm up: the WebGPU kernel compiled.
  const w = Math.min(Math.max(...sizes), d.nPoints > 100 ? 20_000 : 100_000);
  await fitBatch(m, d.x, d.y.subarray(0, w * d.nPoints), {
    p0: d.p0.subarray(0, w * p),
    backend,
  });
  const rows: BatchRow[] = [];
  for (const fits of sizes) {
    const y = d.y.subarray(0, fits * d.nPoints);
    const p0 = d.p0.subarray(0, fits * p);
    const runs = fits >= 1e6 ? 1 : fits >= 1e5 ? 2 : 4;
    let last: Awaited<ReturnType<typeof fitBatch>> | undefined;
    const all = await timed(runs, fits, async () => {
      last = await fitBatch(m, d.x, y, { p0, backend });
    });
    const b = last!;
    let nfev = 0;
    for (const v of b.nfev) nfev += v;
    rows.push({
      section: "batch",
      model: c.name,
      points: d.nPoints,
      fits,
      backend,
      threads: b.threads,
      fitsPerS: Math.round(all.best),
      fitsPerSWorst: Math.round(all.worst),
      fitsPerCpuS: Math.round(all.bestCpu),
      oneThreadFitsPerS: Math.round(all.best),
      oneThreadFitsPerCpuS: Math.round(all.bestCpu),
      jsKernelFitsPerCpuS: null,
      load: Number(Deno.loadavg()[0].toFixed(2)),
      runs,
      meanNfev: nfev / fits,
      converged: b.nSuccess / fits,
      dataMb: fits * d.nPoints * 8 / MB,
      peakGrowthMb: null,
      maxRelDiffVsFit: await diffVsFit(m, d, b.popt, fits, 40),
      scipyFitsPerS: scipy ? Math.round(scipy.fitsPerS) : null,
      scipyFitsPerCpuS: scipy ? Math.round(scipy.fitsPerCpuS) : null,
      vsScipy: scipy ? all.best / scipy.fitsPerS : null,
      note:
        `${b.backend}; wall-clock ratio to scipy's loop (software adapter on the same cores)`,
    });
    console.error(
      `batch: ${c.name} ${d.nPoints} points, ${fits} fits, webgpu: ${
        Math.round(all.best)
      } fits/s`,
    );
  }
  return rows;
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
  const k = Math.min(max, points > 100 ? 300 : 1000);
  const scipy = await scipyRate(d, c.numpy, k);
  // Warm up: the engine compiled and optimized, the worker threads started
  // (a fresh worker runs its first ~1e5 fits slower, while V8 optimizes).
  const w = Math.min(max, points > 100 ? 10_000 : 100_000);
  const warm = { p0: d.p0.subarray(0, w * p), backend: "cpu" as const };
  await fitBatch(m, d.x, d.y.subarray(0, w * d.nPoints), warm);
  await fitBatch(m, d.x, d.y.subarray(0, w * d.nPoints), {
    ...warm,
    threads: 1,
  });
  const rows: BatchRow[] = [];
  for (const fits of sizes) {
    const y = d.y.subarray(0, fits * d.nPoints);
    const p0 = d.p0.subarray(0, fits * p);
    const work = fits * d.nPoints;
    const runs = work >= 3e7 ? 1 : work >= 1e7 ? 2 : 4;
    let growth: number | null = null;
    let last: Awaited<ReturnType<typeof fitBatch>> | undefined;
    const all = await timed(
      runs,
      fits,
      async () => {
        last = await fitBatch(m, d.x, y, { p0, backend: "cpu" });
      },
      (g) => growth = Math.max(growth ?? 0, g),
    );
    const one = await timed(
      Math.max(1, runs - 1),
      fits,
      () => fitBatch(m, d.x, y, { p0, threads: 1 }),
    );
    let js: number | null = null;
    if (fits === max) {
      ENGINE_CHOICES.wasm = false;
      try {
        const warmFits = Math.min(fits, w);
        await fitBatch(m, d.x, y.subarray(0, warmFits * d.nPoints), {
          p0: p0.subarray(0, warmFits * p),
          threads: 1,
        });
        js = (await timed(
          1,
          fits,
          () => fitBatch(m, d.x, y, { p0, threads: 1 }),
        )).bestCpu;
      } finally {
        ENGINE_CHOICES.wasm = true;
      }
    }
    const b = last!;
    let nfev = 0;
    for (const v of b.nfev) nfev += v;
    // The issue's case (1e5 Gaussians of 32 points): every fit against
    // fit() (about 7 s); elsewhere 40 spread over the batch.
    const compared = c.name === "gaussian" && d.nPoints === 32 && fits === 1e5
      ? fits
      : 40;
    rows.push({
      section: "batch",
      model: c.name,
      points: d.nPoints,
      fits,
      backend: "cpu",
      threads: b.threads,
      fitsPerS: Math.round(all.best),
      fitsPerSWorst: Math.round(all.worst),
      fitsPerCpuS: Math.round(all.bestCpu),
      oneThreadFitsPerS: Math.round(one.best),
      oneThreadFitsPerCpuS: Math.round(one.bestCpu),
      jsKernelFitsPerCpuS: js === null ? null : Math.round(js),
      load: Number(Deno.loadavg()[0].toFixed(2)),
      runs,
      meanNfev: nfev / fits,
      converged: b.nSuccess / fits,
      dataMb: fits * d.nPoints * 8 / MB,
      peakGrowthMb: growth === null ? null : growth / MB,
      maxRelDiffVsFit: await diffVsFit(m, d, b.popt, fits, compared),
      scipyFitsPerS: scipy ? Math.round(scipy.fitsPerS) : null,
      scipyFitsPerCpuS: scipy ? Math.round(scipy.fitsPerCpuS) : null,
      vsScipy: scipy ? one.bestCpu / scipy.fitsPerCpuS : null,
      note: `${compared} fits compared with fit(); ${
        scipy
          ? `scipy: curve_fit loop timed on ${k} fits (${
            (100 * scipy.converged).toFixed(1)
          }% converged), per-fit rate extrapolated`
          : "scipy not available"
      }`,
    });
    console.error(
      `batch: ${c.name} ${d.nPoints} points, ${fits} fits: ${
        Math.round(all.best)
      } fits/s (${b.threads} threads), ${
        Math.round(one.bestCpu)
      } per CPU-second on one thread, load ${Deno.loadavg()[0].toFixed(1)}`,
    );
  }
  if (backends.includes("webgpu")) {
    rows.push(...await runGpuRows(c, d, m, sizes, scipy));
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
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const b = await fitBatch(m, d.x[0], d.y, { p0: d.p0, backend: "cpu" });
  const rate = fits / ((performance.now() - t0) / 1000);
  const cu = process.cpuUsage(c0);
  const cpuRate = fits / ((cu.user + cu.system) / 1e6);
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
    fitsPerCpuS: Math.round(cpuRate),
    oneThreadFitsPerS: NaN,
    oneThreadFitsPerCpuS: NaN,
    jsKernelFitsPerCpuS: null,
    load: Number(Deno.loadavg()[0].toFixed(2)),
    runs: 1,
    meanNfev: b.nfev.reduce((s, v) => s + v, 0) / fits,
    converged: b.nSuccess / fits,
    dataMb,
    peakGrowthMb: (peak - before) / MB,
    maxRelDiffVsFit: NaN,
    scipyFitsPerS: null,
    scipyFitsPerCpuS: null,
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
 * Runs the batch section. Sizes: 1e3, 1e4, 1e5 fits, and 1e6 for the
 * Gaussian of 32 points; quick: up to 1e5 fits of 32 points and 1e4 of
 * more, no 1e6 and no fresh-process row. The CPU engine, and the WebGPU
 * engine beside it where there is a device (`--only-backend=cpu|webgpu`
 * keeps one).
 */
export async function runBatchBench(
  opts: { quick?: boolean; backends?: ("cpu" | "webgpu")[] } = {},
): Promise<BatchRow[]> {
  const backends = (opts.backends ?? ["cpu", "webgpu"]).filter((b) =>
    b === "cpu" || gpu
  );
  const rows: BatchRow[] = [];
  for (const c of CASES) {
    for (const points of c.points) {
      const sizes = points > 100 && opts.quick ? [1e3, 1e4] : [1e3, 1e4, 1e5];
      if (!opts.quick && c.name === "gaussian" && points === 32) {
        sizes.push(1e6);
      }
      rows.push(...await runCase(c, points, sizes, backends));
    }
  }
  const peer = await cpufitRow();
  if (peer) rows.push(peer);
  if (!opts.quick) {
    const r = await memoryRow();
    if (r) rows.push(r);
  }
  return rows;
}

/** Cpufit on the 1e5 Gaussians of 32 points, where a build is given. */
async function cpufitRow(): Promise<BatchRow | null> {
  const fits = 1e5;
  const d = makeBatch("gaussian", fits, 32, { seed: 1, noise: 0.01 });
  const r = await runCpufit(d);
  if (!r) return null;
  return {
    section: "batch",
    model: "gaussian (Cpufit)",
    points: 32,
    fits,
    backend: "cpufit",
    threads: 1,
    fitsPerS: Math.round(r.fitsPerS),
    fitsPerSWorst: Math.round(r.fitsPerS),
    fitsPerCpuS: Math.round(r.fitsPerCpuS),
    oneThreadFitsPerS: Math.round(r.fitsPerS),
    oneThreadFitsPerCpuS: Math.round(r.fitsPerCpuS),
    jsKernelFitsPerCpuS: null,
    load: Number(Deno.loadavg()[0].toFixed(2)),
    runs: 5,
    meanNfev: NaN,
    converged: r.converged,
    dataMb: fits * 32 * 8 / MB,
    peakGrowthMb: null,
    maxRelDiffVsFit: NaN,
    scipyFitsPerS: null,
    scipyFitsPerCpuS: null,
    vsScipy: null,
    note: `Cpufit (Gpufit's CPU twin), float32, one thread, tolerance 1e-4, ${
      r.meanIterations.toFixed(2)
    } iterations per fit, best of 5 runs`,
  };
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
