// fitBatch with parameters by name, as fit's: fixed and tied parameters
// substituted into the model, p0 by name, a built-in model's hints and its
// guess per fit (p0 "auto"), and 2-D NPY files whose rows are fits. Each
// is compared with fit() on the same datasets or with the arrays given
// directly.

import assert from "node:assert";
import { fit, fitBatch, type FitResult, model, models } from "../mod.ts";
import type { BatchResult } from "../mod.ts";
import { makeBatch, normal } from "./_batch_data.ts";
import { Xoshiro128 } from "../sampling/prng.ts";
import { havePython, pythonCommand } from "./_tools.ts";

/** Fit i of a batch equals fit()'s result (every parameter and error). */
function assertSameFit(b: BatchResult, i: number, r: FitResult): void {
  assert.ok(r.success, `fit() of ${i} failed: ${r.message}`);
  assert.strictEqual(b.success[i], 1, `batch fit ${i}: ${b.message(i)}`);
  const p = b.params.length;
  assert.deepStrictEqual(b.params, r.paramNames);
  for (let j = 0; j < p; j++) {
    const scale = Math.max(Math.abs(r.popt[j]), 1e-3);
    const d = Math.abs(b.popt[i * p + j] - r.popt[j]) / scale;
    assert.ok(
      d < 1e-8,
      `fit ${i} ${b.params[j]}: ${b.popt[i * p + j]} vs ${r.popt[j]}`,
    );
    const e = Math.abs(b.perr[i * p + j] - r.perr[j]);
    assert.ok(
      e <= 1e-5 * r.perr[j] || (r.perr[j] === 0 && b.perr[i * p + j] === 0),
      `fit ${i} perr ${b.params[j]}: ${b.perr[i * p + j]} vs ${r.perr[j]}`,
    );
  }
  assert.ok(Math.abs(b.cost[i] - r.cost) <= 1e-9 * r.cost);
}

/** Two Gaussians of one width on a background: s2 tied to s1. */
function twoPeaks(nFits: number, seed: number) {
  const rng = new Xoshiro128(seed);
  const n = 60;
  const x = Float64Array.from({ length: n }, (_, k) => k / (n - 1));
  const Y = new Float64Array(nFits * n);
  const truth: number[][] = [];
  for (let i = 0; i < nFits; i++) {
    const a1 = 1 + rng.nextFloat(), a2 = 0.5 + rng.nextFloat();
    const s = 0.05 + 0.03 * rng.nextFloat(), b = 0.2;
    truth.push([a1, 0.3, s, a2, 0.7, s, b]);
    for (let k = 0; k < n; k++) {
      const t = x[k];
      Y[i * n + k] = a1 * Math.exp(-((t - 0.3) ** 2) / (2 * s * s)) +
        a2 * Math.exp(-((t - 0.7) ** 2) / (2 * s * s)) + b +
        0.01 * normal(rng);
    }
  }
  return { x, Y, n, truth };
}

const TWO = "a1 * exp(-(x - m1)^2 / (2 * s1^2)) + " +
  "a2 * exp(-(x - m2)^2 / (2 * s2^2)) + b";

Deno.test("fitBatch params: fixed and tied parameters equal fit() with the same params", async () => {
  const d = twoPeaks(20, 7);
  const m = model(TWO);
  const params = {
    s2: { expr: "s1" },
    b: { value: 0.2, vary: false },
    m1: { value: 0.3, min: 0.2, max: 0.4 },
  };
  const p0 = [1.3, 0.31, 0.06, 0.9, 0.69, 0.06, 0.2];
  const b = await fitBatch(m, d.x, d.Y, { p0, params });
  assert.deepStrictEqual(b.params, m.params);
  for (let i = 0; i < 20; i++) {
    const r = await fit(m, d.x, d.Y.subarray(i * d.n, (i + 1) * d.n), {
      p0,
      params,
    });
    assertSameFit(b, i, r);
    const p = 7;
    // The tie holds, the fixed value stays, its error is 0.
    assert.strictEqual(b.popt[i * p + 5], b.popt[i * p + 2]);
    assert.strictEqual(b.popt[i * p + 6], 0.2);
    assert.strictEqual(b.perr[i * p + 6], 0);
    assert.ok(b.perr[i * p + 5] > 0);
    // result(i) is the same full FitResult as fit()'s.
    const ri = b.result(i);
    assert.deepStrictEqual(ri.paramNames, m.params);
    assert.strictEqual(ri.nFree, 5);
    assert.ok(Math.abs(ri.stderr.s2 - r.stderr.s2) < 1e-5 * r.stderr.s2);
    assert.ok(Math.abs(ri.pcov[2][5] - r.pcov[2][5]) < 1e-5 * r.pcov[2][5]);
  }
});

