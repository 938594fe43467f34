/**
 * `deno task demo`: two fits with their reports.
 *
 * 1. NIST StRD Misra1a (14 points, `examples/data/misra1a.csv`) from NIST's
 *    first starting point, compared with the certified values.
 * 2. One million synthetic points of `a * exp(-b * x) + c` with Gaussian
 *    noise, generated in memory.
 *
 *     deno run -A examples/demo.ts
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const { misra, synthetic } = await runDemo({ print: false, nPoints: 10_000 });
 * assert.ok(Math.abs(misra.params.b1 - 238.94212918) < 1e-5);
 * assert.ok(Math.abs(synthetic.params.b - 1.3) < 0.01);
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { fit } from "../workflow/fit.ts";
import type { FitResult } from "../workflow/fit_result.ts";
import { openSource } from "../data/open_source.ts";

/** NIST's certified values of Misra1a. */
const MISRA1A_CERTIFIED = { b1: 2.3894212918e2, b2: 5.5015643181e-4 };

/** Seeded standard normal draws (mulberry32 + Box-Muller). */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () =>
    Math.sqrt(-2 * Math.log(Math.max(u(), 1e-300))) *
    Math.cos(2 * Math.PI * u());
}

/**
 * Runs both fits; prints their reports unless `print` is false.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const { synthetic } = await runDemo({ print: false, nPoints: 5_000 });
 * assert.ok(synthetic.success);
 * assert.strictEqual(synthetic.nPoints, 5_000);
 * ```
 *
 * @param options `print` (default true); `nPoints` of the synthetic data
 *   (default 1,000,000).
 */
export async function runDemo(
  options: { print?: boolean; nPoints?: number } = {},
): Promise<{ misra: FitResult; synthetic: FitResult }> {
  const print = options.print ?? true;
  const say = (s: string) => {
    if (print) console.log(s);
  };

  // 1. A NIST reference problem, read from the shipped CSV file.
  const expr1 = "b1 * (1 - exp(-b2 * x))";
  const path = fileURLToPath(new URL("./data/misra1a.csv", import.meta.url));
  const source = await openSource(path, { x: "x", y: "y" });
  let misra: FitResult;
  try {
    misra = await fit(expr1, source, { p0: [500, 1e-4] });
  } finally {
    await source.close();
  }
  say("=== NIST StRD Misra1a (start 1: b1 = 500, b2 = 1e-4) ===");
  say(misra.report({
    model: expr1,
    data: source.description,
    p0: [500, 1e-4],
  }));
  const rel = (k: "b1" | "b2") =>
    Math.abs(misra.params[k] - MISRA1A_CERTIFIED[k]) /
    Math.abs(MISRA1A_CERTIFIED[k]);
  say(
    `Certified: b1 = ${MISRA1A_CERTIFIED.b1}, b2 = ${MISRA1A_CERTIFIED.b2}; ` +
      `relative error ${rel("b1").toExponential(1)}, ${
        rel("b2").toExponential(1)
      }\n`,
  );

  // 2. A million points generated in memory.
  const n = options.nPoints ?? 1_000_000;
  const normal = normals(42);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (10 * i) / (n - 1);
    y[i] = 2.5 * Math.exp(-1.3 * x[i]) + 0.5 + 0.05 * normal();
  }
  const expr2 = "a * exp(-b * x) + c";
  const synthetic = await fit(expr2, x, y, { p0: [1, 1, 0] });
  say(
    `=== ${n.toLocaleString("en-US")} synthetic points: ` +
      "2.5 * exp(-1.3 * x) + 0.5 + N(0, 0.05^2) ===",
  );
  say(synthetic.report({
    model: expr2,
    data: `${n} points generated in memory`,
    p0: [1, 1, 0],
  }));
  return { misra, synthetic };
}

if (import.meta.main) {
  const t0 = performance.now();
  await runDemo();
  console.log(
    `demo finished in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
}
