/**
 * The residual bootstrap (`r.bootstrap`): coverage of its percentile
 * intervals over simulated datasets, its covariance against the fit's,
 * reproducibility from a seed, fixed and tied parameters, and the errors.
 */

import assert from "node:assert";
import { fit, openSource } from "../mod.ts";
import { Xoshiro128 } from "../sampling/prng.ts";

function gaussians(seed: number): () => number {
  const rng = new Xoshiro128(seed);
  return () => {
    const u = rng.nextFloat() || Number.MIN_VALUE, v = rng.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

const x = Array.from({ length: 20 }, (_, i) => i / 4);
const TRUTH = { a: 2, b: 0.7 };
const decay = (t: number) => TRUTH.a * Math.exp(-TRUTH.b * t);

Deno.test("bootstrap: 95% percentile intervals cover the truth in 95% +- 3% of 500 datasets", async () => {
  const gauss = gaussians(42);
  const datasets = 500;
  const cover = { a: 0, b: 0 };
  let ratio = 0;
  for (let d = 0; d < datasets; d++) {
    const y = x.map((t) => decay(t) + 0.05 * gauss());
    const r = await fit("a * exp(-b * x)", x, y, { p0: [1, 1] });
    const boot = await r.bootstrap({ n: 500, seed: d, level: 0.95 });
    assert.strictEqual(boot.nSuccess, 500);
    for (const name of ["a", "b"] as const) {
      const [lo, hi] = boot.intervals[name];
      if (lo < TRUTH[name] && TRUTH[name] < hi) cover[name]++;
    }
    ratio += boot.stderr.b / r.stderr.b / datasets;
  }
  console.log(
    `bootstrap coverage over ${datasets} datasets: a ${cover.a / datasets}, b ${
      cover.b / datasets
    }; mean bootstrap/asymptotic stderr of b ${ratio.toFixed(3)}`,
  );
  for (const name of ["a", "b"] as const) {
    assert.ok(
      Math.abs(cover[name] / datasets - 0.95) <= 0.03,
      `${name}: coverage ${cover[name] / datasets}`,
    );
  }
  // The bootstrap covariance agrees with the fit's on average.
  assert.ok(Math.abs(ratio - 1) < 0.1, `stderr ratio ${ratio}`);
});

Deno.test("bootstrap: a seed reproduces; fixed and tied parameters follow their rules", async () => {
  const gauss = gaussians(7);
  const y = x.map((t) => decay(t) + 0.2 + 0.05 * gauss());
  const r = await fit("a * exp(-b * x) + c + d", x, y, {
    params: { a: 1, b: 1, c: { value: 0.1, vary: false }, d: { expr: "c" } },
  });
  // A tie to a fixed parameter that follows a tied one (the reduced model
  // once kept the tie's original parameter index).
  assert.ok(r.success && r.params.d === 0.1, r.message);
  const one = await r.bootstrap({ n: 100, seed: 3 });
  const two = await r.bootstrap({ n: 100, seed: 3 });
  const other = await r.bootstrap({ n: 100, seed: 4 });
  assert.deepStrictEqual(one.samples, two.samples);
  assert.notDeepStrictEqual(one.samples, other.samples);
  assert.deepStrictEqual(one.paramNames, ["a", "b", "c", "d"]);
  assert.deepStrictEqual(one.intervals.c, [0.1, 0.1]);
  assert.deepStrictEqual(one.intervals.d, [0.1, 0.1]);
  assert.strictEqual(one.stderr.c, 0);
  assert.strictEqual(one.pcov.length, 4);
  // Percentiles of the samples, by numpy's linear rule.
  const bs = Array.from(
    { length: one.nSuccess },
    (_, i) => one.samples[i * 4 + 1],
  )
    .sort((p, q) => p - q);
  const h = (bs.length - 1) * 0.025, i = Math.floor(h);
  assert.strictEqual(one.intervals.b[0], bs[i] + (h - i) * (bs[i + 1] - bs[i]));
});

Deno.test("bootstrap: bad requests are named", async () => {
  const r = await fit("a * exp(-b * x)", x, x.map(decay), { p0: [1, 1] });
  await assert.rejects(() => r.bootstrap({ n: 3 }), RangeError);
  await assert.rejects(() => r.bootstrap({ level: 2 }), RangeError);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/d.csv`;
    await Deno.writeTextFile(
      path,
      "x,y\n" + x.map((t) => `${t},${decay(t)}`).join("\n") + "\n",
    );
    const src = await fit(
      "a * exp(-b * x)",
      await openSource(path, { x: "x", y: "y" }),
      {
        p0: [1, 1],
      },
    );
    await assert.rejects(
      () => src.bootstrap({ n: 10 }),
      (e: Error) => e instanceof TypeError && /in memory/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
