// fitBatch's options against fit() on the same datasets: shared and per-fit
// x, sigma shared and per fit, a fixed parameter, bounds with an active
// bound (shared and per fit), a robust loss, a model of two variables.

import assert from "node:assert";
import {
  fit,
  fitBatch,
  type FitOptions,
  type FitResult,
  model,
} from "../mod.ts";
import type { BatchResult } from "../mod.ts";
import { makeBatch, normal } from "./_batch_data.ts";
import { Xoshiro128 } from "../sampling/prng.ts";

const GAUSS = "a * exp(-(x - m)^2 / (2 * s^2)) + b";

/** Compares fit i of a batch with fit()'s result (parameters, errors, cost). */
function assertSameFit(
  b: BatchResult,
  i: number,
  r: FitResult,
  tol = 1e-8,
): void {
  assert.ok(r.success, `fit() of ${i} failed: ${r.message}`);
  assert.strictEqual(b.success[i], 1, `batch fit ${i}: ${b.message(i)}`);
  const p = b.params.length;
  for (let j = 0; j < p; j++) {
    const scale = Math.max(Math.abs(r.popt[j]), 1e-3);
    const d = Math.abs(b.popt[i * p + j] - r.popt[j]) / scale;
    assert.ok(
      d < tol,
      `fit ${i} ${b.params[j]}: ${b.popt[i * p + j]} vs ${r.popt[j]}`,
    );
    if (r.perr[j] > 0) {
      const e = Math.abs(b.perr[i * p + j] - r.perr[j]) / r.perr[j];
      assert.ok(
        e < 1e-5,
        `fit ${i} perr ${b.params[j]}: ${b.perr[i * p + j]} vs ${r.perr[j]}`,
      );
    }
  }
  assert.ok(Math.abs(b.cost[i] - r.cost) <= 1e-10 * r.cost + 1e-300);
}

function row(a: Float64Array, i: number, w: number): Float64Array {
  return a.subarray(i * w, (i + 1) * w);
}

Deno.test("fitBatch: shared x and per-fit x (rows or flat) agree with fit()", async () => {
  const d = makeBatch("gaussian", 200, 32, { seed: 21, noise: 0.01 });
  const m = model(GAUSS);
  const n = d.nPoints, p = 4;
  // Per fit: the same points shifted and stretched, the data re-drawn on them.
  const rng = new Xoshiro128(5);
  const X = new Float64Array(d.nFits * n), Y = new Float64Array(d.nFits * n);
  for (let i = 0; i < d.nFits; i++) {
    const [a, mu, s, bg] = row(d.truth, i, p);
    const shift = 0.1 * rng.nextFloat(), stretch = 1 + 0.5 * rng.nextFloat();
    for (let k = 0; k < n; k++) {
      const x = shift + stretch * d.x[0][k];
      X[i * n + k] = x;
      Y[i * n + k] = a * Math.exp(-((x - mu) ** 2) / (2 * s * s)) + bg +
        0.01 * normal(rng);
    }
  }
  const rowsOf = (a: Float64Array) =>
    Array.from({ length: d.nFits }, (_, i) => Array.from(row(a, i, n)));
  const shared = await fitBatch(m, d.x[0], d.y, { p0: d.p0 });
  const perFitRows = await fitBatch(m, rowsOf(X), rowsOf(Y), { p0: d.p0 });
  const perFitFlat = await fitBatch(m, X, Y, {
    p0: d.p0,
    nPoints: n,
    threads: 2,
  });
  assert.deepStrictEqual(perFitFlat.popt, perFitRows.popt);
  for (let i = 0; i < d.nFits; i += 7) {
    const p0 = row(d.p0, i, p);
    assertSameFit(shared, i, await fit(m, d.x[0], row(d.y, i, n), { p0 }));
    assertSameFit(
      perFitRows,
      i,
      await fit(m, row(X, i, n), row(Y, i, n), { p0 }),
    );
  }
  // x as a list of one column is the shared x too.
  const listed = await fitBatch(m, [d.x[0]], d.y, { p0: d.p0 });
  assert.deepStrictEqual(listed.popt, shared.popt);
});

