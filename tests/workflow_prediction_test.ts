// r.predict: the model at new x with confidence and prediction bands.
// Side by side with lmfit's ModelResult.eval_uncertainty (1e-6 relative)
// for an expression, a composite with a tied and a fixed parameter, and a
// model of two variables; the prediction band is t * sqrt(g' C g + s^2);
// closed forms for a straight line; fitBatch's fits predict as fit's do.
import assert from "node:assert";
import {
  fit,
  fitBatch,
  fitGlobal,
  type FitResult,
  model,
  models,
} from "../mod.ts";
import { pythonJson } from "./_python_json.ts";
import { lmfitPython } from "./_lmfit.ts";
import { studentTQuantile } from "../core/_stats.ts";

const PYTHON = lmfitPython("workflow_prediction_test");
const RUNNER = await Deno.readTextFile(
  new URL("./lmfit/bands_runner.py", import.meta.url),
);

/** Deterministic standard normal numbers (mulberry32 + Box-Muller). */
function normal(seed: number): () => number {
  let s = seed;
  const u = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const linspace = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

function relClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: number,
  what: string,
) {
  assert.strictEqual(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-300);
    assert.ok(
      d < tol,
      `${what}[${i}]: ${got[i]} vs ${want[i]} (rel ${d.toExponential(2)})`,
    );
  }
}

// Nearly noise-free data keep lmfit's finite-difference gradient (step
// stderr/3) within 1e-8 of the exact one.
const gauss = normal(7);
const xd = linspace(0, 5, 60);
const decayY = xd.map((t) => 3 * Math.exp(-1.1 * t) + 0.4 + 2e-4 * gauss());
const xp = linspace(-1, 12, 40);
const xPeaks = linspace(0, 10, 201);
const peaksY = xPeaks.map((t) =>
  4 * Math.exp(-((t - 3.5) ** 2) / (2 * 0.6 ** 2)) /
    (0.6 * Math.sqrt(2 * Math.PI)) +
  2 * Math.exp(-((t - 6.2) ** 2) / (2 * 0.6 ** 2)) /
    (0.6 * Math.sqrt(2 * Math.PI)) +
  0.05 * t + 0.3 + 1e-3 * gauss()
);
const x0 = Array.from({ length: 80 }, (_, i) => (i % 10) / 3);
const x1 = Array.from({ length: 80 }, (_, i) => Math.floor(i / 10) / 2);
const twoY = x0.map((u, i) =>
  1.7 * u + 2.5 * Math.exp(-0.8 * x1[i]) + 1e-3 * gauss()
);
const xNew2 = [[0.5, 2, 4, -1], [0.1, 1, 5, 2]];

const PEAKS = models.gaussian({ prefix: "g1_" })
  .add(models.gaussian({ prefix: "g2_" }))
  .add(models.linear());
const PEAK_PARAMS = {
  g1_amplitude: 3,
  g1_center: 3.4,
  g1_sigma: { value: 0.5, min: 0 },
  g2_amplitude: 1.5,
  g2_center: 6.3,
  g2_sigma: { expr: "g1_sigma" },
  slope: { value: 0.05, vary: false },
  intercept: 0.2,
};

interface Ref {
  names: string[];
  values: number[];
  stderr: number[];
  y: number[];
  dely: number[];
  redchi: number;
  t: number;
}

async function fits(): Promise<FitResult[]> {
  return [
    await fit("a * exp(-b * x) + c", xd, decayY, { p0: [2, 1, 0] }),
    await fit(PEAKS, xPeaks, peaksY, { params: PEAK_PARAMS }),
    await fit(
      model("a * x0 + b * exp(-c * x1)", { variables: ["x0", "x1"] }),
      [x0, x1],
      twoY,
      {
        p0: [1, 1, 1],
      },
    ),
  ];
}

const LEVEL = 0.95;

