/**
 * Parser of the model language: text -> AST, parameter and variable names.
 *
 * Grammar (precedence as in Python and mathematics, lowest first):
 *
 * ```text
 * sum     := product (("+" | "-") product)*          left-associative
 * product := unary (("*" | "/") unary)*              left-associative
 * unary   := ("+" | "-") unary | power
 * power   := primary (("^" | "**") unary)?           right-associative
 * primary := number | name | name "(" args ")" | "(" sum ")" | "[" sum "]"
 * ```
 *
 * So `-x**2` is `-(x**2)`, `2^3^2` is `2^9` and `2**-1` is `2^(-1)`. Only
 * the nesting of brackets, calls, signs and exponents recurses (up to 1000
 * levels); chains of `+ - * /` are loops, and every later pass is iterative.
 *
 * @module
 */

import {
  type BinNode,
  FUNCTION_ARITY,
  type FunctionName,
  type Node,
} from "./ast.ts";
import { ModelSyntaxError } from "./syntax_error.ts";
import {
  CONSTANTS,
  DEFAULT_INDEXED_VAR,
  FUNCTION_ALIASES,
  isFunctionName,
  MAX_VARIABLE_INDEX,
  reservedNameReason,
} from "./_names.ts";

/**
 * Options of {@linkcode parseExpression}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq/model";
 * import type { ParseOptions } from "@nlsq/nlsq/model";
 * const o: ParseOptions = { params: ["k"], variables: ["t"] };
 * assert.deepStrictEqual(parseExpression("k * t", o).variables, ["t"]);
 * ```
 */
export interface ParseOptions {
  /**
   * Parameter names in order. Every parameter of the expression must be
   * listed; listed names absent from the expression get a zero derivative.
   * Default: every non-variable name, in order of first use.
   */
  params?: readonly string[];
  /**
   * Variable names in feature-column order. Default: `x` (one feature) if
   * the expression uses `x`, and then `x0, x1, …` are parameters (like the
   * centre `x0` of a peak); else `x0, x1, …` (column N is `xN`).
   */
  variables?: readonly string[];
}

/**
 * What {@linkcode parseExpression} returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq/model";
 * import type { ParseResult } from "@nlsq/nlsq/model";
 * const r: ParseResult = parseExpression("a * exp(-b * x)");
 * assert.deepStrictEqual(r.params, ["a", "b"]);
 * assert.deepStrictEqual(r.variables, ["x"]);
 * ```
 */
export interface ParseResult {
  /** The expression tree (parameters and variables by index). */
  ast: Node;
  /** Parameter names; `ast` refers to them by index. */
  params: string[];
  /** Variable names, one per feature column. */
  variables: string[];
}

type TokenKind = "num" | "name" | "op" | "end";

interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
  value: number;
}

const NUMBER = /(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    NUMBER.lastIndex = i;
    let m = NUMBER.exec(expr);
    if (m) {
      const text = m[0];
      // `1e` or `1e+` without digits: NUMBER stopped before the exponent.
      const next = expr[i + text.length];
      if (
        (next === "e" || next === "E") &&
        !/[A-Za-z0-9_]/.test(expr[i + text.length + 1] ?? "")
      ) {
        throw new ModelSyntaxError(
          `Malformed number '${expr.slice(i, i + text.length + 2).trim()}'`,
          expr,
          i,
        );
      }
      tokens.push({ kind: "num", text, pos: i, value: Number(text) });
      i += text.length;
      continue;
    }
    NAME.lastIndex = i;
    m = NAME.exec(expr);
    if (m) {
      tokens.push({ kind: "name", text: m[0], pos: i, value: 0 });
      i += m[0].length;
      continue;
    }
    if (c === "*" && expr[i + 1] === "*") {
      tokens.push({ kind: "op", text: "**", pos: i, value: 0 });
      i += 2;
      continue;
    }
    if ("+-*/^()[],".includes(c)) {
      tokens.push({ kind: "op", text: c, pos: i, value: 0 });
      i++;
      continue;
    }
    const shown = JSON.stringify(String.fromCodePoint(expr.codePointAt(i)!));
    throw new ModelSyntaxError(`Unexpected character ${shown}`, expr, i);
  }
  tokens.push({ kind: "end", text: "", pos: expr.length, value: 0 });
  return tokens;
}

