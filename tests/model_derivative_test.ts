import assert from "node:assert";
import { FUNCTION_ARITY, type Node } from "../model/ast.ts";
import { FUNCTION_ALIASES } from "../model/_names.ts";
import { parseExpression } from "../model/parser.ts";
import { derivative, gradient } from "../model/derivative.ts";
import { simplify } from "../model/simplify.ts";
import { evalNode } from "../model/_functions.ts";

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Central finite difference of `node` w.r.t. parameter k. */
function centralDiff(node: Node, p: number[], x: number[], k: number): number {
  const h = 1e-5 * Math.max(1, Math.abs(p[k]));
  const pp = p.slice(), pm = p.slice();
  pp[k] += h;
  pm[k] -= h;
  return (evalNode(node, pp, x) - evalNode(node, pm, x)) / (2 * h);
}

// One expression per function and operator rule, over parameters a, b and
// one variable x; arguments are kept inside the function's domain for
// a, b in [0.3, 1.2] and x in [0.1, 0.9].
const CASES = [
  "exp(a*x + b)",
  "log(a*x + b)",
  "ln(a*x + b)",
  "log10(a*x + b)",
  "sqrt(a*x + b)",
  "abs(a*x - b - 2)",
  "abs(a*x + b)",
  "sin(a*x + b)",
  "cos(a*x + b)",
  "tan((a*x + b) / 2)",
  "asin((a*x - b) / 3)",
  "acos((a*x - b) / 3)",
  "atan(a*x + b)",
  "arctan[b / (x - a)]",
  "atan2(a*x, b - x)",
  "atan2(b - x, -a*x)",
  "sinh(a*x + b)",
  "cosh(a*x - b)",
  "tanh(a*x - b)",
  "pow(a*x + b, b)",
  "(a*x + b) ^ 2.5",
  "a ^ x",
  "x ^ a",
  "(a - b*x) ^ 3",
  "(a - b*x - 2) ^ -2",
  "(a*x + b) ^ 0.5 + (a*x + b) ^ -0.5",
  "min(a*x, b)",
  "max(a*x, b)",
  "min(a, b) * x",
  "erf(a*x - b)",
  "wofz_re(a*x - b, b*x)",
  "wofz_im(a*x - b, b*x)",
  "a / (b + x)",
  "(a*x) / (b*x + 1)",
  "-(a*x)^2",
  "a * b * x - b / a + a - b",
  "-a",
  "b1 - b2",
  "exp(-a*x) * sin(b*x) / (1 + a^2)",
];

