// The built-in models as objects: names, hints, bounds, composites (names,
// clashes, components), guesses on composites, derived quantities and their
// errors, bad input, and the models on every path a Model takes (curveFit,
// worker threads, WebGPU).
import assert from "node:assert";
import { curveFit, fit, model, models } from "../mod.ts";
import { acquireDevice, isWebGpuAvailable } from "../gpu/mod.ts";

const linspace = (a: number, b: number, n: number) =>
  Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

Deno.test("models: every factory gives lmfit's parameter names, prefixed", () => {
  const p = { prefix: "p_" };
  const expect: [string, string[]][] = [
    ["constant", ["c"]],
    ["linear", ["slope", "intercept"]],
    ["quadratic", ["a", "b", "c"]],
    ["exponential", ["amplitude", "decay"]],
    ["powerLaw", ["amplitude", "exponent"]],
    ["gaussian", ["amplitude", "center", "sigma"]],
    ["lorentzian", ["amplitude", "center", "sigma"]],
    ["voigt", ["amplitude", "center", "sigma", "gamma"]],
    ["pseudoVoigt", ["amplitude", "center", "sigma", "fraction"]],
    ["step", ["amplitude", "center", "sigma"]],
    ["sine", ["amplitude", "frequency", "shift"]],
    ["lognormal", ["amplitude", "center", "sigma"]],
    ["gaussian2d", ["amplitude", "centerx", "centery", "sigmax", "sigmay"]],
    ["logistic", ["amplitude", "center", "sigma"]],
    ["hill", ["bottom", "top", "ec50", "n"]],
    ["michaelisMenten", ["vmax", "km"]],
    ["exponentialDecay", ["a", "b", "c"]],
  ];
  for (const [name, params] of expect) {
    const f = models[name as keyof typeof models] as (o: object) => {
      params: readonly string[];
      name: string;
      prefix: string;
    };
    const m = f(p);
    assert.deepStrictEqual(m.params, params.map((n) => `p_${n}`), name);
    assert.strictEqual(m.name, name);
    assert.strictEqual(m.prefix, "p_");
  }
  assert.deepStrictEqual(
    models.polynomial({ degree: 4, prefix: "q" }).params,
    ["qc0", "qc1", "qc2", "qc3", "qc4"],
  );
});

Deno.test("models: hints, default bounds and makeParams", () => {
  const v = models.voigt({ prefix: "v_" });
  assert.deepStrictEqual(v.paramHints, {
    v_sigma: { min: 0 },
    v_gamma: { expr: "v_sigma", min: 0 },
  });
  assert.deepStrictEqual(v.defaultBounds, [
    [-Infinity, -Infinity, 0, 0],
    [Infinity, Infinity, Infinity, Infinity],
  ]);
  const s = models.sine();
  assert.deepStrictEqual(s.defaultBounds[1].slice(0, 2), [Infinity, Infinity]);
  assert.ok(Math.abs(s.defaultBounds[1][2] - (2 * Math.PI + 1e-5)) < 1e-15);
  assert.deepStrictEqual(models.pseudoVoigt().makeParams({ amplitude: 3 }), {
    amplitude: { value: 3 },
    center: {},
    sigma: { min: 0 },
    fraction: { value: 0.5, min: 0, max: 1 },
  });
  assert.throws(
    () => v.makeParams({ sigma: 1 }),
    /v_gamma|unknown parameter 'sigma'/,
  );
  assert.deepStrictEqual(v.derivedNames, ["v_fwhm", "v_height"]);
});

