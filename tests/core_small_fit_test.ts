/**
 * The allocation-free paths of small fits (issue 14, item 4): shared
 * scratch and workspaces must give the same bits as the allocating code
 * and must never alias what a caller keeps.
 */

import assert from "node:assert";
import { curveFit, fit, model } from "../mod.ts";
import {
  columnNorms,
  columnNormsInto,
  matTVec,
  matTVecInto,
  norm2,
  norm2Product,
  svd,
  svdShared,
} from "../core/linalg.ts";
import { solveLsqTrustRegion } from "../core/_trust_region.ts";
import { createParallelEvaluator } from "../core/parallel_evaluator.ts";
import { Xoshiro128 } from "../sampling/prng.ts";
import { smallF64 } from "../core/_small_f64.ts";

const bits = (a: ArrayLike<number>) =>
  Array.from(a, (v) => Object.is(v, -0) ? "-0" : v);

function randomMatrix(rng: Xoshiro128, m: number, n: number): Float64Array {
  return Float64Array.from({ length: m * n }, () => 2 * rng.nextFloat() - 1);
}

Deno.test("svd into given arrays and svdShared: the bits of svd", () => {
  const rng = new Xoshiro128(3);
  for (const [m, n] of [[4, 4], [8, 4], [3, 3], [12, 6], [70, 70]]) {
    const A = randomMatrix(rng, m, n);
    const ref = svd(A, m, n);
    const out = {
      u: new Float64Array(m * n).fill(7),
      s: new Float64Array(n).fill(7),
      v: new Float64Array(n * n).fill(7),
    };
    const into = svd(A, m, n, out);
    assert.strictEqual(into.u, out.u);
    const shared = svdShared(A, m, n);
    for (const r of [into, shared]) {
      assert.deepStrictEqual(bits(r.u), bits(ref.u));
      assert.deepStrictEqual(bits(r.s), bits(ref.s));
      assert.deepStrictEqual(bits(r.v), bits(ref.v));
    }
    // A^T A v_k = s_k^2 v_k: the reference itself is an SVD.
    const k = 0;
    let err = 0;
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let i = 0; i < m; i++) {
        let av = 0;
        for (let q = 0; q < n; q++) av += A[i * n + q] * ref.v[q * n + k];
        t += A[i * n + j] * av;
      }
      err = Math.max(err, Math.abs(t - ref.s[k] ** 2 * ref.v[j * n + k]));
    }
    assert.ok(err < 1e-10 * Math.max(1, ref.s[0] ** 2), `${m}x${n}: ${err}`);
  }
});

Deno.test("svd: a later call does not change an earlier result", () => {
  const a = svd(new Float64Array([3, 0, 0, 4]), 2, 2);
  svd(new Float64Array([1, 2, 3, 4, 5, 6]), 3, 2);
  assert.deepStrictEqual(Array.from(a.s), [4, 3]);
});

Deno.test("norms and products without temporaries: the bits of the allocating forms", () => {
  const rng = new Xoshiro128(5);
  for (const [m, n] of [[4, 4], [8, 4], [1, 3]]) {
    const A = randomMatrix(rng, m, n);
    A[0] = 1e-300; // scaled sums of squares
    const out = new Float64Array(n);
    assert.deepStrictEqual(
      bits(columnNormsInto(A, m, n, out)),
      bits(columnNorms(A, m, n)),
    );
    const x = randomMatrix(rng, 1, n);
    const y = randomMatrix(rng, 1, n);
    assert.strictEqual(norm2Product(x, y), norm2(x.map((t, i) => t * y[i])));
    const F = randomMatrix(rng, n, n);
    const into = new Float64Array(n).fill(9);
    assert.deepStrictEqual(
      bits(matTVecInto(F, n, x, into)),
      bits(matTVec(F, n, x)),
    );
  }
  assert.strictEqual(norm2Product([0, 0], [1, 2]), 0);
  assert.ok(Number.isNaN(norm2Product([NaN, 1], [1, 1])));
  assert.strictEqual(norm2Product([1e200, 1e200], [1e200, 0]), Infinity);
});

Deno.test("solveLsqTrustRegion: each call's step is its own array", () => {
  const s = new Float64Array([2, 1]);
  const v = new Float64Array([1, 0, 0, 1]);
  const a = solveLsqTrustRegion(
    2,
    10,
    new Float64Array([4, 1]),
    s,
    v,
    10,
    null,
  );
  const keep = Array.from(a.p);
  // Gauss-Newton step -suf / s^2 fits inside Delta = 10.
  assert.deepStrictEqual(keep, [-1, -1]);
  const b = solveLsqTrustRegion(
    2,
    10,
    new Float64Array([40, 10]),
    s,
    v,
    1,
    null,
  );
  assert.notStrictEqual(a.p, b.p);
  assert.deepStrictEqual(Array.from(a.p), keep);
  assert.ok(Math.abs(Math.hypot(b.p[0], b.p[1]) - 1) < 1e-12); // on the boundary
});

