/**
 * Exact symbolic differentiation of model ASTs with respect to a parameter.
 *
 * @module
 */

import type {
  BinNode,
  CallNode,
  FunctionName,
  InternalFunctionName,
  Node,
} from "./ast.ts";
import { simplify } from "./simplify.ts";
import { build } from "./_build.ts";
import { ParamDependence, type SumTerm } from "./_dependence.ts";
import { wofzRule } from "./_faddeeva_rule.ts";

const { num, neg, add, sub, mul, div, pow, call } = build;

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The exact derivative d `node` / d p_k, simplified.
 *
 * Rules cover every function of the language; `abs` uses the internal
 * `sign(u)` and `min`/`max` the internal `ifLess(a, b, c, d)` (`a < b ? c :
 * d`). For `u ^ v` with `v` free of p_k the rule is `v * u^(v-1) * u'`, so
 * negative bases with integer exponents stay finite; otherwise
 * `u^v * (v' ln u + v u'/u)`. The result shares subtrees with `node` (and
 * with itself): it is a DAG, which {@linkcode toSsa} turns into shared
 * temporaries.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { evalNode } from "./_functions.ts";
 * const { ast, params } = parseExpression("a * exp(-b * x) + c");
 * const db = derivative(ast, 1); // -a * x * exp(-b * x)
 * const v = evalNode(db, [2, 0.5, 1], [3]);
 * assert.ok(Math.abs(v - -2 * 3 * Math.exp(-1.5)) < 1e-15);
 * const all = gradient(ast, params.length);
 * assert.deepStrictEqual(all[1], db);
 * assert.deepStrictEqual(all[2], { kind: "num", value: 1 });
 * ```
 */
export function derivative(node: Node, k: number): Node {
  if (!Number.isInteger(k) || k < 0) {
    throw new RangeError(`k must be a non-negative integer, got ${k}`);
  }
  return differentiator(node)(k);
}

/**
 * Prepares `node` for differentiation once (simplified tree, dependence
 * index) and returns d `node` / d p_k for any `k`. Each derivative visits
 * only the nodes that depend on p_k, children first, without recursion.
 */
function differentiator(node: Node): (k: number) => Node {
  // Work on the simplified tree so the value nodes the rules reuse (exp(u),
  // u/v, ...) are the same objects as in the simplified function.
  const f = simplify(node);
  const graph = new ParamDependence(f);
  return (k) => {
    const { nodes, terms } = graph.dependents(k);
    const depends = new Set(nodes);
    const memo = new Map<Node, Node>();
    const ctx: Context = {
      k,
      dep: (n) => depends.has(n),
      d: (n) => memo.get(n) ?? num(0),
    };
    for (const n of nodes) {
      const sum = graph.sums.get(n);
      memo.set(n, sum ? sumRule(sum, terms.get(n)!, ctx) : rule(n, ctx));
    }
    return ctx.d(f);
  };
}

/** What a rule needs: p_k, dependence on it, derivatives of operands. */
interface Context {
  readonly k: number;
  /** Whether a node depends on p_k. */
  readonly dep: (n: Node) => boolean;
  /** The derivative of an operand (already computed, or 0). */
  readonly d: (n: Node) => Node;
}

/**
 * d (±t_1 ± t_2 ...) = ±t_1' ± t_2' ..., in order, over the terms `slots`
 * that depend on p_k (the others contribute 0).
 */
function sumRule(
  sum: readonly SumTerm[],
  slots: readonly number[],
  { d }: Context,
): Node {
  let out = num(0);
  for (const i of slots) {
    const t = sum[i];
    out = t.sign === 1 ? add(out, d(t.node)) : sub(out, d(t.node));
  }
  return out;
}

function rule(n: Node, ctx: Context): Node {
  switch (n.kind) {
    case "num":
    case "var":
      return num(0);
    case "param":
      return num(n.index === ctx.k ? 1 : 0);
    case "neg":
      return neg(ctx.d(n.arg));
    case "bin":
      return binRule(n, ctx);
    case "call":
      return callRule(n, ctx);
    default: {
      const never: never = n;
      throw new TypeError(`derivative: unknown node ${JSON.stringify(never)}`);
    }
  }
}

function binRule(n: BinNode, ctx: Context): Node {
  const { dep, d } = ctx;
  const u = n.left, v = n.right;
  switch (n.op) {
    case "+":
      return add(d(u), d(v));
    case "-":
      return sub(d(u), d(v));
    case "*":
      return add(mul(d(u), v), mul(u, d(v)));
    case "/":
      if (!dep(v)) return div(d(u), v);
      // (u' - (u/v) v') / v reuses the value u/v.
      return div(sub(d(u), mul(n, d(v))), v);
    case "^":
      return powerRule(n, u, v, ctx);
    default: {
      const never: never = n.op;
      throw new TypeError(`derivative: unknown operator ${never}`);
    }
  }
}

/** d (u ^ v), where `n` is the value u ^ v. */
function powerRule(n: Node, u: Node, v: Node, { dep, d }: Context): Node {
  if (!dep(v)) return mul(mul(v, pow(u, sub(v, num(1)))), d(u));
  if (!dep(u)) return mul(mul(n, call("log", [u])), d(v));
  return mul(
    n,
    add(
      mul(d(v), call("log", [u])),
      div(mul(v, d(u)), u),
    ),
  );
}

/**
 * The derivative of one function call: `n` is the call (its value), `u` and
 * `v` its first two arguments.
 */
type CallRule = (n: CallNode, ctx: Context, u: Node, v: Node) => Node;

/**
 * The rule of every function. Typed by the function-name union: a function
 * added to `FUNCTION_ARITY` without a rule here is a compile error naming it.
 */
const CALL_RULES: {
  readonly [F in FunctionName | InternalFunctionName]: CallRule;
} = {
  exp: (n, { d }, u) => mul(n, d(u)),
  log: (_n, { d }, u) => div(d(u), u),
  log10: (_n, { d }, u) => div(d(u), mul(num(Math.LN10), u)),
  sqrt: (n, { d }, u) => div(mul(num(0.5), d(u)), n),
  abs: (_n, { d }, u) => mul(call("sign", [u]), d(u)),
  sin: (_n, { d }, u) => mul(call("cos", [u]), d(u)),
  cos: (_n, { d }, u) => neg(mul(call("sin", [u]), d(u))),
  tan: (n, { d }, u) => mul(add(num(1), pow(n, num(2))), d(u)),
  asin: (_n, { d }, u) =>
    div(d(u), call("sqrt", [sub(num(1), pow(u, num(2)))])),
  acos: (_n, { d }, u) =>
    neg(div(d(u), call("sqrt", [sub(num(1), pow(u, num(2)))]))),
  atan: (_n, { d }, u) => div(d(u), add(num(1), pow(u, num(2)))),
  // d atan2(u, v) = (v u' - u v') / (u^2 + v^2)
  atan2: (_n, { d }, u, v) =>
    div(
      sub(mul(v, d(u)), mul(u, d(v))),
      add(pow(u, num(2)), pow(v, num(2))),
    ),
  sinh: (_n, { d }, u) => mul(call("cosh", [u]), d(u)),
  cosh: (_n, { d }, u) => mul(call("sinh", [u]), d(u)),
  tanh: (n, { d }, u) => mul(sub(num(1), pow(n, num(2))), d(u)),
  // The parser turns pow(u, v) into u ^ v; kept for hand-built ASTs.
  pow: (n, ctx, u, v) => powerRule(n, u, v, ctx),
  min: (_n, { d }, u, v) => call("ifLess", [u, v, d(u), d(v)]),
  max: (_n, { d }, u, v) => call("ifLess", [u, v, d(v), d(u)]),
  erf: (_n, { d }, u) =>
    mul(
      mul(num(TWO_OVER_SQRT_PI), call("exp", [neg(pow(u, num(2)))])),
      d(u),
    ),
  wofz_re: (n, { d }, u, v) => wofzRule(n, d(u), d(v)),
  wofz_im: (n, { d }, u, v) => wofzRule(n, d(u), d(v)),
  sign: () => num(0),
  ifLess: (n, { d }, u, v) =>
    call("ifLess", [u, v, d(n.args[2]), d(n.args[3])]),
};

function callRule(n: CallNode, ctx: Context): Node {
  const [u, v] = n.args;
  return CALL_RULES[n.fn](n, ctx, u, v);
}

/**
 * All derivatives of `node` with respect to parameters `0 .. nParams-1`.
 *
 * `node` is simplified and indexed once; each derivative then visits only
 * the nodes that depend on its parameter (a sum counts as one node), so a
 * sum of many small terms costs time about linear in its size.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { evalNode } from "./_functions.ts";
 * const { ast, params } = parseExpression("a * exp(-b * x) + c");
 * const db = derivative(ast, 1); // -a * x * exp(-b * x)
 * const v = evalNode(db, [2, 0.5, 1], [3]);
 * assert.ok(Math.abs(v - -2 * 3 * Math.exp(-1.5)) < 1e-15);
 * const all = gradient(ast, params.length);
 * assert.deepStrictEqual(all[1], db);
 * assert.deepStrictEqual(all[2], { kind: "num", value: 1 });
 * ```
 */
export function gradient(node: Node, nParams: number): Node[] {
  const d = differentiator(node);
  return Array.from({ length: nParams }, (_, k) => d(k));
}