Deno.test("models: composites join expressions, keep components, refuse clashes", () => {
  const m = models.gaussian({ prefix: "g1_" })
    .add(models.gaussian({ prefix: "g2_" }))
    .add(models.linear());
  assert.strictEqual(m.operator, "+");
  assert.strictEqual(m.operands.length, 3); // flattened
  assert.deepStrictEqual(m.components.map((c) => c.key), [
    "g1_",
    "g2_",
    "linear",
  ]);
  assert.deepStrictEqual(m.params.slice(3), [
    "g2_amplitude",
    "g2_center",
    "g2_sigma",
    "slope",
    "intercept",
  ]);
  assert.deepStrictEqual(m.derivedNames, [
    "g1_fwhm",
    "g1_height",
    "g2_fwhm",
    "g2_height",
  ]);
  // The composite is one expression of the model language.
  const again = model(m.expression, { params: m.params });
  const x = [linspace(0, 10, 7)];
  const p = [1, 3, 0.5, 2, 6, 0.7, 0.1, 0.2];
  assert.deepStrictEqual(again.evaluate(x, p), m.evaluate(x, p));
  // Components evaluate alone and add up to the whole.
  const parts = m.evaluateComponents(x[0], p);
  const sum = x[0].map((_, i) => parts.g1_[i] + parts.g2_[i] + parts.linear[i]);
  const whole = m.evaluate(x, p);
  sum.forEach((v, i) =>
    assert.ok(Math.abs(v - whole[i]) <= 1e-15 * Math.abs(whole[i]) + 1e-300)
  );
  // A product too.
  const d = models.exponential().mul(models.sine({ prefix: "s_" }));
  const q = [2, 3, 1, 4, 0.3];
  const dp = d.evaluateComponents(x[0], q), dw = d.evaluate(x, q);
  dw.forEach((v, i) =>
    assert.ok(
      Math.abs(dp.exponential[i] * dp.s_[i] - v) <=
        1e-15 * Math.abs(v) + 1e-300,
    )
  );
  // Clashes name the parameter and the components.
  assert.throws(
    () => models.gaussian().add(models.lorentzian()),
    (e: unknown) =>
      e instanceof TypeError && /'amplitude'/.test(e.message) &&
      /gaussian and lorentzian/.test(e.message) && /prefix/.test(e.message),
  );
  // Expressions and expression models join; function models cannot.
  const e = models.linear().add("k * x^2").add(model("w * sin(x)"));
  assert.deepStrictEqual(e.params, ["slope", "intercept", "k", "w"]);
  assert.deepStrictEqual(e.components.map((c) => c.name), [
    "linear",
    "expression",
    "expression",
  ]);
  assert.deepStrictEqual(e.components.map((c) => c.key), [
    "linear",
    "expression",
    "expression_2",
  ]);
  assert.throws(
    () => models.linear().add(model((x: number, k: number) => k * x)),
    /function model cannot join/,
  );
  // A 2-D model joins a 1-D one: variables are merged.
  const z = models.gaussian2d().add(models.constant({ prefix: "bg_" }));
  assert.deepStrictEqual(z.variables, ["x", "y"]);
});

Deno.test("models: the guess of a sum assigns peaks by position over a baseline", () => {
  const m = models.gaussian({ prefix: "a_" })
    .add(models.lorentzian({ prefix: "b_" }))
    .add(models.voigt({ prefix: "c_" }))
    .add(models.quadratic({ prefix: "bg_" }));
  const x = linspace(0, 30, 601);
  const truth = [5, 25, 0.8, 4, 6, 0.5, 6, 14, 0.6, 0.4, 0.002, -0.05, 1];
  const y = m.evaluate([x], truth);
  const g = m.guess(x, y);
  // The leftmost peak goes to the first peak component, and so on.
  assert.ok(Math.abs(g.a_center - 6) < 0.2, `a_center ${g.a_center}`);
  assert.ok(Math.abs(g.b_center - 14) < 0.2, `b_center ${g.b_center}`);
  assert.ok(Math.abs(g.c_center - 25) < 0.2, `c_center ${g.c_center}`);
  for (const n of m.params) assert.ok(Number.isFinite(g[n]), n);
  // Negative peaks.
  const neg = models.gaussian({ prefix: "a_" }).add(
    models.gaussian({ prefix: "b_" }),
  );
  const yn = neg.evaluate([x], [-3, 8, 1, -5, 20, 1]);
  const gn = neg.guess(x, yn, { negative: true });
  assert.ok(gn.a_amplitude < 0 && gn.b_amplitude < 0);
  assert.ok(
    Math.abs(gn.a_center - 8) < 0.1 && Math.abs(gn.b_center - 20) < 0.1,
  );
});

