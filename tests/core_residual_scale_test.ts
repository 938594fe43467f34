/**
 * Unit tests of core/_residual_scale.ts: the power of two that brings
 * weighted data of extreme magnitude to order one (window edges, subnormal
 * data, products w*y that overflow), the scaled weights, and the f32
 * representability check.
 */

import assert from "node:assert";
import { representableInF32, residualScale } from "../core/_residual_scale.ts";
import { scaleWeights } from "../core/weights.ts";
import { nextAfter } from "../core/_trust_region.ts";

const isPowerOfTwo = (c: number) =>
  c > 0 && Number.isFinite(c) && Number.isInteger(Math.log2(c));

Deno.test("residualScale: a power of two that brings the largest |y| to order one", () => {
  for (let e = -1070; e <= 1020; e += 7) {
    const big = 1.3 * 2 ** e;
    const y = [0.2 * 2 ** e, -big, 0];
    const c = residualScale(y, null);
    assert.ok(isPowerOfTwo(c), `e=${e}: c=${c}`);
    if (big >= 2 ** -10 && big <= 2 ** 100) {
      assert.strictEqual(c, 1, `e=${e} is inside the window`);
    } else if (Math.log2(big) >= -1023.5) {
      assert.ok(c * big >= Math.SQRT1_2 && c * big <= Math.SQRT2, `e=${e}`);
    } else {
      // Subnormal data: 2^1023 is the largest finite power of two.
      assert.strictEqual(c, 2 ** 1023, `e=${e}`);
    }
    // Scaling by a power of two changes no rounding: it is undone exactly.
    for (const v of y) assert.strictEqual((v * c) / c, v);
  }
});

Deno.test("residualScale: the window [2^-10, 2^100] is left alone, up to its edges", () => {
  assert.strictEqual(residualScale([2 ** -10], null), 1);
  assert.strictEqual(residualScale([nextAfter(2 ** -10, 0)], null), 2 ** 10);
  assert.strictEqual(residualScale([2 ** 100], null), 1);
  assert.strictEqual(
    residualScale([nextAfter(2 ** 100, Infinity)], null),
    2 ** -100,
  );
  assert.strictEqual(residualScale([-(2 ** 101)], null), 2 ** -101);
  assert.strictEqual(residualScale([5, -7, 1e-300], null), 1);
  // Nothing to scale: all zero, or no data.
  assert.strictEqual(residualScale([0, 0], null), 1);
  assert.strictEqual(residualScale([], null), 1);
  // The top of the range: subnormal powers of two are exact scales too.
  assert.strictEqual(residualScale([2 ** 1023], null), 2 ** -1023);
  assert.strictEqual(residualScale([Number.MAX_VALUE], null), 2 ** -1024);
});

Deno.test("residualScale: subnormal data get the largest finite power of two", () => {
  for (const y of [1e-310, 5e-324, 2.2250738585072014e-308]) {
    const c = residualScale([y], null);
    assert.ok(isPowerOfTwo(c));
    assert.ok(c * y > 0 && Number.isFinite(c * y), `${y}`);
  }
  assert.strictEqual(residualScale([1e-310], null), 2 ** 1023);
  assert.strictEqual(residualScale([5e-324], null), 2 ** 1023);
});

Deno.test("residualScale: weights count, |w_i y_i| is what is scaled", () => {
  assert.strictEqual(residualScale([1e100], [1e-100]), 1);
  const c1 = residualScale([1], [1e-200]);
  assert.ok(c1 * 1e-200 >= Math.SQRT1_2 && c1 * 1e-200 <= Math.SQRT2);
  const y = [3, 1e-5, -8], w = [1e40, 2e40, 1e39];
  const c = residualScale(y, w);
  const big = Math.max(...y.map((v, i) => Math.abs(v) * w[i]));
  assert.ok(c * big >= Math.SQRT1_2 && c * big <= Math.SQRT2);
  // The weight of a zero observation does not count.
  assert.strictEqual(residualScale([0, 1], [1e300, 1]), 1);
});

Deno.test("residualScale: products w * y that overflow are compared by logarithms", () => {
  const y = [1e160, -3, 0], w = [1e160, 1, 1e300];
  assert.strictEqual(Math.abs(y[0]) * w[0], Infinity);
  const c = residualScale(y, w);
  assert.ok(isPowerOfTwo(c), `c = ${c}`);
  // The weighted residual the solver sees is of order one.
  const r = (c * w[0]) * y[0];
  assert.ok(r >= 0.5 && r <= 2, `c w y = ${r}`);
});

Deno.test({
  name: "residualScale: |w y| near 1e400 gives a positive scale",
  fn() {
    const c = residualScale([1e200], [1e200]);
    assert.ok(isPowerOfTwo(c), `c = ${c}`);
    const r = (c * 1e200) * 1e200;
    assert.ok(r > 0 && Number.isFinite(r), `c w y = ${r}`);
  },
});

Deno.test("scaleWeights: c * w, c for every point without w, w itself for c = 1", () => {
  const w = new Float64Array([1, 0.5]);
  assert.strictEqual(scaleWeights(w, 1, 2), w);
  assert.strictEqual(scaleWeights(null, 1, 3), null);
  assert.deepStrictEqual(Array.from(scaleWeights(w, 2 ** -20, 2)!), [
    2 ** -20,
    2 ** -21,
  ]);
  assert.deepStrictEqual(Array.from(scaleWeights(null, 8, 3)!), [8, 8, 8]);
  assert.deepStrictEqual(Array.from(w), [1, 0.5]); // not modified
});

Deno.test("representableInF32: zero or within the normal f32 range", () => {
  const minNormal = 1.1754943508222875e-38, max = 3.4028234663852886e38;
  assert.strictEqual(
    representableInF32([new Float64Array([0, -0, minNormal, -max])]),
    true,
  );
  assert.strictEqual(representableInF32([null, [1, 2]]), true);
  assert.strictEqual(representableInF32([[nextAfter(minNormal, 0)]]), false);
  assert.strictEqual(
    representableInF32([[1], [nextAfter(max, Infinity)]]),
    false,
  );
  assert.strictEqual(representableInF32([[Infinity]]), false);
  assert.strictEqual(representableInF32([[NaN]]), false);
  assert.strictEqual(representableInF32([]), true);
});
