/**
 * Workflow benchmark: peak memory of the standard and the chunked strategy,
 * measured by the kernel in a fresh child process per fit
 * (`bench/_memory_child.ts`: VmHWM after `clear_refs`, minus the baseline
 * VmRSS with the data already in memory), on a 3-parameter and a
 * 6-parameter model at n/2 and n points.
 *
 * It shows that no n x p Jacobian is allocated: an n x p array would make
 * the peak grow by n x 3 x 8 bytes between p = 3 and p = 6 (96 MB at 4M
 * points) and by 8p bytes per point with n; the measured growth does
 * neither, and its slope in n is a small, p-independent number of bytes per
 * point (the worker threads' copies of their rows of x and y; a last row,
 * chunked on one thread, shows the growth vanish). The chunked rows are
 * compared with the chunk budget (the selector's chunk size x (p + 1) x 8
 * bytes: one chunk's Jacobian rows and residuals) plus the data, and their
 * parameters with the standard strategy's on the same data. A control,
 * "dense" (the evaluator behind `leastSquares`, which does build an n x p
 * finite-difference Jacobian), shows that the measurement sees one.
 */

import type { Measured, MemoryMeasurement } from "./_memory_child.ts";

/** One row of the workflow section. */
export interface WorkflowRow {
  section: string;
  strategy: string;
  /** exp3 (a*exp(-b*x)+c) or gauss6 (two Gaussians), bench/engine.ts. */
  model: string;
  n: number;
  p: number;
  threads: number;
  /** x and y: n x 2 x 8 bytes. */
  dataMb: number;
  /** What an n x p Jacobian would need: n x p x 8 bytes. */
  jacobianMb: number;
  /** Rows per chunk (the selector's), null for standard. */
  chunkSize: number | null;
  /** chunkSize x (p + 1) x 8 bytes (chunked), null for standard. */
  chunkBudgetMb: number | null;
  /** Peak RSS growth up to the last solver iteration. */
  solverPeakMb: number;
  /** Peak RSS growth over the whole fit() call (kernel VmHWM). */
  peakGrowthMb: number;
  /** peakGrowth / n; an n x p Jacobian alone would be 8p. */
  bytesPerPoint: number;
  /** (growth(n) - growth(n/2)) / (n/2), on the n rows. */
  slopeBytesPerPoint: number | null;
  /** growth(p=6) - growth(p=3) at the same n and strategy, on p=6 rows. */
  deltaVsP3Mb: number | null;
  /** Chunked: peakGrowth <= chunkBudget + data. */
  withinBudget: boolean | null;
  /** Max relative parameter difference from standard on the same data. */
  maxRelDiffVsStandard: number;
  timeMs: number;
  nfev: number;
  /** "VmHWM" (kernel peak) or "sampled" (fallback). */
  method: string;
}

const MB = 2 ** 20;
const STRATEGIES = ["standard", "chunked", "dense"] as const;

/** Options of {@linkcode measureFitMemory}. */
export interface MeasureOptions {
  caseName: "exp3" | "gauss6";
  n: number;
  strategy: Measured;
  /** Explicit chunk size; default: the selector's under a small limit. */
  chunkSize?: number;
  /** CPU threads (default: all cores). */
  threads?: number;
  /** Force the VmRSS-sampling fallback. */
  sample?: boolean;
}

/**
 * Runs one fit in a child process and returns its memory measurement.
 * Throws if the child fails (its stderr in the message).
 */
