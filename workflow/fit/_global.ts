/**
 * The global start of a fit (workflow "global", or no start with finite
 * bounds): BIPOP-CMA-ES inside the bounds on the data (an evenly spread
 * sample of large data), whose best distinct points become the fit's starts.
 *
 * @module
 */

import type { Evaluator } from "../../core/linearization.ts";
import { createCpuEvaluator } from "../../core/cpu_evaluator.ts";
import { globalSearch } from "../../core/global_search.ts";
import { readBatches } from "../../data/_batching.ts";
import { sampleRows } from "../../strategies/_warm_start.ts";
import type { FitCall } from "./_call.ts";
import type { FitPlan } from "./_plan.ts";

/** Starts the TRF fit is run from after a global search (the best first). */
export const GLOBAL_STARTS = 5;
/** Rows the global search evaluates at most (an evenly spread sample). */
export const GLOBAL_SAMPLE_ROWS = 20_000;

/**
 * The fit's starts from a global search (in the solver's variables), padded
 * with the best to {@linkcode GLOBAL_STARTS}; `ev` is the fit's evaluator,
 * used as it is for data of at most {@linkcode GLOBAL_SAMPLE_ROWS} rows.
 */
export async function globalStarts(
  call: FitCall,
  plan: FitPlan,
  ev: Evaluator,
  notes: string[],
): Promise<Float64Array[]> {
  const { scale } = plan;
  const search = await searchEvaluator(call, plan, ev);
  const t0 = performance.now();
  const r = await globalSearch(search.ev, {
    lower: scale.solver.lower,
    upper: scale.solver.upper,
    seed: call.options.seed ?? 0,
    signal: call.options.signal,
  });
  const starts = r.candidates.slice(0, GLOBAL_STARTS).map((c) => c.x);
  while (starts.length < GLOBAL_STARTS) starts.push(starts[0]);
  notes.push(
    `global search: BIPOP-CMA-ES, ${r.nfev} evaluations in ${r.runs} runs on ${search.rows} rows (${
      ((performance.now() - t0) / 1000).toFixed(2)
    } s), best cost ${
      scale.unscaleCost(r.cost).toExponential(3)
    }; fitted from its ${r.candidates.length} distinct best point(s)`,
  );
  return starts;
}

async function searchEvaluator(
  call: FitCall,
  plan: FitPlan,
  ev: Evaluator,
): Promise<{ ev: Evaluator; rows: number }> {
  const data = plan.data.data;
  const n = plan.data.nPoints;
  if (Number.isFinite(n) && n <= GLOBAL_SAMPLE_ROWS) return { ev, rows: n };
  const sample = data.kind === "memory"
    ? sampleRows(data, GLOBAL_SAMPLE_ROWS)
    : await (async () => {
      // A source: its first rows (sources read forward).
      const b = await readBatches(data, 1 << 16, {
        maxRows: GLOBAL_SAMPLE_ROWS,
        signal: call.options.signal,
      });
      return { x: b.x, y: b.y, w: null };
    })();
  return {
    ev: createCpuEvaluator(plan.scale.model, sample, {
      loss: plan.solver.loss,
      fScale: plan.solver.fScale * plan.scale.residual,
      accumulation: "auto",
    }),
    rows: sample.y.length,
  };
}
