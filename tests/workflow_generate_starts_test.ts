import assert from "node:assert";
import { generateStarts, LOG_SCALE_RATIO, sample } from "../workflow/mod.ts";

Deno.test("generateStarts: p0 first, then sampler points mapped onto the box", () => {
  const lower = [0, -5, 10];
  const upper = [1, 5, 20];
  const starts = generateStarts({
    p0: [0.5, 0, 15],
    lower,
    upper,
    nStarts: 9,
    sampler: "sobol",
    seed: 3,
  });
  assert.strictEqual(starts.length, 9);
  assert.deepStrictEqual(starts[0], [0.5, 0, 15]);
  const u = sample("sobol", 8, 3, { seed: 3 });
  starts.slice(1).forEach((x, i) => {
    for (let j = 0; j < 3; j++) {
      assert.strictEqual(x[j], lower[j] + u[i][j] * (upper[j] - lower[j]));
    }
  });
});

Deno.test("generateStarts: LHS starts stratify each bounded parameter", () => {
  const n = 50;
  const starts = generateStarts({
    p0: [1, 1],
    lower: [0, -10],
    upper: [2, 10],
    nStarts: n + 1,
    seed: 5,
  });
  const strata = (j: number, lo: number, hi: number) =>
    starts.slice(1).map((x) => Math.floor((x[j] - lo) / (hi - lo) * n)).sort((
      a,
      b,
    ) => a - b);
  const all = Array.from({ length: n }, (_, k) => k);
  assert.deepStrictEqual(strata(0, 0, 2), all);
  assert.deepStrictEqual(strata(1, -10, 10), all);
});

Deno.test("generateStarts: wide positive boxes are sampled log-uniformly", () => {
  const n = 9;
  const starts = generateStarts({
    p0: [1],
    lower: [1e-6],
    upper: [1e3],
    nStarts: n + 1,
    sampler: "lhs",
    seed: 2,
  });
  // 9 decades, 9 strata: one start per decade.
  const decades = starts.slice(1).map((x) => Math.floor(Math.log10(x[0]) + 6))
    .sort((a, b) => a - b);
  assert.deepStrictEqual(decades, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.strictEqual(LOG_SCALE_RATIO, 1000);
  // A ratio below 1000 stays linear: no start below 10 in [1, 999] would be
  // expected to hold about 1% of 100 starts, log-uniform would hold a third.
  const linear = generateStarts({
    p0: [5],
    lower: [1],
    upper: [999],
    nStarts: 101,
    seed: 2,
  });
  assert.ok(linear.slice(1).filter((x) => x[0] < 10).length <= 2);
});

Deno.test("generateStarts: around p0 where bounds are infinite", () => {
  const p0 = [100, -0.2];
  const starts = generateStarts({ p0, nStarts: 200, seed: 1, spread: 0.5 });
  // Half-widths: 0.5 * max(|p0|, 1) = 50 and 0.5.
  const width = [50, 0.5];
  for (const x of starts) {
    for (let j = 0; j < 2; j++) {
      assert.ok(Math.abs(x[j] - p0[j]) <= width[j], `${x}`);
    }
  }
  // The starts fill the interval, not a corner of it.
  const spanned = Math.max(...starts.map((x) => x[0])) -
    Math.min(...starts.map((x) => x[0]));
  assert.ok(spanned > 95, `span ${spanned}`);
});

Deno.test("generateStarts: reflected at a single finite bound", () => {
  const starts = generateStarts({
    p0: [0.1],
    lower: [0],
    nStarts: 100,
    spread: 3,
    seed: 7,
  });
  assert.ok(starts.every((x) => x[0] >= 0 && x[0] <= 0.1 + 3));
  // Reflection, not clipping: no pile of starts on the bound itself.
  assert.ok(starts.filter((x) => x[0] === 0).length === 0);
  const upperOnly = generateStarts({
    p0: [-1],
    upper: [0],
    nStarts: 50,
    seed: 7,
  });
  // No spread given: a decade either way of p0, on a log scale.
  assert.ok(upperOnly.every((x) => x[0] <= -0.1 && x[0] >= -10));
  const mags = upperOnly.slice(1).map((x) => Math.log10(-x[0]));
  assert.ok(Math.min(...mags) < -0.8 && Math.max(...mags) > 0.8);
});

Deno.test("generateStarts: deterministic by seed; nStarts 1 is p0 alone", () => {
  const options = {
    p0: [1, 2],
    lower: [0, 0],
    upper: [5, 5],
    nStarts: 6,
    sampler: "halton" as const,
  };
  assert.deepStrictEqual(
    generateStarts({ ...options, seed: 4 }),
    generateStarts({ ...options, seed: 4 }),
  );
  assert.notDeepStrictEqual(
    generateStarts({ ...options, seed: 4 }),
    generateStarts({ ...options, seed: 5 }),
  );
  assert.deepStrictEqual(generateStarts({ ...options, nStarts: 1 }), [[1, 2]]);
  // The caller's array is copied, not aliased.
  const p0 = [1, 2];
  const [first] = generateStarts({ ...options, p0 });
  first[0] = 99;
  assert.strictEqual(p0[0], 1);
  assert.deepStrictEqual(
    generateStarts({ ...options, p0: new Float64Array([1, 2]), nStarts: 1 }),
    [[1, 2]],
  );
});

Deno.test("generateStarts: typed errors naming the option", () => {
  const ok = { p0: [1, 2], lower: [0, 0], upper: [5, 5], nStarts: 3 };
  const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ p0: [] }, RangeError, /p0 must not be empty/],
    [{ p0: [1, NaN] }, RangeError, /p0\[1\] must be finite/],
    [{ p0: [1, "2"] }, TypeError, /p0\[1\] must be a number/],
    [{ p0: 3 }, TypeError, /p0 must be an array/],
    [{ p0: [9, 1] }, RangeError, /p0\[0\] = 9 is outside the bounds \[0, 5\]/],
    [{ lower: [0] }, RangeError, /lower must have 2 entries/],
    [{ upper: [5, 5, 5] }, RangeError, /upper must have 2 entries/],
    [{ lower: [0, 5] }, RangeError, /lower\[1\] must be < upper\[1\]/],
    [{ lower: [0, NaN] }, RangeError, /lower\[1\]/],
    [{ nStarts: 0 }, RangeError, /nStarts must be >= 1/],
    [{ nStarts: 2.5 }, RangeError, /nStarts/],
    [
      { sampler: "grid" },
      TypeError,
      /sampler must be one of lhs, sobol, halton/,
    ],
    [{ spread: 0 }, RangeError, /spread/],
    [{ seed: 0.5 }, RangeError, /seed must be a safe integer/],
  ];
  for (const [bad, type, message] of cases) {
    assert.throws(
      () => generateStarts({ ...ok, ...bad } as never),
      (e: unknown) => e instanceof type && message.test((e as Error).message),
      JSON.stringify(bad),
    );
  }
});
