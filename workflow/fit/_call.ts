/**
 * Phase 1 of `fit()`: the call itself. Resolves the model, tells arrays
 * from a data source, and checks every option name and value before any
 * data is read.
 *
 * @module
 */

import { model as compileModel } from "../../model/model.ts";
import type { Model } from "../../model/types.ts";
import { assertKnownOptions, type NumVec } from "../../core/_validate.ts";
import type { BatchSourceLike } from "../../strategies/strategy.ts";
import {
  FIT_OPTION_KEYS,
  type FitOptions,
  type ModelInput,
} from "../fit_options.ts";
import { normalizeGoal, type OptimizationGoal } from "../goal.ts";
import { checkFitOptions } from "./_options.ts";
import type { XInput } from "./_input.ts";
import { type ParamPlan, resolveParams } from "./_params.ts";
import { withModelStart } from "./_model_start.ts";
import { cachedExpressionModel } from "./_model_cache.ts";
import type { BackendName } from "../../strategies/backend_name.ts";

/** A checked call of `fit`. */
export interface FitCall {
  /** The model the solver fits: over the free parameters only. */
  readonly model: Model;
  /** The caller's model, over every parameter. */
  readonly fullModel: Model;
  /** How the free parameters map to every model parameter. */
  readonly params: ParamPlan;
  /** Whether the start is the built-in model's guess. */
  readonly guessed: boolean;
  /** The options as the caller gave them. */
  readonly userOptions: FitOptions;
  /** The data source, or null for arrays. */
  readonly source: BatchSourceLike | null;
  /** x and y as given (arrays only). */
  readonly x: XInput | null;
  readonly y: NumVec | null;
  /** The options as given. */
  readonly options: FitOptions;
  /** Normalized option values. */
  readonly verbose: 0 | 1 | 2;
  readonly backend: BackendName;
  readonly nanPolicy: "raise" | "omit";
  readonly goal: OptimizationGoal | undefined;
}

/** Whether `v` is a data source rather than arrays. */
export function isSource(v: unknown): v is BatchSourceLike {
  return v !== null && typeof v === "object" &&
    typeof (v as BatchSourceLike).batches === "function" &&
    typeof (v as BatchSourceLike).fingerprint === "string";
}

/**
 * Resolves `fit(model, x, y, options)` or `fit(model, source, options)`.
 * A model given as an expression with a source whose x columns have names
 * takes those names as its variables where the expression uses them (so
 * `a*exp(-b*t)+c` over a column `t` fits `t`, not a parameter `t`).
 */
export async function resolveFitCall(
  modelIn: ModelInput,
  xOrSource: XInput | BatchSourceLike,
  yOrOptions?: NumVec | FitOptions,
  maybeOptions?: FitOptions,
): Promise<FitCall> {
  const source = isSource(xOrSource) ? xOrSource : null;
  const m = resolveModel(modelIn, source);
  const options: FitOptions =
    (source ? yOrOptions as FitOptions : maybeOptions) ?? {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError("options must be an object");
  }
  if (source && maybeOptions !== undefined) {
    throw new TypeError(
      "fit(model, source, options): with a data source, options are the third argument",
    );
  }
  assertKnownOptions("fit", options, FIT_OPTION_KEYS);
  const checked = checkFitOptions(options, m.params.length);
  // A built-in model's hints and, without a start, its guess.
  const started = await withModelStart(
    m,
    options,
    source ? null : xOrSource as XInput,
    source ? null : yOrOptions as NumVec,
    source,
  );
  const params = resolveParams(m, started.options);
  return {
    model: params.model,
    fullModel: m,
    params,
    source,
    x: source ? null : xOrSource as XInput,
    y: source ? null : yOrOptions as NumVec,
    // The solver's view: starts and bounds of the free parameters.
    options: { ...options, p0: params.p0, bounds: params.bounds },
    guessed: started.guessed,
    userOptions: options,
    ...checked,
    goal: options.goal === undefined ? undefined : normalizeGoal(options.goal),
  };
}

/**
 * The model of a call: a compiled model as is, an expression compiled
 * (with a source's column names as its variables where it uses them all).
 */
export function resolveModel(
  modelIn: ModelInput,
  source: BatchSourceLike | null,
): Model {
  if (typeof modelIn === "object" && modelIn !== null && "kernel" in modelIn) {
    return modelIn;
  }
  const names = source?.xNames;
  if (typeof modelIn === "string" && names && names.length > 0) {
    // The source's column names are the variables the expression may use.
    const used = names.filter((n) =>
      new RegExp(`(^|[^A-Za-z0-9_])${n}([^A-Za-z0-9_(]|$)`).test(modelIn)
    );
    if (used.length === names.length) {
      return cachedExpressionModel(modelIn, names);
    }
  }
  if (typeof modelIn === "string") return cachedExpressionModel(modelIn);
  return compileModel(modelIn);
}