function describe(t: Token): string {
  switch (t.kind) {
    case "end":
      return "end of expression";
    case "num":
      return `number '${t.text}'`;
    case "name":
      return `name '${t.text}'`;
    default:
      return `'${t.text}'`;
  }
}

const CLOSING: Readonly<Record<string, string>> = { "(": ")", "[": "]" };

/**
 * Whether the expression uses the plain variable `x` (a name `x` that is
 * not called): then `x0, x1, …` are parameters, not indexed variables.
 */
function usesPlainX(tokens: readonly Token[]): boolean {
  return tokens.some((t, i) =>
    t.kind === "name" && t.text === "x" &&
    !(tokens[i + 1].kind === "op" && "([".includes(tokens[i + 1].text))
  );
}

/** Resolves names to parameter/variable indices while parsing. */
class Names {
  readonly params: string[] = [];
  readonly #paramIndex = new Map<string, number>();
  readonly #fixedParams: boolean;
  readonly #variables: readonly string[] | undefined;
  readonly #varIndex = new Map<string, number>();
  readonly #plainX: boolean;
  #maxIndexed = -1;

  constructor(
    readonly expr: string,
    params: readonly string[] | undefined,
    variables: readonly string[] | undefined,
    plainX: boolean,
  ) {
    this.#variables = variables;
    if (variables) variables.forEach((v, i) => this.#varIndex.set(v, i));
    this.#plainX = plainX;
    this.#fixedParams = params !== undefined;
    if (params) {
      params.forEach((p, i) => {
        this.params.push(p);
        this.#paramIndex.set(p, i);
      });
    }
  }

  resolve(name: string, pos: number): Node {
    const constant = CONSTANTS.get(name);
    if (constant !== undefined) return { kind: "num", value: constant };
    if (this.#variables) {
      const v = this.#varIndex.get(name);
      if (v !== undefined) return { kind: "var", index: v };
    } else if (name === "x") {
      return { kind: "var", index: 0 };
    } else if (!this.#plainX && DEFAULT_INDEXED_VAR.test(name)) {
      const index = Number(name.slice(1));
      if (index > MAX_VARIABLE_INDEX) {
        throw new ModelSyntaxError(
          `Variable index of '${name}' exceeds ${MAX_VARIABLE_INDEX}`,
          this.expr,
          pos,
        );
      }
      this.#maxIndexed = Math.max(this.#maxIndexed, index);
      return { kind: "var", index };
    }
    let index = this.#paramIndex.get(name);
    if (index === undefined) {
      if (this.#fixedParams) {
        throw new ModelSyntaxError(
          `Unknown name '${name}' (not in options.params${
            this.#variables ? " or options.variables" : ""
          })`,
          this.expr,
          pos,
        );
      }
      index = this.params.length;
      this.params.push(name);
      this.#paramIndex.set(name, index);
    }
    return { kind: "param", index };
  }

  variables(): string[] {
    if (this.#variables) return [...this.#variables];
    if (this.#maxIndexed < 0) return ["x"];
    return Array.from({ length: this.#maxIndexed + 1 }, (_, i) => `x${i}`);
  }
}

/**
 * Deepest nesting of parentheses, function calls, signs and exponents the
 * parser accepts. The parser recurses once per level (everything after it
 * is iterative), so this bounds its stack use well inside what any caller
 * has left; real models nest a few dozen levels at most.
 */
const MAX_NESTING = 1000;

class Parser {
  #i = 0;
  #depth = 0;

  constructor(
    readonly expr: string,
    readonly tokens: Token[],
    readonly names: Names,
  ) {}

  get #tok(): Token {
    return this.tokens[this.#i];
  }

  #isOp(text: string): boolean {
    const t = this.#tok;
    return t.kind === "op" && t.text === text;
  }

  #fail(what: string, t: Token = this.#tok): never {
    throw new ModelSyntaxError(what, this.expr, t.pos);
  }

  #unexpected(t: Token = this.#tok): never {
    if (t.kind === "op" && (t.text === ")" || t.text === "]")) {
      this.#fail(`Unbalanced '${t.text}'`, t);
    }
    this.#fail(`Unexpected ${describe(t)}`, t);
  }

  parse(): Node {
    if (this.#tok.kind === "end") this.#fail("Empty expression");
    const node = this.#sum();
    if ((this.#tok as Token).kind !== "end") this.#unexpected();
    return node;
  }

  #sum(): Node {
    let left = this.#product();
    while (this.#isOp("+") || this.#isOp("-")) {
      const op = this.#tok.text as "+" | "-";
      this.#i++;
      left = { kind: "bin", op, left, right: this.#product() };
    }
    return left;
  }

  #product(): Node {
    let left = this.#unary();
    while (this.#isOp("*") || this.#isOp("/")) {
      const op = this.#tok.text as "*" | "/";
      this.#i++;
      left = { kind: "bin", op, left, right: this.#unary() };
    }
    return left;
  }

  /**
   * Enters one nesting level (the sign, bracket, call or `^` at token `at`);
   * the caller leaves it with `this.#depth--` once the nested part is parsed.
   */
  #enter(at: Token): void {
    if (this.#depth >= MAX_NESTING) {
      this.#fail(
        `Expression nests deeper than ${MAX_NESTING} levels ` +
          "(brackets, calls, signs, exponents)",
        at,
      );
    }
    this.#depth++;
  }

  #unary(): Node {
    const t = this.#tok;
    if (t.kind !== "op" || (t.text !== "-" && t.text !== "+")) {
      return this.#power();
    }
    this.#i++;
    this.#enter(t);
    const arg = this.#unary();
    this.#depth--;
    return t.text === "-" ? { kind: "neg", arg } : arg;
  }

  #power(): Node {
    const base = this.#primary();
    if (this.#isOp("^") || this.#isOp("**")) {
      const t = this.#tok;
      this.#i++;
      // The exponent is a unary: right-associative, and `2**-1` is allowed.
      this.#enter(t);
      const exponent = this.#unary();
      this.#depth--;
      return { kind: "bin", op: "^", left: base, right: exponent };
    }
    return base;
  }

  #primary(): Node {
    const t = this.#tok;
    if (t.kind === "num") {
      this.#i++;
      return { kind: "num", value: t.value };
    }
    if (t.kind === "op" && (t.text === "(" || t.text === "[")) {
      this.#i++;
      this.#enter(t);
      const inner = this.#sum();
      this.#depth--;
      this.#close(t);
      return inner;
    }
    if (t.kind === "name") {
      this.#i++;
      if (this.#isOp("(") || this.#isOp("[")) return this.#call(t);
      if (isFunctionName(t.text)) {
        this.#fail(
          `'${t.text}' is a function name; call it as ${t.text}(...)`,
          t,
        );
      }
      return this.names.resolve(t.text, t.pos);
    }
    if (t.kind === "end") this.#fail("Unexpected end of expression", t);
    this.#unexpected(t);
  }

