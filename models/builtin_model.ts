/**
 * The model object of `models`: a compiled expression model with lmfit's
 * parameter names and hints, a guess from data, derived quantities with
 * errors, and composition by `add` and `mul`.
 *
 * @module
 */

import { model } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import { normalizeX, type XInput } from "../workflow/fit/_input.ts";
import type { NumVec } from "../core/_validate.ts";
import { type GuessData, guessData } from "./_data.ts";
import { deltaStderr, type DerivedDef } from "./_derived.ts";
import { INTERNALS, type Internals } from "./_internal.ts";
import { guessProduct, guessSum } from "./_composite_guess.ts";

/**
 * What a model knows about one of its parameters, as in lmfit's parameter
 * hints (and the shape `fit`'s `params` option takes): a starting value,
 * bounds, whether it varies, or an expression tying it to others.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { ParamHint } from "@nlsq/nlsq";
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
 * import type { DerivedValue } from "@nlsq/nlsq";
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
 * import type { ModelComponent } from "@nlsq/nlsq";
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
 * import type { GuessOptions } from "@nlsq/nlsq";
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
  /** The hints of every parameter, with `values` as their values. */
  makeParams(
    values?: Readonly<Record<string, number>>,
  ): Record<string, ParamHint>;
  /** The sum of this model and another (a model, or an expression). */
  add(other: BuiltinModel | Model | string): BuiltinModel;
  /** The product of this model and another (a model, or an expression). */
  mul(other: BuiltinModel | Model | string): BuiltinModel;
}

/** What {@linkcode assembleModel} builds a model from. */
export interface ModelParts {
  /** The compiled expression model. */
  readonly base: Model;
  readonly name: string;
  readonly prefix: string;
  readonly hints: Readonly<Record<string, ParamHint>>;
  readonly operator: "+" | "*" | null;
  readonly operands: readonly BuiltinModel[];
  /** The guess on checked data, by full parameter name (may omit some). */
  readonly guess: (
    d: GuessData,
    options: GuessOptions,
  ) => Record<string, number>;
  readonly internals: Internals;
}

/** The private part of a built-in model. */
export function internalsOf(m: BuiltinModel): Internals {
  return (m as unknown as { [INTERNALS]: Internals })[INTERNALS];
}

/** Whether `v` is a model of `models`. */
export function isBuiltinModel(v: unknown): v is BuiltinModel {
  return v !== null && typeof v === "object" && INTERNALS in v;
}

/** `params` as a vector in the order of `names`; errors name what is wrong. */
export function paramVector(
  params: ParamValues,
  names: readonly string[],
  who: string,
): Float64Array {
  if (params === null || typeof params !== "object") {
    throw new TypeError(`${who}: params must be an array or an object by name`);
  }
  if (typeof (params as ArrayLike<number>).length === "number") {
    const a = params as ArrayLike<number>;
    if (a.length !== names.length) {
      throw new RangeError(
        `${who}: params has ${a.length} values, the model has ${names.length} parameters`,
      );
    }
    return Float64Array.from(a);
  }
  const rec = params as Readonly<Record<string, number>>;
  for (const k of Object.keys(rec)) {
    if (!names.includes(k)) {
      throw new TypeError(`${who}: unknown parameter '${k}'`);
    }
  }
  return Float64Array.from(names, (n) => {
    if (typeof rec[n] !== "number") {
      throw new TypeError(`${who}: params.${n} is missing`);
    }
    return rec[n];
  });
}

/** Columns of `x` for `variables`, from the columns of `all` variables. */
function columnsFor(
  cols: readonly Float64Array[],
  all: readonly string[],
  variables: readonly string[],
): Float64Array[] {
  return variables.map((v) => cols[all.indexOf(v)]);
}