Deno.test("models: derived quantities carry delta-method errors with exact gradients", () => {
  const m = models.voigt();
  const p = [3, 1, 0.7, 0.4];
  const cov = [
    [0.04, 0.001, 0.002, -0.001],
    [0.001, 0.01, 0.0005, 0.0002],
    [0.002, 0.0005, 0.003, -0.0015],
    [-0.001, 0.0002, -0.0015, 0.002],
  ];
  const d = m.derived(p, cov);
  // Against central differences of the values.
  for (const name of ["fwhm", "height"]) {
    const g = p.map((_, k) => {
      const h = 1e-6, a = [...p], b = [...p];
      a[k] += h;
      b[k] -= h;
      return (m.derived(a)[name].value - m.derived(b)[name].value) / (2 * h);
    });
    let v = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) v += g[i] * cov[i][j] * g[j];
    }
    assert.ok(Math.abs(d[name].stderr / Math.sqrt(v) - 1) < 1e-7, name);
  }
  // By name, and without a covariance.
  const byName = m.derived({ amplitude: 3, center: 1, sigma: 0.7, gamma: 0.4 });
  assert.strictEqual(byName.fwhm.value, d.fwhm.value);
  assert.ok(Number.isNaN(byName.fwhm.stderr));
  // Infinite covariance (a rank-deficient fit): infinite error.
  const inf = cov.map((r) => r.map(() => Infinity));
  assert.strictEqual(m.derived(p, inf).height.stderr, Infinity);
});

Deno.test("models: the exact Voigt FWHM and height agree with scipy's wofz", async () => {
  // Reference values: scipy.optimize.brentq on scipy.special.wofz at 1e-15.
  const m = models.voigt();
  const cases: [number, number, number][] = [
    [1, 1, 3.6011356772031577],
    [0.3, 2, 4.130136415201421],
    [1, 100, 200.02999475228583],
  ];
  for (const [s, g, fwhm] of cases) {
    const d = m.derived([1, 0, s, g]);
    assert.ok(Math.abs(d.fwhm.value / fwhm - 1) < 1e-14, `${s}, ${g}`);
    const half = m.evaluate([new Float64Array([fwhm / 2, 0])], [1, 0, s, g]);
    assert.ok(Math.abs(half[0] / half[1] - 0.5) < 1e-14);
    assert.strictEqual(d.height.value, half[1]);
  }
  await Promise.resolve();
});

Deno.test("models: bad input is a typed error naming the problem", () => {
  assert.throws(() => models.gaussian({ prefix: "1x" }), /prefix must be/);
  assert.throws(() => models.gaussian({ prefix: 3 } as never), TypeError);
  assert.throws(
    () => models.gaussian({ form: "erf" } as never),
    /unknown option 'form'/,
  );
  assert.throws(() => models.polynomial({ degree: 8 }), RangeError);
  assert.throws(
    () => models.polynomial({ degree: 1.5 }),
    /degree must be an integer/,
  );
  assert.throws(
    () => models.step({ form: "tanh" as never }),
    /form must be one of/,
  );
  const m = models.gaussian();
  assert.throws(
    () => m.guess([1, 2, 3], [1, 2]),
    /gaussian.guess: x has 3 values, y has 2/,
  );
  assert.throws(
    () => m.guess([1, 2, 3], [1, NaN, 2]),
    /gaussian.guess: y\[1\] is NaN/,
  );
  assert.throws(() => m.guess([1, Infinity], [1, 2]), /x\[1\] is Infinity/);
  assert.throws(
    () => models.gaussian2d().guess([1, 2, 3], [1, 2, 3]),
    /2 columns/,
  );
  assert.throws(
    () => m.derived([1, 2]),
    /params has 2 values, the model has 3/,
  );
  assert.throws(
    () => m.derived({ amplitude: 1, center: 0 }),
    /params.sigma is missing/,
  );
  assert.throws(
    () => m.derived({ amplitude: 1, center: 0, sigma: 1, w: 2 }),
    /unknown parameter 'w'/,
  );
  assert.throws(
    () => m.derived([1, 0, 1], [[1, 0], [0, 1]]),
    /covariance must be 3 rows/,
  );
  assert.throws(
    () => models.expression("a * x", { hints: { b: { min: 0 } } }),
    /hints.b: no such parameter/,
  );
  assert.throws(
    () => models.expression((() => 1) as never),
    /expression model/,
  );
});

