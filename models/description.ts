/**
 * A model written down as JSON and made again: an expression with its
 * parameter and variable names, a built-in model by its factory and
 * options, or a composite by its operator and operands. A saved fit
 * result keeps its model this way (`FitResult.toJSON` / `fromJSON`).
 *
 * @module
 */

import { model } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import type { BuiltinModel, ParamHint } from "./builtin_model.ts";
import { internalsOf, isBuiltinModel } from "./_internal.ts";
import { models } from "./mod.ts";

/**
 * What makes a model again: `describeModel`'s output, plain JSON.
 *
 * - `expression`: a model of the model language (`model("...")`);
 * - `builtin`: a model of `models` by its factory's name, prefix and
 *   options (a polynomial's degree, a step's form, an expression's text
 *   and hints);
 * - `composite`: the sum or product of its operands, in order;
 * - `function`: a plain function model, which cannot be written down
 *   (only its names are kept).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeModel } from "@nlsq/nlsq/model";
 * import { models } from "@nlsq/nlsq";
 * import type { ModelDescription } from "@nlsq/nlsq/model";
 * const d: ModelDescription = describeModel(models.gaussian({ prefix: "g_" }).add(models.linear()));
 * assert.deepStrictEqual(d, {
 *   kind: "composite",
 *   operator: "+",
 *   operands: [
 *     { kind: "builtin", name: "gaussian", prefix: "g_", options: {} },
 *     { kind: "builtin", name: "linear", prefix: "", options: {} },
 *   ],
 * });
 * ```
 */
export type ModelDescription =
  | {
    readonly kind: "expression";
    readonly expression: string;
    readonly params: readonly string[];
    readonly variables: readonly string[];
  }
  | {
    readonly kind: "builtin";
    /** The factory in `models`: "gaussian", "polynomial", "expression", ... */
    readonly name: string;
    readonly prefix: string;
    /** The factory's options besides the prefix. */
    readonly options: Readonly<Record<string, unknown>>;
  }
  | {
    readonly kind: "composite";
    readonly operator: "+" | "*";
    readonly operands: readonly ModelDescription[];
  }
  | {
    readonly kind: "function";
    readonly params: readonly string[];
    readonly variables: readonly string[];
  };

/**
 * The description of a model (see {@linkcode ModelDescription}). A
 * built-in model made by `models.expression` with a `guess` function is
 * described without it (a function cannot be written down).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeModel } from "@nlsq/nlsq/model";
 * import { model } from "@nlsq/nlsq";
 * assert.deepStrictEqual(describeModel(model("a * exp(-b * t)", { variables: ["t"] })), {
 *   kind: "expression",
 *   expression: "a * exp(-b * t)",
 *   params: ["a", "b"],
 *   variables: ["t"],
 * });
 * ```
 */
export function describeModel(m: Model): ModelDescription {
  if (isBuiltinModel(m)) {
    if (m.operator !== null) {
      return {
        kind: "composite",
        operator: m.operator,
        operands: m.operands.map(describeModel),
      };
    }
    const origin = internalsOf(m).origin;
    if (origin) {
      return {
        kind: "builtin",
        name: origin.factory,
        prefix: origin.prefix,
        options: structuredClone(origin.options),
      };
    }
  }
  if (m.kind === "expression" && typeof m.expression === "string") {
    return {
      kind: "expression",
      expression: m.expression,
      params: [...m.params],
      variables: [...m.variables],
    };
  }
  return {
    kind: "function",
    params: [...m.params],
    variables: [...m.variables],
  };
}

/** The factories of `models`, by name (read when called: an import cycle). */
const factories = () =>
  models as unknown as Readonly<
    Record<string, (options?: Record<string, unknown>) => BuiltinModel>
  >;

/**
 * The model a description describes, made again: the same expression, so
 * the same compiled kernel and the same values to the last bit.
 *
 * @throws {TypeError} for a malformed description (naming the field), an
 * unknown built-in model, or a function model (it cannot be made from a
 * description: keep the function and pass it, e.g. to
 * `FitResult.fromJSON(json, { model })`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeModel, modelFromDescription } from "@nlsq/nlsq/model";
 * import { models } from "@nlsq/nlsq";
 * const m = models.polynomial({ degree: 2, prefix: "bg_" }).add(models.lorentzian());
 * const again = modelFromDescription(JSON.parse(JSON.stringify(describeModel(m))));
 * assert.deepStrictEqual(again.params, m.params);
 * assert.strictEqual(again.expression, m.expression);
 * ```
 */
