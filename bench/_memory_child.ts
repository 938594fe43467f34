/**
 * One fit in a fresh process, with its peak memory measured by the kernel.
 * Started by `bench/workflow.ts` and `tests/memory_bound_test.ts` as
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/_memory_child.ts \
 *   --case=exp3 --n=4000000 --strategy=chunked [--chunk-size=N] \
 *   [--threads=T] [--sample]
 * ```
 *
 * It generates the data, warms up (compiles the model and starts the worker
 * threads on a small fit, so the pool's one-off cost is not counted), runs
 * gc, resets the kernel's peak-RSS counter (`echo 5 > /proc/self/clear_refs`
 * sets VmHWM to the current VmRSS), reads the baseline VmRSS, runs the fit,
 * and reads VmHWM: the peak growth is `VmHWM - baseline`. VmHWM is also read
 * after every solver iteration (onProgress), so the peak of the solver phase
 * is told apart from the final statistics pass that `fit()` makes at popt.
 * Where clear_refs is unavailable (or with `--sample`) it falls back to
 * sampling VmRSS every millisecond the event loop is free and after every
 * iteration, and says so in `method`; that can miss a short-lived peak inside
 * a synchronous stretch of work. The fit runs on the CPU backend (all cores),
 * so what is measured is the CPU strategies' memory, not a GPU driver's.
 * Prints one JSON line ({@linkcode MemoryMeasurement}).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fit, MemoryBudgetSelector, model } from "../mod.ts";
import type { Model } from "../model/types.ts";
import { createDenseEvaluator } from "../core/dense_evaluator.ts";
import { solve } from "../core/solve.ts";
import { resolveSolverOptions } from "../core/_validate.ts";
import { CASES, makeData } from "./engine.ts";

/** What the child prints (one JSON line on stdout). */
export interface MemoryMeasurement {
  caseName: string;
  strategy: string;
  backend: string;
  n: number;
  p: number;
  /** Rows per chunk (chunked), or n (standard: one block). */
  chunkSize: number;
  /** memoryLimitGb given to the selector (chunked without --chunk-size). */
  memoryLimitGb: number | null;
  /** "VmHWM" (kernel peak after clear_refs) or "sampled" (fallback). */
  method: "VmHWM" | "sampled";
  baselineRssBytes: number;
  /** Peak RSS minus the baseline, over the whole fit() call. */
  peakGrowthBytes: number;
  /** Peak RSS minus the baseline up to the last solver iteration. */
  solverPeakGrowthBytes: number;
  /** RSS after fit() returned (result alive), minus the baseline. */
  retainedBytes: number;
  timeMs: number;
  nfev: number;
  popt: number[];
}

const PAGE = 1024;

/** VmRSS and VmHWM of this process in bytes, or null without /proc. */
function vm(): { rss: number; hwm: number } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/status");
  } catch {
    return null;
  }
  const get = (key: string) => {
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) * PAGE : NaN;
  };
  return { rss: get("VmRSS"), hwm: get("VmHWM") };
}

/** Resets VmHWM to the current VmRSS; true if the kernel honoured it. */
function resetPeak(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch {
    return false;
  }
  const v = vm();
  // After a reset the peak equals the current RSS (a few pages of slack).
  return v !== null && Number.isFinite(v.hwm) && v.hwm - v.rss < 1 << 20;
}