export async function measureFitMemory(
  opts: MeasureOptions,
): Promise<MemoryMeasurement> {
  const args = [
    "run",
    "-A",
    // Collections on this thread only: what they free is freed when they
    // return, so the peaks do not depend on a background sweeper's timing.
    "--v8-flags=--expose-gc,--single-threaded-gc",
    new URL("./_memory_child.ts", import.meta.url).pathname,
    `--case=${opts.caseName}`,
    `--n=${opts.n}`,
    `--strategy=${opts.strategy}`,
  ];
  if (opts.chunkSize !== undefined) args.push(`--chunk-size=${opts.chunkSize}`);
  if (opts.threads !== undefined) args.push(`--threads=${opts.threads}`);
  if (opts.sample) args.push("--sample");
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(
      `memory child failed (${out.code}): ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return JSON.parse(text.split("\n").at(-1)!) as MemoryMeasurement;
}

/** True where the kernel exposes /proc/self/status (Linux). */
export function procAvailable(): boolean {
  try {
    return /VmRSS:/.test(Deno.readTextFileSync("/proc/self/status"));
  } catch {
    return false;
  }
}

function threadsOf(backend: string): number {
  const m = backend.match(/(\d+) threads?/);
  return m ? Number(m[1]) : 1;
}

/**
 * Runs the workflow section: standard, chunked and the dense control, exp3
 * (p = 3) and gauss6 (p = 6), at n/2 and n points (default 2M and 4M), one
 * child process per fit.
 */
export async function runWorkflowBench(n = 4_000_000): Promise<WorkflowRow[]> {
  if (!procAvailable()) {
    console.error("workflow: /proc/self/status unavailable; section skipped");
    return [];
  }
  const sizes = [Math.floor(n / 2), n];
  const res = new Map<string, MemoryMeasurement>();
  const key = (s: string, c: string, k: number) => `${s}/${c}/${k}`;
  for (const size of sizes) {
    for (const c of ["exp3", "gauss6"] as const) {
      for (const s of STRATEGIES) {
        const r = await measureFitMemory({ caseName: c, n: size, strategy: s });
        res.set(key(s, c, size), r);
        console.error(
          `workflow ${s} ${c} n=${size}: peak growth ${
            (r.peakGrowthBytes / MB).toFixed(1)
          } MB (${r.method})`,
        );
      }
    }
  }
  const row = (
    r: MemoryMeasurement,
    std: MemoryMeasurement,
    half?: MemoryMeasurement,
    p3?: MemoryMeasurement,
  ): WorkflowRow => {
    const { n: size, p } = r;
    let d = 0;
    for (let i = 0; i < p; i++) {
      d = Math.max(
        d,
        Math.abs(r.popt[i] - std.popt[i]) / Math.abs(std.popt[i]),
      );
    }
    const dataMb = size * 2 * 8 / MB;
    const chunkBudgetMb = r.strategy === "chunked"
      ? r.chunkSize * (p + 1) * 8 / MB
      : null;
    const peakGrowthMb = r.peakGrowthBytes / MB;
    return {
      section: "workflow",
      strategy: r.strategy,
      model: r.caseName,
      n: size,
      p,
      threads: threadsOf(r.backend),
      dataMb,
      jacobianMb: size * p * 8 / MB,
      chunkSize: r.strategy === "chunked" ? r.chunkSize : null,
      chunkBudgetMb,
      solverPeakMb: r.solverPeakGrowthBytes / MB,
      peakGrowthMb,
      bytesPerPoint: r.peakGrowthBytes / size,
      slopeBytesPerPoint: half
        ? (r.peakGrowthBytes - half.peakGrowthBytes) / (size - half.n)
        : null,
      deltaVsP3Mb: p3 ? (r.peakGrowthBytes - p3.peakGrowthBytes) / MB : null,
      withinBudget: chunkBudgetMb === null
        ? null
        : peakGrowthMb <= chunkBudgetMb + dataMb,
      maxRelDiffVsStandard: d,
      timeMs: r.timeMs,
      nfev: r.nfev,
      method: r.method,
    };
  };
  const rows: WorkflowRow[] = [];
  for (const size of sizes) {
    for (const c of ["exp3", "gauss6"] as const) {
      for (const s of STRATEGIES) {
        rows.push(row(
          res.get(key(s, c, size))!,
          res.get(key("standard", c, size))!,
          size === n ? res.get(key(s, c, sizes[0])) : undefined,
          c === "gauss6" ? res.get(key(s, "exp3", size)) : undefined,
        ));
      }
    }
  }
  // Attribution: on one thread the workers' copies of their rows of x and y
  // disappear, and with them the growth.
  if ((navigator.hardwareConcurrency ?? 1) > 1) {
    const r = await measureFitMemory({
      caseName: "gauss6",
      n,
      strategy: "chunked",
      threads: 1,
    });
    rows.push(row(r, res.get(key("standard", "gauss6", n))!));
  }
  return rows;
}

if (import.meta.main) {
  const rows = await runWorkflowBench(Number(Deno.args[0] ?? 4_000_000));
  console.table(rows.map(({ section: _, ...r }) => r));
}
