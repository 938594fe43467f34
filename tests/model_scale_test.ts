import assert from "node:assert";
import type { Node } from "../model/ast.ts";
import { model } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import { parseExpression } from "../model/parser.ts";
import { gradient } from "../model/derivative.ts";
import { ModelSyntaxError } from "../model/syntax_error.ts";
import { evalNode } from "../model/_functions.ts";
import { generateKernel } from "../gpu/wgsl_codegen.ts";

/** f(x_r) and the Jacobian columns d f / d p_k at every point, via the kernel. */
function kernelValues(m: Model, x: Float64Array, p: ArrayLike<number>) {
  const n = x.length, P = m.params.length;
  const B = new Float64Array(n * (P + 1));
  m.kernel(
    [x],
    new Float64Array(n),
    null,
    Float64Array.from(p),
    0,
    n,
    B,
    n,
    true,
  );
  const jac = (k: number, r: number) => B[k * n + r];
  return { f: B.subarray(P * n), jac };
}

/** Asserts |got - want| <= tol * (1 + |want|). */
function near(got: number, want: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(got - want) <= tol * (1 + Math.abs(want)),
    `${what}: got ${got}, want ${want}`,
  );
}

/** Depth of the left spine of `node` (a left-associative sum's term count). */
function leftDepth(node: Node): number {
  let depth = 0;
  for (let n = node; n.kind === "bin"; n = n.left) depth++;
  return depth;
}

const X = Float64Array.from([0, 0.3, 0.5, 1, 2.5]);

