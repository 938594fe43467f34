/**
 * A single built-in model from its definition in lmfit's (unprefixed)
 * parameter names (private helper of the factories): the prefix goes onto
 * the expression, the hints, the guess and the derived quantities.
 *
 * @module
 */

import { model } from "../model/model.ts";
import type { BuiltinModel, GuessOptions, ParamHint } from "./builtin_model.ts";
import { assembleModel } from "./_assemble.ts";
import type { GuessData } from "./_data.ts";
import { type DerivedDef, expressionDerived } from "./_derived.ts";
import type { PeakMeasurement, Role } from "./_internal.ts";

/** A derived quantity in unprefixed names: an expression, or a function. */
export type LeafDerived =
  | { readonly name: string; readonly expression: string }
  | {
    readonly name: string;
    readonly evaluate: DerivedDef["evaluate"];
  };

/** The definition of a single model, in unprefixed parameter names. */
export interface LeafSpec {
  readonly name: string;
  /** Parameter names in order (lmfit's). */
  readonly params: readonly string[];
  /** Variables (default `["x"]`). */
  readonly variables?: readonly string[];
  /** The model in the model language. */
  readonly expression: string;
  readonly hints?: Readonly<Record<string, ParamHint>>;
  /** Starting values from checked data (may omit some). */
  readonly guess: (
    d: GuessData,
    options: GuessOptions,
  ) => Record<string, number>;
  readonly derived?: readonly LeafDerived[];
  /** Its role in a composite's guess (default "other"). */
  readonly role?: Role;
  /** Degree of a baseline polynomial. */
  readonly degree?: number;
  /** Values for a peak measured in the data (peaks). */
  readonly fromPeak?: (m: PeakMeasurement) => Record<string, number>;
  /**
   * The factory's options besides the prefix, as JSON values (a
   * polynomial's degree, a step's form), to make the model again
   * (`models/description.ts`); the factory is `models[name]`.
   */
  readonly options?: Readonly<Record<string, unknown>>;
}

/**
 * Options every factory of `models` takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { ModelFactoryOptions } from "@nlsq/nlsq/model";
 * const o: ModelFactoryOptions = { prefix: "bg_" };
 * assert.deepStrictEqual(models.linear(o).params, ["bg_slope", "bg_intercept"]);
 * ```
 */
export interface ModelFactoryOptions {
  /** Prepended to every parameter name (lmfit's `prefix`), e.g. "g1_". */
  readonly prefix?: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks a factory's options object: only `allowed` keys, a valid prefix.
 * Returns the prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkFactoryOptions } from "./_leaf.ts";
 * assert.strictEqual(checkFactoryOptions({ prefix: "g1_" }, ["prefix"], "models.gaussian"), "g1_");
 * assert.throws(() => checkFactoryOptions({ size: 1 }, ["prefix"], "models.gaussian"), /unknown option 'size'/);
 * ```
 */
export function checkFactoryOptions(
  options: unknown,
  allowed: readonly string[],
  who: string,
): string {
  if (options === undefined) return "";
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${who}: options must be an object`);
  }
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) {
      throw new TypeError(
        `${who}: unknown option '${k}' (known: ${allowed.join(", ")})`,
      );
    }
  }
  const prefix = (options as ModelFactoryOptions).prefix ?? "";
  if (typeof prefix !== "string" || (prefix !== "" && !IDENT.test(prefix))) {
    throw new TypeError(
      `${who}: prefix must be letters, digits and _ (not starting with a digit), got ${
        JSON.stringify(prefix)
      }`,
    );
  }
  return prefix;
}

/**
 * `text` with every identifier in `names` replaced by its new name (numbers
 * such as `1e5` are left alone).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { renameIdentifiers } from "./_leaf.ts";
 * const t = renameIdentifiers("a*exp(-b*x)+1e-3*a", new Map([["a", "p_a"], ["b", "p_b"]]));
 * assert.strictEqual(t, "p_a*exp(-p_b*x)+1e-3*p_a");
 * ```
 */
export function renameIdentifiers(
  text: string,
  names: ReadonlyMap<string, string>,
): string {
  return text.replace(
    /((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)/g,
    (all, num: string | undefined, id: string | undefined) =>
      num !== undefined ? all : names.get(id!) ?? all,
  );
}

function prefixKeys<T>(
  rec: Readonly<Record<string, T>>,
  full: ReadonlyMap<string, string>,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(rec)) out[full.get(k) ?? k] = v;
  return out;
}

/**
 * The model of `spec` with parameter names prefixed by `prefix`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createLeaf } from "./_leaf.ts";
 * const m = createLeaf({
 *   name: "proportional",
 *   params: ["k"],
 *   expression: "k * x",
 *   hints: { k: { min: 0 } },
 *   guess: () => ({ k: 2 }),
 * }, "p_");
 * assert.deepStrictEqual(m.params, ["p_k"]);
 * assert.deepStrictEqual(m.paramHints, { p_k: { min: 0 } });
 * assert.deepStrictEqual(m.guess([1, 2], [2, 4]), { p_k: 2 });
 * ```
 */
export function createLeaf(spec: LeafSpec, prefix: string): BuiltinModel {
  const full = new Map(spec.params.map((p) => [p, prefix + p]));
  const params = spec.params.map((p) => full.get(p)!);
  const rename = (t: string) => renameIdentifiers(t, full);
  const base = model(rename(spec.expression), {
    params,
    variables: spec.variables ?? ["x"],
  });
  const hints: Record<string, ParamHint> = {};
  for (const [k, h] of Object.entries(spec.hints ?? {})) {
    hints[full.get(k)!] = h.expr === undefined
      ? { ...h }
      : { ...h, expr: rename(h.expr) };
  }
  const derived: DerivedDef[] = (spec.derived ?? []).map((d) =>
    "expression" in d
      ? expressionDerived(prefix + d.name, rename(d.expression), params)
      : { name: prefix + d.name, evaluate: d.evaluate }
  );
  const fromPeak = spec.fromPeak;
  return assembleModel({
    base,
    name: spec.name,
    prefix,
    hints,
    operator: null,
    operands: [],
    guess: (d, options) => prefixKeys(spec.guess(d, options), full),
    internals: {
      role: spec.role ?? "other",
      degree: spec.degree,
      fromPeak: fromPeak && ((m) => prefixKeys(fromPeak(m), full)),
      derived,
      origin: { factory: spec.name, prefix, options: spec.options ?? {} },
    },
  });
}
