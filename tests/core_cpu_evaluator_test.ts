/** The in-memory CPU evaluators: QR vs Gram accumulation, threads, chunks. */

import assert from "node:assert";
import { model } from "../mod.ts";
import { solve } from "../core/solve.ts";
import { resolveSolverOptions } from "../core/_validate.ts";
import {
  createBatchRunner,
  createParallelEvaluator,
} from "../core/parallel_evaluator.ts";
import { GRAM_MAX_CONDITION, scaledCondition } from "../core/_accumulation.ts";
import { linearizeRange } from "../core/cpu_evaluator.ts";

function data(n: number, f: (x: number) => number, a = 0, b = 5) {
  const x = new Float64Array(n), y = new Float64Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    x[i] = a + (b - a) * i / (n - 1);
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    y[i] = f(x[i]) + 0.01 * (s / 2 ** 32 - 0.5);
  }
  return { x, y };
}

Deno.test("well conditioned: Gram sums are used and give the QR answer", async () => {
  const m = model("a * exp(-b * x) + c");
  const { x, y } = data(40_000, (t) => 2.5 * Math.exp(-1.3 * t) + 0.5);
  const results: Float64Array[] = [];
  for (
    const [accumulation, threads] of [["qr", 1], ["auto", 1], [
      "auto",
      2,
    ]] as const
  ) {
    const ev = createParallelEvaluator(m, { x: [x], y, w: null }, {
      accumulation,
      threads,
    });
    try {
      const forms: string[] = [];
      const probe = {
        nParams: ev.nParams,
        nResiduals: ev.nResiduals,
        async evaluate(t: readonly Float64Array[], w: readonly boolean[]) {
          const out = await ev.evaluate(t, w);
          for (const e of out) if (e.lin) forms.push(e.lin.form);
          return out;
        },
      };
      const o = resolveSolverOptions(
        { ftol: 1e-12, xtol: 1e-12, gtol: 1e-12 },
        3,
        x.length,
      );
      const r = await solve(probe, new Float64Array([1, 1, 0]), o);
      results.push(r.x);
      if (accumulation === "qr") assert.ok(forms.every((f) => f === "qr"));
      else assert.ok(forms.every((f) => f === "normal"), forms.join());
    } finally {
      ev.close();
    }
  }
  for (const r of results.slice(1)) {
    for (let i = 0; i < 3; i++) {
      assert.ok(
        Math.abs(r[i] - results[0][i]) / Math.abs(results[0][i]) < 1e-10,
      );
    }
  }
});

Deno.test("ill conditioned: the evaluator falls back to QR and keeps it", async () => {
  // A cubic far from the origin: the scaled Jacobian's condition is ~1e8.
  const m = model("b0 + b1 * x + b2 * x^2 + b3 * x^3");
  const { x, y } = data(
    20_000,
    (t) => 1 + 0.1 * t - 0.01 * t * t + 1e-4 * t ** 3,
    100,
    101,
  );
  const ev = createParallelEvaluator(m, { x: [x], y, w: null }, { threads: 1 });
  try {
    for (let k = 0; k < 3; k++) {
      const [e] = await ev.evaluate([new Float64Array([1, 0.1, -0.01, 1e-4])], [
        true,
      ]);
      assert.strictEqual(e.lin!.form, "qr");
      assert.ok(scaledCondition(e.lin!, 4) > GRAM_MAX_CONDITION);
    }
  } finally {
    ev.close();
  }
});

Deno.test("a point well conditioned again brings Gram sums back", async () => {
  // The condition belongs to the point: near b = 0 the columns of exp(-b x)
  // and the constant are almost parallel; at b = 1.3 they are not.
  const m = model("a * exp(-b * x) + c");
  const { x, y } = data(20_000, (t) => 2.5 * Math.exp(-1.3 * t) + 0.5);
  const ev = createParallelEvaluator(m, { x: [x], y, w: null }, { threads: 1 });
  try {
    const at = async (theta: number[]) => {
      const [e] = await ev.evaluate([new Float64Array(theta)], [true]);
      return [e.lin!.form, scaledCondition(e.lin!, 3)] as const;
    };
    const [f0, c0] = await at([2, 1e-6, 0]);
    assert.strictEqual(f0, "qr"); // redone in QR after the Gram pass
    assert.ok(c0 > 1e9, String(c0));
    const [f1, c1] = await at([2.5, 1.3, 0.5]);
    assert.strictEqual(f1, "qr"); // still QR: decided by the last point
    assert.ok(c1 < GRAM_MAX_CONDITION / 2, String(c1));
    assert.strictEqual((await at([2.5, 1.3, 0.5]))[0], "normal");
    // Between half the bound and the bound, the form in use stays: no
    // switching back and forth for a condition that hovers there.
    const [f2, c2] = await at([2, 0.06, 0]);
    assert.ok(
      c2 > GRAM_MAX_CONDITION / 2 && c2 < GRAM_MAX_CONDITION,
      String(c2),
    );
    assert.strictEqual(f2, "normal");
    assert.strictEqual((await at([2, 1e-6, 0]))[0], "qr");
    assert.strictEqual((await at([2, 0.06, 0]))[0], "qr");
    assert.strictEqual((await at([2, 0.06, 0]))[0], "qr");
  } finally {
    ev.close();
  }
});

