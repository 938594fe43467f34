/**
 * Compiled models of expression strings, kept between calls: `fit("a*x+b",
 * ...)` in a loop compiles the expression once (parsing, differentiation
 * and code generation cost far more than a small fit). Models are frozen,
 * so one compiled model serves every call with the same expression and
 * variables.
 *
 * @module
 */

import { model as compileModel } from "../../model/model.ts";
import type { Model } from "../../model/types.ts";

/** Expressions kept (the oldest is dropped past it). */
export const MODEL_CACHE_SIZE = 64;

const cache = new Map<string, Model>();

/**
 * The model of `expr` (over `variables` when given), compiled on first use
 * and then taken from the cache. An expression that does not compile throws
 * every time (nothing is cached).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const a = cachedExpressionModel("a * x + b");
 * assert.strictEqual(cachedExpressionModel("a * x + b"), a);
 * assert.notStrictEqual(cachedExpressionModel("a * t + b", ["t"]), a);
 * assert.deepStrictEqual(a.params, ["a", "b"]);
 * ```
 */
export function cachedExpressionModel(
  expr: string,
  variables?: readonly string[],
): Model {
  const key = variables ? `${expr}\u0000${variables.join("\u0000")}` : expr;
  const hit = cache.get(key);
  if (hit) return hit;
  const m = variables
    ? compileModel(expr, { variables: [...variables] })
    : compileModel(expr);
  if (cache.size >= MODEL_CACHE_SIZE) {
    cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, m);
  return m;
}