Deno.test("fitBatch params: per-fit p0 with a fixed parameter; p0 by name; params starts", async () => {
  const data = makeBatch("gaussian", 30, 32, { seed: 5 });
  const m = model(data.expr); // a, m, s, b
  const fixB = { b: { value: 0.25, vary: false } };
  const perFit = await fitBatch(m, data.x[0], data.y, {
    p0: data.p0,
    params: fixB,
  });
  for (let i = 0; i < 30; i += 7) {
    const r = await fit(m, data.x[0], data.y.subarray(i * 32, (i + 1) * 32), {
      p0: Array.from(data.p0.subarray(i * 4, (i + 1) * 4)),
      params: fixB,
    });
    assertSameFit(perFit, i, r);
  }
  // p0 by name (shared), and the same starts as params values.
  const start = { a: 1, m: 0.5, s: 0.15, b: 0.3 };
  const byName = await fitBatch(m, data.x[0], data.y, { p0: start });
  const asParams = await fitBatch(m, data.x[0], data.y, { params: start });
  const r3 = await fit(m, data.x[0], data.y.subarray(3 * 32, 4 * 32), {
    p0: start,
  });
  assertSameFit(byName, 3, r3);
  assert.deepStrictEqual(asParams.popt, byName.popt);
  // A params value wins over p0 for every fit (as in fit()).
  const over = await fitBatch(m, data.x[0], data.y, {
    p0: data.p0,
    params: { b: { value: 0.3, vary: false } },
  });
  assert.ok(over.column("b").every((v) => v === 0.3));
});

Deno.test("fitBatch p0 auto: a built-in model's guess per fit and its hints equal fit() without a start", async () => {
  const rng = new Xoshiro128(11);
  const n = 50, nFits = 25;
  const x = Float64Array.from({ length: n }, (_, k) => -5 + 10 * k / (n - 1));
  const Y = Array.from({ length: nFits }, () => {
    const amp = 2 + 3 * rng.nextFloat(), c = -2 + 4 * rng.nextFloat();
    const s = 0.5 + rng.nextFloat();
    return Array.from(x, (t) =>
      amp / (s * Math.sqrt(2 * Math.PI)) *
        Math.exp(-((t - c) ** 2) / (2 * s * s)) + 0.02 * normal(rng));
  });
  const m = models.gaussian();
  const b = await fitBatch(m, x, Y, { p0: "auto" });
  const implicit = await fitBatch(m, x, Y);
  assert.deepStrictEqual(implicit.popt, b.popt);
  assert.ok(b.notes.some((s) => /guess/.test(s)));
  for (let i = 0; i < nFits; i++) {
    const r = await fit(m, x, Y[i]);
    assertSameFit(b, i, r);
    // The derived quantities of the built-in model come with result(i).
    assert.ok(
      Math.abs(b.result(i).derived.fwhm.value - r.derived.fwhm.value) <
        1e-8 * r.derived.fwhm.value,
    );
  }
  // A fit whose data cannot be guessed from is flagged; the others fit.
  const bad = Y.map((r) => r.slice());
  bad[3].fill(NaN);
  const withBad = await fitBatch(m, x, bad, { p0: "auto" });
  assert.strictEqual(withBad.success[3], 0);
  assert.ok(withBad.status[3] < 0, withBad.message(3));
  assert.strictEqual(withBad.nSuccess, nFits - 1);
});

Deno.test("fitBatch params: malformed params and starts throw typed errors", async () => {
  const x = [0, 1, 2, 3], Y = [[1, 3, 5, 7], [2, 4, 6, 8]];
  const cases: [() => Promise<unknown>, ErrorConstructor, RegExp][] = [
    [
      () => fitBatch("a * x + b", x, Y, { p0: "auto" }),
      TypeError,
      /p0 "auto" needs a built-in model/,
    ],
    [
      () => fitBatch("a * x + b", x, Y, { params: { c: 1 } }),
      TypeError,
      /params: unknown parameter 'c'/,
    ],
    [
      () => fitBatch("a * x + b", x, Y, { p0: { a: 1, c: 2 } }),
      TypeError,
      /p0: unknown parameter 'c'/,
    ],
    [
      () => fitBatch("a * x + b", x, Y, { params: { a: 1 } }),
      TypeError,
      /p0 is required \(no start for 'b'\)/,
    ],
    [
      () =>
        fitBatch("a * x + b", x, Y, {
          params: { a: { value: 1, vary: false }, b: { expr: "a" } },
        }),
      RangeError,
      /every parameter is fixed or tied/,
    ],
    [
      () =>
        fitBatch("a * x + b", x, Y, {
          p0: [1, 0],
          params: { a: { min: 2, max: 3 } },
        }),
      RangeError,
      /p0 of a = 1 is outside the bounds \[2, 3\]/,
    ],
    [
      () => fitBatch("a * x + b", x, Y, { params: [1, 2] as never }),
      TypeError,
      /params must be an object/,
    ],
  ];
  for (const [call, type, message] of cases) {
    await assert.rejects(call, (e: Error) => {
      assert.ok(
        e instanceof type,
        `${message}: ${e.constructor.name}: ${e.message}`,
      );
      assert.match(e.message, message);
      return true;
    });
  }
});