/** Fills what a guess left out and keeps every value inside its bounds. */
function completeGuess(
  g: Record<string, number>,
  names: readonly string[],
  hints: Readonly<Record<string, ParamHint>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) {
    const h = hints[n] ?? {};
    let v = g[n];
    if (!Number.isFinite(v)) v = h.value ?? 1;
    const lo = h.min ?? -Infinity, hi = h.max ?? Infinity;
    if (v <= lo || v >= hi) {
      // Strictly inside, where the solver can move both ways.
      const span = hi - lo;
      if (Number.isFinite(span)) v = lo + span * (v <= lo ? 1e-3 : 1 - 1e-3);
      else if (v <= lo) v = lo + Math.max(1e-8, Math.abs(lo) * 1e-3);
      else v = hi - Math.max(1e-8, Math.abs(hi) * 1e-3);
    }
    out[n] = v;
  }
  return out;
}

/**
 * Builds the model object from its parts.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "../model/model.ts";
 * import { assembleModel } from "./builtin_model.ts";
 * const m = assembleModel({
 *   base: model("c * x", { params: ["c"] }),
 *   name: "proportional",
 *   prefix: "",
 *   hints: {},
 *   operator: null,
 *   operands: [],
 *   guess: () => ({ c: 2 }),
 *   internals: { role: "other" },
 * });
 * assert.deepStrictEqual(m.guess([1, 2], [2, 4]), { c: 2 });
 * ```
 */
export function assembleModel(parts: ModelParts): BuiltinModel {
  const { base, name, prefix, hints, operator, operands, internals } = parts;
  const names = base.params;
  const lower = names.map((n) => hints[n]?.min ?? -Infinity);
  const upper = names.map((n) => hints[n]?.max ?? Infinity);
  const who = (what: string) => `${name}.${what}`;
  const self = {
    ...base,
    kind: "expression" as const,
    expression: base.expression!,
    name,
    prefix,
    paramHints: Object.freeze({ ...hints }),
    defaultBounds: Object.freeze([
      Object.freeze(lower),
      Object.freeze(upper),
    ]) as readonly [readonly number[], readonly number[]],
    derivedNames: [] as readonly string[],
    operator,
    operands: Object.freeze([...operands]),
    components: [] as readonly ModelComponent[],
    guess(x: XInput, y: NumVec, options: GuessOptions = {}) {
      const d = guessData(x, y, base.variables.length, who("guess"));
      return completeGuess(parts.guess(d, options), names, hints);
    },
    derived(
      params: ParamValues,
      covariance?: ArrayLike<ArrayLike<number>>,
    ): Record<string, DerivedValue> {
      const p = paramVector(params, names, who("derived"));
      checkCovariance(covariance, names.length, who("derived"));
      const out: Record<string, DerivedValue> = {};
      for (const c of self.components) {
        const idx = c.params.map((n) => names.indexOf(n));
        const sub = Float64Array.from(idx, (i) => p[i]);
        for (const def of internalsOf(c.model).derived ?? []) {
          const { value, gradient } = def.evaluate(sub);
          out[def.name] = {
            value,
            stderr: deltaStderr(gradient, idx, covariance),
          };
        }
      }
      return out;
    },
    evaluateComponents(x: XInput, params: ParamValues) {
      const p = paramVector(params, names, who("evaluateComponents"));
      const cols = normalizeX(x, base.variables.length);
      const out: Record<string, Float64Array> = {};
      for (const c of self.components) {
        const sub = c.params.map((n) => p[names.indexOf(n)]);
        out[c.key] = c.model.evaluate(
          columnsFor(cols, base.variables, c.variables),
          sub,
        );
      }
      return out;
    },
    makeParams(values: Readonly<Record<string, number>> = {}) {
      for (const k of Object.keys(values)) {
        if (!names.includes(k)) {
          throw new TypeError(`${who("makeParams")}: unknown parameter '${k}'`);
        }
      }
      const out: Record<string, ParamHint> = {};
      for (const n of names) {
        const v = values[n] ?? hints[n]?.value;
        out[n] = v === undefined ? { ...hints[n] } : { ...hints[n], value: v };
      }
      return out;
    },
    add(other: BuiltinModel | Model | string): BuiltinModel {
      return combineModels(self as BuiltinModel, other, "+");
    },
    mul(other: BuiltinModel | Model | string): BuiltinModel {
      return combineModels(self as BuiltinModel, other, "*");
    },
    [INTERNALS]: internals,
  };
  self.components = operator === null
    ? [{
      key: prefix || name,
      name,
      prefix,
      expression: base.expression!,
      params: names,
      variables: base.variables,
      model: self as BuiltinModel,
    }]
    : componentsOf(operands);
  Object.freeze(self.components);
  self.derivedNames = Object.freeze(
    self.components.flatMap((c) =>
      (internalsOf(c.model).derived ?? []).map((d: DerivedDef) => d.name)
    ),
  );
  return Object.freeze(self) as BuiltinModel;
}

