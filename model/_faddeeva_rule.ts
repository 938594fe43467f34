/**
 * The derivative of `wofz_re(a, b)` and `wofz_im(a, b)` (private helper of
 * differentiation).
 *
 * w = u + i v is analytic with w'(z) = -2 z w(z) + 2i/sqrt(pi), so with
 * P = Re(z w) = a u - b v and Q = Im(z w) = a v + b u (Cauchy-Riemann):
 * du = -2P da + (2Q - 2/sqrt(pi)) db and dv = (2/sqrt(pi) - 2Q) da - 2P db,
 * exact and written with `wofz_re` and `wofz_im` again.
 *
 * @module
 */

import type { CallNode, Node } from "./ast.ts";
import { build } from "./_build.ts";

const { num, add, sub, mul, call } = build;

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * d `n` for `n` = wofz_re(a, b) or wofz_im(a, b), given the derivatives
 * `da`, `db` of its arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { derivative } from "./derivative.ts";
 * import { evalNode } from "./_functions.ts";
 * const { ast } = parseExpression("wofz_re(a, 0.5)");
 * // d/da Re w(a + 0.5i) = -2 (a Re w - 0.5 Im w)
 * const d = evalNode(derivative(ast, 0), [0.3], [0]);
 * assert.ok(Math.abs(d - -0.20263496518514) < 1e-14);
 * ```
 */
export function wofzRule(n: CallNode, da: Node, db: Node): Node {
  const [a, b] = n.args;
  const U = n.fn === "wofz_re" ? n : call("wofz_re", [a, b]);
  const V = n.fn === "wofz_im" ? n : call("wofz_im", [a, b]);
  const m2P = mul(num(-2), sub(mul(a, U), mul(b, V)));
  const R = sub(mul(num(2), add(mul(a, V), mul(b, U))), num(TWO_OVER_SQRT_PI));
  return n.fn === "wofz_re"
    ? add(mul(m2P, da), mul(R, db))
    : sub(mul(m2P, db), mul(R, da));
}
