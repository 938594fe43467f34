/**
 * JavaScript code generation: AST -> SSA ({@linkcode modelSsa}, the
 * program the WGSL kernels run too) -> one fused kernel per model.
 *
 * The source is assembled only from the SSA program: parameter, variable
 * and temporary names are generated from integer indices, numbers are
 * printed from finite doubles (`(1/0)`, `(-1/0)` and `(0/0)` otherwise), and
 * function names come from a fixed table. No text of the user's expression
 * ever reaches the generated code, so no input can run code.
 *
 * @module
 */

import type { FunctionName, InternalFunctionName, Node } from "./ast.ts";
import type { BlockKernel } from "./types.ts";
import { erf } from "./_erf.ts";
import { fastExpSource } from "./_fast_exp.ts";
import { faddeevaSource } from "./_faddeeva.ts";
import type { Ssa, SsaInstr, SsaOperand } from "./ssa.ts";
import { modelSsa } from "./model_ssa.ts";
import { liveInstructions, variableDependence } from "./ssa_analysis.ts";

/**
 * Evaluates the model at rows `start .. end-1`: `out[row] = f(x_row)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression, compileJs, gradient } from "@nlsq/nlsq/model";
 * import type { EvaluateKernel } from "@nlsq/nlsq/model";
 * const { ast } = parseExpression("a * x");
 * const evaluate: EvaluateKernel = compileJs(ast, gradient(ast, 1), 1).evaluate;
 * const out = new Float64Array(2);
 * evaluate([[1, 2]], [3], out, 0, 2);
 * assert.deepStrictEqual(Array.from(out), [3, 6]);
 * ```
 */
export type EvaluateKernel = (
  X: readonly ArrayLike<number>[],
  p: ArrayLike<number>,
  out: Float64Array,
  start: number,
  end: number,
) => void;

/**
 * What {@linkcode compileJs} returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression, compileJs, gradient } from "@nlsq/nlsq/model";
 * import type { CompiledJs } from "@nlsq/nlsq/model";
 * const { ast } = parseExpression("a * x");
 * const js: CompiledJs = compileJs(ast, gradient(ast, 1), 1);
 * assert.strictEqual(typeof js.kernel, "function");
 * assert.strictEqual(typeof js.kernelSource, "string");
 * ```
 */
export interface CompiledJs {
  /** The fused residual + Jacobian kernel (see {@linkcode BlockKernel}). */
  kernel: BlockKernel;
  /**
   * Self-contained source of `kernel`: an expression that evaluates to the
   * kernel, so `new Function("return " + kernelSource)()` rebuilds it (in a
   * worker, for instance). Helpers such as `erf` are inlined when used.
   */
  kernelSource: string;
  /** Plain evaluation of f (no residuals, no Jacobian). */
  evaluate: EvaluateKernel;
  /** Self-contained source of `evaluate`, rebuilt like `kernelSource`. */
  evaluateSource: string;
  /** The shared SSA program: output 0 is f, output 1 + k is d f / d p_k. */
  ssa: Ssa;
}

/** How generated JavaScript calls one function of the model language. */
interface JsFunction {
  /** The call for argument expressions, or null for a wrong argument count. */
  readonly call: (args: readonly string[]) => string | null;
  /** Source of a helper the call needs in scope, inlined once when used. */
  readonly helper?: () => string;
}

function mathCall(name: string): JsFunction {
  return { call: (args) => `Math.${name}(${args.join(", ")})` };
}

/**
 * The JavaScript of every function an SSA program may call. Typed by the
 * function-name union: a function added to `FUNCTION_ARITY` without an
 * entry here is a compile error naming it.
 */
const JS_FUNCTIONS: {
  readonly [F in FunctionName | InternalFunctionName]: JsFunction;
} = {
  exp: { call: (a) => `fastExp(${a.join(", ")})`, helper: fastExpSource },
  log: mathCall("log"),
  log10: mathCall("log10"),
  sqrt: mathCall("sqrt"),
  abs: mathCall("abs"),
  sin: mathCall("sin"),
  cos: mathCall("cos"),
  tan: mathCall("tan"),
  asin: mathCall("asin"),
  acos: mathCall("acos"),
  atan: mathCall("atan"),
  atan2: mathCall("atan2"),
  sinh: mathCall("sinh"),
  cosh: mathCall("cosh"),
  tanh: mathCall("tanh"),
  pow: mathCall("pow"),
  min: mathCall("min"),
  max: mathCall("max"),
  erf: {
    call: (a) => `erf(${a.join(", ")})`,
    helper: () => `const erf = ${erf.toString()};`,
  },
  // Both parts share one helper (and its cache of the last point).
  wofz_re: {
    call: (a) => `wofzRe(${a.join(", ")})`,
    helper: faddeevaSource,
  },
  wofz_im: {
    call: (a) => `wofzIm(${a.join(", ")})`,
    helper: faddeevaSource,
  },
  sign: mathCall("sign"),
  ifLess: {
    call: (a) =>
      a.length === 4 ? `(${a[0]} < ${a[1]} ? ${a[2]} : ${a[3]})` : null,
  },
};