  #close(open: Token): void {
    const want = CLOSING[open.text];
    if (this.#isOp(want)) {
      this.#i++;
      return;
    }
    const t = this.#tok;
    if (t.kind === "end") {
      this.#fail(`Unbalanced '${open.text}': missing '${want}'`, open);
    }
    this.#fail(
      `Expected '${want}' to close '${open.text}' at position ${open.pos}, found ${
        describe(t)
      }`,
      t,
    );
  }

  #call(nameTok: Token): Node {
    const raw = nameTok.text;
    const fn: FunctionName | undefined = Object.hasOwn(FUNCTION_ARITY, raw)
      ? raw as FunctionName
      : Object.hasOwn(FUNCTION_ALIASES, raw)
      ? FUNCTION_ALIASES[raw]
      : undefined;
    if (fn === undefined) {
      if (CONSTANTS.has(raw)) {
        this.#fail(`'${raw}' is a constant, not a function`, nameTok);
      }
      this.#fail(`Unknown function '${raw}'`, nameTok);
    }
    const open = this.#tok;
    this.#i++;
    this.#enter(nameTok);
    const args: Node[] = [];
    if (!this.#isOp(CLOSING[open.text])) {
      args.push(this.#sum());
      while (this.#isOp(",")) {
        this.#i++;
        args.push(this.#sum());
      }
    }
    this.#close(open);
    this.#depth--;
    const arity = FUNCTION_ARITY[fn];
    if (args.length !== arity) {
      this.#fail(
        `Function '${raw}' takes ${arity} argument${
          arity === 1 ? "" : "s"
        }, got ${args.length}`,
        nameTok,
      );
    }
    // pow(a, b) is the operator a ^ b: one rule set for both downstream.
    if (fn === "pow") {
      const node: BinNode = {
        kind: "bin",
        op: "^",
        left: args[0],
        right: args[1],
      };
      return node;
    }
    return { kind: "call", fn, args };
  }
}