async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  // ArrayBuffer backing stores are freed after the collection; give the
  // sweeper a moment, twice.
  for (let k = 0; k < 2; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What is measured: the two in-memory strategies of `fit()`, and a control
 * that does allocate an n x p Jacobian (the dense evaluator behind
 * `leastSquares`, finite differences over the residual vector), to show
 * that the measurement sees one.
 */
export type Measured = "standard" | "chunked" | "dense";

type Tol = { ftol: number; xtol: number; gtol: number };

/** The control: the dense evaluator (n x p Jacobian) on the same problem. */
async function denseFit(
  m: Model,
  x: Float64Array,
  y: Float64Array,
  p0: number[],
  tol: Tol,
  onIteration?: () => void,
) {
  const p = m.params.length, n = y.length;
  // Each call's n-vectors are garbage by the next: collected first, so the
  // peak is what the fit holds (the n x p Jacobian among it), not where a
  // collection happened to fall (p = 6 measured 271-462 MB without).
  const gc = (globalThis as { gc?: () => void }).gc;
  const fun = (t: Float64Array) => {
    gc?.();
    const f = m.evaluate([x], t);
    for (let i = 0; i < n; i++) f[i] -= y[i];
    return f;
  };
  const dense = createDenseEvaluator(fun, n, p);
  // So are the last evaluation's Jacobian and factor when the next starts.
  const ev = {
    ...dense,
    evaluate: (...a: Parameters<typeof dense.evaluate>) => {
      gc?.();
      return dense.evaluate(...a);
    },
  };
  const so = resolveSolverOptions({ method: "trf", ...tol }, p, n, m.params);
  const r = await solve(ev, Float64Array.from(p0), so, { onIteration });
  return {
    strategy: "dense",
    backend: "cpu (dense n x p Jacobian, 1 thread, f64)",
    nfev: r.nfev,
    popt: r.x,
  };
}

/** Runs one measured fit (in this process) and returns the measurement. */
export async function measure(opts: {
  caseName: string;
  n: number;
  strategy: Measured;
  chunkSize?: number;
  /** CPU threads of fit() (default "auto": all cores). */
  threads?: number;
  /** Sample VmRSS instead of reading VmHWM (the fallback), to test it. */
  sample?: boolean;
}): Promise<MemoryMeasurement> {
  const c = CASES.find((k) => k.name === opts.caseName);
  if (!c) throw new RangeError(`unknown case ${opts.caseName}`);
  const m = model(c.expr);
  const p = m.params.length;
  const n = opts.n;
  const tol = { ftol: 1e-10, xtol: 1e-10, gtol: 1e-10 };

  // Chunked: explicit chunk size, or a memory limit that puts the selector's
  // threshold halfway between "data fits" and "peak fits", so the selector
  // itself picks chunked and sizes the chunks.
  let memoryLimitGb: number | null = null;
  let chunkSize = n;
  let workflow: Record<string, unknown> | string = "standard";
  if (opts.strategy === "chunked") {
    if (opts.chunkSize !== undefined) {
      chunkSize = opts.chunkSize;
      workflow = { strategy: "chunked", config: { chunkSize } };
    } else {
      const dataGb = n * 2 * 8 / 2 ** 30, jacGb = n * p * 8 / 2 ** 30;
      memoryLimitGb = (dataGb + 0.1 + 0.65 * jacGb) / 0.75;
      const sel = new MemoryBudgetSelector().select({
        nPoints: n,
        nParams: p,
        memoryLimitGb,
      });
      if (sel.strategy !== "chunked") {
        throw new Error(`selector picked ${sel.strategy}, not chunked`);
      }
      chunkSize = sel.config.chunkSize;
      workflow = "chunked";
    }
  }

  const run = (
    x: Float64Array,
    y: Float64Array,
    onProgress?: () => void,
    warmUp = false,
  ) =>
    opts.strategy === "dense"
      ? denseFit(m, x, y, c.p0, tol, onProgress)
      : fit(m, x, y, {
        p0: c.p0,
        ...tol,
        workflow: warmUp && opts.strategy === "chunked"
          ? { strategy: "chunked", config: { chunkSize: 50_000 } }
          : workflow,
        ...(memoryLimitGb !== null && !warmUp ? { memoryLimitGb } : {}),
        backend: "cpu",
        threads: opts.threads ?? "auto",
        onProgress,
      });

  // Warm-up: compile, start the worker pool, grow V8's young generation.
  {
    const w = makeData(c, 200_000);
    await run(w.x, w.y, undefined, true);
  }

  const { x, y } = makeData(c, n);
  await settle();

  const method = !opts.sample && resetPeak() ? "VmHWM" : "sampled";
  const v0 = vm();
  if (!v0) throw new Error("/proc/self/status is not readable");
  const base = v0.rss;
  let peak = base, solverPeak = base;
  const sample = () => {
    const v = vm()!;
    peak = Math.max(peak, method === "VmHWM" ? v.hwm : v.rss);
    return peak;
  };
  const timer = method === "sampled" ? setInterval(sample, 1) : undefined;
  const t0 = performance.now();
  let r;
  try {
    r = await run(x, y, () => {
      solverPeak = sample();
    });
  } finally {
    clearInterval(timer);
  }
  const timeMs = performance.now() - t0;
  sample();
  if (r.strategy !== opts.strategy) {
    throw new Error(`fit used ${r.strategy}, expected ${opts.strategy}`);
  }
  const after = vm()!.rss;
  return {
    caseName: c.name,
    strategy: r.strategy,
    backend: r.backend,
    n,
    p,
    chunkSize,
    memoryLimitGb,
    method,
    baselineRssBytes: base,
    peakGrowthBytes: peak - base,
    solverPeakGrowthBytes: solverPeak - base,
    retainedBytes: after - base,
    timeMs,
    nfev: r.nfev,
    popt: Array.from(r.popt),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", default: "exp3" },
      n: { type: "string", default: "1000000" },
      strategy: { type: "string", default: "chunked" },
      "chunk-size": { type: "string" },
      threads: { type: "string" },
      sample: { type: "boolean", default: false },
    },
  });
  const strategy = values.strategy;
  if (
    strategy !== "standard" && strategy !== "chunked" && strategy !== "dense"
  ) {
    throw new RangeError(`--strategy must be standard, chunked or dense`);
  }
  const out = await measure({
    caseName: values.case,
    n: Number(values.n),
    strategy,
    chunkSize: values["chunk-size"] !== undefined
      ? Number(values["chunk-size"])
      : undefined,
    threads: values.threads !== undefined ? Number(values.threads) : undefined,
    sample: values.sample,
  });
  console.log(JSON.stringify(out));
  // Pooled worker threads are unref'd; exit without waiting for them.
  Deno.exit(0);
}
