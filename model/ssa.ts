/**
 * Static single assignment form of a set of model expressions, with common
 * subexpressions shared across all of them (the function value and every
 * derivative use the same temporaries). Code generators for JavaScript and
 * WGSL both start from it.
 *
 * @module
 */

import type { FunctionName, InternalFunctionName, Node } from "./ast.ts";
import { applyOperator, MATH_FUNCTIONS } from "./_functions.ts";
import { postOrder } from "./_walk.ts";

/**
 * An operand: a literal, a parameter, a variable, or a temporary.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { SsaOperand } from "@nlsq/nlsq/model";
 * const op: SsaOperand = { kind: "tmp", index: 0 };
 * assert.strictEqual(op.kind, "tmp");
 * ```
 */
export type SsaOperand =
  | { kind: "num"; value: number }
  | { kind: "param"; index: number }
  | { kind: "var"; index: number }
  | { kind: "tmp"; index: number };

/**
 * One instruction; instruction number `i` defines temporary `i`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression, toSsa } from "@nlsq/nlsq/model";
 * import type { SsaInstr } from "@nlsq/nlsq/model";
 * const instrs: readonly SsaInstr[] = toSsa([parseExpression("a * x").ast]).instructions;
 * assert.strictEqual(instrs[0].kind, "bin");
 * ```
 */
export type SsaInstr =
  | { kind: "neg"; arg: SsaOperand }
  | {
    kind: "bin";
    op: "+" | "-" | "*" | "/" | "^";
    left: SsaOperand;
    right: SsaOperand;
  }
  | {
    kind: "call";
    fn: FunctionName | InternalFunctionName;
    args: SsaOperand[];
  };

/**
 * A straight-line program: `instructions[i]` defines temporary `i` and only
 * reads temporaries `< i`; `outputs[j]` is the value of root `j`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression, toSsa } from "@nlsq/nlsq/model";
 * import type { Ssa } from "@nlsq/nlsq/model";
 * const ssa: Ssa = toSsa([parseExpression("a * x + a * x").ast]);
 * assert.strictEqual(ssa.outputs.length, 1);
 * assert.ok(ssa.instructions.length <= 2);
 * ```
 */
export interface Ssa {
  /** Instructions in evaluation order; instruction `i` defines tmp `i`. */
  readonly instructions: readonly SsaInstr[];
  /** One operand per root, in the order of the roots. */
  readonly outputs: readonly SsaOperand[];
}

/**
 * Options of {@linkcode toSsa}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression, toSsa } from "@nlsq/nlsq/model";
 * import type { SsaOptions } from "@nlsq/nlsq/model";
 * const o: SsaOptions = { strengthReduce: false };
 * const ssa = toSsa([parseExpression("x ^ 2").ast], o);
 * assert.strictEqual(ssa.instructions[0].kind, "bin");
 * ```
 */
export interface SsaOptions {
  /**
   * Rewrite `u ^ n` for a numeric `n`: integer `|n| <= 64` as products (and
   * `1 / product` when negative), `0.5` as `sqrt(u)` and `-0.5` as
   * `1 / sqrt(u)`. This is faster than `pow`, and exact for negative bases
   * (WGSL's `pow` is undefined there). Default `true`.
   */
  strengthReduce?: boolean;
}

const MAX_REDUCED_POWER = 64;

function operandKey(o: SsaOperand): string {
  switch (o.kind) {
    case "num":
      return Object.is(o.value, -0) ? "n-0" : `n${o.value}`;
    case "param":
      return `p${o.index}`;
    case "var":
      return `v${o.index}`;
    case "tmp":
      return `t${o.index}`;
    default: {
      const never: never = o;
      throw new TypeError(`toSsa: unknown operand ${JSON.stringify(never)}`);
    }
  }
}

function instrKey(ins: SsaInstr): string {
  switch (ins.kind) {
    case "neg":
      return `neg ${operandKey(ins.arg)}`;
    case "bin": {
      let a = operandKey(ins.left), b = operandKey(ins.right);
      // + and * commute exactly in IEEE arithmetic: share a*b and b*a.
      if ((ins.op === "+" || ins.op === "*") && b < a) [a, b] = [b, a];
      return `${ins.op} ${a} ${b}`;
    }
    case "call":
      return `${ins.fn} ${ins.args.map(operandKey).join(" ")}`;
    default: {
      const never: never = ins;
      throw new TypeError(
        `toSsa: unknown instruction ${JSON.stringify(never)}`,
      );
    }
  }
}

