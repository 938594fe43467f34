/**
 * `model(...)`: the public entry of the model language.
 *
 * @module
 */

import { EPS } from "../core/_constants.ts";
import type { Node } from "./ast.ts";
import type { BlockKernel, Model } from "./types.ts";
import { parseExpression } from "./parser.ts";
import { reservedNameReason } from "./_names.ts";
import { gradient } from "./derivative.ts";
import { compileJs, type EvaluateKernel } from "./compile_js.ts";

/**
 * A plain model function: `x` is a number, or one number per feature.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import type { ModelFunction } from "@nlsq/nlsq";
 * const f: ModelFunction = (x: number, a: number, b: number) => a * x + b;
 * assert.deepStrictEqual(model(f).params, ["a", "b"]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ModelFunction = (x: any, ...p: number[]) => number;

/**
 * Options of {@linkcode model}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import type { ModelOptions } from "@nlsq/nlsq";
 * const o: ModelOptions = { params: ["b", "a"] };
 * assert.deepStrictEqual(model("a * x + b", o).params, ["b", "a"]);
 * ```
 */
export interface ModelOptions {
  /**
   * Parameter names in order. Expressions: every parameter must be listed
   * (default: order of first use). Functions: the names of the parameters
   * after `x` (default: the declared names, else `p0, p1, …`).
   */
  params?: readonly string[];
  /**
   * Variable names, one per feature column. Default `x`; an expression
   * without `x` may use `x0, x1, …` instead (with `x`, those are ordinary
   * parameters). A function model with several variables receives `x` as an
   * array with one number per variable.
   */
  variables?: readonly string[];
  /**
   * Finite-difference scheme of a function model's Jacobian: `"2-point"`
   * (forward, the default, like scipy) or `"3-point"` (central). Expression
   * models always have exact derivatives and ignore it.
   */
  jacobian?: "2-point" | "3-point";
}

function isModel(value: unknown): value is Model {
  if (value === null || typeof value !== "object") return false;
  const m = value as Partial<Model>;
  return typeof m.kernel === "function" && Array.isArray(m.params) &&
    Array.isArray(m.variables) && typeof m.evaluate === "function" &&
    (m.kind === "expression" || m.kind === "function");
}

function checkOptions(options: unknown): ModelOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new TypeError("model: options must be an object");
  }
  const o = options as ModelOptions;
  for (const what of ["params", "variables"] as const) {
    const list = o[what];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      throw new TypeError(`model: options.${what} must be an array of names`);
    }
    const seen = new Set<string>();
    for (const name of list) {
      const why = reservedNameReason(name);
      if (why !== null) throw new TypeError(`model: options.${what}: ${why}`);
      if (seen.has(name)) {
        throw new TypeError(
          `model: options.${what}: '${name}' is listed twice`,
        );
      }
      seen.add(name);
    }
  }
  if (o.variables !== undefined && o.variables.length === 0) {
    throw new TypeError("model: options.variables must not be empty");
  }
  if (
    o.jacobian !== undefined && o.jacobian !== "2-point" &&
    o.jacobian !== "3-point"
  ) {
    throw new TypeError(
      `model: options.jacobian must be "2-point" or "3-point", got ${
        JSON.stringify(o.jacobian)
      }`,
    );
  }
  return o;
}

function columns(
  x: unknown,
  nVariables: number,
): { X: readonly ArrayLike<number>[]; n: number } {
  if (x === null || typeof x !== "object" || !("length" in x)) {
    throw new TypeError("evaluate: x must be an array of columns");
  }
  const cols = x as ArrayLike<ArrayLike<number>>;
  if (cols.length < nVariables) {
    throw new RangeError(
      `evaluate: x has ${cols.length} columns, the model needs ${nVariables}`,
    );
  }
  const X: ArrayLike<number>[] = [];
  for (let k = 0; k < nVariables; k++) {
    const c = cols[k];
    if (c === null || typeof c !== "object" || typeof c.length !== "number") {
      throw new TypeError(`evaluate: x[${k}] must be an array of numbers`);
    }
    X.push(c);
  }
  const n = nVariables > 0 ? X[0].length : 0;
  for (let k = 1; k < nVariables; k++) {
    if (X[k].length !== n) {
      throw new RangeError(
        `evaluate: x[${k}] has length ${X[k].length}, x[0] has ${n}`,
      );
    }
  }
  return { X, n };
}

