// BatchResult: columns, messages, and result(i) as the FitResult fit()
// returns for the same dataset.

import assert from "node:assert";
import { fit, fitBatch, model } from "../mod.ts";
import { makeBatch } from "./_batch_data.ts";

Deno.test("BatchResult.result(i) equals fit()'s FitResult for that dataset", async () => {
  const d = makeBatch("exp3", 30, 50, { seed: 61, noise: 0.02 });
  const m = model(d.expr);
  const b = await fitBatch(m, d.x[0], d.y, { p0: d.p0 });
  const n = d.nPoints, p = 3;
  assert.deepStrictEqual(b.params, ["a", "b", "c"]);
  assert.strictEqual(b.nPoints, n);
  assert.strictEqual(b.method, "trf");
  assert.match(b.backend, /^cpu \(batch engine, 1 thread, f64\)$/);
  for (const i of [0, 13, 29]) {
    const got = b.result(i);
    const want = await fit(m, d.x[0], d.y.subarray(i * n, (i + 1) * n), {
      p0: d.p0.subarray(i * p, (i + 1) * p),
    });
    assert.strictEqual(got.strategy, "batch");
    assert.strictEqual(got.nPoints, want.nPoints);
    assert.strictEqual(got.success, true);
    assert.deepStrictEqual(got.paramNames, want.paramNames);
    const close = (u: number, v: number, tol: number, what: string) =>
      assert.ok(Math.abs(u - v) <= tol * Math.abs(v), `${what}: ${u} vs ${v}`);
    for (let j = 0; j < p; j++) {
      close(got.popt[j], want.popt[j], 1e-8, `popt ${j}`);
      close(got.perr[j], b.perr[i * p + j], 1e-8, `perr ${j} vs the column`);
      for (let l = 0; l < p; l++) {
        close(got.pcov[j][l], want.pcov[j][l], 1e-6, `pcov ${j} ${l}`);
      }
    }
    close(got.cost, want.cost, 1e-12, "cost");
    close(got.rSquared, want.rSquared, 1e-12, "rSquared");
    close(got.adjRSquared, want.adjRSquared, 1e-12, "adjRSquared");
    close(got.rmse, want.rmse, 1e-9, "rmse");
    close(got.aic, want.aic, 1e-9, "aic");
    close(got.chiSquare, want.chiSquare, 1e-9, "chiSquare");
    assert.ok(
      got.optimality < 1e-6,
      `optimality ${got.optimality} vs ${want.optimality}`,
    );
    const [ciGot, ciWant] = [
      got.confidenceIntervals(0.05),
      want.confidenceIntervals(0.05),
    ];
    close(ciGot[1].upper, ciWant[1].upper, 1e-7, "confidence interval");
    const rg = got.residuals!, rw = want.residuals!;
    for (let k = 0; k < n; k++) assert.ok(Math.abs(rg[k] - rw[k]) < 1e-8);
    assert.strictEqual(got.starts[0].p0[0], d.p0[i * p]);
    assert.deepStrictEqual(got.toJSON().params, got.params);
  }
});

Deno.test("BatchResult: columns, messages and counts", async () => {
  const b = await fitBatch("a * x + b", [0, 1, 2], [[1, 3, 5], [2, 2, NaN], [
    0,
    1,
    2,
  ]], {
    p0: [1, 0],
  });
  assert.deepStrictEqual(
    Array.from(b.column("a")).map((v) => Math.round(v * 1e9) / 1e9),
    [2, NaN, 1],
  );
  assert.deepStrictEqual(
    Array.from(b.column("b", "perr")).map((v) =>
      Number.isNaN(v) ? v : v < 1e-6
    ),
    [true, NaN, true],
  );
  assert.throws(
    () => b.column("c"),
    /unknown parameter "c" \(parameters: a, b\)/,
  );
  assert.strictEqual(b.nSuccess, 2);
  assert.deepStrictEqual(Array.from(b.success), [1, 0, 1]);
  assert.match(b.message(0), /termination condition is satisfied/);
  assert.match(b.message(1), /y\[2\] = NaN/);
  assert.throws(() => b.message(3), /fit index 3 is out of range \[0, 3\)/);
  assert.throws(() => b.result(-1), RangeError);
  assert.ok(b.elapsedMs > 0);
  assert.deepStrictEqual(b.notes, [
    "backend auto: the CPU batch engine (under 16384 fits)",
  ]);
});

Deno.test("fitBatch: a rank-deficient model (a + c redundant) converges; its covariance is fit()'s pseudo-inverse", async () => {
  const m = model("a + b * x + c");
  const x = [0, 1, 2, 3, 4, 5];
  const Y = [[1, 3, 5.1, 6.9, 9, 11], [0, 0.5, 1, 1.6, 2, 2.4]];
  const b = await fitBatch(m, x, Y, { p0: [1, 1, 1] });
  for (let i = 0; i < 2; i++) {
    const r = await fit(m, x, Y[i], { p0: [1, 1, 1] });
    assert.strictEqual(b.success[i], 1, b.message(i));
    assert.ok(Math.abs(b.cost[i] - r.cost) < 1e-12 * (1 + r.cost));
    // a + c and b are determined (to where the cost stops changing in
    // double precision: ftol 1e-12 ends both solvers there); J^T J is
    // singular, so the standard errors come from the SVD path, as fit()'s.
    const sum = b.popt[i * 3] + b.popt[i * 3 + 2], want = r.popt[0] + r.popt[2];
    assert.ok(
      Math.abs(sum - want) < 1e-7 * Math.abs(want),
      `${sum} vs ${want}`,
    );
    assert.ok(Math.abs(b.popt[i * 3 + 1] - r.popt[1]) < 1e-8 * r.popt[1]);
    for (let j = 0; j < 3; j++) {
      assert.ok(
        Math.abs(b.perr[i * 3 + j] - r.perr[j]) < 1e-8 * (1 + r.perr[j]),
        `perr ${j}: ${b.perr[i * 3 + j]} vs ${r.perr[j]}`,
      );
    }
  }
});