Deno.test("derivative: the cases call every function of the language", () => {
  // A function added to FUNCTION_ARITY needs a case here too.
  const called = new Set<string>(
    CASES.flatMap((c) => [...c.matchAll(/([a-z][a-z0-9_]*)[([]/g)])
      .map((m) => FUNCTION_ALIASES[m[1]] ?? m[1]),
  );
  const missing = Object.keys(FUNCTION_ARITY).filter((f) => !called.has(f));
  assert.deepStrictEqual(missing, []);
});

Deno.test("derivative: every rule matches central differences", () => {
  const rand = rng(42);
  for (const expr of CASES) {
    const { ast, params } = parseExpression(expr);
    const grads = gradient(ast, params.length);
    for (let trial = 0; trial < 8; trial++) {
      const p = params.map(() => 0.3 + 0.9 * rand());
      const x = [0.1 + 0.8 * rand()];
      // Stay away from the kinks of min/max.
      if (/min|max/.test(expr) && Math.abs(p[0] * x[0] - p[1]) < 1e-3) {
        continue;
      }
      for (let k = 0; k < params.length; k++) {
        const d = evalNode(grads[k], p, x);
        const fd = centralDiff(ast, p, x, k);
        assert.ok(Number.isFinite(d), `${expr} d/d${params[k]} = ${d}`);
        assert.ok(
          Math.abs(d - fd) <= 1e-6 * Math.max(1, Math.abs(fd)),
          `${expr} d/d${params[k]} at p=${p} x=${x}: ${d} vs ${fd}`,
        );
      }
    }
  }
});

function at(expr: string, k: number, p: number[], x: number[] = [0]) {
  const { ast } = parseExpression(expr);
  return evalNode(derivative(ast, k), p, x);
}

function close(actual: number, expected: number, rel = 1e-14) {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.max(1e-300, Math.abs(expected)),
    `${actual} vs ${expected}`,
  );
}

Deno.test("derivative: closed forms", () => {
  const [a, b, x] = [1.3, 0.7, 2.1];
  close(at("a * exp(-b * x)", 1, [a, b], [x]), -a * x * Math.exp(-b * x));
  close(at("atan2(a, b)", 0, [a, b]), b / (a * a + b * b));
  close(at("atan2(a, b)", 1, [a, b]), -a / (a * a + b * b));
  close(
    at("erf(a * x)", 0, [a], [x]),
    2 / Math.sqrt(Math.PI) * Math.exp(-((a * x) ** 2)) * x,
  );
  close(at("abs(a)", 0, [-2]), -1);
  close(at("abs(a)", 0, [3]), 1);
  close(at("tanh(a)", 0, [a]), 1 - Math.tanh(a) ** 2);
  close(at("tan(a)", 0, [a]), 1 / Math.cos(a) ** 2, 1e-13);
  close(at("log10(a)", 0, [a]), 1 / (a * Math.LN10));
  close(at("a ^ b", 1, [2, 3]), 8 * Math.LN2);
  close(at("a ^ b", 0, [2, 3]), 12);
  close(
    at("b1 * (b2 + x) ** (-1 / b3)", 2, [a, b, 3], [x]),
    a * (b + x) ** (-1 / 3) * Math.log(b + x) / 9,
  );
  // max picks the derivative of the larger argument.
  assert.strictEqual(at("max(a, 2 * b)", 0, [3, 1]), 1);
  assert.strictEqual(at("max(a, 2 * b)", 1, [3, 1]), 0);
  assert.strictEqual(at("max(a, 2 * b)", 1, [1, 3]), 2);
  assert.strictEqual(at("min(a, 2 * b)", 0, [1, 3]), 1);
  assert.strictEqual(at("min(a, 2 * b)", 1, [3, 1]), 2);
});

Deno.test("derivative: negative bases with constant exponents stay finite", () => {
  assert.strictEqual(at("a ^ 3", 0, [-2]), 12);
  assert.strictEqual(at("a ** 2", 0, [-2]), -4);
  assert.strictEqual(at("a ^ -1", 0, [-2]), -0.25);
  // exponent depends on other parameters only: still n u^(n-1) u'
  assert.strictEqual(at("a ^ b", 0, [-2, 3]), 12);
  // general rule needs log(a): NaN for a negative base, as in mathematics
  assert.ok(Number.isNaN(at("a ^ b", 1, [-2, 3])));
});

Deno.test("derivative: simplified forms", () => {
  const { ast } = parseExpression("a * x + b + 0 * c");
  assert.deepStrictEqual(derivative(ast, 0), { kind: "var", index: 0 });
  assert.deepStrictEqual(derivative(ast, 1), { kind: "num", value: 1 });
  assert.deepStrictEqual(derivative(ast, 2), { kind: "num", value: 0 });
  // a parameter index beyond the expression: zero
  assert.deepStrictEqual(derivative(ast, 7), { kind: "num", value: 0 });
  // d/da 3*a^2 = 6*a
  assert.deepStrictEqual(derivative(parseExpression("3 * a^2").ast, 0), {
    kind: "bin",
    op: "*",
    left: { kind: "num", value: 6 },
    right: { kind: "param", index: 0 },
  });
  // d/da -(-a) = 1
  assert.deepStrictEqual(derivative(parseExpression("-(-a)").ast, 0), {
    kind: "num",
    value: 1,
  });
  // d/da exp(a) is exp(a) itself, the same node as in simplify(f)
  const e = parseExpression("exp(a)").ast;
  assert.deepStrictEqual(derivative(e, 0), simplify(e));
  assert.throws(() => derivative(e, -1), RangeError);
});

Deno.test("simplify: constant folding and identities", () => {
  const s = (expr: string) => simplify(parseExpression(expr).ast);
  assert.deepStrictEqual(s("2 * pi / 4"), { kind: "num", value: Math.PI / 2 });
  assert.deepStrictEqual(s("exp(0) + sqrt(4)"), { kind: "num", value: 3 });
  assert.deepStrictEqual(s("a * 1 + 0"), { kind: "param", index: 0 });
  assert.deepStrictEqual(s("0 / a"), { kind: "num", value: 0 });
  assert.deepStrictEqual(s("a ^ 1"), { kind: "param", index: 0 });
  assert.deepStrictEqual(s("a ^ 0"), { kind: "num", value: 1 });
  assert.deepStrictEqual(s("a / 1"), { kind: "param", index: 0 });
  assert.deepStrictEqual(s("a / -1"), {
    kind: "neg",
    arg: { kind: "param", index: 0 },
  });
  assert.deepStrictEqual(s("--a"), { kind: "param", index: 0 });
  assert.deepStrictEqual(s("(-a) * (-b)"), s("a * b"));
  assert.deepStrictEqual(s("a - -b"), s("a + b"));
  assert.deepStrictEqual(s("a + -2"), s("a - 2"));
  assert.deepStrictEqual(s("x * 2 * 3"), s("6 * x"));
  assert.deepStrictEqual(s("1 / 0"), { kind: "num", value: Infinity });
  // simplification never changes a value beyond rounding
  const rand = rng(7);
  for (const expr of CASES) {
    const { ast, params } = parseExpression(expr);
    const p = params.map(() => 0.3 + 0.9 * rand()), x = [0.5];
    close(evalNode(simplify(ast), p, x), evalNode(ast, p, x), 1e-14);
  }
});
