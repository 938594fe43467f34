import assert from "node:assert";
import type { Node } from "../model/ast.ts";
import { parseExpression } from "../model/parser.ts";
import { ModelSyntaxError } from "../model/syntax_error.ts";
import { evalNode } from "../model/_functions.ts";

const X: Node = { kind: "var", index: 0 };
const num = (value: number): Node => ({ kind: "num", value });
const bin = (
  op: "+" | "-" | "*" | "/" | "^",
  left: Node,
  right: Node,
): Node => ({
  kind: "bin",
  op,
  left,
  right,
});

/** Value of `expr` at parameters `p` and point `x`. */
function valueOf(expr: string, p: number[] = [], x: number[] = [0]): number {
  return evalNode(parseExpression(expr).ast, p, x);
}

Deno.test("parser: precedence and associativity", () => {
  assert.deepStrictEqual(
    parseExpression("-x**2").ast,
    { kind: "neg", arg: bin("^", X, num(2)) },
  );
  assert.deepStrictEqual(
    parseExpression("2^3^2").ast,
    bin("^", num(2), bin("^", num(3), num(2))),
  );
  assert.strictEqual(valueOf("2^3^2"), 512);
  assert.strictEqual(valueOf("2**3**2"), 512);
  assert.strictEqual(valueOf("2**-1"), 0.5);
  assert.strictEqual(valueOf("2^-1^2"), 0.5); // 2^(-(1^2))
  assert.strictEqual(valueOf("-2**2"), -4);
  assert.strictEqual(valueOf("(-2)**2"), 4);
  assert.strictEqual(valueOf("1 - 2 - 3"), -4);
  assert.strictEqual(valueOf("8 / 4 / 2"), 1);
  assert.strictEqual(valueOf("1 + 2 * 3"), 7);
  assert.strictEqual(valueOf("2 * 3 ^ 2"), 18);
  assert.strictEqual(valueOf("-3 * -2"), 6);
  assert.strictEqual(valueOf("--2"), 2);
  assert.strictEqual(valueOf("+-+2"), -2);
  assert.strictEqual(valueOf("[1 + 2] * (3 - [4])"), -3);
  assert.strictEqual(valueOf("2 * -x^2", [], [3]), -18);
});

Deno.test("parser: numbers and constants", () => {
  assert.strictEqual(valueOf("1"), 1);
  assert.strictEqual(valueOf("1.5"), 1.5);
  assert.strictEqual(valueOf(".5"), 0.5);
  assert.strictEqual(valueOf("1e-3"), 1e-3);
  assert.strictEqual(valueOf("1.E+2"), 100);
  assert.strictEqual(valueOf("2.5E0"), 2.5);
  assert.strictEqual(valueOf("pi"), Math.PI);
  assert.strictEqual(valueOf("e"), Math.E);
  assert.strictEqual(valueOf("1e999"), Infinity);
  assert.deepStrictEqual(parseExpression("pi").params, []);
});

Deno.test("parser: functions, pow and aliases", () => {
  assert.strictEqual(valueOf("ln(e)"), 1);
  assert.strictEqual(valueOf("arctan(1)"), Math.atan(1));
  assert.strictEqual(valueOf("arcsin(0.5)"), Math.asin(0.5));
  assert.strictEqual(valueOf("arccos(0.5)"), Math.acos(0.5));
  assert.strictEqual(valueOf("atan2(1, -1)"), Math.atan2(1, -1));
  assert.strictEqual(valueOf("pow(2, 10)"), 1024);
  assert.strictEqual(valueOf("min(2, -3) + max(2, -3)"), -1);
  assert.strictEqual(valueOf("log10(1000)"), 3);
  assert.strictEqual(valueOf("erf(0.5)"), 0.5204998778130465);
  assert.strictEqual(valueOf("exp[1]"), Math.E);
  // pow(a, b) is the operator a ^ b.
  assert.deepStrictEqual(
    parseExpression("pow(x, 2)").ast,
    parseExpression("x ^ 2").ast,
  );
  assert.deepStrictEqual(parseExpression("ln(x)").ast, {
    kind: "call",
    fn: "log",
    args: [X],
  });
});

Deno.test("parser: parameters in order of first use; options.params", () => {
  const r = parseExpression("c + b * exp(-a * x) + b");
  assert.deepStrictEqual(r.params, ["c", "b", "a"]);
  assert.deepStrictEqual(r.variables, ["x"]);
  const fixed = parseExpression("c + b * x", { params: ["b", "c", "unused"] });
  assert.deepStrictEqual(fixed.params, ["b", "c", "unused"]);
  assert.deepStrictEqual(fixed.ast, {
    kind: "bin",
    op: "+",
    left: { kind: "param", index: 1 },
    right: bin("*", { kind: "param", index: 0 }, X),
  });
  // Names that are JavaScript specials are plain parameters.
  assert.deepStrictEqual(
    parseExpression("constructor * x + __proto__ + toString").params,
    ["constructor", "__proto__", "toString"],
  );
  // A model without variables still has one feature, x.
  assert.deepStrictEqual(parseExpression("a").variables, ["x"]);
});