/** An NPY file of `rows x cols` values (v1.0 header). */
async function writeNpy(
  path: string,
  values: Float64Array,
  shape: number[],
  o: { f4?: boolean; fortran?: boolean; big?: boolean } = {},
): Promise<void> {
  const descr = `${o.big ? ">" : "<"}${o.f4 ? "f4" : "f8"}`;
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const header = `{'descr': '${descr}', 'fortran_order': ${
    o.fortran ? "True" : "False"
  }, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const padded = header.padEnd(total - 10 - 1) + "\n";
  const size = o.f4 ? 4 : 8;
  const bytes = new Uint8Array(total + values.length * size);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), 10);
  const view = new DataView(bytes.buffer, total);
  const [rows, cols] = shape.length === 1 ? [1, shape[0]] : shape;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = o.fortran ? c * rows + r : r * cols + c;
      const v = values[r * cols + c];
      if (o.f4) view.setFloat32(k * 4, v, !o.big);
      else view.setFloat64(k * 8, v, !o.big);
    }
  }
  await Deno.writeFile(path, bytes);
}

Deno.test("fitBatch: a 2-D NPY file of rows (f8, f4, Fortran order, big-endian) fits as the arrays", async () => {
  const data = makeBatch("gaussian", 40, 32, { seed: 9 });
  const dir = await Deno.makeTempDir();
  try {
    const ref = await fitBatch(data.expr, data.x[0], data.y, { p0: data.p0 });
    const f8 = `${dir}/y.npy`, xf = `${dir}/x.npy`;
    await writeNpy(f8, data.y, [40, 32]);
    await writeNpy(xf, data.x[0], [32]);
    const fromFile = await fitBatch(data.expr, xf, f8, { p0: data.p0 });
    assert.deepStrictEqual(fromFile.popt, ref.popt);
    const url = await fitBatch(
      data.expr,
      data.x[0],
      new URL(`file://${f8}`),
      { p0: data.p0 },
    );
    assert.deepStrictEqual(url.popt, ref.popt);
    for (const o of [{ fortran: true }, { big: true }, { f4: true }]) {
      const path = `${dir}/y_${Object.keys(o)[0]}.npy`;
      await writeNpy(path, data.y, [40, 32], o);
      const y = o.f4 ? Float64Array.from(Float32Array.from(data.y)) : data.y;
      const want = o.f4
        ? await fitBatch(data.expr, data.x[0], y, { p0: data.p0 })
        : ref;
      const got = await fitBatch(data.expr, data.x[0], path, { p0: data.p0 });
      assert.deepStrictEqual(got.popt, want.popt, JSON.stringify(o));
    }
    // Per-fit x as a 2-D file of the same shape.
    const xRows = new Float64Array(40 * 32);
    for (let i = 0; i < 40; i++) xRows.set(data.x[0], i * 32);
    await writeNpy(`${dir}/xr.npy`, xRows, [40, 32]);
    const perFit = await fitBatch(data.expr, `${dir}/xr.npy`, f8, {
      p0: data.p0,
    });
    assert.deepStrictEqual(perFit.popt, ref.popt);
    // numpy's own file, where numpy runs.
    if (havePython("numpy")) {
      const np = `${dir}/np.npy`;
      const out = new Deno.Command(pythonCommand(), {
        args: [
          "-c",
          `import numpy as np, sys; a = np.fromfile(sys.argv[1]).reshape(40, 32); np.save(sys.argv[2], np.asfortranarray(a.astype('<f4')))`,
          `${dir}/raw.bin`,
          np,
        ],
      });
      await Deno.writeFile(`${dir}/raw.bin`, new Uint8Array(data.y.buffer));
      assert.strictEqual((await out.output()).code, 0);
      const y4 = Float64Array.from(Float32Array.from(data.y));
      const want = await fitBatch(data.expr, data.x[0], y4, { p0: data.p0 });
      const got = await fitBatch(data.expr, data.x[0], np, { p0: data.p0 });
      assert.deepStrictEqual(got.popt, want.popt);
    } else console.warn("numpy-written NPY: SKIPPED (no python3 with numpy)");
    // Bad files are named.
    await assert.rejects(
      () =>
        fitBatch(data.expr, data.x[0], `${dir}/missing.npy`, { p0: data.p0 }),
      /missing\.npy.*no such file|no such file.*missing\.npy/,
    );
    await Deno.writeTextFile(`${dir}/text.npy`, "not numpy at all");
    await assert.rejects(
      () => fitBatch(data.expr, data.x[0], `${dir}/text.npy`, { p0: data.p0 }),
      /not an NPY file/,
    );
    // A file of the wrong width for the shared x.
    await writeNpy(`${dir}/w.npy`, new Float64Array(40 * 31), [40, 31]);
    await assert.rejects(
      () => fitBatch(data.expr, data.x[0], `${dir}/w.npy`, { p0: data.p0 }),
      RangeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fitBatch params: the fixed mask and params together; per-fit bounds with params min", async () => {
  const data = makeBatch("gaussian", 12, 32, { seed: 13 });
  const m = model(data.expr); // a, m, s, b
  // m held at each fit's start by the mask, b fixed by params at 0.25.
  const b = await fitBatch(m, data.x[0], data.y, {
    p0: data.p0,
    fixed: [false, true, false, false],
    params: { b: { value: 0.25, vary: false } },
  });
  for (let i = 0; i < 12; i++) {
    assert.strictEqual(b.popt[i * 4 + 1], data.p0[i * 4 + 1]);
    assert.strictEqual(b.popt[i * 4 + 3], 0.25);
    assert.strictEqual(b.perr[i * 4 + 1], 0);
    const r = await fit(
      model(`a * exp(-(x - ${data.p0[i * 4 + 1]})^2 / (2 * s^2)) + 0.25`),
      data.x[0],
      data.y.subarray(i * 32, (i + 1) * 32),
      { p0: [data.p0[i * 4], data.p0[i * 4 + 2]] },
    );
    for (const [j, k] of [[0, 0], [2, 1]]) {
      assert.ok(
        Math.abs(b.popt[i * 4 + j] - r.popt[k]) < 1e-8 * Math.abs(r.popt[k]),
      );
    }
    assert.strictEqual(b.result(i).nFree, 2);
  }
  // Per-fit bounds (model order), and a params min over them for s.
  const lower = new Float64Array(12 * 4).fill(-Infinity);
  const upper = new Float64Array(12 * 4).fill(Infinity);
  for (let i = 0; i < 12; i++) upper[i * 4] = 0.9 * data.truth[i * 4];
  const p0 = data.p0.slice();
  for (let i = 0; i < 12; i++) p0[i * 4] = 0.8 * data.truth[i * 4];
  const bounded = await fitBatch(m, data.x[0], data.y, {
    p0,
    bounds: [lower, upper],
    params: { s: { min: 0.01 } },
  });
  for (let i = 0; i < 12; i++) {
    assert.strictEqual(bounded.success[i], 1, bounded.message(i));
    // The amplitude is held at its bound, below the truth.
    assert.ok(
      Math.abs(bounded.popt[i * 4] - upper[i * 4]) < 1e-6 * upper[i * 4],
    );
    assert.ok(bounded.popt[i * 4 + 2] >= 0.01);
  }
});