/**
 * Converts expression trees (or DAGs) to one shared SSA program.
 *
 * Structurally equal subexpressions, within a root or across roots, become
 * one temporary; instructions whose operands are all numbers are folded.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { gradient } from "./derivative.ts";
 * const { ast, params } = parseExpression("a * exp(-b * x) + c");
 * const options: SsaOptions = { strengthReduce: true };
 * const ssa: Ssa = toSsa([ast, ...gradient(ast, params.length)], options);
 * // exp(-b*x) is computed once and is itself d f / d a.
 * const isExp = (i: SsaInstr) => i.kind === "call" && i.fn === "exp";
 * assert.strictEqual(ssa.instructions.filter(isExp).length, 1);
 * const da: SsaOperand = ssa.outputs[1];
 * assert.deepStrictEqual(da, {
 *   kind: "tmp",
 *   index: ssa.instructions.findIndex(isExp),
 * });
 * assert.deepStrictEqual(ssa.outputs[3], { kind: "num", value: 1 });
 * ```
 */
export function toSsa(roots: readonly Node[], options: SsaOptions = {}): Ssa {
  const reduce = options.strengthReduce ?? true;
  const instructions: SsaInstr[] = [];
  const table = new Map<string, number>();
  const memo = new Map<Node, SsaOperand>();

  const emit = (ins: SsaInstr): SsaOperand => {
    // Constant folding, with the same arithmetic the generated code uses.
    if (ins.kind === "neg" && ins.arg.kind === "num") {
      return { kind: "num", value: -ins.arg.value };
    }
    if (
      ins.kind === "bin" && ins.left.kind === "num" &&
      ins.right.kind === "num"
    ) {
      return {
        kind: "num",
        value: applyOperator(ins.op, ins.left.value, ins.right.value),
      };
    }
    if (ins.kind === "call") {
      if (ins.fn === "ifLess") {
        const [a, b, c, d] = ins.args;
        if (a.kind === "num" && b.kind === "num") {
          return a.value < b.value ? c : d;
        }
      } else if (ins.args.every((o) => o.kind === "num")) {
        const values = ins.args.map((o) => (o as { value: number }).value);
        return { kind: "num", value: MATH_FUNCTIONS[ins.fn](...values) };
      }
    }
    const key = instrKey(ins);
    let index = table.get(key);
    if (index === undefined) {
      index = instructions.length;
      instructions.push(ins);
      table.set(key, index);
    }
    return { kind: "tmp", index };
  };

  // u^m for an integer m >= 1 by binary powering (CSE shares the squares).
  const powInt = (u: SsaOperand, m: number): SsaOperand => {
    if (m === 1) return u;
    if (m % 2 === 0) {
      const h = powInt(u, m / 2);
      return emit({ kind: "bin", op: "*", left: h, right: h });
    }
    return emit({
      kind: "bin",
      op: "*",
      left: powInt(u, m - 1),
      right: u,
    });
  };

  const power = (u: SsaOperand, v: SsaOperand): SsaOperand => {
    if (reduce && v.kind === "num" && u.kind !== "num") {
      const n = v.value;
      if (n === 0.5) return emit({ kind: "call", fn: "sqrt", args: [u] });
      if (n === -0.5) {
        const s = emit({ kind: "call", fn: "sqrt", args: [u] });
        return emit({ kind: "bin", op: "/", left: one, right: s });
      }
      if (Number.isInteger(n) && Math.abs(n) <= MAX_REDUCED_POWER) {
        if (n === 0) return one; // Math.pow(u, 0) is 1 even for NaN
        const m = powInt(u, Math.abs(n));
        return n > 0 ? m : emit({ kind: "bin", op: "/", left: one, right: m });
      }
    }
    return emit({ kind: "bin", op: "^", left: u, right: v });
  };

  const one: SsaOperand = { kind: "num", value: 1 };

  const operandOf = (n: Node): SsaOperand => {
    switch (n.kind) {
      case "num":
        return { kind: "num", value: n.value };
      case "param":
        return { kind: "param", index: n.index };
      case "var":
        return { kind: "var", index: n.index };
      case "neg":
        return emit({ kind: "neg", arg: memo.get(n.arg)! });
      case "bin": {
        const left = memo.get(n.left)!, right = memo.get(n.right)!;
        return n.op === "^"
          ? power(left, right)
          : emit({ kind: "bin", op: n.op, left, right });
      }
      case "call": {
        const args = n.args.map((a) => memo.get(a)!);
        return n.fn === "pow"
          ? power(args[0], args[1])
          : emit({ kind: "call", fn: n.fn, args });
      }
      default: {
        const never: never = n;
        throw new TypeError(`toSsa: unknown node ${JSON.stringify(never)}`);
      }
    }
  };

  // Operands first, without recursion (sums of thousands of terms are
  // trees thousands of levels deep).
  for (const n of postOrder(roots)) memo.set(n, operandOf(n));
  const outputs = roots.map((r) => memo.get(r)!);
  return { instructions, outputs };
}
