import assert from "node:assert";
import {
  firstPrimes,
  haltonSequence,
  latinHypercube,
  sample,
  SAMPLER_NAMES,
  SOBOL_MAX_DIMENSION,
  sobolSequence,
  Xoshiro128,
} from "../workflow/mod.ts";

function inUnitCube(points: number[][], d: number): void {
  for (const p of points) {
    assert.strictEqual(p.length, d);
    for (const u of p) assert.ok(u >= 0 && u < 1, `${u} outside [0, 1)`);
  }
}

Deno.test("Xoshiro128: deterministic, seed-sensitive, pinned stream", () => {
  const a = new Xoshiro128(0);
  // Pinned: a change of the generator would silently change every multi-start.
  assert.strictEqual(a.nextUint32(), 1789933344);
  const draws = (seed: number) => {
    const rng = new Xoshiro128(seed);
    return Array.from({ length: 8 }, () => rng.nextUint32());
  };
  assert.deepStrictEqual(draws(123), draws(123));
  const seeds = [0, 1, -1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER];
  const streams = new Set(seeds.map((s) => draws(s).join(",")));
  assert.strictEqual(streams.size, seeds.length);
  for (const bad of [1.5, NaN, Infinity, 2 ** 60]) {
    assert.throws(() => new Xoshiro128(bad), /seed/);
  }
});

Deno.test("Xoshiro128: uniform floats and unbiased integers", () => {
  const rng = new Xoshiro128(2024);
  const bins = new Array(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const u = rng.nextFloat();
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 10)]++;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.999 quantile.
  const chi2 = bins.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
  assert.ok(chi2 < 27.9, `chi2 = ${chi2}`);
  const counts = new Array(3).fill(0);
  for (let i = 0; i < 30_000; i++) counts[rng.nextInt(3)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `${counts}`);
  assert.throws(() => rng.nextInt(0), RangeError);
  assert.strictEqual(rng.nextInt(1), 0);
});

Deno.test("latinHypercube: one point per stratum in every dimension", () => {
  for (const [n, d, seed] of [[100, 5, 0], [7, 3, 99], [1, 2, 5]]) {
    const points = latinHypercube(n, d, { seed });
    assert.strictEqual(points.length, n);
    inUnitCube(points, d);
    for (let j = 0; j < d; j++) {
      const strata = points.map((p) => Math.floor(p[j] * n)).sort((a, b) =>
        a - b
      );
      assert.deepStrictEqual(strata, Array.from({ length: n }, (_, k) => k));
    }
  }
});

Deno.test("latinHypercube: deterministic by seed, random within strata", () => {
  assert.deepStrictEqual(
    latinHypercube(20, 4, { seed: 3 }),
    latinHypercube(20, 4, { seed: 3 }),
  );
  assert.notDeepStrictEqual(
    latinHypercube(20, 4, { seed: 3 }),
    latinHypercube(20, 4, { seed: 4 }),
  );
  // Offsets within strata are not all centered.
  const offsets = latinHypercube(50, 1, { seed: 1 }).map((p) => p[0] * 50 % 1);
  assert.ok(new Set(offsets.map((o) => o.toFixed(3))).size > 40);
  assert.deepStrictEqual(latinHypercube(0, 3), []);
  assert.throws(() => latinHypercube(-1, 2), /n must be/);
  assert.throws(() => latinHypercube(3, 0), /d must be/);
});

Deno.test("sobolSequence: the known first points", () => {
  assert.deepStrictEqual(sobolSequence(8, 3), [
    [0, 0, 0],
    [0.5, 0.5, 0.5],
    [0.75, 0.25, 0.25],
    [0.25, 0.75, 0.75],
    [0.375, 0.375, 0.625],
    [0.875, 0.875, 0.125],
    [0.625, 0.125, 0.875],
    [0.125, 0.625, 0.375],
  ]);
});

Deno.test("sobolSequence: Joe-Kuo directions match scipy up to dimension 64", () => {
  // Values from scipy.stats.qmc.Sobol(d=64, scramble=False).random(1024).
  const points = sobolSequence(1024, SOBOL_MAX_DIMENSION);
  const pick = (i: number) => [points[i][19], points[i][20], points[i][63]];
  assert.deepStrictEqual(pick(5), [0.625, 0.625, 0.625]);
  assert.deepStrictEqual(pick(100), [0.3359375, 0.7578125, 0.6484375]);
  assert.deepStrictEqual(pick(1023), [
    0.3193359375,
    0.8662109375,
    0.0400390625,
  ]);
  assert.strictEqual(SOBOL_MAX_DIMENSION, 64);
  assert.throws(() => sobolSequence(4, 65), /d must be <= 64/);
});

Deno.test("sobolSequence: skip continues the same sequence", () => {
  assert.deepStrictEqual(
    sobolSequence(10, 21, { skip: 37 }),
    sobolSequence(47, 21).slice(37),
  );
  assert.deepStrictEqual(
    sobolSequence(5, 4, { skip: 3, scramble: true, seed: 8 }),
    sobolSequence(8, 4, { scramble: true, seed: 8 }).slice(3),
  );
});