Deno.test("fitBatch: several variables per fit (rows and flat columns) equal fit() on each fit's own x", async () => {
  // 2-D spots on tiles at different offsets: each fit has its own pixel
  // coordinates (x, y), in rows or as flat nFits * nPoints columns.
  const d = makeBatch("gaussian2d", 16, 225, { seed: 31, noise: 0.1 });
  const m = model(d.expr, { variables: ["x", "y"] });
  const n = d.nPoints, p = 5;
  const X0 = new Float64Array(16 * n), X1 = new Float64Array(16 * n);
  const p0 = d.p0.slice();
  for (let i = 0; i < 16; i++) {
    const ox = 100 * (i % 4), oy = 37 * i;
    for (let k = 0; k < n; k++) {
      X0[i * n + k] = d.x[0][k] + ox;
      X1[i * n + k] = d.x[1][k] + oy;
    }
    p0[i * p + 1] += ox;
    p0[i * p + 2] += oy;
  }
  const rows = (a: Float64Array) =>
    Array.from({ length: 16 }, (_, i) => a.subarray(i * n, (i + 1) * n));
  const byRows = await fitBatch(m, [rows(X0), rows(X1)], d.y, { p0 });
  const flat = await fitBatch(m, [X0, X1], d.y, { p0, nPoints: n });
  assert.deepStrictEqual(flat.popt, byRows.popt);
  for (let i = 0; i < 16; i += 3) {
    const r = await fit(
      m,
      [X0.subarray(i * n, (i + 1) * n), X1.subarray(i * n, (i + 1) * n)],
      d.y.subarray(i * n, (i + 1) * n),
      { p0: Array.from(p0.subarray(i * p, (i + 1) * p)) },
    );
    assertSameFit(byRows, i, r);
  }
  // One variable shared and the other per fit is refused.
  await assert.rejects(
    () => fitBatch(m, [d.x[0], rows(X1)], d.y, { p0 }),
    /x: the variables must be all shared or all per fit/,
  );
});

