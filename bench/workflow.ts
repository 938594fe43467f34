/**
 * Workflow benchmark: the same 5M-point problem through the standard and the
 * chunked strategy (forced by a small memory limit), with the RSS growth
 * sampled during the fit to show that no n x p Jacobian is ever allocated.
 */

import { fit, model } from "../mod.ts";
import { CASES, makeData } from "./engine.ts";

/** One row of the workflow section. */
export interface WorkflowRow {
  section: string;
  strategy: string;
  n: number;
  timeMs: number;
  nfev: number;
  dataMb: number;
  jacobianMb: number;
  rssGrowthMb: number;
  maxRelDiffVsStandard: number;
}

/** Runs the workflow section. */
export async function runWorkflowBench(n = 5_000_000): Promise<WorkflowRow[]> {
  const c = CASES[0];
  const m = model(c.expr);
  const { x, y } = makeData(c, n);
  const rows: WorkflowRow[] = [];
  let ref: Float64Array | null = null;
  for (
    const [strategy, opts] of [
      ["standard", { workflow: "standard" }],
      ["chunked", { memoryLimitGb: 0.25 }],
    ] as const
  ) {
    const g = (globalThis as { gc?: () => void }).gc;
    g?.();
    const base = Deno.memoryUsage().rss;
    let peak = base;
    const t0 = performance.now();
    const r = await fit(m, x, y, {
      p0: c.p0,
      ...opts,
      onProgress: () => (peak = Math.max(peak, Deno.memoryUsage().rss)),
    });
    const timeMs = performance.now() - t0;
    peak = Math.max(peak, Deno.memoryUsage().rss);
    if (!ref) ref = r.popt;
    let d = 0;
    for (let i = 0; i < 3; i++) {
      d = Math.max(d, Math.abs(r.popt[i] - ref[i]) / Math.abs(ref[i]));
    }
    rows.push({
      section: "workflow",
      strategy: r.strategy,
      n,
      timeMs,
      nfev: r.nfev,
      dataMb: (2 * n * 8) / 2 ** 20,
      jacobianMb: (3 * n * 8) / 2 ** 20,
      rssGrowthMb: (peak - base) / 2 ** 20,
      maxRelDiffVsStandard: d,
    });
    console.error(`workflow ${strategy} done`);
  }
  return rows;
}