Deno.test("fitBatch: sigma shared and per fit agree with fit()", async () => {
  const d = makeBatch("gaussian", 120, 32, { seed: 22, noise: 0.01 });
  const m = model(GAUSS);
  const n = d.nPoints, p = 4;
  const rng = new Xoshiro128(9);
  const sigmaShared = Float64Array.from(
    { length: n },
    () => 0.005 + 0.02 * rng.nextFloat(),
  );
  const sigmaPerFit = Float64Array.from(
    { length: d.nFits * n },
    () => 0.005 + 0.02 * rng.nextFloat(),
  );
  const a = await fitBatch(m, d.x[0], d.y, { p0: d.p0, sigma: sigmaShared });
  const b = await fitBatch(m, d.x[0], d.y, {
    p0: d.p0,
    sigma: sigmaPerFit,
    threads: 2,
  });
  for (let i = 0; i < d.nFits; i += 5) {
    const p0 = row(d.p0, i, p), y = row(d.y, i, n);
    const ra = await fit(m, d.x[0], y, { p0, sigma: sigmaShared });
    const rb = await fit(m, d.x[0], y, { p0, sigma: row(sigmaPerFit, i, n) });
    assertSameFit(a, i, ra);
    assertSameFit(b, i, rb);
    // R^2 from the unweighted residuals, as fit() reports it.
    assert.ok(Math.abs(b.rSquared[i] - rb.rSquared) < 1e-9);
    assert.ok(
      Math.abs(b.result(i).chiSquare - rb.chiSquare) < 1e-9 * rb.chiSquare,
    );
  }
});

Deno.test("fitBatch: a fixed parameter keeps its p0 and the rest equal fit() of the reduced model", async () => {
  const d = makeBatch("gaussian", 60, 32, { seed: 23, noise: 0.01 });
  const m = model(GAUSS);
  const n = d.nPoints, p = 4;
  const b = await fitBatch(m, d.x[0], d.y, {
    p0: d.p0,
    fixed: [false, false, true, false],
  });
  for (let i = 0; i < d.nFits; i += 3) {
    const p0 = row(d.p0, i, p);
    assert.strictEqual(b.popt[i * p + 2], p0[2]);
    assert.strictEqual(b.perr[i * p + 2], 0);
    const reduced = model(`a * exp(-(x - m)^2 / (2 * ${p0[2]}^2)) + b`);
    const r = await fit(reduced, d.x[0], row(d.y, i, n), {
      p0: [p0[0], p0[1], p0[3]],
    });
    assert.deepStrictEqual(reduced.params, ["a", "m", "b"]);
    for (const [k, j] of [[0, 0], [1, 1], [2, 3]]) {
      const diff = Math.abs(b.popt[i * p + j] - r.popt[k]) /
        Math.abs(r.popt[k]);
      assert.ok(
        diff < 1e-8,
        `fit ${i}: ${b.params[j]} ${b.popt[i * p + j]} vs ${r.popt[k]}`,
      );
      const e = Math.abs(b.perr[i * p + j] - r.perr[k]) / r.perr[k];
      assert.ok(e < 1e-5, `fit ${i}: perr ${b.params[j]}`);
    }
    const full = b.result(i);
    assert.deepStrictEqual(full.pcov[2], [0, 0, 0, 0]);
  }
});

Deno.test("fitBatch: an active bound (shared and per fit) agrees with fit()", async () => {
  const d = makeBatch("gaussian", 80, 32, { seed: 24, noise: 0.01 });
  const m = model(GAUSS);
  const n = d.nPoints, p = 4;
  // Per fit: the background held 0.02 below its true value (a few of its
  // standard errors).
  const upper = new Float64Array(d.nFits * p).fill(Infinity);
  const lower = new Float64Array(d.nFits * p).fill(-Infinity);
  const p0 = Float64Array.from(d.p0);
  for (let i = 0; i < d.nFits; i++) {
    upper[i * p + 3] = d.truth[i * p + 3] - 0.02;
    lower[i * p + 2] = 0.01;
    p0[i * p + 3] = Math.min(p0[i * p + 3], upper[i * p + 3] - 0.01);
  }
  const b = await fitBatch(m, d.x[0], d.y, { p0, bounds: [lower, upper] });
  // The worker threads get p0 and the bounds chunk by chunk: same bits.
  const b2 = await fitBatch(m, d.x[0], d.y, {
    p0,
    bounds: [lower, upper],
    threads: 2,
  });
  assert.deepStrictEqual(b2.popt, b.popt);
  let active = 0;
  for (let i = 0; i < d.nFits; i += 2) {
    const bounds: FitOptions["bounds"] = [row(lower, i, p), row(upper, i, p)];
    const r = await fit(m, d.x[0], row(d.y, i, n), {
      p0: row(p0, i, p),
      bounds,
    });
    assertSameFit(b, i, r);
    if (r.activeMask[3] === 1) active++;
    assert.ok(b.popt[i * p + 3] <= upper[i * p + 3]);
    assert.deepStrictEqual(b.result(i).activeMask, r.activeMask);
  }
  assert.ok(active >= 35, `the bound was active in ${active} fits`);
  // Shared bounds: one upper bound on b for every fit, active where the
  // true b is above it (compared where it is at most 0.02 above: further
  // off, both solvers stop further from the constrained minimum).
  const shared: FitOptions["bounds"] = [
    [-Infinity, -Infinity, 0.01, -Infinity],
    [Infinity, Infinity, Infinity, 0.95],
  ];
  const p0Shared = d.p0.map((v, k) => k % p === 3 ? Math.min(v, 0.9) : v);
  const bShared = await fitBatch(m, d.x[0], d.y, {
    p0: p0Shared,
    bounds: shared,
    method: "auto",
  });
  assert.strictEqual(bShared.method, "trf");
  let activeShared = 0, compared = 0;
  for (let i = 0; i < d.nFits; i++) {
    if (d.truth[i * p + 3] > 0.97) {
      assert.ok(bShared.popt[i * p + 3] <= 0.95);
      continue;
    }
    const r = await fit(m, d.x[0], row(d.y, i, n), {
      p0: row(p0Shared, i, p),
      bounds: shared,
    });
    assertSameFit(bShared, i, r);
    compared++;
    if (r.activeMask[3] === 1) activeShared++;
  }
  assert.ok(
    activeShared > 0 && compared > 20,
    `${activeShared} of ${compared}`,
  );
});