Deno.test("fitBatch(model, source, { nPoints }): blocks of a source's rows are fits (arrays and a CSV file)", async () => {
  const { arraySource, openSource } = await import("../mod.ts");
  const data = makeBatch("gaussian", 6, 32, { seed: 17 });
  const n = 32;
  const X = new Float64Array(6 * n), sig = new Float64Array(6 * n);
  for (let i = 0; i < 6; i++) {
    X.set(data.x[0], i * n);
    for (let k = 0; k < n; k++) sig[i * n + k] = 0.01 * (1 + (k % 3));
  }
  const ref = await fitBatch(data.expr, X, data.y, {
    p0: data.p0,
    nPoints: n,
    sigma: sig,
  });
  const src = arraySource(X, data.y, sig);
  const got = await fitBatch(data.expr, src, { p0: data.p0, nPoints: n });
  assert.deepStrictEqual(got.popt, ref.popt);
  assert.deepStrictEqual(got.perr, ref.perr);
  // A CSV file whose column t is the model's variable.
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    const lines = ["t,signal"];
    for (let k = 0; k < 6 * n; k++) {
      lines.push(`${X[k]},${data.y[k]}`);
    }
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const csv = await openSource(path, { x: "t", y: "signal" });
    try {
      const fromCsv = await fitBatch(
        "a * exp(-(t - m)^2 / (2 * s^2)) + b",
        csv,
        { p0: data.p0, nPoints: n },
      );
      const plain = await fitBatch(data.expr, X, data.y, {
        p0: data.p0,
        nPoints: n,
      });
      assert.deepStrictEqual(fromCsv.params, ["a", "m", "s", "b"]);
      assert.deepStrictEqual(fromCsv.popt, plain.popt);
    } finally {
      await csv.close();
    }
  } finally {
    await Deno.remove(path);
  }
  await assert.rejects(
    () => fitBatch(data.expr, src, { p0: data.p0 }),
    /options\.nPoints is required/,
  );
  await assert.rejects(
    () => fitBatch(data.expr, src, { p0: data.p0, nPoints: 33 }),
    /192 rows, not a multiple of nPoints = 33/,
  );
  await assert.rejects(
    () => fitBatch(data.expr, src, { p0: data.p0, nPoints: n, sigma: sig }),
    /the source has a sigma column and options\.sigma is given/,
  );
});

Deno.test("fitBatch: result(i) keeps its origin: profile intervals and the bootstrap equal fit()'s", async () => {
  const m = model("a * exp(-x / t) + b");
  const x = Array.from({ length: 20 }, (_, i) => i / 2);
  const Y = [[3, 2, 0.5], [4, 1, 0.2]].map(([a, t, b]) =>
    x.map((v, k) => a * Math.exp(-v / t) + b + 0.05 * Math.sin(3 * k))
  );
  const params = { b: { value: 0.3, vary: false } };
  const b = await fitBatch(m, x, Y, { p0: [1, 1, 0], params });
  const ri = b.result(1);
  const r = await fit(m, x, Y[1], { p0: [1, 1, 0], params });
  const pi = await ri.profileIntervals({ level: 0.95 });
  const want = await r.profileIntervals({ level: 0.95 });
  for (const name of ["a", "t"]) {
    for (const side of [0, 1]) {
      assert.ok(
        Math.abs(pi[name][side] - want[name][side]) <
          1e-7 * Math.abs(want[name][side]),
        `${name}[${side}]: ${pi[name][side]} vs ${want[name][side]}`,
      );
    }
  }
  const bs = await ri.bootstrap({ n: 40, seed: 3 });
  const bw = await r.bootstrap({ n: 40, seed: 3 });
  assert.ok(Math.abs(bs.stderr.t - bw.stderr.t) < 1e-6 * bw.stderr.t);
  assert.strictEqual(bs.stderr.b, 0);
});
