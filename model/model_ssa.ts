/**
 * The SSA program of an expression model: the one sequence of operations
 * that both code generators emit (JavaScript in `compile_js.ts`, WGSL in
 * `gpu/wgsl_codegen.ts`), so the CPU and the GPU compute the same thing.
 *
 * @module
 */

import type { Model } from "./types.ts";
import { simplify } from "./simplify.ts";
import { type Ssa, type SsaOptions, toSsa } from "./ssa.ts";

/**
 * What {@linkcode modelSsa} reads of a model: its AST and its derivatives
 * (a {@linkcode Model} of kind "expression" has both).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "./model.ts";
 * const m: SsaSource = model("a * x");
 * assert.ok(m.ast && m.derivatives);
 * ```
 */
export type SsaSource = Pick<Model, "ast" | "derivatives">;

/**
 * The shared SSA program of an expression model: output 0 is f, output
 * `1 + k` is d f / d p_k. `m.ast` is simplified first, as the derivatives
 * were built from the simplified tree, so the value and the derivatives
 * share temporaries.
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
export function modelSsa(m: SsaSource, options?: SsaOptions): Ssa {
  if (!m.ast || !m.derivatives) {
    throw new TypeError("modelSsa: m must be an expression model");
  }
  return toSsa([simplify(m.ast), ...m.derivatives], options);
}