/** Every elementary interval of size 2^-a x 2^-(m-a) holds one of 2^m points. */
function assertZeroNet(points: number[][], m: number, j: number, k: number) {
  for (let a = 0; a <= m; a++) {
    const cells = new Set(
      points.map((p) =>
        `${Math.floor(p[j] * 2 ** a)},${Math.floor(p[k] * 2 ** (m - a))}`
      ),
    );
    assert.strictEqual(cells.size, 2 ** m, `a=${a}`);
  }
}

Deno.test("sobolSequence: balance and (0,m,2)-net, scrambled or not", () => {
  const m = 8;
  for (const options of [{}, { scramble: true, seed: 11 }]) {
    const points = sobolSequence(2 ** m, 21, options);
    inUnitCube(points, 21);
    for (let j = 0; j < 21; j++) {
      const strata = new Set(points.map((p) => Math.floor(p[j] * 2 ** m)));
      assert.strictEqual(strata.size, 2 ** m, `dimension ${j}`);
    }
    // The first two Sobol dimensions form a (0, m, 2)-net.
    assertZeroNet(points, m, 0, 1);
  }
});

Deno.test("sobolSequence: scrambling is seeded", () => {
  const a = sobolSequence(16, 5, { scramble: true, seed: 1 });
  assert.deepStrictEqual(a, sobolSequence(16, 5, { scramble: true, seed: 1 }));
  assert.notDeepStrictEqual(
    a,
    sobolSequence(16, 5, { scramble: true, seed: 2 }),
  );
  // The scrambled sequence no longer starts at the origin.
  assert.notDeepStrictEqual(a[0], [0, 0, 0, 0, 0]);
});

Deno.test("haltonSequence: base 2, 3 and 5 radical inverses", () => {
  const points = haltonSequence(8, 3);
  assert.deepStrictEqual(points.map((p) => p[0]), [
    0,
    1 / 2,
    1 / 4,
    3 / 4,
    1 / 8,
    5 / 8,
    3 / 8,
    7 / 8,
  ]);
  const base3 = [0, 1 / 3, 2 / 3, 1 / 9, 4 / 9, 7 / 9, 2 / 9, 5 / 9];
  points.forEach((p, i) => assert.ok(Math.abs(p[1] - base3[i]) < 1e-15));
  const base5 = [0, 0.2, 0.4, 0.6, 0.8, 0.04, 0.24, 0.44];
  points.forEach((p, i) => assert.ok(Math.abs(p[2] - base5[i]) < 1e-15));
  assert.deepStrictEqual(firstPrimes(10), [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
});

Deno.test("haltonSequence: b^k points stratify each base, scrambled or not", () => {
  for (const options of [{}, { scramble: true, seed: 4 }]) {
    const points = haltonSequence(125, 3, options);
    inUnitCube(points, 3);
    // 125 = 5^3 points: one per 1/125 interval in base 5 (dimension 2);
    // the first 64 = 2^6 points: one per 1/64 interval in base 2.
    assert.strictEqual(
      new Set(points.map((p) => Math.floor(p[2] * 125))).size,
      125,
    );
    assert.strictEqual(
      new Set(points.slice(0, 64).map((p) => Math.floor(p[0] * 64))).size,
      64,
    );
  }
});

Deno.test("haltonSequence: seeded permutations, skip", () => {
  const a = haltonSequence(10, 6, { scramble: true, seed: 1 });
  assert.deepStrictEqual(a, haltonSequence(10, 6, { scramble: true, seed: 1 }));
  assert.notDeepStrictEqual(
    a,
    haltonSequence(10, 6, { scramble: true, seed: 2 }),
  );
  // Base 2 has a single non-zero digit: nothing to permute.
  assert.deepStrictEqual(
    a.map((p) => p[0]),
    haltonSequence(10, 1).map((p) => p[0]),
  );
  assert.deepStrictEqual(
    haltonSequence(3, 2, { skip: 1 }),
    haltonSequence(4, 2).slice(1),
  );
});

Deno.test("sample: dispatches by name, seeded, rejects unknown names", () => {
  assert.deepStrictEqual([...SAMPLER_NAMES], ["lhs", "sobol", "halton"]);
  assert.deepStrictEqual(
    sample("lhs", 6, 2, { seed: 9 }),
    latinHypercube(6, 2, { seed: 9 }),
  );
  assert.deepStrictEqual(
    sample("sobol", 6, 2, { seed: 9 }),
    sobolSequence(6, 2, { seed: 9, scramble: true }),
  );
  assert.deepStrictEqual(
    sample("halton", 6, 2, { scramble: false }),
    haltonSequence(6, 2),
  );
  for (const name of SAMPLER_NAMES) {
    const points = sample(name, 32, 4, { seed: 1 });
    assert.strictEqual(points.length, 32);
    inUnitCube(points, 4);
  }
  assert.throws(
    () => sample("random" as never, 2, 2),
    /sampler must be one of lhs, sobol, halton/,
  );
});
