/**
 * The peer row of the batch section: Cpufit, Gpufit's CPU twin (float32,
 * one thread, Levenberg-Marquardt with Gpufit's tolerance test), on the
 * same 1-D Gaussians as `fitBatch`, in the same run. Cpufit is not in this
 * repository: build `bench/cpufit/bench.cpp` against Gpufit's sources (its
 * header says how) and set `NLSQ_CPUFIT` to the binary; without it the row
 * is left out with a message.
 *
 * @module
 */

import type { BatchData } from "../tests/_batch_data.ts";

/** What the Cpufit harness prints. */
export interface CpufitRun {
  fitsPerS: number;
  fitsPerCpuS: number;
  converged: number;
  meanIterations: number;
}

/**
 * Runs the harness on `d` (1-D Gaussians on x = i / (n - 1)) with Gpufit's
 * tolerance `tol`, or returns null when `NLSQ_CPUFIT` is not set.
 *
 * @example
 * ```ts
 * import { runCpufit } from "./_cpufit.ts";
 * void runCpufit; // needs a Cpufit build: see bench/cpufit/bench.cpp
 * ```
 */
export async function runCpufit(
  d: BatchData,
  tol = 1e-4,
): Promise<CpufitRun | null> {
  const bin = Deno.env.get("NLSQ_CPUFIT");
  if (!bin) {
    console.error(
      "batch: no Cpufit row (build bench/cpufit/bench.cpp and set NLSQ_CPUFIT)",
    );
    return null;
  }
  const dir = await Deno.makeTempDir({ prefix: "nlsq_cpufit_" });
  try {
    await Deno.writeFile(`${dir}/y.f64`, new Uint8Array(d.y.buffer));
    await Deno.writeFile(`${dir}/p0.f64`, new Uint8Array(d.p0.buffer));
    const out = await new Deno.Command(bin, {
      args: [
        `${dir}/y.f64`,
        `${dir}/p0.f64`,
        String(d.nFits),
        String(d.nPoints),
        String(tol),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      console.error(
        `batch: Cpufit failed: ${new TextDecoder().decode(out.stderr)}`,
      );
      return null;
    }
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