Deno.test("parser: variables", () => {
  const indexed = parseExpression("a * x0 + b * x2");
  assert.deepStrictEqual(indexed.variables, ["x0", "x1", "x2"]);
  assert.strictEqual(evalNode(indexed.ast, [2, 3], [5, 7, 11]), 43);
  const named = parseExpression("b1 - b2*x1 * exp[-b3*x2]", {
    variables: ["x1", "x2"],
  });
  assert.deepStrictEqual(named.params, ["b1", "b2", "b3"]);
  assert.deepStrictEqual(named.variables, ["x1", "x2"]);
  assert.strictEqual(evalNode(named.ast, [1, 2, 0], [3, 4]), 1 - 6);
  // Explicit variables: `x` is then an ordinary parameter name.
  const t = parseExpression("x * t + y", { variables: ["t", "y"] });
  assert.deepStrictEqual(t.params, ["x"]);
  assert.deepStrictEqual(t.variables, ["t", "y"]);
  // x01 is not the default name of column 1: it is a parameter.
  assert.deepStrictEqual(parseExpression("x01 * x").params, ["x01"]);
});

Deno.test("parser: with a plain x, x0, x1, ... are parameters", () => {
  // NLSQ's sigmoid: x0 is the centre, a parameter.
  const sigmoid = parseExpression("a/(1+exp(-k*(x-x0)))");
  assert.deepStrictEqual(sigmoid.params, ["a", "k", "x0"]);
  assert.deepStrictEqual(sigmoid.variables, ["x"]);
  assert.strictEqual(
    evalNode(sigmoid.ast, [2, 3, 0.5], [1.5]),
    2 / (1 + Math.exp(-3 * (1.5 - 0.5))),
  );
  // x may come after x0 and x1: the rule looks at the whole expression.
  const lorentz = parseExpression("x1 * g^2 / ((x0 - x)^2 + g^2)");
  assert.deepStrictEqual(lorentz.params, ["x1", "g", "x0"]);
  assert.deepStrictEqual(lorentz.variables, ["x"]);
  assert.strictEqual(
    evalNode(lorentz.ast, [3, 0.5, 1], [2]),
    3 * 0.25 / (1 + 0.25),
  );
  // Without x, x0 and x1 are the feature columns.
  const plane = parseExpression("a*x0+b*x1");
  assert.deepStrictEqual(plane.params, ["a", "b"]);
  assert.deepStrictEqual(plane.variables, ["x0", "x1"]);
  assert.strictEqual(evalNode(plane.ast, [2, 3], [5, 7]), 31);
  // A call named x is not the variable x (and is an unknown function).
  assert.throws(() => parseExpression("x0 * x(1)"), /Unknown function 'x'/);
  // options.params may list x0 when the expression uses x...
  const ordered = parseExpression("a/(1+exp(-k*(x-x0)))", {
    params: ["x0", "k", "a"],
  });
  assert.deepStrictEqual(ordered.params, ["x0", "k", "a"]);
  assert.deepStrictEqual(ordered.variables, ["x"]);
  // ...but not when x0 is a variable there.
  assert.throws(
    () => parseExpression("a * x0", { params: ["a", "x0"] }),
    /'x0' is a default variable name \(the expression does not use 'x'\)/,
  );
  // Explicit variables decide alone: every other name is a parameter.
  const t = parseExpression("a/(1+exp(-k*(t-x0)))", { variables: ["t"] });
  assert.deepStrictEqual([t.params, t.variables], [["a", "k", "x0"], ["t"]]);
  const cols = parseExpression("x*x0 + x1", { variables: ["x0", "x1"] });
  assert.deepStrictEqual(cols.params, ["x"]);
  assert.deepStrictEqual(cols.variables, ["x0", "x1"]);
  assert.strictEqual(evalNode(cols.ast, [2], [3, 4]), 10);
});

Deno.test("parser: bad options are TypeErrors", () => {
  assert.throws(
    () => parseExpression("a * x", { params: ["a", "a"] }),
    TypeError,
  );
  assert.throws(
    () => parseExpression("a * t", { params: ["a", "t"], variables: ["t"] }),
    /both options.params and options.variables/,
  );
  assert.throws(
    () => parseExpression("a * x", { params: ["a", "x"] }),
    /default variable name/,
  );
  assert.throws(() => parseExpression("a", { params: ["exp"] }), /function/);
  assert.throws(() => parseExpression("a", { params: ["pi"] }), /constant/);
  assert.throws(() => parseExpression("a", { params: ["1a"] }), /identifier/);
  assert.throws(
    () => parseExpression(42 as unknown as string),
    TypeError,
  );
});

