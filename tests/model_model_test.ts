import assert from "node:assert";
import { model } from "../model/model.ts";
import { ModelSyntaxError } from "../model/syntax_error.ts";
import { erf } from "../model/_erf.ts";
import * as mod from "../model/mod.ts";

Deno.test("model: expression models", () => {
  const m = model("a * exp(-b * x) + c");
  assert.strictEqual(m.kind, "expression");
  assert.strictEqual(m.expression, "a * exp(-b * x) + c");
  assert.deepStrictEqual(m.params, ["a", "b", "c"]);
  assert.deepStrictEqual(m.variables, ["x"]);
  assert.strictEqual(m.jacobian, "exact");
  assert.strictEqual(m.derivatives!.length, 3);
  assert.ok(Object.isFrozen(m));
  assert.strictEqual(model(m), m);
  const f = m.evaluate([new Float64Array([0, 2])], [3, 0.5, 1]);
  assert.deepStrictEqual(f, new Float64Array([4, 3 * Math.exp(-1) + 1]));
  // number[] columns work too
  const g = m.evaluate(
    [[0, 2] as unknown as Float64Array],
    new Float64Array([3, 0.5, 1]),
  );
  assert.deepStrictEqual(g, f);
  const fixed = model("a * x + b", { params: ["b", "a", "z"] });
  assert.deepStrictEqual(fixed.params, ["b", "a", "z"]);
  const B = new Float64Array(4);
  fixed.kernel(
    [new Float64Array([2])],
    new Float64Array([0]),
    null,
    new Float64Array([1, 3, 9]),
    0,
    1,
    B,
    1,
    true,
  );
  assert.deepStrictEqual(B, new Float64Array([1, 2, 0, 7]));
});

Deno.test("model: x0 is a parameter of models in x (sigmoid, Lorentzian)", () => {
  const x = new Float64Array([-1, 0.5, 2]);
  const p = [2, 3, 0.5]; // a, k, x0
  const sigmoid = model("a/(1+exp(-k*(x-x0)))");
  assert.deepStrictEqual(sigmoid.params, ["a", "k", "x0"]);
  assert.deepStrictEqual(sigmoid.variables, ["x"]);
  const B = new Float64Array(3 * 4);
  sigmoid.kernel(
    [x],
    new Float64Array(3),
    null,
    Float64Array.from(p),
    0,
    3,
    B,
    3,
    true,
  );
  x.forEach((t, r) => {
    const s = 1 / (1 + Math.exp(-p[1] * (t - p[2])));
    const near = (got: number, want: number) =>
      assert.ok(Math.abs(got - want) < 1e-15, `${got} vs ${want}`);
    near(B[9 + r], p[0] * s); // f
    near(B[r], s); // d/da
    near(B[3 + r], p[0] * s * (1 - s) * (t - p[2])); // d/dk
    near(B[6 + r], -p[0] * s * (1 - s) * p[1]); // d/dx0
  });
  const lorentzian = model("A * g^2 / ((x - x0)^2 + g^2) + x1");
  assert.deepStrictEqual(lorentzian.params, ["A", "g", "x0", "x1"]);
  assert.deepStrictEqual(lorentzian.variables, ["x"]);
  // Without x, x0 and x1 are the feature columns...
  const plane = model("a*x0+b*x1");
  assert.deepStrictEqual(plane.params, ["a", "b"]);
  assert.deepStrictEqual(plane.variables, ["x0", "x1"]);
  assert.deepStrictEqual(
    Array.from(plane.evaluate([x, new Float64Array([1, 2, 3])], [2, 10])),
    [8, 21, 34],
  );
  // ...and explicit variables override both defaults.
  const named = model("a/(1+exp(-k*(t-x0)))", { variables: ["t"] });
  assert.deepStrictEqual(named.params, ["a", "k", "x0"]);
  assert.deepStrictEqual(named.variables, ["t"]);
});

Deno.test("model: bad arguments are TypeErrors naming the argument", () => {
  assert.throws(() => model(42 as unknown as string), /model: expr must be/);
  assert.throws(() => model(null as unknown as string), TypeError);
  assert.throws(
    () => model("a*x", 5 as unknown as object),
    /options must be an object/,
  );
  assert.throws(
    () => model("a*x", { params: "a" as unknown as string[] }),
    /options.params must be an array/,
  );
  assert.throws(
    () => model("a*x", { variables: [] }),
    /options.variables must not be empty/,
  );
  assert.throws(() => model("a*x", { params: ["a", "a"] }), /listed twice/);
  assert.throws(
    () =>
      model((x: number, a: number) => a * x, { jacobian: "cs" as "2-point" }),
    /options.jacobian must be "2-point" or "3-point"/,
  );
  assert.throws(() => model("a * (x"), ModelSyntaxError);
  const m = model("a * x");
  assert.throws(
    () => m.evaluate([new Float64Array(2)], [1, 2]),
    /p has 2 values, the model has 1/,
  );
  assert.throws(
    () => m.evaluate(5 as unknown as Float64Array[], [1]),
    TypeError,
  );
  assert.throws(
    () => m.evaluate([5 as unknown as Float64Array], [1]),
    /x\[0\] must be/,
  );
});

