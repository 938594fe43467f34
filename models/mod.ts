/**
 * Built-in models with lmfit's definitions and parameter names, and
 * composites of them: `models.gaussian({ prefix: "g1_" }).add(models.linear())`.
 *
 * Every factory returns a {@linkcode BuiltinModel}: a compiled model of the
 * model language (exact derivatives, CPU and WebGPU) that `fit` and
 * `curveFit` accept, with parameter hints (bounds such as `sigma >= 0`), a
 * `guess` from data, derived quantities with errors (`fwhm`, `height`),
 * and `add`/`mul`.
 *
 * @module
 */

import { constant } from "./constant.ts";
import { linear } from "./linear.ts";
import { quadratic } from "./quadratic.ts";
import { polynomial } from "./polynomial.ts";
import { exponential } from "./exponential.ts";
import { powerLaw } from "./power_law.ts";
import { gaussian } from "./gaussian.ts";
import { lorentzian } from "./lorentzian.ts";
import { voigt } from "./voigt.ts";
import { pseudoVoigt } from "./pseudo_voigt.ts";
import { step } from "./step.ts";
import { sine } from "./sine.ts";
import { lognormal } from "./lognormal.ts";
import { gaussian2d } from "./gaussian2d.ts";
import { logistic } from "./logistic.ts";
import { hill } from "./hill.ts";
import { michaelisMenten } from "./michaelis_menten.ts";
import { exponentialDecay } from "./exponential_decay.ts";
import { expression } from "./expression.ts";

export type {
  BuiltinModel,
  DerivedValue,
  GuessOptions,
  ModelComponent,
  ParamHint,
  ParamValues,
} from "./builtin_model.ts";
export type { ModelFactoryOptions } from "./_leaf.ts";
export type { PolynomialOptions } from "./polynomial.ts";
export { STEP_FORMS, type StepForm, type StepOptions } from "./step.ts";
export type { ExpressionOptions } from "./expression.ts";
export {
  describeModel,
  type ModelDescription,
  modelFromDescription,
} from "./description.ts";

/**
 * The built-in models (lmfit's definitions and parameter names, plus
 * `logistic`, `hill`, `michaelisMenten` and `exponentialDecay`), and
 * `expression` to make any expression a component.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, models } from "@nlsq/nlsq";
 * const m = models.gaussian({ prefix: "g1_" })
 *   .add(models.gaussian({ prefix: "g2_" }))
 *   .add(models.linear());
 * const x = Array.from({ length: 400 }, (_, i) => i / 20);
 * const truth = [3, 6, 0.5, 2, 13, 0.8, 0.05, 1];
 * const y = m.evaluate([Float64Array.from(x)], truth);
 * const g = m.guess(x, y);
 * const r = await fit(m, x, y, { p0: m.params.map((n) => g[n]), bounds: m.defaultBounds });
 * assert.ok(Math.abs(r.params.g2_center - 13) < 1e-8);
 * assert.ok(Math.abs(r.params.slope - 0.05) < 1e-8);
 * ```
 */
export const models: {
  readonly constant: typeof constant;
  readonly linear: typeof linear;
  readonly quadratic: typeof quadratic;
  readonly polynomial: typeof polynomial;
  readonly exponential: typeof exponential;
  readonly powerLaw: typeof powerLaw;
  readonly gaussian: typeof gaussian;
  readonly lorentzian: typeof lorentzian;
  readonly voigt: typeof voigt;
  readonly pseudoVoigt: typeof pseudoVoigt;
  readonly step: typeof step;
  readonly sine: typeof sine;
  readonly lognormal: typeof lognormal;
  readonly gaussian2d: typeof gaussian2d;
  readonly logistic: typeof logistic;
  readonly hill: typeof hill;
  readonly michaelisMenten: typeof michaelisMenten;
  readonly exponentialDecay: typeof exponentialDecay;
  readonly expression: typeof expression;
} = Object.freeze({
  constant,
  linear,
  quadratic,
  polynomial,
  exponential,
  powerLaw,
  gaussian,
  lorentzian,
  voigt,
  pseudoVoigt,
  step,
  sine,
  lognormal,
  gaussian2d,
  logistic,
  hill,
  michaelisMenten,
  exponentialDecay,
  expression,
});