Deno.test("models: a built-in model works with curveFit and in worker threads", async () => {
  const m = models.voigt({ prefix: "v_" }).add(models.constant());
  const truth = [4, 2, 0.4, 0.3, 0.5];
  const x = linspace(-5, 9, 60_000);
  const y = m.evaluate([x], truth);
  let s = 7;
  for (let i = 0; i < y.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    y[i] += 0.01 * (s / 2 ** 32 - 0.5);
  }
  const g = m.guess(x, y);
  const p0 = m.params.map((n) => g[n]);
  // Chunked on CPU threads: kernels rebuilt from their source in workers.
  const r = await fit(m, x, y, {
    p0,
    bounds: m.defaultBounds,
    backend: "cpu",
    workflow: { strategy: "chunked", config: { chunkSize: 8_000 } },
  });
  assert.strictEqual(r.strategy, "chunked");
  const [popt] = await curveFit(m, x, y, { p0, bounds: m.defaultBounds });
  for (let k = 0; k < truth.length; k++) {
    assert.ok(
      Math.abs(r.popt[k] - popt[k]) <= 1e-9 * Math.abs(popt[k]),
      m.params[k],
    );
    assert.ok(Math.abs(popt[k] - truth[k]) < 1e-3 * Math.abs(truth[k]) + 1e-4);
  }
});

const HAS_GPU = await isWebGpuAvailable();
const HAS_F64 = HAS_GPU && (await acquireDevice()).info.f64;
if (!HAS_F64) {
  console.warn("models_builtin_test: no WebGPU f64, GPU test IGNORED");
}

Deno.test({
  name: "models: a Voigt composite fits on WebGPU f64 as on the CPU",
  ignore: !HAS_F64,
  fn: async () => {
    const m = models.voigt({ prefix: "a_" }).add(models.voigt({ prefix: "b_" }))
      .add(models.linear());
    const x = linspace(0, 10, 4_000);
    const y = m.evaluate([x], [3, 3, 0.3, 0.2, 5, 6.5, 0.4, 0.1, 0.05, 0.2]);
    let s = 3;
    for (let i = 0; i < y.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      y[i] += 0.02 * (s / 2 ** 32 - 0.5);
    }
    const g = m.guess(x, y);
    const o = {
      p0: m.params.map((n) => g[n]),
      bounds: m.defaultBounds,
      ftol: 1e-13,
      xtol: 1e-13,
      gtol: 1e-13,
    };
    const c = await fit(m, x, y, { ...o, backend: "cpu" });
    const w = await fit(m, x, y, { ...o, backend: "webgpu" });
    assert.match(w.backend, /^webgpu f64/);
    for (let k = 0; k < m.params.length; k++) {
      assert.ok(
        Math.abs(w.popt[k] - c.popt[k]) <=
          1e-9 * Math.max(1, Math.abs(c.popt[k])),
        `${m.params[k]}: ${w.popt[k]} vs ${c.popt[k]}`,
      );
    }
  },
});