Deno.test("model: function models take names from the declaration", () => {
  const arrow = model((x: number, amp: number, rate: number) =>
    amp * Math.exp(-rate * x)
  );
  assert.deepStrictEqual(arrow.params, ["amp", "rate"]);
  assert.strictEqual(arrow.kind, "function");
  assert.strictEqual(arrow.jacobian, "2-point");
  assert.strictEqual(arrow.kernelSource, undefined);
  assert.deepStrictEqual(
    arrow.evaluate([new Float64Array([0, 1])], [2, 1]),
    new Float64Array([2, 2 * Math.exp(-1)]),
  );
  const named = model(function line(t: number, slope: number, icept: number) {
    return slope * t + icept;
  });
  assert.deepStrictEqual(named.params, ["slope", "icept"]);
  // defaults make the declaration unclear: fall back to p0, p1
  const withDefault = model((x: number, a: number, b = 2) => a * x + b, {
    params: ["a", "b"],
  });
  assert.deepStrictEqual(withDefault.params, ["a", "b"]);
  const rest = model((x: number, ...p: number[]) => p[0] * x + p[1], {
    params: ["m", "q"],
  });
  assert.deepStrictEqual(
    rest.evaluate([new Float64Array([2])], [3, 1]),
    new Float64Array([7]),
  );
  assert.throws(
    () => model((x: number, ...p: number[]) => p[0] * x),
    /pass options.params/,
  );
  // a reserved name (a function of the language) falls back to p0, p1
  const reserved = model((x: number, exp: number, b: number) => exp * x + b);
  assert.deepStrictEqual(reserved.params, ["p0", "p1"]);
  assert.throws(
    () =>
      model((x: number, a: number) => a * x, {
        params: ["a"],
        variables: ["a"],
      }),
    /both a parameter and a variable/,
  );
});

Deno.test("model: function models with several variables get an array", () => {
  const m = model((x: number[], a: number, b: number) => a * x[0] + b * x[1], {
    variables: ["u", "v"],
  });
  assert.deepStrictEqual(m.variables, ["u", "v"]);
  const f = m.evaluate([new Float64Array([1, 2]), new Float64Array([10, 20])], [
    3,
    0.5,
  ]);
  assert.deepStrictEqual(f, new Float64Array([8, 16]));
});

Deno.test("model: finite-difference Jacobians of function models vs exact", () => {
  const exact = model("a * exp(-b * x) + c * sin(x)");
  const fn = (x: number, a: number, b: number, c: number) =>
    a * Math.exp(-b * x) + c * Math.sin(x);
  const two = model(fn);
  const three = model(fn, { jacobian: "3-point" });
  assert.strictEqual(three.jacobian, "3-point");
  const n = 50, ld = 50, nP = 3;
  const x = Float64Array.from({ length: n }, (_, i) => i / 10);
  const y = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
  const w = Float64Array.from({ length: n }, (_, i) => 1 + i / n);
  const errors: number[] = [];
  for (const p of [[2, 0.7, -0.3], [-150, 3, 1e-3], [1e-9, -0.2, 5]]) {
    const P = new Float64Array(p);
    const Be = new Float64Array(ld * (nP + 1));
    const se = exact.kernel([x], y, w, P, 0, n, Be, ld, true);
    for (const [m, tol] of [[two, 1e-6], [three, 1e-9]] as const) {
      const B = new Float64Array(ld * (nP + 1));
      const s = m.kernel([x], y, w, P, 0, n, B, ld, true);
      assert.ok(Math.abs(s - se) <= 1e-13 * se, `${s} vs ${se}`);
      let worst = 0;
      for (let k = 0; k < nP; k++) {
        for (let i = 0; i < n; i++) {
          const e = Be[k * ld + i], a = B[k * ld + i];
          worst = Math.max(worst, Math.abs(a - e) / Math.max(1, Math.abs(e)));
        }
      }
      assert.ok(worst <= tol, `${m.jacobian} at ${p}: ${worst}`);
      errors.push(worst);
      for (let i = 0; i < n; i++) {
        assert.strictEqual(B[nP * ld + i], Be[nP * ld + i]);
      }
    }
  }
  // central differences are markedly more accurate than forward ones
  assert.ok(
    errors[1] < errors[0] / 10 && errors[3] < errors[2] / 10,
    String(errors),
  );
  // withJac false leaves the Jacobian columns alone
  const B = new Float64Array(ld * (nP + 1)).fill(7);
  two.kernel([x], y, null, new Float64Array([1, 1, 1]), 0, n, B, ld, false);
  assert.ok(B.subarray(0, nP * ld).every((v) => v === 7));
});

Deno.test("erf: double precision reference values", () => {
  const cases: [number, number][] = [
    [0, 0],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [-3, -0.9999779095030014],
    [1e-10, 1.1283791670955126e-10],
    [0.46875, 0.492613473217938],
    [3.9, 0.9999999652077514],
    [4.5, 0.9999999998033839],
    [-0.1, -0.1124629160182849],
    [27, 1],
  ];
  for (const [x, v] of cases) {
    const got = erf(x);
    assert.ok(
      Math.abs(got - v) <= 5e-16 * Math.abs(v),
      `erf(${x}) = ${got}, want ${v}`,
    );
  }
  assert.strictEqual(erf(Infinity), 1);
  assert.strictEqual(erf(-Infinity), -1);
  assert.ok(Number.isNaN(erf(NaN)));
  // odd symmetry, monotone
  for (let t = -6; t <= 6; t += 0.37) {
    assert.strictEqual(erf(-t), -erf(t));
    assert.ok(erf(t + 0.01) >= erf(t));
  }
});

Deno.test("mod.ts re-exports the public pieces", () => {
  assert.strictEqual(mod.model, model);
  assert.strictEqual(mod.ModelSyntaxError, ModelSyntaxError);
  for (
    const name of [
      "toSsa",
      "parseExpression",
      "derivative",
      "gradient",
      "simplify",
      "compileJs",
      "variableDependence",
      "liveInstructions",
    ] as const
  ) {
    assert.strictEqual(typeof mod[name], "function", name);
  }
  assert.strictEqual(mod.FUNCTION_ARITY.atan2, 2);
});