/** A JavaScript literal for `value`, safe in any operand position. */
function jsNumber(value: number): string {
  if (typeof value !== "number") {
    throw new TypeError(`Not a number: ${typeof value}`);
  }
  if (Number.isNaN(value)) return "(0/0)";
  if (value === Infinity) return "(1/0)";
  if (value === -Infinity) return "(-1/0)";
  if (Object.is(value, -0)) return "(-0)";
  return value < 0 ? `(${String(value)})` : String(value);
}

function index(i: number): string {
  // Names are built from indices: make sure an index is a plain integer.
  if (!Number.isSafeInteger(i) || i < 0) {
    throw new TypeError(`Invalid index ${String(i)} in model`);
  }
  return String(i);
}

function operand(o: SsaOperand): string {
  switch (o.kind) {
    case "num":
      return jsNumber(o.value);
    case "param":
      return `p${index(o.index)}`;
    case "var":
      return `x${index(o.index)}`;
    case "tmp":
      return `t${index(o.index)}`;
    default: {
      const never: never = o;
      throw new TypeError(`Invalid operand in model: ${JSON.stringify(never)}`);
    }
  }
}

function expression(ins: SsaInstr): string {
  switch (ins.kind) {
    case "neg":
      return `-${operand(ins.arg)}`;
    case "bin": {
      const a = operand(ins.left), b = operand(ins.right);
      switch (ins.op) {
        case "+":
        case "-":
        case "*":
        case "/":
          return `${a} ${ins.op} ${b}`;
        case "^":
          return `Math.pow(${a}, ${b})`;
        default: {
          const never: never = ins.op;
          throw new TypeError(`Invalid operator in model: ${never}`);
        }
      }
      break;
    }
    case "call": {
      if (!Object.hasOwn(JS_FUNCTIONS, ins.fn)) break;
      const call = JS_FUNCTIONS[ins.fn].call(ins.args.map(operand));
      if (call === null) break;
      return call;
    }
    default: {
      const never: never = ins;
      throw new TypeError(
        `Invalid instruction in model: ${JSON.stringify(never)}`,
      );
    }
  }
  throw new TypeError(`Invalid instruction in model: ${JSON.stringify(ins)}`);
}

/** The helper declarations (each once) the calls of a program need in scope. */
function helperSource(ssa: Ssa): string {
  const called = new Set<string>();
  for (const i of ssa.instructions) if (i.kind === "call") called.add(i.fn);
  // A helper shared by several functions is inlined once.
  const helpers = new Set<() => string>();
  for (const [name, fn] of Object.entries(JS_FUNCTIONS)) {
    if (fn.helper && called.has(name)) helpers.add(fn.helper);
  }
  return [...helpers].map((h) => `${h()}\n`).join("");
}

/** Wraps a function source so helpers are in scope and the whole is one expression. */
function wrap(ssa: Ssa, fnSource: string): string {
  return `(() => {\n"use strict";\n${
    helperSource(ssa)
  }return ${fnSource};\n})()`;
}

interface Plan {
  /** Instructions computed once per call (parameters only), in order. */
  hoisted: number[];
  /** Per-row instructions of the value-only loop. */
  rowF: number[];
  /** Per-row instructions of the value + Jacobian loop. */
  rowAll: number[];
}

function plan(ssa: Ssa): Plan {
  const dep = variableDependence(ssa);
  const liveF = liveInstructions(ssa, [0]);
  const liveAll = liveInstructions(ssa, ssa.outputs.map((_, j) => j));
  const hoisted: number[] = [], rowF: number[] = [], rowAll: number[] = [];
  ssa.instructions.forEach((_, i) => {
    if (!liveAll[i]) return;
    if (!dep[i]) hoisted.push(i);
    else {
      rowAll.push(i);
      if (liveF[i]) rowF.push(i);
    }
  });
  return { hoisted, rowF, rowAll };
}

