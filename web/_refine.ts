// The last steps of a WebGPU fit in the page: Gauss-Newton steps in double
// precision from where the library's CPU polish stopped.
//
// Why: near the minimum of an ill-conditioned problem the cost is flat to
// its rounding (Misra1a: points 1.6e-9 apart in b1 have costs that differ by
// 2e-15, the rounding of the residuals), so a trust-region solver, which
// accepts a step only when the computed cost goes down, stops wherever its
// path reaches that flat floor. Started from 500 the CPU path reaches the
// point where J'r = 0 (NIST's certified values to 11 digits); the polish of
// an f32 fit on SwiftShader stopped 1.6e-9 away. Newton steps on the normal
// equations (J'WJ d = -J'W r) need no cost comparison: from a converged point
// they reach the same zero of the gradient as the CPU fit.

import { cholesky, solveLowerInPlace } from "../core/linalg.ts";
import type { Model } from "../model/types.ts";

/** What {@linkcode refineFixedPoint} did. */
export interface Refined {
  readonly popt: Float64Array;
  /** Steps taken (0: none were small enough to be a polish). */
  readonly steps: number;
  /** Largest relative change of a parameter. */
  readonly change: number;
}

const BLOCK = 4096;

function normalEquations(
  m: Model,
  x: Float64Array,
  y: Float64Array,
  w: Float64Array | undefined,
  theta: Float64Array,
  free: readonly number[],
): { G: Float64Array; g: Float64Array } {
  const p = theta.length;
  const q = free.length;
  const G = new Float64Array(q * q);
  const g = new Float64Array(q);
  const B = new Float64Array(BLOCK * (p + 1));
  const zeros = new Float64Array(y.length);
  for (let start = 0; start < y.length; start += BLOCK) {
    const end = Math.min(y.length, start + BLOCK);
    const rows = end - start;
    m.kernel(
      [x.subarray(start, end)],
      zeros,
      null,
      theta,
      0,
      rows,
      B,
      rows,
      true,
    );
    for (let i = 0; i < rows; i++) {
      const wi = w ? w[start + i] * w[start + i] : 1;
      const r = B[p * rows + i] - y[start + i];
      for (let a = 0; a < q; a++) {
        const ja = B[free[a] * rows + i] * wi;
        g[a] += ja * r;
        for (let b = 0; b <= a; b++) G[a * q + b] += ja * B[free[b] * rows + i];
      }
    }
  }
  for (let a = 0; a < q; a++) {
    for (let b = 0; b < a; b++) G[b * q + a] = G[a * q + b];
  }
  return { G, g };
}

/**
 * Gauss-Newton steps from `popt` over the parameters `free` (indices), with
 * weights `1/sigma`; a step is taken only while every relative change is
 * below 1e-6 (a polish, not a fit) and the result stays in `[lower, upper]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * import { refineFixedPoint } from "./_refine.ts";
 * const m = model("a * exp(-b * x)");
 * const x = Float64Array.from({ length: 20 }, (_, i) => i / 4);
 * const y = x.map((v) => 3 * Math.exp(-0.7 * v));
 * const r = refineFixedPoint(m, x, y, undefined, [3 + 3e-8, 0.7 - 7e-9], [0, 1]);
 * assert.ok(r.steps >= 1);
 * assert.ok(Math.abs(r.popt[0] - 3) < 1e-14 && Math.abs(r.popt[1] - 0.7) < 1e-14);
 * ```
 */
export function refineFixedPoint(
  m: Model,
  x: Float64Array,
  y: Float64Array,
  sigma: Float64Array | undefined,
  popt: ArrayLike<number>,
  free: readonly number[],
  lower?: readonly number[],
  upper?: readonly number[],
  maxSteps = 6,
): Refined {
  const theta = Float64Array.from(popt);
  const w = sigma?.map((s) => 1 / s);
  let steps = 0;
  let change = 0;
  for (let k = 0; k < maxSteps && free.length > 0; k++) {
    const { G, g } = normalEquations(m, x, y, w, theta, free);
    const q = free.length;
    const d = Float64Array.from(
      { length: q },
      (_, a) => Math.sqrt(G[a * q + a]),
    );
    const Gs = G.map((v, i) => v / (d[Math.floor(i / q)] * d[i % q]));
    const L = cholesky(Gs, q);
    if (L === null || !d.every((v) => v > 0 && Number.isFinite(v))) break;
    const z = Float64Array.from(g, (v, a) => -v / d[a]);
    solveLowerInPlace(L, q, z);
    // L' s = z: back substitution with the transpose.
    for (let a = q - 1; a >= 0; a--) {
      let s = z[a];
      for (let b = a + 1; b < q; b++) s -= L[b * q + a] * z[b];
      z[a] = s / L[a * q + a];
    }
    const next = Float64Array.from(theta);
    let rel = 0;
    for (let a = 0; a < q; a++) {
      const j = free[a];
      const step = z[a] / d[a];
      next[j] = theta[j] + step;
      rel = Math.max(
        rel,
        Math.abs(step) / Math.max(Math.abs(theta[j]), 1e-300),
      );
    }
    const inside = free.every((j) =>
      Number.isFinite(next[j]) && next[j] >= (lower?.[j] ?? -Infinity) &&
      next[j] <= (upper?.[j] ?? Infinity)
    );
    if (!(rel < 1e-6) || !inside) break;
    theta.set(next);
    steps++;
    change = rel;
    if (rel < 1e-15) break;
  }
  return { popt: theta, steps, change };
}
