// r.diagnostics: the condition number, singular values and numerical rank
// of the column-scaled Jacobian side by side with numpy (an SVD of the
// exact Jacobian at popt), the correlation matrix from pcov, parameters at
// bounds, undetermined directions and strong correlations in plain words.
import assert from "node:assert";
import { fit, fitBatch } from "../mod.ts";
import { pythonJson, scipyAvailable } from "./_python_json.ts";

const HAVE_SCIPY = scipyAvailable("workflow_diagnostics_test");

const linspace = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const wiggle = (i: number) =>
  0.01 * Math.sin(7.3 * i) + 0.004 * Math.cos(19 * i);

Deno.test({
  name:
    "diagnostics: condition number, singular values and rank of the column-scaled Jacobian equal numpy's (1e-9)",
  ignore: !HAVE_SCIPY,
  async fn() {
    // Misra1a-like: b1 * (1 - exp(-b2 * x)), parameters 6 decades apart.
    const x = linspace(10, 800, 30);
    const y = x.map((t, i) =>
      240 * (1 - Math.exp(-5.5e-4 * t)) + 0.1 * wiggle(i)
    );
    const r = await fit("b1 * (1 - exp(-b2 * x))", x, y, { p0: [500, 1e-4] });
    assert.ok(r.success, r.message);
    const ref = await pythonJson<{ s: number[]; cond: number; rank: number }>(
      `
x = np.array(data["x"]); b1, b2 = data["p"]
J = np.column_stack([1 - np.exp(-b2 * x), b1 * x * np.exp(-b2 * x)])
J = J / np.linalg.norm(J, axis=0)
s = np.linalg.svd(J, compute_uv=False)
emit({"s": s / s[0], "cond": s[0] / s[-1], "rank": int(np.linalg.matrix_rank(J))})
`,
      { x, p: Array.from(r.popt) },
    );
    const d = r.diagnostics;
    assert.strictEqual(d.hasJacobian, true);
    assert.deepStrictEqual(d.freeNames, ["b1", "b2"]);
    assert.strictEqual(d.rank, ref.rank);
    assert.ok(
      Math.abs(d.conditionNumber / ref.cond - 1) < 1e-9,
      `${d.conditionNumber} vs ${ref.cond}`,
    );
    d.singularValues.forEach((s, k) =>
      assert.ok(Math.abs(s - ref.s[k]) < 1e-12, `s${k}`)
    );
    // The correlation matrix is pcov's.
    const c01 = r.pcov[0][1] /
      (Math.sqrt(r.pcov[0][0]) * Math.sqrt(r.pcov[1][1]));
    assert.deepStrictEqual(d.correlation, [[1, c01], [c01, 1]]);
    assert.ok(c01 < -0.95, `b1 and b2 are strongly correlated here (${c01})`);
    assert.deepStrictEqual(d.strongCorrelations, [{
      a: "b1",
      b: "b2",
      value: c01,
    }]);
    assert.deepStrictEqual(d.warnings, [
      `'b1' and 'b2' are strongly correlated (r = ${
        c01.toFixed(4)
      }): the data determine mainly a combination of them`,
    ]);
  },
});

Deno.test("diagnostics: parameters the data cannot determine (b + c), named, with rank and warnings", async () => {
  const x = linspace(0, 5, 20);
  const r = await fit(
    "a * x + b + c",
    x,
    x.map((t, i) => 2 * t + 1 + wiggle(i)),
    { p0: [1, 0, 0] },
  );
  const d = r.diagnostics;
  assert.strictEqual(d.rank, 2);
  assert.strictEqual(d.conditionNumber > 1e14, true, `${d.conditionNumber}`);
  assert.strictEqual(d.undetermined.length, 1);
  assert.deepStrictEqual(d.undetermined[0].names, ["b", "c"]);
  const [wb, wc] = d.undetermined[0].weights;
  assert.ok(
    Math.abs(wb - Math.SQRT1_2) < 1e-6 && Math.abs(wc + Math.SQRT1_2) < 1e-6,
    `${wb}, ${wc}`,
  );
  assert.ok(
    d.warnings.some((w) =>
      /numerical rank 2 of 3: 1 combination of the free parameters is not determined/
        .test(w)
    ),
  );
  assert.ok(
    d.warnings.some((w) =>
      /cannot determine a combination of 'b' \(\+0\.71\), 'c' \(-0\.71\)/.test(
        w,
      )
    ),
  );
  // The report's notes carry them.
  assert.match(
    r.report(),
    /\[\[Notes\]\][\s\S]*warning: the data cannot determine a combination of 'b'/,
  );
});