function checkNameList(
  list: unknown,
  what: "params" | "variables",
): readonly string[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) {
    throw new TypeError(`options.${what} must be an array of names`);
  }
  const seen = new Set<string>();
  for (const name of list) {
    const why = reservedNameReason(name);
    if (why !== null) throw new TypeError(`options.${what}: ${why}`);
    if (seen.has(name)) {
      throw new TypeError(`options.${what}: '${name}' is listed twice`);
    }
    seen.add(name);
  }
  return list;
}

/**
 * Parses a model expression.
 *
 * Names: the names in `options.variables`, else `x`, else (in an expression
 * without `x`) `x0, x1, …` are the variables; `pi` and `e` are constants;
 * a name followed by `(` or `[` is a function call; every other name is a
 * parameter, in order of first use unless `options.params` fixes the order. Function names (and the aliases
 * `ln`, `arctan`, `arcsin`, `arccos`, `arctan2`) are reserved: using one as a
 * parameter is an error. Brackets, calls, signs and exponents may nest up to
 * 1000 levels deep; sums and products may have any number of terms.
 *
 * @throws {ModelSyntaxError} on malformed text, with the position.
 * @throws {TypeError} on malformed options.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const options: ParseOptions = { variables: ["x1", "x2"] };
 * const r: ParseResult = parseExpression("b1 - b2*x1 * exp[-b3*x2]", options);
 * assert.deepStrictEqual(r.params, ["b1", "b2", "b3"]);
 * assert.deepStrictEqual(r.variables, ["x1", "x2"]);
 * // With `x` in the expression, x0 is a parameter (here a sigmoid's centre).
 * const s = parseExpression("a / (1 + exp(-k * (x - x0)))");
 * assert.deepStrictEqual([s.params, s.variables], [["a", "k", "x0"], ["x"]]);
 * // ** binds tighter than unary minus: -x**2 is -(x**2)
 * assert.deepStrictEqual(parseExpression("-x**2").ast, {
 *   kind: "neg",
 *   arg: {
 *     kind: "bin",
 *     op: "^",
 *     left: { kind: "var", index: 0 },
 *     right: { kind: "num", value: 2 },
 *   },
 * });
 * ```
 */
export function parseExpression(
  expr: string,
  options: ParseOptions = {},
): ParseResult {
  if (typeof expr !== "string") {
    throw new TypeError(`expr must be a string, got ${typeof expr}`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError("options must be an object");
  }
  const params = checkNameList(options.params, "params");
  const variables = checkNameList(options.variables, "variables");
  const tokens = tokenize(expr);
  const plainX = usesPlainX(tokens);
  for (const p of params ?? []) {
    if (variables?.includes(p)) {
      throw new TypeError(
        `'${p}' is in both options.params and options.variables`,
      );
    }
    if (
      !variables && (p === "x" || (!plainX && DEFAULT_INDEXED_VAR.test(p)))
    ) {
      throw new TypeError(
        `options.params: '${p}' is a default variable name${
          p === "x" ? "" : " (the expression does not use 'x')"
        }; name the variables with options.variables`,
      );
    }
  }
  const names = new Names(expr, params, variables, plainX);
  const ast = new Parser(expr, tokens, names).parse();
  return { ast, params: names.params, variables: names.variables() };
}