Deno.test({
  name:
    "predict: the confidence band equals lmfit's eval_uncertainty (1e-6): an expression, a composite with a tie and a fixed slope, two variables",
  ignore: PYTHON === null,
  async fn() {
    const rs = await fits();
    const refs = await pythonJson<Ref[]>(RUNNER, [
      {
        kind: "decay",
        x: xd,
        y: decayY,
        xNew: xp,
        level: LEVEL,
        params: { a: { value: 2 }, b: { value: 1 }, c: { value: 0 } },
      },
      {
        kind: "peaks",
        x: xPeaks,
        y: peaksY,
        xNew: xp,
        level: LEVEL,
        params: {
          g1_amplitude: { value: 3 },
          g1_center: { value: 3.4 },
          g1_sigma: { value: 0.5, min: 0 },
          g2_amplitude: { value: 1.5 },
          g2_center: { value: 6.3 },
          g2_sigma: { expr: "g1_sigma" },
          slope: { value: 0.05, vary: false },
          intercept: { value: 0.2 },
        },
      },
      {
        kind: "two_vars",
        x: [x0, x1],
        y: twoY,
        xNew: xNew2,
        level: LEVEL,
        params: { a: { value: 1 }, b: { value: 1 }, c: { value: 1 } },
      },
    ], PYTHON!);
    const xs = [xp, xp, xNew2];
    rs.forEach((r, k) => {
      const ref = refs[k];
      assert.ok(r.success, r.message);
      for (const name of r.paramNames) {
        const j = ref.names.indexOf(name);
        relClose([r.params[name]], [ref.values[j]], 1e-7, `case ${k} ${name}`);
      }
      const band = r.predict(xs[k], { interval: "confidence", level: LEVEL });
      relClose(band.y, ref.y, 1e-7, `case ${k} y`);
      relClose(
        band.upper.map((u, i) => u - band.y[i]),
        ref.dely,
        1e-6,
        `case ${k} band`,
      );
      // The library's t quantile is good to ~1e-9 relative (scipy's t.ppf).
      relClose([band.t], [ref.t], 1e-8, `case ${k} t`);
      // The prediction band: t * sqrt(g' C g + s^2), s^2 the reduced chi-square.
      const p = r.predict(xs[k], { interval: "prediction", level: LEVEL });
      const want = ref.dely.map((d) =>
        ref.t * Math.sqrt((d / ref.t) ** 2 + ref.redchi)
      );
      relClose(
        p.upper.map((u, i) => u - p.y[i]),
        want,
        1e-6,
        `case ${k} prediction`,
      );
      relClose(
        p.y.map((v, i) => v - p.lower[i]),
        want,
        1e-6,
        `case ${k} prediction lower`,
      );
    });
  },
});

Deno.test({
  name:
    "predict: weighted with absoluteSigma, the band equals lmfit's (scale_covar=False) and a prediction adds the given sigma^2",
  ignore: PYTHON === null,
  async fn() {
    // Small sigma: lmfit's central differences stay within 1e-8.
    const sigma = xd.map((t) => 0.001 + 0.0002 * t);
    const y = xd.map((t, i) =>
      3 * Math.exp(-1.1 * t) + 0.4 + sigma[i] * gauss()
    );
    const r = await fit("a * exp(-b * x) + c", xd, y, {
      p0: [2, 1, 0],
      sigma,
      absoluteSigma: true,
    });
    const [ref] = await pythonJson<Ref[]>(RUNNER, [
      {
        kind: "decay",
        x: xd,
        y,
        sigma,
        absoluteSigma: true,
        xNew: xp,
        level: 0.9,
        params: { a: { value: 2 }, b: { value: 1 }, c: { value: 0 } },
      },
    ], PYTHON!);
    const c = r.predict(xp, { interval: "confidence", level: 0.9 });
    relClose(c.upper.map((u, i) => u - c.y[i]), ref.dely, 1e-6, "band");
    // A weighted fit needs the new point's sigma for a prediction band.
    assert.throws(
      () => r.predict(xp, { interval: "prediction" }),
      /options\.sigma/,
    );
    const p = r.predict(xp, {
      interval: "prediction",
      level: 0.9,
      sigma: 0.02,
    });
    const want = ref.dely.map((d) =>
      ref.t * Math.sqrt((d / ref.t) ** 2 + 0.02 ** 2)
    );
    relClose(p.upper.map((u, i) => u - p.y[i]), want, 1e-6, "prediction");
  },
});

