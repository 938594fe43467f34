/**
 * Substitution of parameters in a model AST: the basis of parameter scaling
 * (and of fixed and tied parameters), done before differentiation so that
 * derivatives stay exact.
 *
 * @module
 */

import type { Node } from "./ast.ts";
import { mapBottomUp } from "./_walk.ts";

/**
 * Returns a copy of `ast` in which every parameter node `k` is replaced by
 * `replace(k)` (or kept where it returns null). Shared subtrees stay shared.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq/model";
 * const { ast } = parseExpression("a * x + b");
 * const out = substituteParams(ast, (k) => k === 1 ? { kind: "num", value: 2 } : null);
 * assert.deepStrictEqual((out as { right: unknown }).right, { kind: "num", value: 2 });
 * ```
 */
export function substituteParams(
  ast: Node,
  replace: (index: number) => Node | null,
): Node {
  // Bottom-up without recursion: a 5000-term sum is a 5000-deep chain.
  const out = mapBottomUp<Node>([ast], (n, get) => {
    switch (n.kind) {
      case "num":
      case "var":
        return n;
      case "param":
        return replace(n.index) ?? n;
      case "neg":
        return { kind: "neg", arg: get(n.arg) };
      case "bin":
        return {
          kind: "bin",
          op: n.op,
          left: get(n.left),
          right: get(n.right),
        };
      case "call":
        return { kind: "call", fn: n.fn, args: n.args.map(get) };
      default: {
        const never: never = n;
        throw new TypeError(`substituteParams: unknown node ${never}`);
      }
    }
  });
  return out.get(ast)!;
}
