/**
 * Parameter scaling for parameters of extreme magnitude: a Jacobian column
 * near 1e±200 (an amplitude of 1e-200 beside a rate of order one, in data
 * whose residuals were scaled to order one) overflows the products of the
 * QR merge and of the solver's SVD. Fitting `phi_k = theta_k / s_k` with a
 * power of two `s_k` that brings the column to order one changes no
 * rounding in the model and keeps derivatives exact (the substitution is
 * made in the AST before differentiation). Columns inside the window below
 * keep `s_k = 1`, so ordinary fits are bit for bit unchanged.
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import type { InMemoryData } from "../strategies/strategy.ts";
import { modelFromAst } from "../model/model.ts";
import { substituteParams } from "../model/_substitute.ts";

/** Jacobian columns with largest entry in [2^-64, 2^64] are left alone. */
const WINDOW = 64;
/** Rows of the sample the column magnitudes are read from. */
const SAMPLE_ROWS = 256;

/**
 * The scale `s` of each parameter (powers of two), or null when every
 * Jacobian column of the (weighted) data at `p0` is of ordinary magnitude or
 * the model is not an expression. Reads at most 256 evenly spread rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = model("a * x");
 * const x = new Float64Array([1, 2, 3]);
 * // Data near 1e-200 fitted with residuals scaled by 2^664 (as fit() does):
 * // d f / d a = x becomes a column near 1e200.
 * const w = new Float64Array(3).fill(2 ** 664);
 * const data = { kind: "memory" as const, x: [x], y: x.map((v) => v * 1e-200), w };
 * const s = parameterScale(m, data, new Float64Array([1e-200]))!;
 * assert.ok(s[0] < 1e-150);
 * assert.strictEqual(parameterScale(m, { ...data, w: null }, new Float64Array([1])), null);
 * ```
 */
export function parameterScale(
  m: Model,
  data: InMemoryData,
  p0: Float64Array,
): Float64Array | null {
  if (!m.ast) return null;
  const n = data.y.length, p = p0.length;
  const ns = Math.min(n, SAMPLE_ROWS);
  if (ns === 0) return null;
  const rows = Array.from({ length: ns }, (_, i) => Math.floor(i * n / ns));
  const X = data.x.map((c) => Float64Array.from(rows, (r) => c[r]));
  const y = Float64Array.from(rows, (r) => data.y[r]);
  const w = data.w ? Float64Array.from(rows, (r) => data.w![r]) : null;
  const B = new Float64Array(ns * (p + 1));
  m.kernel(X, y, w, p0, 0, ns, B, ns, true);
  let s: Float64Array | null = null;
  for (let k = 0; k < p; k++) {
    let big = 0;
    for (let i = 0; i < ns; i++) {
      const a = Math.abs(B[k * ns + i]);
      if (a > big && a !== Infinity) big = a;
    }
    if (big === 0) continue;
    const e = Math.round(Math.log2(big));
    if (Math.abs(e) <= WINDOW) continue;
    s ??= new Float64Array(p).fill(1);
    s[k] = 2 ** Math.max(-1022, Math.min(1023, -e));
  }
  return s;
}

/**
 * The model in scaled parameters: parameter `k` of the result is
 * `theta_k / s[k]`, substituted into the AST before differentiation.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = scaleModelParameters(model("a * x"), new Float64Array([2 ** -100]));
 * const v = m.evaluate([new Float64Array([3])], [2 ** 100]);
 * assert.strictEqual(v[0], 3);
 * ```
 */
export function scaleModelParameters(m: Model, s: Float64Array): Model {
  if (!m.ast) throw new TypeError("only expression models can be scaled");
  const ast = substituteParams(m.ast, (k) =>
    s[k] === 1 ? null : {
      kind: "bin",
      op: "*",
      left: { kind: "num", value: s[k] },
      right: { kind: "param", index: k },
    });
  return modelFromAst(ast, m.params, m.variables, m.expression ?? "");
}
