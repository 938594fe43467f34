/**
 * The model object of `models` (its types): a compiled expression model
 * with lmfit's parameter names and hints, a guess from data, derived
 * quantities with errors, and composition by `add` and `mul`.
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import type { XInput } from "../workflow/fit/_input.ts";
import type { NumVec } from "../core/_validate.ts";

/**
 * What a model knows about one of its parameters, as in lmfit's parameter
 * hints (and the shape `fit`'s `params` option takes): a starting value,
 * bounds, whether it varies, or an expression tying it to others.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { ParamHint } from "@nlsq/nlsq/model";
 * const h: ParamHint = models.gaussian().paramHints.sigma;
 * assert.deepStrictEqual(h, { min: 0 });
 * ```
 */
export interface ParamHint {
  /** Starting value. */
  readonly value?: number;
  /** Lower bound. */
  readonly min?: number;
  /** Upper bound. */
  readonly max?: number;
  /** Whether the parameter varies in a fit (default true). */
  readonly vary?: boolean;
  /** An expression of other parameters that the parameter equals. */
  readonly expr?: string;
}

/**
 * A derived quantity and its standard error (delta method).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { DerivedValue } from "@nlsq/nlsq/model";
 * const d: DerivedValue = models.lorentzian().derived([3, 0, 2]).fwhm;
 * assert.strictEqual(d.value, 4);
 * assert.ok(Number.isNaN(d.stderr)); // no covariance given
 * ```
 */
export interface DerivedValue {
  /** The value at the parameters. */
  readonly value: number;
  /** Its standard error from the covariance (NaN without one). */
  readonly stderr: number;
}

/**
 * One component of a (composite) built-in model.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { ModelComponent } from "@nlsq/nlsq/model";
 * const m = models.gaussian({ prefix: "g_" }).add(models.constant());
 * const [g, c]: readonly ModelComponent[] = m.components;
 * assert.deepStrictEqual([g.key, c.key], ["g_", "constant"]);
 * assert.deepStrictEqual(g.params, ["g_amplitude", "g_center", "g_sigma"]);
 * ```
 */
export interface ModelComponent {
  /** Its key in {@linkcode BuiltinModel.evaluateComponents}: the prefix, else the name. */
  readonly key: string;
  /** Model name ("gaussian", "linear", "expression", ...). */
  readonly name: string;
  /** Prefix of its parameter names. */
  readonly prefix: string;
  /** Its expression (with prefixed parameter names). */
  readonly expression: string;
  /** Its parameters (a subset of the composite's). */
  readonly params: readonly string[];
  /** Its variables. */
  readonly variables: readonly string[];
  /** The component alone. */
  readonly model: BuiltinModel;
}

/**
 * Options of {@linkcode BuiltinModel.guess}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { GuessOptions } from "@nlsq/nlsq/model";
 * const x = Array.from({ length: 41 }, (_, i) => i / 4);
 * const y = x.map((t) => -2 * Math.exp(-((t - 5) ** 2)));
 * const o: GuessOptions = { negative: true };
 * assert.ok(models.gaussian().guess(x, y, o).amplitude < 0);
 * ```
 */
export interface GuessOptions {
  /**
   * Peak models: the peak points down (default: the larger excursion from
   * the median decides).
   */
  readonly negative?: boolean;
}

/**
 * Parameter values: one per parameter in model order, or by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { ParamValues } from "@nlsq/nlsq";
 * const p: ParamValues = { slope: 2, intercept: 1 };
 * assert.deepStrictEqual(models.linear().evaluateComponents([0, 1], p).linear, new Float64Array([1, 3]));
 * ```
 */
export type ParamValues = ArrayLike<number> | Readonly<Record<string, number>>;

/**
 * A built-in model (or a composite of them): a {@linkcode Model} usable
 * wherever one is accepted, with lmfit's parameter names, hints, a guess
 * from data, derived quantities, and `add`/`mul` to build composites.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, models } from "@nlsq/nlsq";
 * import type { BuiltinModel } from "@nlsq/nlsq";
 * const m: BuiltinModel = models.gaussian().add(models.constant());
 * const x = Array.from({ length: 101 }, (_, i) => i / 10);
 * const y = x.map((t) => 3 * Math.exp(-((t - 4) ** 2) / 2) + 0.5);
 * const g = m.guess(x, y);
 * const r = await fit(m, x, y, { p0: m.params.map((n) => g[n]), bounds: m.defaultBounds });
 * assert.ok(Math.abs(r.params.center - 4) < 1e-8);
 * const { height } = m.derived(r.popt, r.pcov);
 * assert.ok(Math.abs(height.value - 3) < 1e-8);
 * ```
 */
export interface BuiltinModel extends Model {
  /** An expression model. */
  readonly kind: "expression";
  /** The expression, with the final (prefixed) parameter names. */
  readonly expression: string;
  /** Model name: "gaussian", ..., "expression", or "composite". */
  readonly name: string;
  /** Prefix of the parameter names ("" for a composite). */
  readonly prefix: string;
  /** Hints by parameter name (only parameters that have some). */
  readonly paramHints: Readonly<Record<string, ParamHint>>;
  /** `[lower, upper]` in parameter order from the hints, for `fit`'s `bounds`. */
  readonly defaultBounds: readonly [readonly number[], readonly number[]];
  /** Names of the quantities {@linkcode BuiltinModel.derived} returns. */
  readonly derivedNames: readonly string[];
  /** "+" or "*" for a composite, null for a single model. */
  readonly operator: "+" | "*" | null;
  /** The operands of a composite (empty for a single model). */
  readonly operands: readonly BuiltinModel[];
  /** The single models it is made of (itself, for a single model). */
  readonly components: readonly ModelComponent[];
  /**
   * Starting values by parameter name, estimated from the data (peak
   * heights, positions and widths, baselines, logarithmic or integral fits
   * for exponentials and power laws). On a sum, peaks found in the data go
   * to the peak components in order of position and the rest is fitted to
   * what the peaks leave.
   */
  guess(x: XInput, y: NumVec, options?: GuessOptions): Record<string, number>;
  /**
   * Derived quantities (lmfit's: fwhm, height, ...; prefixed) at `params`,
   * with standard errors from `covariance` (the parameters' covariance, in
   * model order, as `fit`'s `pcov`) by the delta method with exact
   * gradients.
   */
  derived(
    params: ParamValues,
    covariance?: ArrayLike<ArrayLike<number>>,
  ): Record<string, DerivedValue>;
  /** Each component's values at `x` for the composite's `params`, by key. */
  evaluateComponents(
    x: XInput,
    params: ParamValues,
  ): Record<string, Float64Array>;
  /**
   * The hints of every parameter with `values` as their values: `fit`'s
   * `params` (`fit(m, x, y, { params: m.makeParams(m.guess(x, y)) })` fits
   * with the bounds and ties of the hints, lmfit's Voigt with gamma =
   * sigma for instance).
   */
  makeParams(
    values?: Readonly<Record<string, number>>,
  ): Record<string, ParamHint>;
  /** The sum of this model and another (a model, or an expression). */
  add(other: BuiltinModel | Model | string): BuiltinModel;
  /** The product of this model and another (a model, or an expression). */
  mul(other: BuiltinModel | Model | string): BuiltinModel;
}
