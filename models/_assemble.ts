/**
 * Builds the model objects of `models` (private helper): a single model
 * from its compiled expression and parts, and the sum or product of models.
 *
 * @module
 */

import { model } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import { normalizeX, type XInput } from "../workflow/fit/_input.ts";
import type { NumVec } from "../core/_validate.ts";
import type {
  BuiltinModel,
  DerivedValue,
  GuessOptions,
  ModelComponent,
  ParamHint,
  ParamValues,
} from "./builtin_model.ts";
import { type GuessData, guessData } from "./_data.ts";
import { deltaStderr, type DerivedDef } from "./_derived.ts";
import {
  INTERNALS,
  type Internals,
  internalsOf,
  isBuiltinModel,
} from "./_internal.ts";
import { guessProduct, guessSum } from "./_composite_guess.ts";

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

/**
 * `params` as a vector in the order of `names`; errors name what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { paramVector } from "./_assemble.ts";
 * const v = paramVector({ b: 2, a: 1 }, ["a", "b"], "derived");
 * assert.deepStrictEqual(Array.from(v), [1, 2]);
 * assert.throws(() => paramVector({ a: 1 }, ["a", "b"], "derived"), /params.b is missing/);
 * ```
 */
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
 * import { assembleModel } from "./_assemble.ts";
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
    internals: {
      role: "other",
      origin: {
        factory: "expression",
        prefix: "",
        options: {
          expression: m.expression,
          params: [...m.params],
          variables: [...m.variables],
        },
      },
    },
  });
}

/**
 * The sum or product of two models, flattened (`a + b + c` has three
 * operands); parameter names must not clash.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "../mod.ts";
 * import { combineModels } from "./_assemble.ts";
 * const m = combineModels(models.linear(), "k * x^2", "+");
 * assert.deepStrictEqual(m.params, ["slope", "intercept", "k"]);
 * ```
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