Deno.test("fitBatch: a robust loss agrees with fit()", async () => {
  const d = makeBatch("exp3", 60, 64, { seed: 25, noise: 0.01 });
  const m = model(d.expr);
  const n = d.nPoints, p = 3;
  const y = Float64Array.from(d.y);
  // Outliers: every 9th point of every fit off by 0.5.
  for (let k = 0; k < y.length; k += 9) y[k] += 0.5;
  for (const loss of ["soft_l1", "cauchy", "huber", "arctan"] as const) {
    const b = await fitBatch(m, d.x[0], y, { p0: d.p0, loss, fScale: 0.02 });
    for (let i = 0; i < d.nFits; i += 12) {
      const r = await fit(m, d.x[0], row(y, i, n), {
        p0: row(d.p0, i, p),
        loss,
        fScale: 0.02,
      });
      assertSameFit(b, i, r);
    }
  }
});

Deno.test("fitBatch: a model of two variables (a 2-D Gaussian spot) agrees with fit()", async () => {
  const d = makeBatch("gaussian2d", 40, 225, { seed: 26, noise: 0.1 });
  const m = model(d.expr, { variables: ["x", "y"] });
  assert.deepStrictEqual(m.params, ["a", "x0", "y0", "s", "b"]);
  const b = await fitBatch(m, d.x, d.y, { p0: d.p0 });
  const n = d.nPoints, p = 5;
  for (let i = 0; i < d.nFits; i += 4) {
    const r = await fit(m, d.x, row(d.y, i, n), { p0: row(d.p0, i, p) });
    assertSameFit(b, i, r);
  }
});

Deno.test("fitBatch: 16 parameters (unrolled) and 26 (the loop solver) agree with fit()", async () => {
  for (const nb of [16, 26]) {
    // A sum of separated Gaussian bumps with fixed centres, their widths
    // times a common scale s: nb - 1 amplitudes and s.
    const terms = Array.from(
      { length: nb - 1 },
      (_, k) =>
        `c${k} * exp(-(x - ${(k / (nb - 2)).toFixed(4)})^2 / (0.0005 * s))`,
    );
    const m = model(terms.join(" + "));
    assert.strictEqual(m.params.length, nb);
    const n = 400, nFits = 12;
    const x = Float64Array.from({ length: n }, (_, i) => i / (n - 1));
    const rng = new Xoshiro128(nb);
    const truth = Array.from(
      { length: nFits },
      () =>
        Array.from(
          { length: nb },
          (_, k) => k === nb - 1 ? 1 : 0.5 + rng.nextFloat(),
        ),
    );
    const order = m.params;
    const Y = truth.map((t) => {
      const theta = order.map((name) =>
        name === "s" ? t[nb - 1] : t[Number(name.slice(1))]
      );
      return Array.from(m.evaluate([x], theta), (v) => v + 0.01 * normal(rng));
    });
    const p0 = truth.map((t) =>
      order.map((name) =>
        (name === "s" ? t[nb - 1] : t[Number(name.slice(1))]) * 1.1
      )
    );
    const b = await fitBatch(m, x, Y, { p0 });
    for (let i = 0; i < nFits; i += 3) {
      assertSameFit(b, i, await fit(m, x, Y[i], { p0: p0[i] }));
    }
  }
});

Deno.test("fitBatch: a few thousand points per fit agree with fit() (its tolerances at that size)", async () => {
  const d = makeBatch("exp3", 24, 3000, { seed: 27, noise: 0.02 });
  const m = model(d.expr);
  const b = await fitBatch(m, d.x[0], d.y, { p0: d.p0, threads: 2 });
  assert.deepStrictEqual(b.tolerances, {
    ftol: 1e-10,
    xtol: 1e-10,
    gtol: 1e-10,
  });
  const n = d.nPoints, p = 3;
  for (let i = 0; i < d.nFits; i += 5) {
    const r = await fit(m, d.x[0], row(d.y, i, n), { p0: row(d.p0, i, p) });
    assertSameFit(b, i, r, 1e-7);
  }
});
