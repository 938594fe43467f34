/**
 * One or two fits in a fresh process for the io section (`bench/io.ts`), so
 * that "the first fit of the process" and the peak memory (the kernel's
 * VmHWM) belong to that fit alone:
 *
 * ```sh
 * deno run -A bench/_io_child.ts '{"mode":"stream","path":"d.npy"}'
 * ```
 *
 * `mode: "memory"` reads the file into memory first (not timed), as plain
 * arrays (`shared: false`, what a caller usually holds) or as the shared
 * arrays a source reads into, then fits `fits` times (default 2: the first
 * fit of the process, then a repeated one). `mode: "stream"` opens the file
 * and fits it with the streaming workflow; `open` is timed apart. Prints one
 * JSON line: {@linkcode IoChildResult}.
 *
 * @module
 */

import process from "node:process";
import { fit, model, openSource } from "../mod.ts";
import type { FitOptions } from "../workflow/fit.ts";

/** What the child is asked to do. */
export interface IoChildSpec {
  mode: "memory" | "stream";
  path: string;
  /** Memory mode: plain arrays (default) or shared ones. */
  shared?: boolean;
  /** Memory mode: fits in a row (default 2). */
  fits?: number;
  /** Extra fit options (workflow config, memoryLimitGb, backend). */
  options?: Record<string, unknown>;
}

/** One fit's figures. */
export interface IoFitFigures {
  timeMs: number;
  /** CPU time of the process over the fit (all threads), ms. */
  cpuMs: number;
  nfev: number;
  /** Passes over the data (streaming progress), or nfev in memory. */
  passes: number;
  backend: string;
  popt: number[];
  notes: string[];
}

/** What the child prints. */
export interface IoChildResult {
  /** Opening the source (streaming) or reading it (memory), ms. */
  openMs: number;
  fits: IoFitFigures[];
  /** Peak resident memory of the process (VmHWM), MB. */
  peakRssMb: number;
}

const EXPR = "a * exp(-b * x) + c";
const P0 = [1, 1, 0];

function peakRssMb(): number {
  try {
    const s = Deno.readTextFileSync("/proc/self/status");
    return Number(/VmHWM:\s+(\d+) kB/.exec(s)![1]) / 1024;
  } catch {
    return NaN;
  }
}

async function timedFit(
  run: (onProgress: FitOptions["onProgress"]) => ReturnType<typeof fit>,
): Promise<IoFitFigures> {
  let passes = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await run((p) => {
    if (p.phase === "pass" && p.pass !== undefined) {
      passes = Math.max(passes, p.pass);
    }
  });
  const timeMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return {
    timeMs,
    cpuMs: (cpu.user + cpu.system) / 1e3,
    nfev: r.nfev,
    passes: passes || r.nfev,
    backend: r.backend,
    popt: Array.from(r.popt),
    notes: [...r.notes],
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0]) as IoChildSpec;
  const m = model(EXPR);
  const extra = (spec.options ?? {}) as FitOptions;
  const out: IoChildResult = { openMs: 0, fits: [], peakRssMb: 0 };
  const t0 = performance.now();
  const src = await openSource(spec.path);
  if (spec.mode === "memory") {
    const all = await src.readAll!();
    await src.close();
    const x = spec.shared ? all.x[0] : Float64Array.from(all.x[0]);
    const y = spec.shared ? all.y : Float64Array.from(all.y);
    out.openMs = performance.now() - t0;
    for (let k = 0; k < (spec.fits ?? 2); k++) {
      out.fits.push(
        await timedFit((onProgress) =>
          fit(m, x, y, { p0: P0, workflow: "standard", onProgress, ...extra })
        ),
      );
    }
  } else {
    out.openMs = performance.now() - t0;
    out.fits.push(
      await timedFit((onProgress) =>
        fit(m, src, { p0: P0, workflow: "streaming", onProgress, ...extra })
      ),
    );
    await src.close();
  }
  out.peakRssMb = peakRssMb();
  console.log(JSON.stringify(out));
}
