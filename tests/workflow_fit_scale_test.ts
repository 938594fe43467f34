/**
 * Unit tests of workflow/_problem_scale.ts: the power-of-two parameter
 * scales that bring Jacobian columns of extreme magnitude (an amplitude of
 * 1e-200 in data scaled to order one) back to order one, the window edges,
 * and the substitution into the model, which must change no value.
 */

import assert from "node:assert";
import { model } from "../mod.ts";
import type { Model } from "../model/types.ts";
import type { InMemoryData } from "../strategies/strategy.ts";
import {
  parameterScale,
  scaleModelParameters,
} from "../workflow/fit/_scale.ts";
import { residualScale } from "../core/_residual_scale.ts";
import { scaleWeights } from "../core/weights.ts";

const X = Float64Array.from({ length: 50 }, (_, i) => i / 10);

function data(
  y: Float64Array,
  w: Float64Array | null,
  x: Float64Array = X,
): InMemoryData {
  return { kind: "memory", x: [x], y, w };
}

/** Largest |entry| of each Jacobian column of the weighted data at p. */
function columnMagnitudes(
  m: Model,
  d: InMemoryData,
  p: Float64Array,
): number[] {
  const n = d.y.length, k = p.length;
  const B = new Float64Array(n * (k + 1));
  m.kernel(d.x, d.y, d.w, p, 0, n, B, n, true);
  return Array.from({ length: k }, (_, j) => {
    let big = 0;
    for (let i = 0; i < n; i++) big = Math.max(big, Math.abs(B[j * n + i]));
    return big;
  });
}

Deno.test("parameterScale: an amplitude of 1e-200 in data scaled to order one", () => {
  const m = model("a * exp(-b * x)");
  const y = X.map((x) => 1e-200 * Math.exp(-0.5 * x));
  // As fit() does: residuals scaled by a power of two first.
  const c = residualScale(y, null);
  assert.ok(c > 1e199);
  const d = data(y, scaleWeights(null, c, y.length));
  const theta = Float64Array.from([1e-200, 0.5]);
  // d f / d a = c exp(-b x) is near 1e200; d f / d b is of order one.
  const before = columnMagnitudes(m, d, theta);
  assert.ok(before[0] > 1e199 && before[1] < 10, `${before}`);
  const s = parameterScale(m, d, theta)!;
  assert.ok(s !== null);
  // The largest entry of column a is c itself (at x = 0): s = 1 / c.
  assert.strictEqual(s[0], 1 / c);
  assert.strictEqual(s[1], 1);
  assert.ok(Number.isInteger(Math.log2(s[0])));
  // In the scaled variables phi = theta / s every column is of order one,
  // and nothing is left to scale.
  const scaled = scaleModelParameters(m, s);
  const phi = theta.map((t, k) => t / s[k]);
  const after = columnMagnitudes(scaled, d, phi);
  for (const v of after) assert.ok(v > 2 ** -64 && v < 2 ** 64, `${after}`);
  assert.ok(Math.abs(after[0] - 1) < 1e-15);
  assert.strictEqual(parameterScale(scaled, d, phi), null);
  // The scaled model takes the same values: multiplying by a power of two
  // is exact.
  assert.deepStrictEqual(scaled.evaluate([X], phi), m.evaluate([X], theta));
  assert.deepStrictEqual(scaled.params, m.params);
});

Deno.test("parameterScale: null for ordinary problems and for function models", () => {
  const m = model("a * exp(-b * x) + c");
  const y = X.map((x) => 3 * Math.exp(-0.7 * x) + 1);
  assert.strictEqual(
    parameterScale(m, data(y, null), Float64Array.from([3, 0.7, 1])),
    null,
  );
  assert.strictEqual(
    parameterScale(
      m,
      data(y, new Float64Array(y.length).fill(1e10)),
      Float64Array.from([3, 0.7, 1]),
    ),
    null,
  );
  const fn = model((x: number, a: number) => a * x);
  assert.strictEqual(fn.ast, undefined);
  assert.strictEqual(
    parameterScale(fn, data(y, null), Float64Array.from([1e-200])),
    null,
  );
  // No data: nothing to measure.
  assert.strictEqual(
    parameterScale(
      model("a * x"),
      data(new Float64Array(0), null, new Float64Array(0)),
      Float64Array.from([1]),
    ),
    null,
  );
});

Deno.test("parameterScale: the window [2^-64, 2^64] of a column's largest entry", () => {
  const m = model("a * x");
  const one = Float64Array.from([1]);
  const at = (x: number) =>
    parameterScale(
      m,
      data(Float64Array.from([1]), null, Float64Array.from([x])),
      one,
    );
  assert.strictEqual(at(2 ** 64), null);
  assert.strictEqual(at(2 ** -64), null);
  assert.deepStrictEqual(Array.from(at(2 ** 65)!), [2 ** -65]);
  assert.deepStrictEqual(Array.from(at(-(2 ** -65))!), [2 ** 65]);
  // Rounded to the nearest power: 2^64.4 stays, 2^64.6 is scaled by 2^-65.
  assert.strictEqual(at(2 ** 64.4), null);
  assert.deepStrictEqual(Array.from(at(2 ** 64.6)!), [2 ** -65]);
  // The extremes are clamped to finite, normal powers of two.
  assert.deepStrictEqual(Array.from(at(1e-310)!), [2 ** 1023]);
  assert.deepStrictEqual(Array.from(at(1e308)!), [2 ** -1022]);
});

Deno.test("parameterScale: a zero column keeps scale 1 beside a scaled one", () => {
  const m = model("a * x + b");
  const zeros = new Float64Array(10);
  const d = data(
    new Float64Array(10).fill(1),
    new Float64Array(10).fill(2 ** 100),
    zeros,
  );
  const s = parameterScale(m, d, Float64Array.from([1, 1]))!;
  assert.deepStrictEqual(Array.from(s), [1, 2 ** -100]);
});

Deno.test("scaleModelParameters: parameter k becomes theta_k / s_k, exactly", () => {
  const m = model("a * exp(-b * x) + c");
  const s = Float64Array.from([2 ** -700, 1, 2 ** 600]);
  const scaled = scaleModelParameters(m, s);
  const theta = [3e-210, 0.25, 7e180];
  const phi = theta.map((t, k) => t / s[k]);
  assert.deepStrictEqual(scaled.evaluate([X], phi), m.evaluate([X], theta));
  assert.throws(
    () => scaleModelParameters(model((x: number, a: number) => a * x), s),
    TypeError,
  );
});
