// fitBatch against fit(), fit by fit: 1e4 noisy 1-D Gaussians of 32 points
// (starts within +-20% of the truth), and the thread count changing nothing.

import assert from "node:assert";
import { fit, fitBatch, model } from "../mod.ts";
import { makeBatch } from "./_batch_data.ts";

const N_FITS = 10_000;

/** Largest |a - b| / |b| over the parameters of one fit. */
function maxRel(a: ArrayLike<number>, ao: number, b: ArrayLike<number>) {
  let d = 0;
  for (let j = 0; j < b.length; j++) {
    d = Math.max(d, Math.abs(a[ao + j] - b[j]) / Math.abs(b[j]));
  }
  return d;
}

Deno.test("fitBatch: 1e4 Gaussians equal fit() per fit to 1e-8 relative", async () => {
  const d = makeBatch("gaussian", N_FITS, 32, { seed: 14, noise: 0.01 });
  const m = model(d.expr);
  const b = await fitBatch(m, d.x[0], d.y, { p0: d.p0 });
  assert.strictEqual(b.nFits, N_FITS);
  assert.deepStrictEqual(b.tolerances, {
    ftol: 1e-12,
    xtol: 1e-12,
    gtol: 1e-12,
  });
  assert.ok(b.nSuccess >= 0.999 * N_FITS, `only ${b.nSuccess} converged`);
  const p = 4, n = d.nPoints;
  let worstPopt = 0, worstPerr = 0, worstCost = 0, worstR2 = 0, compared = 0;
  for (let i = 0; i < N_FITS; i++) {
    const r = await fit(m, d.x[0], d.y.subarray(i * n, (i + 1) * n), {
      p0: d.p0.subarray(i * p, (i + 1) * p),
    });
    if (!r.success || !b.success[i]) continue;
    compared++;
    worstPopt = Math.max(worstPopt, maxRel(b.popt, i * p, r.popt));
    worstPerr = Math.max(worstPerr, maxRel(b.perr, i * p, r.perr));
    worstCost = Math.max(worstCost, Math.abs(b.cost[i] - r.cost) / r.cost);
    worstR2 = Math.max(worstR2, Math.abs(b.rSquared[i] - r.rSquared));
  }
  assert.ok(compared >= 0.999 * N_FITS);
  assert.ok(worstPopt < 1e-8, `popt differs by ${worstPopt} relative`);
  assert.ok(worstPerr < 1e-6, `perr differs by ${worstPerr} relative`);
  assert.ok(worstCost < 1e-12, `cost differs by ${worstCost} relative`);
  assert.ok(worstR2 < 1e-12, `R^2 differs by ${worstR2}`);
  // And the fits found the truth to within the noise.
  const a = b.column("a"), truthA = d.truth.filter((_, k) => k % p === 0);
  const err = a.map((v, i) =>
    Math.abs(v - truthA[i]) / b.column("a", "perr")[i]
  );
  assert.ok(err.filter((e) => e < 5).length >= 0.99 * N_FITS);
});

Deno.test("fitBatch: 1 and 2 threads give the same bits", async () => {
  const d = makeBatch("gaussian", 20_000, 32, { seed: 15, noise: 0.01 });
  const m = model(d.expr);
  const one = await fitBatch(m, d.x[0], d.y, { p0: d.p0, threads: 1 });
  const two = await fitBatch(m, d.x[0], d.y, { p0: d.p0, threads: 2 });
  assert.strictEqual(one.threads, 1);
  assert.strictEqual(two.threads, 2);
  assert.match(two.backend, /2 threads/);
  for (
    const key of ["popt", "perr", "cost", "rSquared", "nfev", "status"] as const
  ) {
    assert.deepStrictEqual(one[key], two[key], key);
  }
  // Data already in SharedArrayBuffers are read in place: same answers.
  const share = (a: Float64Array) => {
    const s = new Float64Array(new SharedArrayBuffer(a.byteLength));
    s.set(a);
    return s;
  };
  const inPlace = await fitBatch(m, d.x[0], share(d.y), {
    p0: share(d.p0),
    threads: 2,
  });
  assert.deepStrictEqual(inPlace.popt, one.popt);
});