Deno.test("single-thread pass: evaluations never share their arrays", async () => {
  const m = model("a * exp(-b * x) + c");
  const x = Float64Array.from({ length: 40 }, (_, i) => i / 10);
  const y = x.map((t) => 3 * Math.exp(-1.2 * t) + 0.5);
  const ev = createParallelEvaluator(m, { x: [x], y, w: null }, { threads: 1 });
  const other = createParallelEvaluator(m, {
    x: [x],
    y: y.map((v) => 2 * v),
    w: null,
  }, {
    threads: 1,
  });
  try {
    const [e1] = await ev.evaluate([new Float64Array([2, 1, 0])], [true]);
    const r1 = e1.lin!.form === "qr" ? Array.from(e1.lin!.r) : [];
    const [e2, e3] = await ev.evaluate(
      [new Float64Array([3, 1.2, 0.5]), new Float64Array([1, 1, 1])],
      [true, true],
    );
    await other.evaluate([new Float64Array([9, 9, 9])], [true]);
    assert.strictEqual(e1.lin!.form, "qr");
    assert.deepStrictEqual(
      Array.from(e1.lin!.form === "qr" ? e1.lin!.r : []),
      r1,
    );
    assert.ok(e2.cost < 1e-25); // the true parameters
    assert.ok(e3.cost > 0);
    // R^T R = J^T J at the first point, from its own R.
    const J = Array.from(x, (t) => [Math.exp(-t), -2 * t * Math.exp(-t), 1]);
    const jtj00 = J.reduce((s, r) => s + r[0] * r[0], 0);
    assert.ok(Math.abs(r1[0] * r1[0] - jtj00) < 1e-12 * jtj00);
  } finally {
    ev.close();
    other.close();
  }
});

Deno.test("fit and curveFit of an expression string: the compiled model's answer", async () => {
  const x = Float64Array.from({ length: 32 }, (_, i) => -3 + 6 * i / 31);
  const y = x.map((t, i) =>
    2 * Math.exp(-((t - 0.3) ** 2) / (2 * 0.8 ** 2)) + 0.5 +
    0.01 * Math.sin(7 * i)
  );
  const expr = "a*exp(-(x-m)^2/(2*s^2))+b";
  const p0 = [2.3, 0.25, 0.9, 0.45];
  const byModel = await fit(model(expr), x, y, { p0 });
  for (let k = 0; k < 3; k++) {
    const byString = await fit(expr, x, y, { p0 });
    assert.deepStrictEqual(bits(byString.popt), bits(byModel.popt));
    assert.deepStrictEqual(byString.pcov, byModel.pcov);
    assert.strictEqual(byString.nfev, byModel.nfev);
    assert.deepStrictEqual(byString.notes.slice(1), byModel.notes.slice(1));
  }
  assert.ok(Math.abs(byModel.params.m - 0.3) < 0.01);
  const [popt] = await curveFit(expr, x, y, { p0 });
  const [popt2] = await curveFit(model(expr), x, y, { p0 });
  assert.deepStrictEqual(bits(popt), bits(popt2));
  assert.ok(Math.abs(popt[2] - 0.8) < 0.01);
});

Deno.test("single-thread pass: a plain-function model may run another pass inside its own", async () => {
  const x = Float64Array.from({ length: 20 }, (_, i) => i / 4);
  const y = x.map((t) => 1.5 * t + 0.25);
  const inner = createParallelEvaluator(
    model("c * x"),
    { x: [x], y: x.map((t) => 3 * t), w: null },
    { threads: 1 },
  );
  let nested = 0;
  const plain = (t: number, a: number, b: number) => {
    // The caller's code starts a (synchronous) pass of another evaluator.
    if (nested++ % 7 === 0) {
      void inner.evaluate([new Float64Array([2])], [true]);
    }
    return a * t + b;
  };
  const quiet = (t: number, a: number, b: number) => a * t + b;
  const evA = createParallelEvaluator(model(plain), { x: [x], y, w: null }, {
    threads: 1,
  });
  const evB = createParallelEvaluator(model(quiet), { x: [x], y, w: null }, {
    threads: 1,
  });
  try {
    const at = new Float64Array([1, 0]);
    const [a] = await evA.evaluate([at], [true]);
    const [b] = await evB.evaluate([at], [true]);
    assert.ok(nested > 20);
    assert.strictEqual(a.cost, b.cost);
    assert.deepStrictEqual(
      bits(a.lin!.form === "qr" ? a.lin!.r : []),
      bits(b.lin!.form === "qr" ? b.lin!.r : []),
    );
  } finally {
    inner.close();
    evA.close();
    evB.close();
  }
});

Deno.test("slab views: fresh and zeroed, and never in what a fit returns", async () => {
  const a = smallF64(5);
  a.fill(3);
  const b = smallF64(5);
  assert.deepStrictEqual(Array.from(b), [0, 0, 0, 0, 0]);
  assert.strictEqual(a.buffer, b.buffer); // one slab, two views
  assert.strictEqual(smallF64(1000).buffer.byteLength, 8000); // own buffer
  // What a fit hands back owns exactly its bytes: a kept result holds no
  // slab alive, and `.buffer` of popt is popt (to write it to a file).
  const x = Array.from({ length: 32 }, (_, i) => i / 31);
  const y = x.map((t) => 2 * Math.exp(-((t - 0.5) ** 2) / 0.02) + 0.5);
  for (const method of ["trf", "lm"] as const) {
    const r = await fit("a*exp(-(x-m)^2/(2*s^2))+b", x, y, {
      p0: [1.5, 0.45, 0.12, 0.4],
      method,
    });
    assert.ok(r.success);
    for (const v of [r.popt, r.perr]) {
      assert.strictEqual(v.buffer.byteLength, v.length * 8, method);
    }
    assert.ok(Math.abs(r.params.m - 0.5) < 1e-9);
  }
  const [popt] = await curveFit(
    model("a*exp(-b*x)+c"),
    x,
    x.map((t) => 3 * Math.exp(-1.5 * t) + 0.5),
    { p0: [1, 1, 0] },
  );
  assert.strictEqual(popt.buffer.byteLength, 24);
  assert.ok(Math.abs(popt[1] - 1.5) < 1e-9);
});
