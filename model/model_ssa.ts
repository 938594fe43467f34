/**
 * The SSA program of a compiled expression model, for code generators other
 * than the JavaScript one (the WGSL backend).
 *
 * @module
 */

import type { Model } from "./types.ts";
import { simplify } from "./simplify.ts";
import { type Ssa, type SsaOptions, toSsa } from "./ssa.ts";

/**
 * The shared SSA program of an expression model: output 0 is f, output
 * `1 + k` is d f / d p_k. It is the program the JavaScript kernel runs
 * (`m.ast` is simplified first, as the derivatives were built from the
 * simplified tree, so the value and the derivatives share temporaries).
 *
 * @throws {TypeError} for a function model (it has no AST).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "./model.ts";
 * const ssa = modelSsa(model("a * exp(-b * x) + c"));
 * assert.strictEqual(ssa.outputs.length, 4);
 * assert.strictEqual(
 *   ssa.instructions.filter((i) => i.kind === "call").length,
 *   1, // one exp for f, d/da and d/db
 * );
 * ```
 */
export function modelSsa(m: Model, options?: SsaOptions): Ssa {
  if (m.kind !== "expression" || !m.ast || !m.derivatives) {
    throw new TypeError("modelSsa: m must be an expression model");
  }
  return toSsa([simplify(m.ast), ...m.derivatives], options);
}
