/**
 * Simplifying smart constructors of AST nodes (private helpers of
 * simplification and differentiation).
 *
 * @module
 */

import type {
  BinNode,
  FunctionName,
  InternalFunctionName,
  Node,
  NumNode,
} from "./ast.ts";
import { MATH_FUNCTIONS } from "./_functions.ts";

function isNum(n: Node): n is NumNode {
  return n.kind === "num";
}

function isValue(n: Node, value: number): boolean {
  return n.kind === "num" && n.value === value;
}

function num(value: number): NumNode {
  return { kind: "num", value };
}

function neg(u: Node): Node {
  switch (u.kind) {
    case "num":
      return num(-u.value);
    case "neg":
      return u.arg;
    case "bin":
      // -(a - b) = b - a; -(c * v) = (-c) * v.
      if (u.op === "-") return bin("-", u.right, u.left);
      if (u.op === "*" && isNum(u.left)) {
        return bin("*", num(-u.left.value), u.right);
      }
      return { kind: "neg", arg: u };
    default:
      return { kind: "neg", arg: u };
  }
}

function bin(op: BinNode["op"], left: Node, right: Node): Node {
  return { kind: "bin", op, left, right };
}

function add(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.value + b.value);
  if (isValue(a, 0)) return b;
  if (isValue(b, 0)) return a;
  if (b.kind === "neg") return sub(a, b.arg);
  if (isNum(b) && b.value < 0) return bin("-", a, num(-b.value));
  if (a.kind === "neg") return sub(b, a.arg);
  return bin("+", a, b);
}

function sub(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.value - b.value);
  if (isValue(b, 0)) return a;
  if (isValue(a, 0)) return neg(b);
  if (b.kind === "neg") return add(a, b.arg);
  if (isNum(b) && b.value < 0) return bin("+", a, num(-b.value));
  if (a.kind === "neg") return neg(add(a.arg, b));
  return bin("-", a, b);
}

function mul(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.value * b.value);
  if (isNum(b)) [a, b] = [b, a]; // numeric factor first
  if (isNum(a)) {
    if (a.value === 0) return a;
    if (a.value === 1) return b;
    if (a.value === -1) return neg(b);
    if (b.kind === "bin" && b.op === "*" && isNum(b.left)) {
      return mul(num(a.value * b.left.value), b.right);
    }
    if (b.kind === "neg") return mul(num(-a.value), b.arg);
    return bin("*", a, b);
  }
  // (-u)*(-v) = u*v; a single minus stays where it is, so that `(-b)*x`
  // keeps `-b` as a parameter-only factor the kernel computes once per call.
  if (a.kind === "neg" && b.kind === "neg") return mul(a.arg, b.arg);
  return bin("*", a, b);
}

function div(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.value / b.value);
  if (isValue(a, 0)) return a;
  if (isValue(b, 1)) return a;
  if (isValue(b, -1)) return neg(a);
  if (a.kind === "neg" && b.kind === "neg") return div(a.arg, b.arg);
  return bin("/", a, b);
}

function pow(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(Math.pow(a.value, b.value));
  if (isValue(b, 0)) return num(1);
  if (isValue(b, 1)) return a;
  if (isValue(a, 1)) return num(1);
  return bin("^", a, b);
}

function sameLeaf(a: Node, b: Node): boolean {
  if (a === b) return true;
  if (a.kind === "num" && b.kind === "num") return Object.is(a.value, b.value);
  if (a.kind === "param" && b.kind === "param") return a.index === b.index;
  if (a.kind === "var" && b.kind === "var") return a.index === b.index;
  return false;
}

function call(fn: FunctionName | InternalFunctionName, args: Node[]): Node {
  if (fn === "ifLess") {
    const [a, b, c, d] = args;
    if (isNum(a) && isNum(b)) return a.value < b.value ? c : d;
    if (sameLeaf(c, d)) return c;
  } else if (args.every((u) => u.kind === "num")) {
    return num(
      MATH_FUNCTIONS[fn](...args.map((u) => (u as NumNode).value)),
    );
  }
  return { kind: "call", fn, args };
}

/**
 * Smart constructors that simplify while they build (used by
 * differentiation). Each returns a new node; inputs are never mutated.
 */
export const build: {
  readonly num: (value: number) => Node;
  readonly neg: (u: Node) => Node;
  readonly add: (a: Node, b: Node) => Node;
  readonly sub: (a: Node, b: Node) => Node;
  readonly mul: (a: Node, b: Node) => Node;
  readonly div: (a: Node, b: Node) => Node;
  readonly pow: (a: Node, b: Node) => Node;
  readonly call: (
    fn: FunctionName | InternalFunctionName,
    args: Node[],
  ) => Node;
  readonly bin: (op: BinNode["op"], a: Node, b: Node) => Node;
} = {
  num,
  neg,
  add,
  sub,
  mul,
  div,
  pow,
  call,
  bin: (op, a, b) => {
    switch (op) {
      case "+":
        return add(a, b);
      case "-":
        return sub(a, b);
      case "*":
        return mul(a, b);
      case "/":
        return div(a, b);
      case "^":
        return pow(a, b);
      default: {
        const never: never = op;
        throw new TypeError(`unknown operator ${never}`);
      }
    }
  },
};
