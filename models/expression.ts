/**
 * Any expression of the model language as a component of `models`.
 *
 * @module
 */

import { parseExpression } from "../model/parser.ts";
import type { Model } from "../model/types.ts";
import type { BuiltinModel, ParamHint } from "./builtin_model.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type ModelFactoryOptions,
} from "./_leaf.ts";

/**
 * Options of {@linkcode expression}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * import type { ExpressionOptions } from "@nlsq/nlsq/model";
 * const o: ExpressionOptions = { prefix: "d_", hints: { k: { value: 2, min: 0 } } };
 * const m = models.expression("A * exp(-k * x)", o);
 * assert.deepStrictEqual(m.params, ["d_A", "d_k"]);
 * assert.deepStrictEqual(m.guess([0, 1], [1, 1]), { d_A: 1, d_k: 2 });
 * ```
 */
export interface ExpressionOptions extends ModelFactoryOptions {
  /** Parameter names in order (as `model`'s option). */
  readonly params?: readonly string[];
  /** Variable names (as `model`'s option). */
  readonly variables?: readonly string[];
  /** Hints by (unprefixed) parameter name. */
  readonly hints?: Readonly<Record<string, ParamHint>>;
  /**
   * Starting values by (unprefixed) name from the data: x as columns, y.
   * Without it, the guess is each hint's value, else 1.
   */
  readonly guess?: (
    x: readonly Float64Array[],
    y: Float64Array,
  ) => Record<string, number>;
}

/**
 * A model of the model language (an expression, or an expression
 * {@linkcode Model}) as a component that can join composites, with a
 * prefix, hints and a guess of its own.
 *
 * @throws {TypeError} for a function model, or hints or a guess that name
 * unknown parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.gaussian().add(models.expression("k * x^2", { prefix: "q_" }));
 * assert.deepStrictEqual(m.params, ["amplitude", "center", "sigma", "q_k"]);
 * ```
 */
export function expression(
  expr: string | Model,
  options?: ExpressionOptions,
): BuiltinModel {
  const who = "models.expression";
  const prefix = checkFactoryOptions(
    options,
    ["prefix", "params", "variables", "hints", "guess"],
    who,
  );
  let text: string, parsed;
  if (typeof expr === "string") {
    text = expr;
    parsed = parseExpression(text, {
      params: options?.params,
      variables: options?.variables,
    });
  } else if (
    expr !== null && typeof expr === "object" && expr.kind === "expression" &&
    typeof expr.expression === "string"
  ) {
    text = expr.expression;
    parsed = parseExpression(text, {
      params: expr.params,
      variables: expr.variables,
    });
  } else {
    throw new TypeError(
      `${who}: expr must be an expression or an expression model (a function model has no expression to combine)`,
    );
  }
  const hints = options?.hints ?? {};
  for (const k of Object.keys(hints)) {
    if (!parsed.params.includes(k)) {
      throw new TypeError(`${who}: hints.${k}: no such parameter`);
    }
  }
  const user = options?.guess;
  if (user !== undefined && typeof user !== "function") {
    throw new TypeError(`${who}: guess must be a function`);
  }
  return createLeaf({
    name: "expression",
    params: parsed.params,
    variables: parsed.variables,
    expression: text,
    hints,
    // What makes it again (a guess function cannot be written down).
    options: {
      expression: text,
      params: [...parsed.params],
      variables: [...parsed.variables],
      ...(Object.keys(hints).length > 0 ? { hints: jsonHints(hints) } : {}),
    },
    guess: (d) => {
      if (!user) return {};
      const g = user(d.x, d.y);
      for (const k of Object.keys(g)) {
        if (!parsed.params.includes(k)) {
          throw new TypeError(`${who}: guess returned '${k}', not a parameter`);
        }
      }
      return g;
    },
  }, prefix);
}

/** Hints as JSON values: infinite bounds are no bounds. */
function jsonHints(
  hints: Readonly<Record<string, ParamHint>>,
): Record<string, ParamHint> {
  const out: Record<string, ParamHint> = {};
  for (const [k, h] of Object.entries(hints)) {
    out[k] = Object.fromEntries(
      Object.entries(h).filter(([, v]) =>
        typeof v !== "number" || Number.isFinite(v)
      ),
    );
  }
  return out;
}
