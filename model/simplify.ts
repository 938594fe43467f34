/**
 * Algebraic simplification of model ASTs.
 *
 * The rules are local and cheap: constant folding (with the same arithmetic
 * the generated code uses), the identities `u+0`, `u*1`, `u*0 = 0`, `0/u = 0`,
 * `u^1`, `u^0 = 1`, `--u`, `(-u)*(-v) = u*v`, and moving numeric factors to
 * the left so `2*(3*u)` becomes `6*u`. Like scipy-level tools, `0*u` folds to
 * 0 even where `u` could be NaN or infinite.
 *
 * @module
 */

import type { Node } from "./ast.ts";
import { build } from "./_build.ts";
import { mapBottomUp } from "./_walk.ts";

/**
 * Simplifies `node` bottom-up with the rules above.
 * Shared subtrees stay shared (the result is a DAG when the input is); the
 * walk is iterative, so any depth works.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * const { ast } = parseExpression("0*a + 1*b - -c + 2*3");
 * // b + c + 6, with the parameters a=0, b=1, c=2 by index
 * assert.deepStrictEqual(simplify(ast), {
 *   kind: "bin",
 *   op: "+",
 *   left: {
 *     kind: "bin",
 *     op: "+",
 *     left: { kind: "param", index: 1 },
 *     right: { kind: "param", index: 2 },
 *   },
 *   right: { kind: "num", value: 6 },
 * });
 * ```
 */
export function simplify(node: Node): Node {
  const memo = mapBottomUp<Node>([node], (n, get) => {
    switch (n.kind) {
      case "num":
      case "param":
      case "var":
        return n;
      case "neg":
        return build.neg(get(n.arg));
      case "bin":
        return build.bin(n.op, get(n.left), get(n.right));
      case "call":
        return build.call(n.fn, n.args.map(get));
      default: {
        const never: never = n;
        throw new TypeError(`simplify: unknown node ${JSON.stringify(never)}`);
      }
    }
  });
  return memo.get(node)!;
}
