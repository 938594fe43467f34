/**
 * Numeric meaning of every function of the AST, and a reference tree-walking
 * evaluator (private helpers: constant folding, tests, function-free checks).
 *
 * @module
 */

import type { FunctionName, InternalFunctionName, Node } from "./ast.ts";
import { erf } from "./_erf.ts";
import { wofzIm, wofzRe } from "./_faddeeva.ts";
import { mapBottomUp } from "./_walk.ts";

/** The numeric implementation of every public and internal function. */
export const MATH_FUNCTIONS: Readonly<
  Record<FunctionName | InternalFunctionName, (...args: number[]) => number>
> = {
  exp: Math.exp,
  log: Math.log,
  log10: Math.log10,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  atan2: Math.atan2,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  pow: Math.pow,
  min: Math.min,
  max: Math.max,
  erf,
  wofz_re: wofzRe,
  wofz_im: wofzIm,
  sign: Math.sign,
  ifLess: (a, b, c, d) => a < b ? c : d,
};

/** Applies binary operator `op` to numbers, exactly as generated code does. */
export function applyOperator(
  op: "+" | "-" | "*" | "/" | "^",
  a: number,
  b: number,
): number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    case "^":
      return Math.pow(a, b);
    default: {
      const never: never = op;
      throw new TypeError(`unknown operator ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Evaluates `node` at parameters `p` and one point `x` (one value per
 * feature), without recursion.
 */
export function evalNode(
  node: Node,
  p: ArrayLike<number>,
  x: ArrayLike<number>,
): number {
  const values = mapBottomUp<number>([node], (n, get) => {
    switch (n.kind) {
      case "num":
        return n.value;
      case "param":
        return p[n.index];
      case "var":
        return x[n.index];
      case "neg":
        return -get(n.arg);
      case "bin":
        return applyOperator(n.op, get(n.left), get(n.right));
      case "call":
        return MATH_FUNCTIONS[n.fn](...n.args.map(get));
      default: {
        const never: never = n;
        throw new TypeError(`evalNode: unknown node ${JSON.stringify(never)}`);
      }
    }
  });
  return values.get(node)!;
}
