/**
 * The model language: parse an expression, differentiate it exactly, and
 * compile the value and the Jacobian into one fused kernel.
 *
 * `model("a * exp(-b * x) + c")` returns a {@linkcode Model} with parameters
 * `a, b, c`, exact derivatives and a compiled kernel; see {@linkcode model}.
 *
 * @module
 */

export { model, type ModelFunction, type ModelOptions } from "./model.ts";
export { ModelSyntaxError } from "./syntax_error.ts";
export {
  parseExpression,
  type ParseOptions,
  type ParseResult,
} from "./parser.ts";
export { derivative, gradient } from "./derivative.ts";
export { simplify } from "./simplify.ts";
export {
  type Ssa,
  type SsaInstr,
  type SsaOperand,
  type SsaOptions,
  toSsa,
} from "./ssa.ts";
export { liveInstructions, variableDependence } from "./ssa_analysis.ts";
export { modelSsa, type SsaSource } from "./model_ssa.ts";
export {
  type CompiledJs,
  compileJs,
  type EvaluateKernel,
} from "./compile_js.ts";
export * from "./ast.ts";
export type * from "./types.ts";

// The built-in models' descriptions and factory options (the root module
// exports `models` and `BuiltinModel`).
export {
  type DerivedValue,
  describeModel,
  type ExpressionOptions,
  type GuessOptions,
  type ModelComponent,
  type ModelDescription,
  type ModelFactoryOptions,
  modelFromDescription,
  type ParamHint,
  type PolynomialOptions,
  STEP_FORMS,
  type StepForm,
  type StepOptions,
} from "../models/mod.ts";
