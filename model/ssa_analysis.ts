/**
 * Analyses of an SSA program used by code generators: which instructions
 * depend on the variables (the rest can be hoisted out of the loop over the
 * points), and which are needed for a subset of the outputs.
 *
 * @module
 */

import type { Ssa, SsaInstr, SsaOperand } from "./ssa.ts";

/** The operands an instruction reads. */
function operandsOf(ins: SsaInstr): readonly SsaOperand[] {
  switch (ins.kind) {
    case "neg":
      return [ins.arg];
    case "bin":
      return [ins.left, ins.right];
    case "call":
      return ins.args;
    default: {
      const never: never = ins;
      throw new TypeError(`unknown SSA instruction ${JSON.stringify(never)}`);
    }
  }
}

/**
 * For every instruction, whether it depends on a variable. Instructions that
 * do not (functions of the parameters only) can be computed once per call,
 * outside the loop over the points.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { derivative } from "./derivative.ts";
 * import { toSsa } from "./ssa.ts";
 * const { ast } = parseExpression("a * sin(-b * x)");
 * const ssa = toSsa([ast, derivative(ast, 1)]);
 * // -b depends on no variable: computed once per call, outside the loop.
 * const dep = variableDependence(ssa);
 * assert.deepStrictEqual(ssa.instructions[0], {
 *   kind: "neg",
 *   arg: { kind: "param", index: 1 },
 * });
 * assert.strictEqual(dep[0], false);
 * assert.ok(dep.slice(1).every(Boolean));
 * // f alone does not need cos(-b*x), which only the derivative uses.
 * const live = liveInstructions(ssa, [0]);
 * const cos = ssa.instructions.findIndex((i) => i.kind === "call" && i.fn === "cos");
 * assert.strictEqual(live[cos], false);
 * ```
 */
export function variableDependence(ssa: Ssa): boolean[] {
  const dep: boolean[] = [];
  for (const ins of ssa.instructions) {
    dep.push(
      operandsOf(ins).some((o) =>
        o.kind === "var" || (o.kind === "tmp" && dep[o.index])
      ),
    );
  }
  return dep;
}

/**
 * For every instruction, whether computing `outputs[j]` for a selected `j`
 * needs it (dead-code analysis for a subset of the roots).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseExpression } from "./parser.ts";
 * import { derivative } from "./derivative.ts";
 * import { toSsa } from "./ssa.ts";
 * const { ast } = parseExpression("a * sin(-b * x)");
 * const ssa = toSsa([ast, derivative(ast, 1)]);
 * // -b depends on no variable: computed once per call, outside the loop.
 * const dep = variableDependence(ssa);
 * assert.deepStrictEqual(ssa.instructions[0], {
 *   kind: "neg",
 *   arg: { kind: "param", index: 1 },
 * });
 * assert.strictEqual(dep[0], false);
 * assert.ok(dep.slice(1).every(Boolean));
 * // f alone does not need cos(-b*x), which only the derivative uses.
 * const live = liveInstructions(ssa, [0]);
 * const cos = ssa.instructions.findIndex((i) => i.kind === "call" && i.fn === "cos");
 * assert.strictEqual(live[cos], false);
 * ```
 */
export function liveInstructions(
  ssa: Ssa,
  roots: readonly number[],
): boolean[] {
  const live = new Array<boolean>(ssa.instructions.length).fill(false);
  for (const j of roots) {
    const o = ssa.outputs[j];
    if (o.kind === "tmp") live[o.index] = true;
  }
  for (let i = ssa.instructions.length - 1; i >= 0; i--) {
    if (!live[i]) continue;
    for (const o of operandsOf(ssa.instructions[i])) {
      if (o.kind === "tmp") live[o.index] = true;
    }
  }
  return live;
}
