// describeModel / modelFromDescription: every built-in model, with and
// without a prefix and with its options (a polynomial's degree, a step's
// form, an expression's hints), nested composites and plain expressions
// come back through JSON as the same model: the same expression, parameter
// names and variables, so the same compiled values to the last bit.
import assert from "node:assert";
import { type BuiltinModel, type Model, model, models } from "../mod.ts";
import { describeModel, modelFromDescription } from "../model/mod.ts";

function assertSameModel(m: Model, what: string) {
  const d = describeModel(m);
  const back = modelFromDescription(JSON.parse(JSON.stringify(d)));
  assert.deepStrictEqual(describeModel(back), d, `${what}: description`);
  assert.strictEqual(back.expression, m.expression, `${what}: expression`);
  assert.deepStrictEqual(back.params, m.params, `${what}: params`);
  assert.deepStrictEqual(back.variables, m.variables, `${what}: variables`);
  // The same values at arbitrary points and parameters.
  const n = 7;
  const x = m.variables.map((_, k) =>
    Float64Array.from({ length: n }, (_, i) => 0.3 + 0.7 * i + 0.1 * k)
  );
  const p = m.params.map((_, k) => 0.5 + 0.37 * k);
  const a = m.evaluate(x, p), b = back.evaluate(x, p);
  for (let i = 0; i < n; i++) {
    assert.ok(Object.is(a[i], b[i]), `${what}: f(x[${i}])`);
  }
}

const FACTORIES = Object.keys(models).filter((k) =>
  k !== "expression" && k !== "polynomial"
);

Deno.test("description: every built-in model, plain and prefixed, comes back the same", () => {
  for (const name of FACTORIES) {
    const make =
      (models as unknown as Record<string, (o?: object) => BuiltinModel>)[name];
    assertSameModel(make(), name);
    assertSameModel(make({ prefix: "p1_" }), `${name} prefixed`);
  }
  assert.deepStrictEqual(FACTORIES.length, 17);
});

Deno.test("description: options survive (polynomial degree, step form, expression hints and prefix)", () => {
  assertSameModel(
    models.polynomial({ degree: 3, prefix: "bg_" }),
    "polynomial",
  );
  for (const form of ["linear", "atan", "erf", "logistic"] as const) {
    const d = describeModel(models.step({ form }));
    assert.deepStrictEqual(d, {
      kind: "builtin",
      name: "step",
      prefix: "",
      options: { form },
    });
    assertSameModel(models.step({ form, prefix: "s_" }), `step ${form}`);
  }
  const e = models.expression("k * exp(-t / tau)", {
    variables: ["t"],
    prefix: "q_",
    hints: { tau: { value: 2, min: 0 } },
  });
  assertSameModel(e, "expression");
  const back = modelFromDescription(
    JSON.parse(JSON.stringify(describeModel(e))),
  ) as BuiltinModel;
  assert.deepStrictEqual(back.params, ["q_k", "q_tau"]);
  assert.deepStrictEqual(back.paramHints, e.paramHints);
  assert.deepStrictEqual(back.paramHints.q_tau, { value: 2, min: 0 });
});

Deno.test("description: composites keep their nesting and operators; a plain model joins a composite", () => {
  const g = () => models.gaussian({ prefix: "g_" });
  assertSameModel(
    g().add(models.lorentzian({ prefix: "l_" }).mul(models.exponential())),
    "nested",
  );
  assertSameModel(
    g().mul(models.constant()).add(models.linear()),
    "product then sum",
  );
  assertSameModel(g().add(model("k * x^2")), "with a plain expression");
  assertSameModel(
    model("a * exp(-b * t) + c", { variables: ["t"] }),
    "expression",
  );
  assertSameModel(
    model("a * u + b * v", { variables: ["u", "v"], params: ["b", "a"] }),
    "two variables, params in a given order",
  );
});

Deno.test("description: a function model is described by its names and cannot be made again; bad descriptions name the field", () => {
  const f = model((x: number, a: number) => a * x, { params: ["a"] });
  assert.deepStrictEqual(describeModel(f), {
    kind: "function",
    params: ["a"],
    variables: ["x"],
  });
  assert.throws(
    () => modelFromDescription(describeModel(f)),
    /a function model \(parameters a\) cannot be made from a description/,
  );
  assert.throws(
    () => modelFromDescription(null),
    /model description must be an object, got null/,
  );
  assert.throws(
    () => modelFromDescription({ kind: "spline" }),
    /model description\.kind must be "expression", "builtin", "composite" or "function", got "spline"/,
  );
  assert.throws(
    () =>
      modelFromDescription({ kind: "composite", operator: "-", operands: [] }),
    /operator must be "\+" or "\*", got "-"/,
  );
  assert.throws(
    () =>
      modelFromDescription({
        kind: "composite",
        operator: "+",
        operands: [{ kind: "builtin", name: "gaussian" }, {
          kind: "expression",
          expression: 3,
        }],
      }),
    /model description\.operands\[1\]\.expression must be a string, got 3/,
  );
  assert.throws(
    () => modelFromDescription({ kind: "builtin", name: "toString" }),
    /no built-in model 'toString'/,
  );
});