Deno.test("scale: a 5000-term sum compiles; value and derivatives are exact", () => {
  // f = sum_i s_i a_(i mod 100) exp(-r_i x), signs alternating.
  const N = 5000, P = 100;
  const sign = (i: number) => (i % 2 === 0 ? 1 : -1);
  const rate = (i: number) => (i % 7) / 10;
  const expr = Array.from(
    { length: N },
    (_, i) => `${sign(i) > 0 ? "+" : "-"} a${i % P}*exp(-${rate(i)}*x)`,
  ).join(" ");
  const m = model(expr);
  assert.strictEqual(m.params.length, P);
  assert.ok(leftDepth(m.ast!) >= N - 1, "the AST is a deep left spine");
  const p = Array.from({ length: P }, (_, j) => 0.5 + j / P);
  const { f, jac } = kernelValues(m, X, p);
  const values = m.evaluate([X], p);
  X.forEach((x, r) => {
    let want = 0;
    const dwant = new Float64Array(P);
    for (let i = 0; i < N; i++) {
      const e = sign(i) * Math.exp(-rate(i) * x);
      want += p[i % P] * e;
      dwant[i % P] += e;
    }
    near(values[r], want, 1e-12, `f(${x})`);
    near(f[r], want, 1e-12, `kernel f(${x})`);
    for (let j = 0; j < P; j++) near(jac(j, r), dwant[j], 1e-12, `df/da${j}`);
  });
  // The WGSL generator consumes the same derivatives without recursing.
  const k = generateKernel(m, { precision: "f64" });
  assert.strictEqual(k.nFull, 1 + P + (P * (P + 1)) / 2);
  assert.match(k.code, /fn full\(/);
});

Deno.test("scale: 5000 terms with a parameter each", () => {
  const N = 5000;
  const expr = Array.from({ length: N }, (_, i) => `p${i}*x^${i % 3}`)
    .join(" + ");
  const m = model(expr);
  assert.strictEqual(m.params.length, N);
  const p = Array.from({ length: N }, (_, i) => Math.cos(i));
  const { f, jac } = kernelValues(m, X, p);
  X.forEach((x, r) => {
    let want = 0;
    for (let i = 0; i < N; i++) want += p[i] * x ** (i % 3);
    near(f[r], want, 1e-12, `f(${x})`);
    for (const i of [0, 1, 2, 1234, N - 2, N - 1]) {
      near(jac(i, r), x ** (i % 3), 0, `df/dp${i}(${x})`);
    }
  });
});

Deno.test("scale: nesting deeper than 1000 levels is a ModelSyntaxError naming the limit", () => {
  const deep = 5000;
  const cases: [string, string, number][] = [
    ["parentheses", "(".repeat(deep) + "a*x" + ")".repeat(deep), 1000],
    ["brackets", "[".repeat(deep) + "a*x" + "]".repeat(deep), 1000],
    ["unary minus", "-".repeat(deep) + "a*x", 1000],
    ["unary plus", "+ ".repeat(deep) + "a*x", 2000],
    ["mixed signs", "-(".repeat(deep) + "a*x" + ")".repeat(deep), 1000],
    ["calls", "exp(".repeat(deep) + "a*x" + ")".repeat(deep), 4000],
    ["powers", "a*x" + "^x".repeat(deep), 3 + 2 * 1000],
    ["pow calls", "pow(x, ".repeat(deep) + "a" + ")".repeat(deep), 7000],
  ];
  for (const [what, expr, position] of cases) {
    for (const compile of [parseExpression, model]) {
      let error: unknown;
      try {
        compile(expr);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ModelSyntaxError, `${what}: ${error}`);
      assert.match(
        error.message,
        /^Expression nests deeper than 1000 levels \(brackets, calls, signs, exponents\) at position/,
        what,
      );
      assert.strictEqual(error.position, position, what);
    }
  }
});

Deno.test("scale: 1000 levels of nesting compile, evaluate and differentiate", () => {
  // 1000 parentheses around a * x.
  const parens = model("(".repeat(1000) + "a*x" + ")".repeat(1000));
  assert.deepStrictEqual(Array.from(parens.evaluate([X], [2])), [
    ...X.map((x) => 2 * x),
  ]);
  // 1000 signs: an even number of minus signs.
  const signs = model("-".repeat(1000) + "a*x");
  assert.deepStrictEqual(kernelValues(signs, X, [3]).jac(0, 4), 2.5);

  // u_0 = a x, u_(i+1) = sin(u_i): 999 calls, a product of 999 cosines
  // in the derivative.
  const calls = 999;
  const chain = model("sin(".repeat(calls) + "a*x" + ")".repeat(calls));
  const a = 1.3;
  const { f, jac } = kernelValues(chain, X, [a]);
  X.forEach((x, r) => {
    let u = a * x, du = x;
    for (let i = 0; i < calls; i++) {
      du *= Math.cos(u);
      u = Math.sin(u);
    }
    near(f[r], u, 1e-13, `sin^999(${x})`);
    near(jac(0, r), du, 1e-12, `d sin^999(${x}) / da`);
  });
  assert.match(generateKernel(chain, { precision: "f32" }).code, /fn cost\(/);

  // Horner's scheme, 1000 coefficients: d f / d c_k = x^k.
  const n = 1000;
  const horner = model(
    Array.from({ length: n - 1 }, (_, k) => `c${k} + x*(`).join("") +
      `c${n - 1}` + ")".repeat(n - 1),
  );
  assert.strictEqual(horner.params.length, n);
  const c = Array.from({ length: n }, (_, k) => 1 / (k + 1));
  const hx = Float64Array.from([0.5, -0.9]);
  const h = kernelValues(horner, hx, c);
  hx.forEach((x, r) => {
    const want = c.reduce((s, ck, k) => s + ck * x ** k, 0);
    near(h.f[r], want, 1e-13, `horner(${x})`);
    for (const k of [0, 1, 7, 500, n - 1]) {
      near(h.jac(k, r), x ** k, 1e-13, `horner d/dc${k}(${x})`);
    }
  });
});

Deno.test("scale: shared partial sums differentiate like any shared node", () => {
  // s = a + b x is used twice: f = s + s x, and g = s + s.
  const a: Node = { kind: "param", index: 0 };
  const b: Node = { kind: "param", index: 1 };
  const x: Node = { kind: "var", index: 0 };
  const s: Node = {
    kind: "bin",
    op: "+",
    left: a,
    right: { kind: "bin", op: "*", left: b, right: x },
  };
  const f: Node = {
    kind: "bin",
    op: "+",
    left: s,
    right: { kind: "bin", op: "*", left: s, right: x },
  };
  const g: Node = {
    kind: "bin",
    op: "-",
    left: s,
    right: { kind: "neg", arg: s },
  };
  const [fa, fb] = gradient(f, 2);
  const [ga, gb] = gradient(g, 2);
  for (const t of [0.5, 2]) {
    assert.strictEqual(evalNode(fa, [3, 5], [t]), 1 + t);
    assert.strictEqual(evalNode(fb, [3, 5], [t]), t + t * t);
    assert.strictEqual(evalNode(ga, [3, 5], [t]), 2);
    assert.strictEqual(evalNode(gb, [3, 5], [t]), 2 * t);
  }
});

/** Fastest of `runs` compilations of `expr`, in ms. */
function compileMs(expr: string, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    model(expr);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

Deno.test("scale: compile time grows about linearly with the parameters", () => {
  // sum_i a_i exp(-b_i x): 2 parameters per term.
  const expr = (terms: number) =>
    Array.from({ length: terms }, (_, i) => `a${i}*exp(-b${i}*x)`).join(" + ");
  compileMs(expr(100), 1); // warm up the compiler's own code
  const t200 = compileMs(expr(100), 3);
  const t800 = compileMs(expr(400), 2);
  // Linear is 4x, quadratic 16x; it was cubic (800 parameters: 23 s).
  assert.ok(
    t800 < 8 * t200 + 1000 && t800 < 10_000,
    `800 parameters: ${t800.toFixed(0)} ms, 200: ${t200.toFixed(0)} ms`,
  );
  const m = model(expr(400));
  assert.strictEqual(m.params.length, 800);
  const p = Array.from(
    { length: 800 },
    (_, k) => (k % 2 === 0 ? 0.5 + k / 800 : 0.1 + k / 400),
  );
  const { f, jac } = kernelValues(m, X, p);
  X.forEach((x, r) => {
    let want = 0;
    for (let i = 0; i < 400; i++) {
      const e = Math.exp(-p[2 * i + 1] * x);
      want += p[2 * i] * e;
      near(jac(2 * i, r), e, 1e-15, `d/da${i}`);
      near(jac(2 * i + 1, r), -p[2 * i] * x * e, 1e-15, `d/db${i}`);
    }
    near(f[r], want, 1e-13, `f(${x})`);
  });
});