Deno.test("predict: a straight line's bands in closed form; the exact gradient", async () => {
  const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const y = x.map((t, i) =>
    0.5 * t - 1 + [0.1, -0.2, 0.05, 0.15, -0.1, 0, 0.2, -0.15, 0.05, -0.05][i]
  );
  const r = await fit("a * x + b", x, y, { p0: [1, 0] });
  const [[caa, cab], [, cbb]] = r.pcov;
  const xn = [-3, 4.5, 20];
  const level = 0.9;
  const t = studentTQuantile(0.95, x.length - 2);
  const c = r.predict(xn, { interval: "confidence", level });
  const p = r.predict(xn, { interval: "prediction", level });
  const s2 = r.chiSquare / (x.length - 2);
  xn.forEach((u, i) => {
    const v = caa * u * u + 2 * cab * u + cbb;
    assert.ok(Math.abs(c.y[i] - (r.popt[0] * u + r.popt[1])) < 1e-14);
    assert.ok(Math.abs(c.stderr[i] - Math.sqrt(v)) < 1e-14 * Math.sqrt(v));
    assert.ok(Math.abs(c.upper[i] - c.y[i] - t * Math.sqrt(v)) < 1e-13);
    assert.ok(
      Math.abs(p.stderr[i] - Math.sqrt(v + s2)) < 1e-14 * Math.sqrt(v + s2),
    );
  });
  // Without options: the model only.
  const plain = r.predict(xn);
  assert.deepStrictEqual(Object.keys(plain), ["y"]);
  assert.deepStrictEqual(plain.y, c.y);
});

Deno.test("predict: a tie carries its error into the band (delta method through the tie)", async () => {
  // b tied to 2a: y = a (x + 2), one free parameter.
  const xs = [0, 1, 2, 3, 4, 5];
  const ys = xs.map((t) => 1.5 * t + 3 + (t % 2 ? 0.05 : -0.05));
  const tied = await fit("a * x + b", xs, ys, {
    params: { a: 1, b: { expr: "2 * a" } },
  });
  const direct = await fit("a * (x + 2)", xs, ys, { p0: [1] });
  const xn = [-1, 2.5, 9];
  const bt = tied.predict(xn, { interval: "prediction", level: 0.99 });
  const bd = direct.predict(xn, { interval: "prediction", level: 0.99 });
  relClose(bt.y, bd.y, 1e-10, "y");
  relClose(bt.stderr, bd.stderr, 1e-10, "stderr");
  relClose([bt.t], [bd.t], 1e-15, "t (one free parameter in both)");
  // A fixed parameter adds nothing.
  const fixed = await fit("a * x + b", xs, ys, {
    params: { a: 1, b: { value: 3, vary: false } },
  });
  const only = await fit("a * x + 3", xs, ys, { p0: [1] });
  relClose(
    fixed.predict(xn, { interval: "confidence" }).stderr,
    only.predict(xn, { interval: "confidence" }).stderr,
    1e-10,
    "fixed",
  );
});

Deno.test("predict: each fit of a fitBatch predicts as fit() on its data", async () => {
  const x = linspace(0, 4, 25);
  const rows = [0, 1, 2].map((k) =>
    x.map((t, i) =>
      (2 + k) * Math.exp(-(0.5 + 0.3 * k) * t) + 0.02 * Math.sin(3 * i + k)
    )
  );
  const b = await fitBatch("a * exp(-b * x)", x, rows, { p0: [1, 1] });
  const xn = [0.5, 3, 6];
  for (let k = 0; k < 3; k++) {
    const single = await fit("a * exp(-b * x)", x, rows[k], { p0: [1, 1] });
    const want = single.predict(xn, { interval: "prediction", level: 0.95 });
    const got = b.predict(k, xn, { interval: "prediction", level: 0.95 });
    relClose(got.y, want.y, 1e-8, `fit ${k} y`);
    relClose(got.stderr, want.stderr, 1e-6, `fit ${k} stderr`);
    relClose(
      b.result(k).predict(xn, { interval: "confidence" }).upper,
      single.predict(xn, { interval: "confidence" }).upper,
      1e-8,
      `fit ${k} upper`,
    );
  }
  assert.throws(() => b.predict(3, xn), RangeError);
});