function varsUsed(
  ssa: Ssa,
  rows: readonly number[],
  outputs: readonly SsaOperand[],
): number[] {
  const used = new Set<number>();
  const see = (o: SsaOperand) => {
    if (o.kind === "var") used.add(o.index);
  };
  for (const i of rows) {
    const ins = ssa.instructions[i];
    if (ins.kind === "neg") see(ins.arg);
    else if (ins.kind === "bin") {
      see(ins.left);
      see(ins.right);
    } else ins.args.forEach(see);
  }
  outputs.forEach(see);
  return [...used].sort((a, b) => a - b);
}

function prelude(ssa: Ssa, nParams: number, p: Plan): string[] {
  const lines: string[] = [];
  for (let k = 0; k < nParams; k++) {
    lines.push(`const p${index(k)} = +p[${index(k)}];`);
  }
  const allVars = varsUsed(ssa, p.rowAll, ssa.outputs);
  for (const v of allVars) lines.push(`const X${v} = X[${v}];`);
  for (const i of p.hoisted) {
    lines.push(`const t${i} = ${expression(ssa.instructions[i])};`);
  }
  return lines;
}

function rowLines(ssa: Ssa, rows: readonly number[], outputs: SsaOperand[]) {
  const lines: string[] = [];
  for (const v of varsUsed(ssa, rows, outputs)) {
    lines.push(`const x${v} = X${v}[r];`);
  }
  for (const i of rows) {
    lines.push(`const t${i} = ${expression(ssa.instructions[i])};`);
  }
  return lines;
}

function kernelFunction(ssa: Ssa, nParams: number): string {
  const p = plan(ssa);
  const f = operand(ssa.outputs[0]);
  const loop = (withJac: boolean, weighted: boolean): string => {
    const outs = withJac ? [...ssa.outputs] : [ssa.outputs[0]];
    const body = rowLines(ssa, withJac ? p.rowAll : p.rowF, outs);
    if (weighted) body.push("const wi = w[r];");
    if (withJac) {
      for (let k = 0; k < nParams; k++) {
        const d = operand(ssa.outputs[k + 1]);
        const at = k === 0 ? "i" : `o${k} + i`;
        const wd = d === "1" ? "wi" : `wi * ${d}`;
        body.push(`B[${at}] = ${weighted ? wd : d};`);
      }
    }
    body.push(
      weighted ? `const res = wi * (${f} - y[r]);` : `const res = ${f} - y[r];`,
      "B[oR + i] = res;",
      "s += res * res;",
    );
    return [
      "for (let r = start, i = 0; r < end; r++, i++) {",
      ...body.map((l) => "  " + l),
      "}",
    ].join("\n");
  };
  const indent = (s: string, n: number) =>
    s.split("\n").map((l) => " ".repeat(n) + l).join("\n");
  const lines = [
    ...prelude(ssa, nParams, p),
    ...Array.from({ length: nParams }, (_, k) => k)
      .filter((k) => k > 0)
      .map((k) => `const o${k} = ${k} * ld;`),
    `const oR = ${index(nParams)} * ld;`,
    "let s = 0;",
    "if (withJac) {",
    "  if (w === null) {",
    indent(loop(true, false), 4),
    "  } else {",
    indent(loop(true, true), 4),
    "  }",
    "} else if (w === null) {",
    indent(loop(false, false), 2),
    "} else {",
    indent(loop(false, true), 2),
    "}",
    "return s;",
  ];
  return `function nlsqKernel(X, y, w, p, start, end, B, ld, withJac) {\n${
    indent(lines.join("\n"), 2)
  }\n}`;
}

function evaluateFunction(ssa: Ssa, nParams: number): string {
  const p = plan(ssa);
  // Only what f needs: drop hoisted instructions that serve derivatives.
  const liveF = liveInstructions(ssa, [0]);
  const fPlan: Plan = {
    hoisted: p.hoisted.filter((i) => liveF[i]),
    rowF: p.rowF,
    rowAll: p.rowF,
  };
  const outs = [ssa.outputs[0]];
  const lines = [
    ...prelude(
      { instructions: ssa.instructions, outputs: outs },
      nParams,
      fPlan,
    ),
    "for (let r = start; r < end; r++) {",
    ...rowLines(ssa, p.rowF, outs).map((l) => "  " + l),
    `  out[r] = ${operand(ssa.outputs[0])};`,
    "}",
  ];
  return `function nlsqEvaluate(X, p, out, start, end) {\n${
    lines.map((l) => "  " + l).join("\n")
  }\n}`;
}

