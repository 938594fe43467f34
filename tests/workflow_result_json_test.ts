// Results that last: r.toJSON() and FitResult.fromJSON restore a working
// result whose predictions equal the original's to the last bit (an
// expression, a composite, tied and fixed parameters, a fit of a batch),
// with the same report, CSV and diagnostics; bad JSON is a TypeError that
// names the field.
import assert from "node:assert";
import { fit, fitBatch, FitResult, model, models } from "../mod.ts";

const linspace = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const wiggle = (i: number) =>
  0.01 * Math.sin(7.3 * i) + 0.004 * Math.cos(19 * i);

/** Every element identical (Object.is: -0 and NaN count). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  assert.strictEqual(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Object.is(a[i], b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

function roundTrip(r: FitResult): FitResult {
  return FitResult.fromJSON(JSON.parse(JSON.stringify(r)));
}

function assertSamePredictions(
  r: FitResult,
  back: FitResult,
  x: number[] | number[][],
) {
  sameBits(back.predict(x).y, r.predict(x).y, "y");
  for (const interval of ["confidence", "prediction"] as const) {
    const a = r.predict(x, { interval, level: 0.9 });
    const b = back.predict(x, { interval, level: 0.9 });
    for (const k of ["y", "lower", "upper", "stderr"] as const) {
      sameBits(b[k], a[k], `${interval} ${k}`);
    }
    assert.strictEqual(b.t, a.t);
  }
  assert.strictEqual(back.report(), r.report());
  assert.strictEqual(back.toCSV(), r.toCSV());
  assert.deepStrictEqual(back.diagnostics, r.diagnostics);
  // Saving the restored result writes the same JSON.
  assert.deepStrictEqual(
    JSON.parse(JSON.stringify(back)),
    JSON.parse(JSON.stringify(r)),
  );
}

const x = linspace(0, 6, 50);
const xn = [-0.5, 0.1, 2.7, 6, 9.25];

Deno.test("toJSON/fromJSON: an expression predicts exactly as the original", async () => {
  const y = x.map((t, i) => 2.5 * Math.exp(-0.7 * t) + 0.3 + wiggle(i));
  const r = await fit("a * exp(-b * x) + c", x, y, { p0: [1, 1, 0] });
  const json = JSON.parse(JSON.stringify(r));
  assert.deepStrictEqual(json.model, {
    kind: "expression",
    expression: "a * exp(-b * x) + c",
    params: ["a", "b", "c"],
    variables: ["x"],
  });
  assert.strictEqual(json.data.nPoints, 50);
  assert.deepStrictEqual(json.data.x, [{ name: "x", min: 0, max: 6 }]);
  assert.strictEqual(json.pcov.length, 3);
  assert.strictEqual(json.rSquared, r.rSquared);
  const back = FitResult.fromJSON(json);
  assert.strictEqual(back.residuals, null);
  assert.strictEqual(back.origin, undefined);
  assertSamePredictions(r, back, xn);
});

Deno.test("toJSON/fromJSON: a composite of built-in models (prefixes, a polynomial's degree) predicts exactly", async () => {
  const xs = linspace(-5, 5, 101);
  const ys = xs.map((t, i) =>
    3 / (Math.PI * 0.8 * (1 + ((t - 0.5) / 0.8) ** 2)) + 0.02 * t * t -
    0.1 * t + 0.5 +
    wiggle(i)
  );
  const m = models.lorentzian({ prefix: "p_" }).add(
    models.polynomial({ degree: 2, prefix: "bg_" }),
  );
  const r = await fit(m, xs, ys);
  assert.ok(r.success, r.message);
  const back = roundTrip(r);
  assert.strictEqual(
    back.modelLabel,
    "Model(lorentzian, prefix='p_') + Model(polynomial, degree=2, prefix='bg_')",
  );
  assert.deepStrictEqual(Object.keys(back.derived), Object.keys(r.derived));
  assertSamePredictions(r, back, xn);
});

Deno.test("toJSON/fromJSON: tied and fixed parameters keep their settings and predict exactly", async () => {
  const xs = linspace(0, 10, 201);
  const g = (t: number, a: number, c: number, s: number) =>
    a * Math.exp(-((t - c) ** 2) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI));
  const ys = xs.map((t, i) =>
    g(t, 4, 3.5, 0.6) + g(t, 2, 6.2, 0.6) + 0.05 * t + 0.3 + wiggle(i)
  );
  const m = models.gaussian({ prefix: "g1_" }).add(
    models.gaussian({ prefix: "g2_" }),
  ).add(models.linear());
  const r = await fit(m, xs, ys, {
    params: {
      g1_amplitude: 3,
      g1_center: 3.4,
      g1_sigma: { value: 0.5, min: 0 },
      g2_amplitude: 1.5,
      g2_center: 6.3,
      g2_sigma: { expr: "g1_sigma" },
      slope: { value: 0.05, vary: false },
      intercept: 0.2,
    },
  });
  assert.ok(r.success, r.message);
  const back = roundTrip(r);
  assert.deepStrictEqual(back.paramSettings, r.paramSettings);
  assert.strictEqual(back.paramSettings[5].expr, "g1_sigma");
  assert.strictEqual(back.paramSettings[5].vary, false);
  assert.deepStrictEqual(back.paramSettings[6], {
    vary: false,
    min: -Infinity,
    max: Infinity,
  });
  assert.strictEqual(back.nFree, 6);
  assert.match(back.report(), /g2_sigma: .* == 'g1_sigma'/);
  assert.match(back.report(), /slope: +0\.050+ \(fixed\)/);
  assertSamePredictions(r, back, xn);
});

Deno.test("toJSON/fromJSON: two variables, a weighted fit with absoluteSigma, and a fit of a batch", async () => {
  const u = x.map((_, i) => i % 7);
  const v = x.map((_, i) => Math.floor(i / 7) / 3);
  const ys = u.map((a, i) => 1.2 * a - 0.7 * v[i] * v[i] + 2 + wiggle(i));
  const sigma = ys.map((_, i) => 0.01 * (1 + (i % 3)));
  const m = model("a * u + b * v^2 + c", { variables: ["u", "v"] });
  const r = await fit(m, [u, v], ys, {
    p0: [1, 1, 1],
    sigma,
    absoluteSigma: true,
  });
  const back = roundTrip(r);
  assert.strictEqual(back.weighted, true);
  assert.strictEqual(back.absoluteSigma, true);
  const xq = [[0, 3, 6.5], [0.1, 1, 4]];
  sameBits(back.predict(xq).y, r.predict(xq).y, "y");
  const o = { interval: "prediction", sigma: 0.01 } as const;
  sameBits(back.predict(xq, o).upper, r.predict(xq, o).upper, "upper");

  const b = await fitBatch(
    "a * exp(-b * x)",
    x,
    [0, 1].map((k) =>
      x.map((t, i) => (2 + k) * Math.exp(-0.5 * t) + wiggle(i + k))
    ),
    { p0: [1, 1] },
  );
  const one = b.result(1);
  const again = roundTrip(one);
  assert.strictEqual(again.strategy, "batch");
  sameBits(
    again.predict(xn, { interval: "confidence" }).upper,
    b.predict(1, xn, { interval: "confidence" }).upper,
    "batch",
  );
});

Deno.test("toJSON: infinities and NaN survive as strings; an old-style null reads as NaN", async () => {
  // b and c enter only as b + c: lm leaves the covariance infinite.
  const r = await fit("a * x + b + c", x, x.map((t) => 2 * t + 1), {
    p0: [1, 0, 0],
    method: "lm",
  });
  const json = JSON.parse(JSON.stringify(r));
  assert.strictEqual(json.pcov[1][1], "Infinity");
  assert.strictEqual(json.paramSettings[0].min, "-Infinity");
  const back = FitResult.fromJSON(json);
  assert.strictEqual(back.pcov[1][1], Infinity);
  assert.strictEqual(back.perr[1], Infinity);
  json.pcov[1][1] = null;
  assert.ok(Number.isNaN(FitResult.fromJSON(json).pcov[1][1]));
});

Deno.test("fromJSON: a function model is restored with options.model; without it predict says so", async () => {
  const f = model((t: number, a: number, b: number) => a * Math.sin(b * t), {
    params: ["a", "b"],
  });
  const ys = x.map((t, i) => 1.5 * Math.sin(0.9 * t) + wiggle(i));
  const r = await fit(f, x, ys, { p0: [1, 1] });
  const json = JSON.parse(JSON.stringify(r));
  assert.deepStrictEqual(json.model, {
    kind: "function",
    params: ["a", "b"],
    variables: ["x"],
  });
  const bare = FitResult.fromJSON(json);
  assert.strictEqual(
    bare.report(),
    r.report().replace(/\[\[Model\]\]\n.*\n/, ""),
  );
  assert.throws(
    () => bare.predict([1]),
    /no model .*FitResult\.fromJSON\(json, \{ model \}\)/,
  );
  const back = FitResult.fromJSON(json, { model: f });
  sameBits(
    back.predict(xn, { interval: "confidence" }).upper,
    r.predict(xn, { interval: "confidence" }).upper,
    "upper",
  );
  assert.throws(
    () => FitResult.fromJSON(json, { model: model("a * x + c") }),
    /model's parameters \(a, c\) are not the saved ones \(a, b\)/,
  );
});

Deno.test("fromJSON: malformed JSON is a TypeError naming the field", async () => {
  const r = await fit("a * x", [1, 2, 3], [2, 4.1, 5.9], { p0: [1] });
  const good = () => JSON.parse(JSON.stringify(r));
  assert.throws(
    () => FitResult.fromJSON(null),
    /expected the object r\.toJSON\(\) returns/,
  );
  assert.throws(
    () => FitResult.fromJSON({ ...good(), format: "x" }),
    /format must be "@nlsq\/nlsq fit result"/,
  );
  assert.throws(
    () => FitResult.fromJSON({ ...good(), version: 99 }),
    /version 99 is not supported/,
  );
  assert.throws(
    () => FitResult.fromJSON({ ...good(), popt: [1, 2] }),
    /popt must be an array of 1 numbers/,
  );
  assert.throws(
    () => FitResult.fromJSON({ ...good(), popt: ["x"] }),
    /popt\[0\] must be a number, got "x"/,
  );
  assert.throws(
    () => FitResult.fromJSON({ ...good(), pcov: [[1, 2]] }),
    /pcov\[0\] must be 1 numbers/,
  );
  assert.throws(
    () =>
      FitResult.fromJSON({
        ...good(),
        model: { kind: "builtin", name: "gausian" },
      }),
    /no built-in model 'gausian'/,
  );
  assert.throws(
    () => FitResult.fromJSON({ ...good(), nPoints: "3" }),
    /nPoints must be a number, got "3"/,
  );
  assert.throws(
    () => FitResult.fromJSON({ ...good(), paramSettings: [] }),
    /paramSettings must be an array of 1 settings/,
  );
});
