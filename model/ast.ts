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
 * Every table of function implementations is keyed by
 * {@linkcode FunctionName}: a name added here is a compile error until it
 * has a numeric value (`model/_functions.ts`), a derivative rule
 * (`model/derivative.ts`), a JavaScript spelling (`model/compile_js.ts`)
 * and a WGSL one (`gpu/_wgsl_math.ts`); see CONTRIBUTING.md.
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
  wofz_re: 2,
  wofz_im: 2,
} as const;

/**
 * A function name of the public model language.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { FunctionName } from "@nlsq/nlsq/model";
 * const fn: FunctionName = "exp";
 * assert.strictEqual(fn, "exp");
 * ```
 */
export type FunctionName = keyof typeof FUNCTION_ARITY;

/**
 * Internal functions produced by differentiation only (the parser never
 * accepts them): `sign(u)`, and `ifLess(a, b, c, d)` meaning `a < b ? c : d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { InternalFunctionName } from "@nlsq/nlsq/model";
 * const fn: InternalFunctionName = "sign";
 * assert.ok(["sign", "ifLess"].includes(fn));
 * ```
 */
export type InternalFunctionName = "sign" | "ifLess";

/**
 * A numeric literal (also the constants `pi` and `e`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { NumNode } from "@nlsq/nlsq/model";
 * const n: NumNode = { kind: "num", value: 2 };
 * assert.strictEqual(n.value, 2);
 * ```
 */
export interface NumNode {
  /** Node kind. */
  readonly kind: "num";
  /** The number. */
  readonly value: number;
}

/**
 * A reference to parameter number `index` (order of the model's `params`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ParamNode } from "@nlsq/nlsq/model";
 * const p: ParamNode = { kind: "param", index: 0 };
 * assert.strictEqual(p.kind, "param");
 * ```
 */
export interface ParamNode {
  /** Node kind. */
  readonly kind: "param";
  /** Parameter index. */
  readonly index: number;
}

/**
 * A reference to input variable (feature column) number `index`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { VarNode } from "@nlsq/nlsq/model";
 * const v: VarNode = { kind: "var", index: 0 };
 * assert.strictEqual(v.kind, "var");
 * ```
 */
export interface VarNode {
  /** Node kind. */
  readonly kind: "var";
  /** Feature column index. */
  readonly index: number;
}

/**
 * Unary minus.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { NegNode } from "@nlsq/nlsq/model";
 * const n: NegNode = { kind: "neg", arg: { kind: "var", index: 0 } };
 * assert.strictEqual(n.arg.kind, "var");
 * ```
 */
export interface NegNode {
  /** Node kind. */
  readonly kind: "neg";
  /** The negated operand. */
  readonly arg: Node;
}

/**
 * A binary operator; `^` is power (`**` parses to it too).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq/model";
 * import type { BinNode } from "@nlsq/nlsq/model";
 * const b = parseExpression("a + x").ast as BinNode;
 * assert.strictEqual(b.op, "+");
 * assert.deepStrictEqual(b.left, { kind: "param", index: 0 });
 * ```
 */
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

/**
 * A call of a public or internal function.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq/model";
 * import type { CallNode } from "@nlsq/nlsq/model";
 * const c = parseExpression("sin(x)").ast as CallNode;
 * assert.strictEqual(c.fn, "sin");
 * assert.strictEqual(c.args.length, 1);
 * ```
 */
export interface CallNode {
  /** Node kind. */
  readonly kind: "call";
  /** The function called. */
  readonly fn: FunctionName | InternalFunctionName;
  /** The arguments. */
  readonly args: readonly Node[];
}

/**
 * Any node of the model AST.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq/model";
 * import type { Node } from "@nlsq/nlsq/model";
 * const ast: Node = parseExpression("a * x").ast;
 * assert.strictEqual(ast.kind, "bin");
 * ```
 */
export type Node = NumNode | ParamNode | VarNode | NegNode | BinNode | CallNode;