function checkP(p: unknown, nParams: number, who: string): ArrayLike<number> {
  if (p === null || typeof p !== "object" || !("length" in p)) {
    throw new TypeError(`${who}: p must be an array of numbers`);
  }
  const arr = p as ArrayLike<number>;
  if (arr.length !== nParams) {
    throw new RangeError(
      `${who}: p has ${arr.length} values, the model has ${nParams} parameters`,
    );
  }
  return arr;
}

function expressionModel(expr: string, options: ModelOptions): Model {
  const parsed = parseExpression(expr, options);
  return modelFromAst(parsed.ast, parsed.params, parsed.variables, expr);
}

/**
 * Compiles an expression model from its AST (parameters and variables by
 * index into `params` and `variables`): exact derivatives, the fused kernel
 * and its source. `expression` is what the model reports as its source.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "@nlsq/nlsq/model";
 * const { ast, params, variables } = parseExpression("a * x");
 * const m = modelFromAst(ast, params, variables, "a * x");
 * assert.deepStrictEqual(Array.from(m.evaluate([new Float64Array([2])], [3])), [6]);
 * ```
 */
export function modelFromAst(
  ast: Node,
  params: readonly string[],
  variables: readonly string[],
  expression: string,
): Model {
  const derivatives = gradient(ast, params.length);
  const js = compileJs(ast, derivatives, variables.length);
  const nParams = params.length;
  const nVars = variables.length;
  const run: EvaluateKernel = js.evaluate;
  return Object.freeze({
    kind: "expression" as const,
    expression,
    params: Object.freeze([...params]),
    variables: Object.freeze([...variables]),
    ast,
    derivatives: Object.freeze(derivatives),
    kernel: js.kernel,
    kernelSource: js.kernelSource,
    jacobian: "exact" as const,
    evaluate(x: readonly Float64Array[], p: ArrayLike<number>): Float64Array {
      const { X, n } = columns(x, nVars);
      const out = new Float64Array(n);
      run(X, checkP(p, nParams, "evaluate"), out, 0, n);
      return out;
    },
  });
}

