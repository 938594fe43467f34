/**
 * Substitution of parameters in a model AST: the basis of parameter scaling
 * (and of fixed and tied parameters), done before differentiation so that
 * derivatives stay exact.
 *
 * @module
 */

import type { Node } from "./ast.ts";

/**
 * Returns a copy of `ast` in which every parameter node `k` is replaced by
 * `replace(k)` (or kept where it returns null). Shared subtrees stay shared.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq";
 * const { ast } = parseExpression("a * x + b");
 * const out = substituteParams(ast, (k) => k === 1 ? { kind: "num", value: 2 } : null);
 * assert.deepStrictEqual((out as { right: unknown }).right, { kind: "num", value: 2 });
 * ```
 */
export function substituteParams(
  ast: Node,
  replace: (index: number) => Node | null,
): Node {
  const memo = new Map<Node, Node>();
  const walk = (n: Node): Node => {
    const hit = memo.get(n);
    if (hit) return hit;
    let out: Node;
    switch (n.kind) {
      case "num":
      case "var":
        out = n;
        break;
      case "param":
        out = replace(n.index) ?? n;
        break;
      case "neg":
        out = { kind: "neg", arg: walk(n.arg) };
        break;
      case "bin":
        out = {
          kind: "bin",
          op: n.op,
          left: walk(n.left),
          right: walk(n.right),
        };
        break;
      case "call":
        out = { kind: "call", fn: n.fn, args: n.args.map(walk) };
        break;
      default: {
        const never: never = n;
        throw new TypeError(`substituteParams: unknown node ${never}`);
      }
    }
    memo.set(n, out);
    return out;
  };
  return walk(ast);
}
