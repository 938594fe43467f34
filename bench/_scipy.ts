/**
 * Runs scipy's `curve_fit` on the benchmark data (`bench/scipy_runner.py`),
 * best of `repeats`, in a Python process of its own.
 *
 * @module
 */

import { pythonCommand } from "../tests/_tools.ts";

/** scipy's best run: seconds, evaluations, parameters and cost. */
export interface ScipyRun {
  time: number;
  nfev: number;
  popt: number[];
  cost: number;
}

/**
 * Fits `numpy` (a Python lambda) to x, y from `p0` with `curve_fit`.
 *
 * @example
 * ```ts
 * import { runScipyCurveFit } from "./_scipy.ts";
 * // needs python3 with numpy and scipy:
 * // await runScipyCurveFit(x, y, "lambda x, a: a*x", [1], 3)
 * void runScipyCurveFit;
 * ```
 */
export async function runScipyCurveFit(
  x: Float64Array,
  y: Float64Array,
  numpy: string,
  p0: number[],
  repeats: number,
): Promise<ScipyRun> {
  const tmp = await Deno.makeTempDir({ prefix: "nlsq_scipy_" });
  try {
    await Deno.writeFile(`${tmp}/x.f64`, new Uint8Array(x.buffer));
    await Deno.writeFile(`${tmp}/y.f64`, new Uint8Array(y.buffer));
    const proc = new Deno.Command(pythonCommand(), {
      args: [new URL("./scipy_runner.py", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = proc.stdin.getWriter();
    await w.write(
      new TextEncoder().encode(JSON.stringify([{
        x: `${tmp}/x.f64`,
        y: `${tmp}/y.f64`,
        numpy,
        p0,
        repeats,
      }])),
    );
    await w.close();
    const out = await proc.output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout))[0];
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