function syntaxError(
  expr: string,
  options?: Parameters<typeof parseExpression>[1],
): ModelSyntaxError {
  try {
    parseExpression(expr, options);
  } catch (e) {
    assert.ok(e instanceof ModelSyntaxError, String(e));
    assert.ok(e instanceof SyntaxError);
    assert.strictEqual(e.name, "ModelSyntaxError");
    assert.strictEqual(e.expression, expr);
    return e;
  }
  throw new Error(`no error for ${JSON.stringify(expr)}`);
}

Deno.test("parser: error message shows the expression and a caret", () => {
  const e = syntaxError("a * foo(x)");
  assert.strictEqual(e.position, 4);
  assert.strictEqual(
    e.message,
    "Unknown function 'foo' at position 4\n  a * foo(x)\n      ^",
  );
});

Deno.test("parser: every error class names what and where", () => {
  const cases: [string, number, RegExp][] = [
    ["", 0, /^Empty expression at position 0/],
    ["   ", 3, /^Empty expression/],
    ["a * sign(x)", 4, /^Unknown function 'sign'/],
    ["ifLess(a, b, c, d)", 0, /^Unknown function 'ifLess'/],
    ["exp(x, 2)", 0, /^Function 'exp' takes 1 argument, got 2/],
    ["atan2(x)", 0, /^Function 'atan2' takes 2 arguments, got 1/],
    ["sin()", 0, /^Function 'sin' takes 1 argument, got 0/],
    ["a * (x + 1", 4, /^Unbalanced '\(': missing '\)'/],
    ["exp[x", 3, /^Unbalanced '\['/],
    ["a * x)", 5, /^Unbalanced '\)'/],
    ["(a * x]", 6, /^Expected '\)' to close '\(' at position 0, found '\]'/],
    ["a * x b", 6, /^Unexpected name 'b'/],
    ["2 x", 2, /^Unexpected name 'x'/],
    ["a * * x", 4, /^Unexpected '\*'/],
    ["a +", 3, /^Unexpected end of expression/],
    ["a # x", 2, /^Unexpected character "#"/],
    ["a * x; b", 5, /^Unexpected character ";"/],
    ["exp * x", 0, /^'exp' is a function name/],
    ["ln + x", 0, /^'ln' is a function name/],
    ["pi(x)", 0, /^'pi' is a constant, not a function/],
    [
      "(".repeat(1001) + "x" + ")".repeat(1001),
      1000,
      /^Expression nests deeper than 1000 levels/,
    ],
    ["a * x5000", 4, /exceeds 1023/],
    ["2e + x", 0, /^Malformed number '2e/],
    ["a, b", 1, /^Unexpected ','/],
    ["()", 1, /^Unbalanced '\)'/],
  ];
  for (const [expr, position, message] of cases) {
    const e = syntaxError(expr);
    assert.strictEqual(e.position, position, expr);
    assert.match(e.message, message, expr);
    assert.match(e.message, new RegExp(`at position ${position}\\n`), expr);
    const lines = e.message.split("\n");
    assert.strictEqual(lines.length, 3, expr);
    assert.strictEqual(lines[2], " ".repeat(2 + position) + "^", expr);
  }
  const unknown = syntaxError("a * q", { params: ["a"] });
  assert.strictEqual(unknown.position, 4);
  assert.match(unknown.message, /^Unknown name 'q' \(not in options.params\)/);
});

Deno.test("parser: caret stays aligned across line breaks", () => {
  const e = syntaxError("(b1 + b2*x) /\n  (1 + foo(x))");
  assert.strictEqual(e.position, 21);
  const [, shown, caret] = e.message.split("\n");
  assert.strictEqual(shown.slice(2 + 21, 2 + 24), "foo");
  assert.strictEqual(caret.indexOf("^"), 2 + 21);
});

Deno.test("parser: hostile strings are syntax errors or plain names", () => {
  for (
    const s of [
      "x); globalThis.pwned=1; (x",
      "x`${globalThis.pwned=1}`",
      '"a" + x',
      "x /* comment */",
      "a.b * x",
      "x => 1",
      "\u0430 * x", // Cyrillic a
    ]
  ) {
    assert.throws(() => parseExpression(s), ModelSyntaxError, s);
  }
  assert.strictEqual("pwned" in globalThis, false);
});