Deno.test("diagnostics: an ill-conditioned but determined fit (a cubic far from x = 0) is called so", async () => {
  // Scaled condition ~3.8e6 on [20, 21] (numpy), ~7.5e4 on [5, 6].
  const cubic = "a + b * x + c * x^2 + d * x^3";
  const y = (x: number[]) =>
    x.map((t, i) => 1 + 0.5 * t - 0.02 * t * t + 1e-3 * t ** 3 + wiggle(i));
  const far = linspace(20, 21, 50), near = linspace(5, 6, 50);
  const r = await fit(cubic, far, y(far), { p0: [0, 0, 0, 0] });
  const d = r.diagnostics;
  assert.strictEqual(d.rank, 4);
  assert.deepStrictEqual(d.undetermined, []);
  assert.ok(
    d.conditionNumber > 3e6 && d.conditionNumber < 5e6,
    `${d.conditionNumber}`,
  );
  assert.ok(
    d.warnings.some((w) =>
      /ill-conditioned \(condition number 3\.\de\+6\)/.test(w)
    ),
    d.warnings.join("\n"),
  );
  const ok =
    (await fit(cubic, near, y(near), { p0: [0, 0, 0, 0] })).diagnostics;
  assert.ok(!ok.warnings.some((w) => /ill-conditioned/.test(w)));
});

Deno.test("diagnostics: a parameter held at its bound; a fixed one leaves the Jacobian and the correlations", async () => {
  const x = linspace(0, 4, 30);
  const y = x.map((t, i) => 3 * Math.exp(-0.8 * t) + wiggle(i));
  // The data want c = 0; the bound holds it at 0.5.
  const r = await fit("a * exp(-b * x) + c", x, y, {
    p0: [1, 1, 1],
    bounds: [[0, 0, 0.5], [10, 10, 5]],
  });
  const d = r.diagnostics;
  assert.deepStrictEqual(d.atBounds, [{
    name: "c",
    side: "lower",
    bound: 0.5,
  }]);
  assert.match(
    d.warnings[0],
    /^'c' is at its lower bound \(0\.5\): the bound, not the data, sets its value/,
  );

  const f = await fit("a * exp(-b * x) + c", x, y, {
    params: { a: 1, b: 1, c: { value: 0, vary: false } },
  });
  const df = f.diagnostics;
  assert.deepStrictEqual(df.freeNames, ["a", "b"]);
  assert.strictEqual(df.singularValues.length, 2);
  assert.ok(
    Number.isNaN(df.correlation[2][0]) && Number.isNaN(df.correlation[2][2]),
  );
  assert.strictEqual(df.correlation[0][0], 1);
  assert.deepStrictEqual(df.warnings, []);
});

Deno.test("diagnostics: a fit of a batch has them too; the Jacobian of fit(), so the same condition", async () => {
  const x = linspace(0, 4, 25);
  const rows = [0, 1].map((k) =>
    x.map((t, i) => (2 + k) * Math.exp(-0.6 * t) + wiggle(i + k))
  );
  const b = await fitBatch("a * exp(-b * x)", x, rows, { p0: [1, 1] });
  const single = await fit("a * exp(-b * x)", x, rows[1], { p0: [1, 1] });
  const got = b.result(1).diagnostics, want = single.diagnostics;
  assert.strictEqual(got.rank, 2);
  assert.ok(Math.abs(got.conditionNumber / want.conditionNumber - 1) < 1e-6);
});