Deno.test("chunks and threads give the same linearization as one block", async () => {
  const m = model("a * sin(w * x) + c");
  const { x, y } = data(30_001, (t) => 1.2 * Math.sin(2.1 * t) + 0.3);
  const theta = new Float64Array([1, 2, 0]);
  const outs = [];
  for (
    const [threads, chunkRows] of [[1, undefined], [2, undefined], [
      2,
      4097,
    ]] as const
  ) {
    const ev = createParallelEvaluator(m, { x: [x], y, w: null }, {
      threads,
      chunkRows,
      accumulation: "qr",
    });
    try {
      outs.push((await ev.evaluate([theta], [true]))[0]);
    } finally {
      ev.close();
    }
  }
  for (const e of outs.slice(1)) {
    assert.ok(Math.abs(e.cost - outs[0].cost) / outs[0].cost < 1e-13);
    const a = e.lin!, b = outs[0].lin!;
    assert.ok(a.form === "qr" && b.form === "qr");
    for (let i = 0; i < 9; i++) {
      // R is unique up to the sign of each row.
      assert.ok(
        Math.abs(Math.abs(a.r[i]) - Math.abs(b.r[i])) <=
          1e-10 * Math.abs(b.r[0]),
      );
    }
  }
});

Deno.test("batch runner: a batch split with a worker equals one thread", async () => {
  const m = model("a * exp(-b * x) + c");
  const { x, y } = data(100_001, (t) => 2.5 * Math.exp(-1.3 * t) + 0.5);
  const w = x.map((t) => 1 / (0.01 + 0.001 * t));
  const d = { x: [x], y, w };
  const thetas = [new Float64Array([2, 1, 0.4]), new Float64Array([1, 1, 0])];
  const gram = (a: Float64Array) => {
    // R^T R, independent of the signs of R's rows
    const c = 4, g = new Float64Array(c * c);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        for (let k = 0; k < c; k++) g[i * c + j] += a[k * c + i] * a[k * c + j];
      }
    }
    return g;
  };
  for (
    const [loss, threads] of [["linear", 2], ["soft_l1", 2], [
      "linear",
      3,
    ]] as const
  ) {
    const runner = createBatchRunner(m, { loss, fScale: 0.5, threads });
    assert.strictEqual(runner.threads, threads);
    // Two batches into one running factor, as the streaming pass does.
    const aug = new Float64Array(16);
    const c1 = await runner.run(d, 0, 60_000, thetas, [aug, null]);
    const c2 = await runner.run(d, 60_000, 100_001, thetas, [aug, null]);
    const ref = linearizeRange(m.kernel, 3, d, thetas[0], 0, 100_001, true, {
      loss,
      fScale: 0.5,
    });
    const refCost1 =
      linearizeRange(m.kernel, 3, d, thetas[1], 0, 100_001, false, {
        loss,
        fScale: 0.5,
      }).cost;
    assert.ok(Math.abs(c1[0] + c2[0] - ref.cost) <= 1e-12 * ref.cost, loss);
    assert.ok(Math.abs(c1[1] + c2[1] - refCost1) <= 1e-12 * refCost1, loss);
    const g = gram(aug), gr = gram(ref.aug!);
    for (let i = 0; i < 16; i++) {
      const scale = Math.sqrt(gr[(i >> 2) * 5] * gr[(i & 3) * 5]);
      assert.ok(Math.abs(g[i] - gr[i]) <= 1e-12 * scale, `${loss} G[${i}]`);
    }
  }
  // A non-finite residual in the worker's half gives a NaN cost.
  const bad = Float64Array.from(y);
  bad[90_000] = NaN;
  const runner = createBatchRunner(m);
  const [cb] = await runner.run({ x: [x], y: bad, w: null }, 0, 100_001, [
    thetas[0],
  ], [new Float64Array(16)]);
  assert.ok(Number.isNaN(cb));
});