function checkCovariance(
  cov: ArrayLike<ArrayLike<number>> | undefined,
  n: number,
  who: string,
): void {
  if (cov === undefined) return;
  if (cov === null || typeof cov !== "object" || cov.length !== n) {
    throw new TypeError(`${who}: covariance must be ${n} rows of ${n} numbers`);
  }
  for (let i = 0; i < n; i++) {
    if (!cov[i] || cov[i].length !== n) {
      throw new TypeError(
        `${who}: covariance row ${i} must have ${n} numbers`,
      );
    }
  }
}

/** The leaves of `operands`, with keys made unique. */
function componentsOf(operands: readonly BuiltinModel[]): ModelComponent[] {
  const out: ModelComponent[] = [];
  const seen = new Map<string, number>();
  for (const c of operands.flatMap((o) => o.components)) {
    const n = seen.get(c.key) ?? 0;
    seen.set(c.key, n + 1);
    out.push(n === 0 ? c : { ...c, key: `${c.key}_${n + 1}` });
  }
  return out;
}

/**
 * An operand of `add`/`mul` given as an expression or an expression
 * {@linkcode Model}: a component named "expression" whose guess is ones.
 */
function asOperand(other: unknown): BuiltinModel {
  const m = typeof other === "string" ? model(other) : other as Model;
  if (
    m === null || typeof m !== "object" || m.kind !== "expression" ||
    typeof m.expression !== "string"
  ) {
    throw new TypeError(
      "models: add/mul take a model of `models`, an expression model or an " +
        "expression string (a function model cannot join a composite)",
    );
  }
  return assembleModel({
    base: m,
    name: "expression",
    prefix: "",
    hints: {},
    operator: null,
    operands: [],
    guess: () => ({}),
    internals: { role: "other" },
  });
}

/**
 * The sum or product of two models, flattened (`a + b + c` has three
 * operands); parameter names must not clash.
 */
export function combineModels(
  a: BuiltinModel,
  b: unknown,
  op: "+" | "*",
): BuiltinModel {
  const right = isBuiltinModel(b) ? b : asOperand(b);
  const operands = [a, right].flatMap((m) =>
    m.operator === op ? m.operands : [m]
  );
  const owner = new Map<string, string>();
  for (const m of operands) {
    for (const c of m.components) {
      for (const p of c.params) {
        const prev = owner.get(p);
        if (prev !== undefined) {
          throw new TypeError(
            `models: parameter '${p}' is in two components (${prev} and ${c.key}); ` +
              `give them different prefixes, e.g. models.${c.name}({ prefix: "${
                c.name[0]
              }2_" })`,
          );
        }
        owner.set(p, c.key);
      }
    }
  }
  const params = operands.flatMap((m) => m.params);
  const variables: string[] = [];
  for (const m of operands) {
    for (const v of m.variables) if (!variables.includes(v)) variables.push(v);
  }
  const text = operands.map((m) => `(${m.expression})`).join(` ${op} `);
  const hints: Record<string, ParamHint> = {};
  for (const m of operands) Object.assign(hints, m.paramHints);
  const base = model(text, { params, variables });
  return assembleModel({
    base,
    name: "composite",
    prefix: "",
    hints,
    operator: op,
    operands,
    guess: (d, options) =>
      op === "+"
        ? guessSum(operands, d, variables, options)
        : guessProduct(operands, d, variables, options),
    internals: { role: "other" },
  });
}
