/**
 * The abstract syntax tree of the model language.
 *
 * Every node is a plain, immutable object. Parameters and variables are
 * referenced by index, never by name, so generated code (JavaScript or WGSL)
 * never contains text taken from the user's expression.
 *
 * @module
 */

/**
 * Functions of the public model language, with their arity.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(FUNCTION_ARITY.atan2, 2);
 * assert.strictEqual(FUNCTION_ARITY.erf, 1);
 * ```
 */
export const FUNCTION_ARITY = {
  exp: 1,
  log: 1,
  log10: 1,
  sqrt: 1,
  abs: 1,
  sin: 1,
  cos: 1,
  tan: 1,
  asin: 1,
  acos: 1,
  atan: 1,
  atan2: 2,
  sinh: 1,
  cosh: 1,
  tanh: 1,
  pow: 2,
  min: 2,
  max: 2,
  erf: 1,
} as const;

/** A function name of the public model language. */
export type FunctionName = keyof typeof FUNCTION_ARITY;

/**
 * Internal functions produced by differentiation only (the parser never
 * accepts them): `sign(u)`, and `ifLess(a, b, c, d)` meaning `a < b ? c : d`.
 */
export type InternalFunctionName = "sign" | "ifLess";

/** A numeric literal (also the constants `pi` and `e`). */
export interface NumNode {
  /** Node kind. */
  readonly kind: "num";
  /** The number. */
  readonly value: number;
}

/** A reference to parameter number `index` (order of the model's `params`). */
export interface ParamNode {
  /** Node kind. */
  readonly kind: "param";
  /** Parameter index. */
  readonly index: number;
}

/** A reference to input variable (feature column) number `index`. */
export interface VarNode {
  /** Node kind. */
  readonly kind: "var";
  /** Feature column index. */
  readonly index: number;
}

/** Unary minus. */
export interface NegNode {
  /** Node kind. */
  readonly kind: "neg";
  /** The negated operand. */
  readonly arg: Node;
}

/** A binary operator; `^` is power (`**` parses to it too). */
export interface BinNode {
  /** Node kind. */
  readonly kind: "bin";
  /** The operator. */
  readonly op: "+" | "-" | "*" | "/" | "^";
  /** Left operand. */
  readonly left: Node;
  /** Right operand. */
  readonly right: Node;
}

/** A call of a public or internal function. */
export interface CallNode {
  /** Node kind. */
  readonly kind: "call";
  /** The function called. */
  readonly fn: FunctionName | InternalFunctionName;
  /** The arguments. */
  readonly args: readonly Node[];
}

/** Any node of the model AST. */
export type Node = NumNode | ParamNode | VarNode | NegNode | BinNode | CallNode;
