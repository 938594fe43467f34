/**
 * An evaluator over other parameters: each part is a problem (an
 * evaluator) whose parameters are a function of the new ones `u`; the
 * parts' rows are stacked. A parameter held fixed (profile refits) is one
 * part with a parameter inserted; a global fit is one part per dataset,
 * each taking its own and the shared parameters. The parts are evaluated
 * concurrently (one pass over each part's data per call) and their
 * linearizations carried over with `mapLinearizations`, so the stacked
 * problem is solved exactly, in QR form where any part is.
 *
 * @module
 */

import type { Evaluation, Evaluator } from "./linearization.ts";
import { mapLinearizations } from "./_linearization_map.ts";

/** One part of a {@linkcode mappedEvaluator}. */
export interface MappedPart {
  /** The part's problem, over its own parameters. */
  readonly evaluator: Evaluator;
  /** The part's parameters at `u`. */
  at(u: Float64Array): Float64Array;
  /** `d part / d u` at `u` (part's p by u's q, row-major). */
  map(u: Float64Array): Float64Array;
  /** A factor on the part's residuals (default 1). */
  readonly weight?: number;
}

/**
 * The stacked problem of `parts` over `q` parameters. `sequential`
 * evaluates the parts one after the other (parts whose passes are MPI
 * collectives must start them in the same order on every rank).
 *
 * @example A parameter held at 2: f = [u - 1, 2 - 3]
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "./dense_evaluator.ts";
 * import { mappedEvaluator } from "./_mapped_evaluator.ts";
 * import { selectionMap } from "./_linearization_map.ts";
 * const inner = createDenseEvaluator((p) => [p[0] - 1, p[1] - 3], 2, 2);
 * const held = mappedEvaluator([{
 *   evaluator: inner,
 *   at: (u) => new Float64Array([u[0], 2]),
 *   map: () => selectionMap(2, [0]),
 * }], 1);
 * const [e] = await held.evaluate([new Float64Array([0])], [true]);
 * assert.strictEqual(e.cost, 0.5 * (1 + 1));
 * assert.strictEqual(held.nParams, 1);
 * ```
 */
export function mappedEvaluator(
  parts: readonly MappedPart[],
  q: number,
  { sequential = false }: { sequential?: boolean } = {},
): Evaluator {
  let nResiduals = 0;
  for (const part of parts) nResiduals += part.evaluator.nResiduals;
  return {
    nParams: q,
    nResiduals,
    async evaluate(us, withJacobian) {
      const inner = await Promise.all(
        parts.map((part) =>
          part.evaluator.evaluate(us.map((u) => part.at(u)), withJacobian)
        ),
      );
      return us.map((u, k): Evaluation => {
        let cost = 0;
        for (let i = 0; i < parts.length; i++) {
          const w = parts[i].weight ?? 1;
          cost += w * w * inner[i][k].cost;
        }
        if (!Number.isFinite(cost) || !withJacobian[k]) return { cost };
        const lins = parts.map((part, i) => ({
          lin: inner[i][k].lin!,
          map: part.map(u),
          weight: part.weight,
        }));
        if (lins.some((l) => l.lin === undefined)) return { cost };
        // The parts' own costs (weighted) add to the same total.
        return { cost, lin: { ...mapLinearizations(lins, q), cost } };
      });
    },
  };
}