export function modelFromDescription(description: unknown): Model {
  return build(description, "model description");
}

function build(d: unknown, at: string): Model {
  if (d === null || typeof d !== "object" || Array.isArray(d)) {
    throw new TypeError(`${at} must be an object, got ${show(d)}`);
  }
  const o = d as Record<string, unknown>;
  switch (o.kind) {
    case "expression":
      return model(text(o.expression, `${at}.expression`), {
        params: names(o.params, `${at}.params`),
        variables: names(o.variables, `${at}.variables`),
      });
    case "builtin":
      return builtin(o, at);
    case "composite": {
      if (o.operator !== "+" && o.operator !== "*") {
        throw new TypeError(
          `${at}.operator must be "+" or "*", got ${show(o.operator)}`,
        );
      }
      if (!Array.isArray(o.operands) || o.operands.length < 2) {
        throw new TypeError(`${at}.operands must list at least two models`);
      }
      const parts = o.operands.map((p, i) => {
        const m = build(p, `${at}.operands[${i}]`);
        return isBuiltinModel(m) ? m : models.expression(m);
      });
      // Folding in order makes the composite's expression again exactly.
      return parts.slice(1).reduce(
        (acc, p) => (o.operator === "+" ? acc.add(p) : acc.mul(p)),
        parts[0],
      );
    }
    case "function":
      throw new TypeError(
        `${at}: a function model (parameters ${
          names(o.params, `${at}.params`).join(", ")
        }) cannot be made from a description; pass the function itself`,
      );
    default:
      throw new TypeError(
        `${at}.kind must be "expression", "builtin", "composite" or "function", got ${
          show(o.kind)
        }`,
      );
  }
}

function builtin(o: Record<string, unknown>, at: string): BuiltinModel {
  const name = text(o.name, `${at}.name`);
  const all = factories();
  const factory = Object.hasOwn(all, name) ? all[name] : undefined;
  if (!factory) {
    throw new TypeError(
      `${at}.name: no built-in model '${name}' (known: ${
        Object.keys(all).join(", ")
      })`,
    );
  }
  const prefix = o.prefix === undefined ? "" : text(o.prefix, `${at}.prefix`);
  const options = o.options ?? {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${at}.options must be an object`);
  }
  const opts = { ...options as Record<string, unknown> };
  if (name !== "expression") {
    return factory({ ...opts, ...(prefix ? { prefix } : {}) });
  }
  const expr = text(opts.expression, `${at}.options.expression`);
  delete opts.expression;
  return models.expression(expr, {
    ...opts as { hints?: Record<string, ParamHint> },
    ...(prefix ? { prefix } : {}),
  });
}

/**
 * A short name of a described model, as lmfit prints one:
 * `Model(gaussian, prefix='g1_') + Model(linear)`, or the expression.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeModel } from "@nlsq/nlsq/model";
 * import { models } from "@nlsq/nlsq";
 * import { modelLabel } from "./description.ts";
 * const d = describeModel(models.gaussian({ prefix: "g1_" }).add(models.polynomial({ degree: 2 })));
 * assert.strictEqual(modelLabel(d), "Model(gaussian, prefix='g1_') + Model(polynomial, degree=2)");
 * ```
 */
export function modelLabel(d: ModelDescription): string {
  switch (d.kind) {
    case "expression":
      return d.expression;
    case "function":
      return `function(${[...d.variables, ...d.params].join(", ")})`;
    case "composite":
      return d.operands.map((o) =>
        o.kind === "composite" ? `(${modelLabel(o)})` : modelLabel(o)
      ).join(` ${d.operator} `);
    case "builtin": {
      const parts = [d.name];
      if (d.name === "expression") {
        parts[0] = `expression '${String(d.options.expression)}'`;
      } else {
        for (const [k, v] of Object.entries(d.options)) {
          parts.push(`${k}=${typeof v === "string" ? `'${v}'` : String(v)}`);
        }
      }
      if (d.prefix) parts.push(`prefix='${d.prefix}'`);
      return `Model(${parts.join(", ")})`;
    }
  }
}

function text(v: unknown, at: string): string {
  if (typeof v !== "string") {
    throw new TypeError(`${at} must be a string, got ${show(v)}`);
  }
  return v;
}

function names(v: unknown, at: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    throw new TypeError(`${at} must be an array of names, got ${show(v)}`);
  }
  return v as string[];
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined
      ? String(v)
      : s.length > 60
      ? s.slice(0, 57) + "..."
      : s;
  } catch {
    return String(v);
  }
}