/**
 * Generates and compiles the fused kernel and the evaluator of a model from
 * its AST `f` and its derivatives (`derivatives[k]` = d f / d p_k).
 *
 * One loop over the rows computes f and every derivative with shared
 * temporaries (common subexpressions eliminated across all of them);
 * subexpressions of the parameters alone are computed once per call, before
 * the loop; integer powers become products.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { gradient } from "./derivative.ts";
 * const { ast, params } = parseExpression("a * exp(-b * x) + c");
 * const js: CompiledJs = compileJs(ast, gradient(ast, params.length), 1);
 * const X = [new Float64Array([0, 1])];
 * const y = new Float64Array([0, 0]);
 * const p = new Float64Array([2, 1, 0]);
 * const B = new Float64Array(2 * 4); // columns d/da, d/db, d/dc, residual
 * const sum = js.kernel(X, y, null, p, 0, 2, B, 2, true);
 * assert.ok(Math.abs(B[1] - Math.exp(-1)) < 1e-15); // d f / d a at x = 1
 * assert.ok(Math.abs(B[3] - -2 * Math.exp(-1)) < 1e-15); // d f / d b at x = 1
 * assert.deepStrictEqual([B[4], B[5]], [1, 1]); // d f / d c
 * assert.ok(Math.abs(sum - (4 + 4 * Math.exp(-2))) < 1e-14);
 * // Workers rebuild the same kernel from its source.
 * const rebuilt = new Function("return " + js.kernelSource)();
 * const B2 = new Float64Array(8);
 * assert.strictEqual(rebuilt(X, y, null, p, 0, 2, B2, 2, true), sum);
 * const evaluate: EvaluateKernel = js.evaluate;
 * const out = new Float64Array(2);
 * evaluate(X, p, out, 0, 2);
 * assert.deepStrictEqual(out, new Float64Array([2, 2 * Math.exp(-1)]));
 * ```
 */
export function compileJs(
  f: Node,
  derivatives: readonly Node[],
  nVariables: number,
): CompiledJs {
  const nParams = derivatives.length;
  // The program the WGSL kernels run too.
  const ssa = modelSsa({ ast: f, derivatives });
  const used = varsUsed(ssa, ssa.instructions.map((_, i) => i), ssa.outputs);
  if (used.length > 0 && used[used.length - 1] >= nVariables) {
    throw new RangeError(
      `Variable ${
        used[used.length - 1]
      } out of range (${nVariables} variables)`,
    );
  }
  const kernelSource = wrap(ssa, kernelFunction(ssa, nParams));
  const evaluateSource = wrap(ssa, evaluateFunction(ssa, nParams));
  // The sources contain no user text (see the module doc), only indices,
  // numbers and names from fixed tables.
  const kernel = new Function(`return ${kernelSource}`)() as BlockKernel;
  const evaluate = new Function(
    `return ${evaluateSource}`,
  )() as EvaluateKernel;
  return { kernel, kernelSource, evaluate, evaluateSource, ssa };
}

/**
 * Hooks for other JavaScript code generators (the batch engine in `batch/`):
 * the spelling of an operand and of an instruction's value, and the helper
 * declarations (`erf`, `fastExp`) a program needs in scope. Same guarantees
 * as {@linkcode compileJs}: text is built from indices, numbers and fixed
 * tables only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { toSsa } from "./ssa.ts";
 * const ssa = toSsa([parseExpression("a * exp(x)").ast]);
 * assert.strictEqual(jsCodegen.operand({ kind: "param", index: 0 }), "p0");
 * assert.strictEqual(jsCodegen.expression(ssa.instructions[0]), "fastExp(x0)");
 * assert.ok(jsCodegen.helpers(ssa).includes("function fastExp"));
 * ```
 */
export const jsCodegen: {
  readonly operand: (o: SsaOperand) => string;
  readonly expression: (ins: SsaInstr) => string;
  readonly helpers: (ssa: Ssa) => string;
} = Object.freeze({
  operand,
  expression,
  helpers: helperSource,
});
