import assert from "node:assert";
import { parseExpression } from "../model/parser.ts";
import { gradient } from "../model/derivative.ts";
import { compileJs } from "../model/compile_js.ts";
import { toSsa } from "../model/ssa.ts";
import { liveInstructions, variableDependence } from "../model/ssa_analysis.ts";
import { model } from "../model/model.ts";
import { modelSsa } from "../model/model_ssa.ts";
import { evalNode } from "../model/_functions.ts";
import { FUNCTION_ARITY, type Node } from "../model/ast.ts";
import { FUNCTION_ALIASES } from "../model/_names.ts";

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function close(actual: number, expected: number, rel: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

const EXPRESSIONS = [
  "a * exp(-b * x) + c",
  "b1*exp( -b2*x ) + b3*exp( -(x-b4)**2 / b5**2 ) + b6*exp( -(x-b7)**2 / b8**2 )",
  "(b1+b2*x+b3*x**2+b4*x**3) / (1+b5*x+b6*x**2+b7*x**3)",
  "b1 - b2*x - arctan[b3/(x-b4)]/pi",
  "a * erf(b * (x - c)) + abs(a - x) + min(a, x) * max(b, x)",
  "atan2(a, x + b) + sinh(a*x) - cosh(b) * tanh(x) + log10(a + x)",
  "(a - b*x) ^ 3 + (a*x + 2) ^ -2 + sqrt(a + x) + (b + x) ^ 0.5 + x ^ a",
  "a + 0 * b + 3",
  "sin(a*x) + cos(b*x) * tan(a*x/3) + asin(x/2) - acos(b*x/3) + atan(a/x)",
  "log(b + x) * pow(a + x, b) - pow(x, 2) + ln(a*x)",
  "a * wofz_re((x - b) / c, c) + wofz_im(a * x, b)",
];

Deno.test("codegen: the expressions call every function of the language", () => {
  // A function added to FUNCTION_ARITY needs an expression here too.
  const called = new Set<string>(
    EXPRESSIONS.flatMap((e) => [...e.matchAll(/([a-z][a-z0-9_]*)[([]/g)])
      .map((m) => FUNCTION_ALIASES[m[1]] ?? m[1]),
  );
  const missing = Object.keys(FUNCTION_ARITY).filter((f) => !called.has(f));
  assert.deepStrictEqual(missing, []);
});

/** Runs the kernel on rows start..end of random data, checks every column. */
function checkKernel(expr: string, weighted: boolean, withJac: boolean) {
  const m = model(expr);
  const { ast } = parseExpression(expr);
  const nP = m.params.length;
  const rand = rng(expr.length * 31 + (weighted ? 1 : 0));
  const n = 37, start = 5, end = 33, ld = 31;
  const x = Float64Array.from({ length: n }, () => 0.1 + 0.8 * rand());
  const y = Float64Array.from({ length: n }, () => rand());
  const w = weighted
    ? Float64Array.from({ length: n }, () => 0.5 + rand())
    : null;
  const p = Float64Array.from({ length: nP }, () => 0.3 + 0.9 * rand());
  const B = new Float64Array(ld * (nP + 1)).fill(-12345);
  const sum = m.kernel([x], y, w, p, start, end, B, ld, withJac);
  const f = m.evaluate([x], p);
  const grads = gradient(ast, nP);
  let expected = 0;
  for (let r = start; r < end; r++) {
    const i = r - start, wi = w ? w[r] : 1;
    const fr = evalNode(ast, p, [x[r]]);
    close(f[r], fr, 1e-13, `${expr} evaluate row ${r}`);
    const res = wi * (fr - y[r]);
    close(B[nP * ld + i], res, 1e-13, `${expr} residual row ${r}`);
    expected += res * res;
    for (let k = 0; k < nP; k++) {
      if (withJac) {
        const d = wi * evalNode(grads[k], p, [x[r]]);
        close(B[k * ld + i], d, 1e-13, `${expr} d/d${m.params[k]} row ${r}`);
      } else {
        assert.strictEqual(B[k * ld + i], -12345, "Jacobian not requested");
      }
    }
  }
  close(sum, expected, 1e-13, `${expr} sum of squares`);
  // rows past end - start are left alone
  for (let k = 0; k <= nP; k++) {
    for (let i = end - start; i < ld; i++) {
      assert.strictEqual(B[k * ld + i], -12345);
    }
  }
}

Deno.test("kernel: residuals and Jacobian match evaluate and the derivatives", () => {
  for (const expr of EXPRESSIONS) {
    for (const weighted of [false, true]) {
      for (const withJac of [true, false]) checkKernel(expr, weighted, withJac);
    }
  }
});

Deno.test("kernel: NaN and Infinity propagate to the sum", () => {
  const m = model("log(a * x)");
  const B = new Float64Array(4);
  const x = new Float64Array([1, -1]), y = new Float64Array(2);
  const s = m.kernel([x], y, null, new Float64Array([1]), 0, 2, B, 2, true);
  assert.ok(Number.isNaN(s));
  assert.ok(Number.isNaN(B[3]));
  assert.strictEqual(B[2], 0); // log(1) - 0
});

Deno.test("kernel: several variables", () => {
  const m = model("b1 - b2*x1 * exp[-b3*x2]", { variables: ["x1", "x2"] });
  const x1 = new Float64Array([1, 2]), x2 = new Float64Array([3, 4]);
  const p = new Float64Array([2, 0.5, 0.1]);
  const f = m.evaluate([x1, x2], p);
  assert.deepStrictEqual(
    f,
    new Float64Array([2 - 0.5 * Math.exp(-0.1 * 3), 2 - Math.exp(-0.1 * 4)]),
  );
  const B = new Float64Array(8);
  m.kernel([x1, x2], new Float64Array(2), null, p, 0, 2, B, 2, true);
  assert.deepStrictEqual([B[0], B[1]], [1, 1]);
  assert.strictEqual(B[2], -Math.exp(-0.3));
  close(B[5], 0.5 * 2 * 4 * Math.exp(-0.4), 1e-15, "d/db3");
  const idx = model("a * x0 + b * x2");
  assert.deepStrictEqual(idx.variables, ["x0", "x1", "x2"]);
  assert.throws(
    () => idx.evaluate([x1, x2], [1, 1]),
    /x has 2 columns, the model needs 3/,
  );
});

Deno.test("ssa: common subexpressions are shared across f and derivatives", () => {
  const { ast, params } = parseExpression("a * exp(-b * x) + c");
  const ssa = toSsa([ast, ...gradient(ast, params.length)]);
  // -b, -b*x, exp, a*exp, +c, -x, exp*(-x), a*(exp*(-x))
  assert.strictEqual(ssa.instructions.length, 8);
  const calls = ssa.instructions.filter((i) => i.kind === "call");
  assert.deepStrictEqual(calls, [{
    kind: "call",
    fn: "exp",
    args: [{ kind: "tmp", index: 1 }],
  }]);

  // Gauss1: three exponentials however many derivatives use them.
  const g = parseExpression(EXPRESSIONS[1]);
  const all = [g.ast, ...gradient(g.ast, g.params.length)];
  const gs = toSsa(all);
  const exps = gs.instructions.filter((i) =>
    i.kind === "call" && i.fn === "exp"
  );
  assert.strictEqual(exps.length, 3);
  // The trees, counted node by node, are far larger than the program.
  const size = (n: Node): number =>
    n.kind === "neg"
      ? 1 + size(n.arg)
      : n.kind === "bin"
      ? 1 + size(n.left) + size(n.right)
      : n.kind === "call"
      ? 1 + n.args.reduce((s, a) => s + size(a), 0)
      : 0;
  const treeOps = all.reduce((s, n) => s + size(n), 0);
  assert.ok(
    gs.instructions.length < treeOps / 2,
    `${gs.instructions.length} vs ${treeOps}`,
  );
  // Commutative operands are shared: a*b and b*a are one instruction.
  assert.strictEqual(
    toSsa([parseExpression("a*b + b*a").ast]).instructions.length,
    2,
  );
});

Deno.test("ssa: parameter-only work is hoisted out of the loop", () => {
  const m = model("a * exp(-b * x) + c");
  const whole = m.kernelSource!;
  // Skip the helpers (fastExp and its tables) placed before the kernel.
  const src = whole.slice(whole.indexOf("function nlsqKernel"));
  const loop = src.indexOf("for (");
  assert.ok(loop > 0);
  assert.match(src.slice(0, loop), /const t0 = -p1;/);
  assert.doesNotMatch(src.slice(loop), /-p1/);
  const { ast } = parseExpression("exp(-b * x) * (a^2 + c^2)");
  const ssa = toSsa([ast]);
  const dep = variableDependence(ssa);
  assert.strictEqual(dep.filter((d) => !d).length, 4); // -b, a*a, c*c, +
  // the value-only loop skips derivative-only instructions
  const withD = toSsa([ast, ...gradient(ast, 3)]);
  const live = liveInstructions(withD, [0]);
  assert.ok(live.filter(Boolean).length < withD.instructions.length);
});

Deno.test("ssa: integer and half powers are strength-reduced", () => {
  const ops = (expr: string, strengthReduce = true) =>
    toSsa([parseExpression(expr).ast], { strengthReduce }).instructions;
  const sq = ops("(x - b)^2");
  assert.deepStrictEqual(sq.map((i) => i.kind === "bin" ? i.op : i.kind), [
    "-",
    "*",
  ]);
  assert.strictEqual(ops("x^8").length, 3); // three squarings
  assert.ok(ops("x^-3").some((i) => i.kind === "bin" && i.op === "/"));
  assert.ok(ops("x^0.5").some((i) => i.kind === "call" && i.fn === "sqrt"));
  assert.ok(ops("x^2.5").some((i) => i.kind === "bin" && i.op === "^"));
  assert.ok(ops("x^2", false).some((i) => i.kind === "bin" && i.op === "^"));
  assert.deepStrictEqual(toSsa([parseExpression("x^0").ast]).outputs, [{
    kind: "num",
    value: 1,
  }]);
  // negative bases with integer exponents are exact
  const m = model("(a - x)^3 + (a - x)^-2");
  const f = m.evaluate([new Float64Array([3])], [1]);
  assert.strictEqual(f[0], -8 + 0.25);
});

Deno.test("codegen: non-finite constants are printed safely", () => {
  const inf = model("a * x + 1e999");
  assert.match(inf.kernelSource!, /\(1\/0\)/);
  assert.deepStrictEqual(
    inf.evaluate([new Float64Array([1])], [1]),
    new Float64Array([Infinity]),
  );
  const nan = model("a * x + (1e999 - 1e999)");
  assert.match(nan.kernelSource!, /\(0\/0\)/);
  const neg = model("a * x - 1e999");
  assert.deepStrictEqual(
    neg.evaluate([new Float64Array([1])], [1]),
    new Float64Array([-Infinity]),
  );
  assert.ok(Number.isNaN(nan.evaluate([new Float64Array([1])], [1])[0]));
});

const HOSTILE_NAMES = [
  "constructor",
  "__proto__",
  "toString",
  "globalThis",
  "Math",
  "eval",
  "Function",
  "p",
  "X",
  "y",
  "w",
  "B",
  "t0",
  "p0",
  "x_1",
  "s",
  "r",
  "i",
  "o1",
  "oR",
  "ld",
  "start",
  "end",
  "withJac",
  "sign",
  "ifLess",
  "this",
  "return",
  "let",
];

Deno.test("codegen: no user text reaches the generated source", () => {
  // Every name is a parameter; the source must only use generated names.
  const expr = HOSTILE_NAMES.map((n, k) => `${n} * x^${k % 3} `).join(" + ") +
    " + erf(p) + exp(p)";
  const m = model(expr);
  assert.deepStrictEqual(m.params, HOSTILE_NAMES);
  const withErf = m.kernelSource!.replace(
    /const EXP_HI[\s\S]*?\nfunction fastExp[\s\S]*?\n\}\n/,
    "",
  );
  assert.ok(withErf.length < m.kernelSource!.length, "fastExp inlined");
  const body = withErf.replace(
    /const erf = function erf[\s\S]*?\n\};\n/,
    "",
  );
  assert.ok(body.length < withErf.length, "erf helper inlined");
  const idents = new Set(body.match(/[A-Za-z_$][\w$]*/g));
  const allowed =
    /^(p\d*|X\d*|x\d+|t\d+|o\d+|oR|Math|exp|log|log10|sqrt|abs|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|pow|min|max|sign|erf|fastExp|nlsqKernel|y|w|B|ld|start|end|withJac|r|i|s|res|wi|const|let|for|if|else|return|function|null|use|strict)$/;
  for (const id of idents) {
    assert.match(id, allowed, `identifier ${id} in source`);
  }
  // ...and computes with the right values.
  const nP = HOSTILE_NAMES.length;
  const p = Float64Array.from({ length: nP }, (_, k) => (k + 1) / 10);
  let expected = 0;
  for (let k = 0; k < nP; k++) expected += p[k] * 2 ** (k % 3);
  expected += 0.7421009647076605; // erf(p), p = 0.8 (the 8th name)
  expected += Math.exp(0.8);
  const f = m.evaluate([new Float64Array([2])], p);
  close(f[0], expected, 1e-14, "hostile model value");
});

Deno.test("codegen: hostile expressions cannot execute code", () => {
  const g = globalThis as Record<string, unknown>;
  for (
    const s of [
      "x); globalThis.pwned=1; (x",
      "x + globalThis.pwned",
      "x + (globalThis['pwned'] = 1)",
      "constructor.constructor('globalThis.pwned=1')()",
      "x`globalThis.pwned=1`",
      "x\n;globalThis.pwned=1",
      "a * x /* */ + 1",
      "a * x // + 1",
      "\\u0061 * x",
    ]
  ) {
    assert.throws(() => model(s), SyntaxError, s);
  }
  assert.strictEqual(g.pwned, undefined);
  // A parser bypass through hand-built ASTs is refused too.
  assert.throws(
    () =>
      compileJs(
        {
          kind: "call",
          fn: "constructor" as "exp",
          args: [{ kind: "num", value: 1 }],
        },
        [],
        1,
      ),
    TypeError,
  );
  assert.throws(
    () =>
      compileJs(
        { kind: "param", index: "0;globalThis.pwned=1" as unknown as number },
        [{ kind: "num", value: 0 }],
        1,
      ),
    TypeError,
  );
  assert.strictEqual(g.pwned, undefined);
});

Deno.test("codegen: kernelSource rebuilds the same kernel in a worker", async () => {
  const m = model("a * erf(b * x) + c * x^2");
  const x = new Float64Array([0.1, 0.5, 1.5, 3]);
  const y = new Float64Array([0, 1, 0, 1]);
  const p = new Float64Array([1.5, 0.7, -0.2]);
  const B = new Float64Array(4 * 4);
  const s = m.kernel([x], y, null, p, 0, 4, B, 4, true);
  const code = `self.onmessage = (e) => {
    const { src, x, y, p } = e.data;
    const kernel = new Function("return " + src)();
    const B = new Float64Array(16);
    const s = kernel([x], y, null, p, 0, 4, B, 4, true);
    self.postMessage({ s, B });
  };`;
  const url = URL.createObjectURL(
    new Blob([code], { type: "text/javascript" }),
  );
  const worker = new Worker(url, { type: "module" });
  try {
    const out = await new Promise<{ s: number; B: Float64Array }>(
      (resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(e);
        worker.postMessage({ src: m.kernelSource, x, y, p });
      },
    );
    assert.strictEqual(out.s, s);
    assert.deepStrictEqual(out.B, B);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("codegen: evaluate matches the tree for every case", () => {
  const rand = rng(3);
  for (const expr of EXPRESSIONS) {
    const m = model(expr);
    const { ast } = parseExpression(expr);
    const x = Float64Array.from({ length: 10 }, () => 0.1 + 0.8 * rand());
    const p = Array.from(m.params, () => 0.3 + 0.9 * rand());
    const f = m.evaluate([x], p);
    for (let r = 0; r < x.length; r++) {
      close(f[r], evalNode(ast, p, [x[r]]), 1e-13, expr);
    }
  }
});

Deno.test("modelSsa: the program the JavaScript kernel runs", () => {
  const m = model(EXPRESSIONS[1]);
  const js = compileJs(m.ast!, m.derivatives!, 1);
  assert.deepStrictEqual(modelSsa(m), js.ssa);
  assert.strictEqual(modelSsa(m).outputs.length, 1 + m.params.length);
  assert.throws(
    () => modelSsa(model((x: number, a: number) => a * x)),
    TypeError,
  );
});