Deno.test("predict: Poisson counts of a fitBatch: a new count's variance is the model value", async () => {
  const x = linspace(0, 4, 30);
  const counts = x.map((t, i) =>
    Math.round(50 * Math.exp(-0.5 * t) + 3 * Math.sin(5 * i))
  );
  const b = await fitBatch("a * exp(-b * x)", x, [counts], {
    p0: [40, 1],
    estimator: "poisson",
  });
  assert.strictEqual(b.success[0], 1);
  const xn = [0, 2, 5];
  const c = b.predict(0, xn, { interval: "confidence" });
  const p = b.predict(0, xn, { interval: "prediction" });
  xn.forEach((_, i) => {
    const want = c.stderr[i] ** 2 + c.y[i];
    assert.ok(Math.abs(p.stderr[i] ** 2 / want - 1) < 1e-14, `${i}`);
  });
  assert.throws(
    () => b.predict(0, xn, { interval: "prediction", sigma: 1 }),
    /no meaning for Poisson counts/,
  );
  assert.strictEqual(b.result(0).estimator, "poisson");
});

Deno.test("predict: each dataset of a global fit predicts with its own parameters and covariance block", async () => {
  const x = linspace(0, 5, 30);
  const ys = [2, 5].map((a, k) =>
    x.map((t, i) => a * Math.exp(-0.8 * t) + 0.01 * Math.sin(5 * i + k))
  );
  const sigma = x.map(() => 0.01);
  const g = await fitGlobal([
    { model: "a * exp(-k * x)", x, y: ys[0] },
    { model: "a * exp(-k * x)", x, y: ys[1], sigma },
  ], { shared: ["k"], params: { a_0: 1, a_1: 1, k: 1 } });
  assert.ok(g.success, g.message);
  const xn = [0.5, 4, 8];
  const d = g.datasets[1];
  const b = d.predict(xn, { interval: "confidence" });
  const [a, k] = [g.params.a_1, g.params.k];
  const C = d.pcov; // over (a, k) of dataset 1
  xn.forEach((t, i) => {
    const ga = Math.exp(-k * t), gk = -a * t * Math.exp(-k * t);
    const v = ga * ga * C[0][0] + 2 * ga * gk * C[0][1] + gk * gk * C[1][1];
    assert.ok(Math.abs(b.y[i] - a * ga) < 1e-12 * a);
    assert.ok(Math.abs(b.stderr[i] / Math.sqrt(v) - 1) < 1e-12, `${i}`);
  });
  const ik = g.paramNames.indexOf("k");
  assert.strictEqual(d.pcov[1][1], g.pcov[ik][ik]);
  // Dataset 1 was weighted: a prediction band needs the new point's sigma.
  assert.throws(
    () => d.predict(xn, { interval: "prediction" }),
    /options\.sigma/,
  );
  assert.ok(
    g.datasets[0].predict(xn, { interval: "prediction" }).stderr[0] > 0,
  );
  // The stacked result has no single model.
  assert.throws(() => g.predict(xn), /has no model/);
});

Deno.test("predict: bad options are typed errors that name the option", async () => {
  const r = await fit("a * x", [1, 2, 3], [2, 4.1, 5.9], { p0: [1] });
  assert.throws(
    () => r.predict([1], { interval: "band" as never }),
    /options\.interval must be "confidence" or "prediction"/,
  );
  assert.throws(
    () => r.predict([1], { interval: "confidence", level: 1 }),
    RangeError,
  );
  assert.throws(
    () => r.predict([1], { interval: "confidence", sigma: 1 }),
    /options\.sigma is the observation's sigma/,
  );
  assert.throws(
    () => r.predict([1], { interval: "prediction", sigma: [1, 2] }),
    /2 values for 1 points/,
  );
  assert.throws(
    () => r.predict([1], { interval: "confidence", levle: 0.9 } as never),
    /levle/,
  );
  assert.throws(
    () => r.predict([[1], [2]]),
    /x has 2 columns but the model has 1 variable/,
  );
});