/** Declared parameter names of `fn` after the first, or null if unclear. */
function declaredNames(fn: ModelFunction): string[] | null {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return null;
  }
  // `function name(a, b) {`, `(a, b) =>`, `async`-free; anything fancier
  // (defaults, destructuring, rest, comments) falls back to p0, p1, ...
  const m = /^\s*(?:function\b[^(]*)?\(([^()]*)\)/.exec(src) ??
    /^\s*([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (!m) return null;
  const names = m[1].split(",").map((s) => s.trim());
  if (names.length > 0 && names[names.length - 1] === "") names.pop();
  if (!names.every((s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s))) return null;
  const rest = names.slice(1);
  if (rest.some((s) => reservedNameReason(s) !== null)) return null;
  return new Set(names).size === names.length ? rest : null;
}

function functionModel(fn: ModelFunction, options: ModelOptions): Model {
  const scheme = options.jacobian ?? "2-point";
  const variables = options.variables ? [...options.variables] : ["x"];
  let params: string[];
  if (options.params) {
    params = [...options.params];
  } else {
    const nParams = fn.length - 1;
    if (nParams < 1) {
      throw new TypeError(
        "model: cannot tell the number of parameters of the function " +
          "(fn.length < 2); pass options.params",
      );
    }
    const names = declaredNames(fn);
    params = names && names.length === nParams
      ? names
      : Array.from({ length: nParams }, (_, k) => `p${k}`);
  }
  for (const p of params) {
    if (variables.includes(p)) {
      throw new TypeError(
        `model: '${p}' is both a parameter and a variable`,
      );
    }
  }
  const nParams = params.length, nVars = variables.length;
  const multi = nVars > 1;

  // One argument list per call (x, p...), reused for every row.
  const makeArgs = (p: ArrayLike<number>): unknown[] => {
    const args: unknown[] = [0];
    for (let k = 0; k < nParams; k++) args.push(+p[k]);
    return args;
  };
  const xScratch: number[] = new Array(nVars).fill(0);
  const setX = (
    args: unknown[],
    X: readonly ArrayLike<number>[],
    r: number,
  ): void => {
    if (multi) {
      for (let v = 0; v < nVars; v++) xScratch[v] = X[v][r];
      args[0] = xScratch;
    } else {
      args[0] = X[0][r];
    }
  };
  const call = (args: unknown[]): number =>
    +(fn.apply(undefined, args as [unknown, ...number[]]));

  const kernel: BlockKernel = (X, y, w, p, start, end, B, ld, withJac) => {
    const base = makeArgs(p);
    // Steps like scipy: h = eps^(1/2) (2-point) or eps^(1/3) (3-point)
    // times max(1, |p_k|), with the sign of p_k, rounded to a representable
    // difference (p + h) - p.
    const rel = scheme === "2-point" ? Math.sqrt(EPS) : Math.cbrt(EPS);
    const plus: unknown[][] = [], minus: unknown[][] = [];
    const steps = new Float64Array(nParams);
    if (withJac) {
      for (let k = 0; k < nParams; k++) {
        const pk = +p[k];
        const sign = pk >= 0 ? 1 : -1;
        let h = rel * sign * Math.max(1, Math.abs(pk));
        h = (pk + h) - pk;
        const ap = makeArgs(p);
        ap[k + 1] = pk + h;
        plus.push(ap);
        if (scheme === "3-point") {
          const am = makeArgs(p);
          am[k + 1] = pk - h;
          minus.push(am);
          steps[k] = 2 * h;
        } else {
          steps[k] = h;
        }
      }
    }
    const oR = nParams * ld;
    let s = 0;
    for (let r = start, i = 0; r < end; r++, i++) {
      setX(base, X, r);
      const f = call(base);
      const wi = w === null ? 1 : w[r];
      if (withJac) {
        for (let k = 0; k < nParams; k++) {
          setX(plus[k], X, r);
          const fp = call(plus[k]);
          let fm = f;
          if (scheme === "3-point") {
            setX(minus[k], X, r);
            fm = call(minus[k]);
          }
          B[k * ld + i] = wi * ((fp - fm) / steps[k]);
        }
      }
      const res = wi * (f - y[r]);
      B[oR + i] = res;
      s += res * res;
    }
    return s;
  };

  return Object.freeze({
    kind: "function" as const,
    params: Object.freeze(params),
    variables: Object.freeze(variables),
    kernel,
    jacobian: scheme,
    evaluate(x: readonly Float64Array[], p: ArrayLike<number>): Float64Array {
      const { X, n } = columns(x, nVars);
      const args = makeArgs(checkP(p, nParams, "evaluate"));
      const out = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        setX(args, X, r);
        out[r] = call(args);
      }
      return out;
    },
  });
}

/**
 * Builds a model from an expression of the model language, from a plain
 * function `(x, ...p) => number`, or returns a {@linkcode Model} unchanged.
 *
 * Expressions get exact symbolic derivatives compiled into one fused kernel;
 * functions get a finite-difference Jacobian (`options.jacobian`), like
 * scipy's `curve_fit`, and run on the CPU only.
 *
 * @throws {ModelSyntaxError} when the expression does not parse.
 * @throws {TypeError} on arguments of the wrong kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const options: ModelOptions = { params: ["a", "b", "c"] };
 * const m = model("a * exp(-b * x) + c", options);
 * assert.deepStrictEqual(m.params, ["a", "b", "c"]);
 * assert.strictEqual(m.jacobian, "exact");
 * const f = m.evaluate([new Float64Array([0, 1])], [2, 1, 0.5]);
 * assert.ok(Math.abs(f[1] - (2 * Math.exp(-1) + 0.5)) < 1e-15);
 * const fn: ModelFunction = (x: number, a: number, k: number) =>
 *   a * Math.sin(k * x);
 * const g = model(fn, { jacobian: "3-point" });
 * assert.deepStrictEqual(g.params, ["a", "k"]);
 * assert.strictEqual(g.jacobian, "3-point");
 * assert.strictEqual(model(g), g);
 * ```
 */
export function model(
  expr: string | ModelFunction | Model,
  options?: ModelOptions,
): Model {
  if (isModel(expr)) return expr;
  const o = checkOptions(options);
  if (typeof expr === "string") return expressionModel(expr, o);
  if (typeof expr === "function") return functionModel(expr, o);
  throw new TypeError(
    `model: expr must be an expression string, a function or a Model, got ${
      expr === null ? "null" : typeof expr
    }`,
  );
}
