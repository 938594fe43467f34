/**
 * `fitGlobal()`: several datasets fitted together, some parameters shared.
 * The stacked problem is solved exactly (`workflow/_global_problem.ts`:
 * each dataset on its own strategy, their linearizations merged into the
 * block-structured one of the whole), and the result is given overall
 * (every global parameter) and per dataset (its model's parameters).
 *
 * @module
 */

import { solve } from "../core/solve.ts";
import type { SolverResult } from "../core/solver_types.ts";
import { covarianceFromFactor } from "../core/covariance.ts";
import { FitResult, type FitResultFields } from "./fit_result.ts";
import { derivedQuantities } from "./fit/_finish.ts";
import {
  checkGlobalCall,
  type FitGlobalOptions,
  type GlobalDataset,
  type GlobalProblem,
  openGlobal,
} from "./_global_problem.ts";
import { finalPass, type FinalSums } from "./fit/_statistics.ts";
import { REFIT, type RefitProblem, type Refittable } from "./_refit.ts";

export type { FitGlobalOptions, GlobalDataset } from "./_global_problem.ts";

/**
 * The result of {@linkcode fitGlobal}: the overall fit (every global
 * parameter: `params.tau`, `params.a_0`, ...; statistics over all points)
 * and one result per dataset (`datasets[i].params.a`, its own residuals
 * and statistics, the covariance block of its parameters). The overall
 * `rSquared` sums each dataset's squares about its own mean.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fitGlobal, GlobalFitResult } from "@nlsq/nlsq";
 * const x = [0, 1, 2, 3, 4];
 * const r = await fitGlobal([
 *   { model: "a * x + b", x, y: x.map((t) => 2 * t + 1) },
 *   { model: "a * x + b", x, y: x.map((t) => 3 * t + 1) },
 * ], { shared: ["b"], params: { a_0: 1, a_1: 1, b: 0 } });
 * assert.ok(r instanceof GlobalFitResult);
 * assert.deepStrictEqual(r.paramNames, ["a_0", "b", "a_1"]);
 * assert.strictEqual(r.datasets[1].params.a.toFixed(9), "3.000000000");
 * ```
 */
export class GlobalFitResult extends FitResult implements Refittable {
  /** One result per dataset, over its model's parameters. */
  readonly datasets: readonly FitResult[];
  /** The shared parameters. */
  readonly shared: readonly string[];
  /** Per dataset: the global name of each of its model's parameters. */
  readonly globalNames: readonly (readonly string[])[];
  readonly #reopen: () => Promise<RefitProblem>;

  /** Builds the result (`fitGlobal` does). */
  constructor(
    fields: FitResultFields,
    extra: {
      datasets: readonly FitResult[];
      shared: readonly string[];
      globalNames: readonly (readonly string[])[];
      reopen: () => Promise<RefitProblem>;
    },
  ) {
    super(fields);
    this.datasets = extra.datasets;
    this.shared = extra.shared;
    this.globalNames = extra.globalNames;
    this.#reopen = extra.reopen;
  }

  /** The stacked problem, open for refits (profile intervals). */
  [REFIT](): Promise<RefitProblem> {
    return this.#reopen();
  }
}

/**
 * Fits several datasets together with some parameters shared.
 *
 * Each dataset is `{ model, x, y, sigma }` or `{ model, source }` (same or
 * different models). A parameter named in `shared` is one parameter for
 * every dataset whose model has it; every other parameter is its own per
 * dataset, named `name_i` for dataset i (`a_0`, `a_1`). `params` (or `p0`)
 * gives starts, bounds, fixed values and ties by these global names.
 *
 * The stacked problem (all residuals, all global parameters) is solved as
 * one least-squares problem, exactly: every dataset is evaluated on the
 * strategy `fit` would choose for it (in memory, chunked, streamed from
 * its source), concurrently, and the linearizations are merged into the
 * block-structured one of the whole (QR form where any dataset uses it).
 * Covariance and statistics as `fit` gives them, for the stacked problem.
 *
 * @throws {TypeError} datasets or options of the wrong kind, an unknown
 *   option, no start, a function model.
 * @throws {RangeError} a shared name no model has; sizes or values out of
 *   range (named with `datasets[i]`).
 *
 * @example Two decays sharing a rate
 * ```ts
 * import assert from "node:assert";
 * import { fitGlobal } from "@nlsq/nlsq";
 * const x = Array.from({ length: 20 }, (_, i) => i / 4);
 * const r = await fitGlobal([
 *   { model: "a * exp(-k * x)", x, y: x.map((t) => 2 * Math.exp(-0.8 * t)) },
 *   { model: "a * exp(-k * x)", x, y: x.map((t) => 5 * Math.exp(-0.8 * t)) },
 * ], { shared: ["k"], params: { a_0: 1, a_1: 1, k: 1 } });
 * assert.ok(r.success);
 * assert.ok(Math.abs(r.params.k - 0.8) < 1e-9);
 * assert.ok(Math.abs(r.datasets[1].params.a - 5) < 1e-9);
 * ```
 */
export async function fitGlobal(
  datasets: readonly GlobalDataset[],
  options: FitGlobalOptions = {},
): Promise<GlobalFitResult> {
  const t0 = performance.now();
  checkGlobalCall(datasets, options);
  const gp = await openGlobal(datasets, options);
  let best: SolverResult;
  let partCosts: number[];
  try {
    best = await solve(gp.evaluator, gp.toPhi(gp.start), gp.solver, {
      signal: options.signal,
      costFloor: gp.costFloor,
    });
    // Each dataset's cost in the caller's units.
    const c2 = gp.residual * gp.residual;
    partCosts = await Promise.all(gp.parts.map(async (part) => {
      const [e] = await part.evaluator.evaluate([part.at(best.x)], [false]);
      const w = part.weight ?? 1;
      return w * w * e.cost / c2;
    }));
  } finally {
    await gp.close();
  }
  const u = gp.toTheta(best.x);
  const fins = await Promise.all(gp.opens.map((o, i) =>
    finalPass(
      o.call.model,
      localValues(gp, i, u),
      o.plan.data.arrays,
      o.plan.data.data,
      null,
    )
  ));
  return globalResult(datasets, options, gp, best, partCosts, fins, t0);
}

function localValues(gp: GlobalProblem, i: number, u: Float64Array) {
  const full = gp.plan.expand(u);
  return Float64Array.from(gp.globalIndex[i], (g) => full[g]);
}

function globalResult(
  datasets: readonly GlobalDataset[],
  options: FitGlobalOptions,
  gp: GlobalProblem,
  best: SolverResult,
  partCosts: readonly number[],
  fins: readonly FinalSums[],
  t0: number,
): GlobalFitResult {
  const { plan, solver: so } = gp;
  const q = plan.free.length;
  const u = gp.toTheta(best.x);
  const pcov = plan.expandCovariance(covariance(gp, best, options), u);
  const popt = plan.expand(u);
  const freeIndex = new Map(plan.free.map((k, i) => [k, i]));
  const elapsedMs = performance.now() - t0;
  const common = {
    nfev: best.nfev,
    njev: best.njev,
    nit: best.nit,
    status: best.status,
    message: best.message,
    method: so.method,
    tolerances: { ftol: so.ftol, xtol: so.xtol, gtol: so.gtol },
    optimality: best.optimality,
    elapsedMs,
  };
  const cost = best.cost / (gp.residual * gp.residual);
  const start = {
    p0: Array.from(gp.start),
    popt: Array.from(u),
    cost,
    status: best.status,
    nfev: best.nfev,
    success: best.status > 0,
  };
  const perDataset = gp.opens.map((o, i) => {
    const gi = gp.globalIndex[i];
    const fin = fins[i];
    const local = localValues(gp, i, u);
    const localCov = gi.map((a) => gi.map((b) => pcov[a][b]));
    const r = new FitResult({
      ...common,
      popt: local,
      paramNames: o.call.model.params,
      nFree: new Set(gi.filter((g) => freeIndex.has(g))).size,
      derived: derivedQuantities(gp.models[i], local, localCov),
      pcov: localCov,
      cost: partCosts[i],
      residuals: fin.residuals,
      nPoints: fin.n,
      ssRes: fin.ssRes,
      ssTot: fin.ssTot,
      chiSquare: fin.chiSquare,
      strategy: o.plan.strategyName,
      backend: o.evaluator.backend,
      preset: o.plan.workflow.name,
      starts: [start],
      activeMask: Int8Array.from(
        gi,
        (g) => freeIndex.has(g) ? best.activeMask[freeIndex.get(g)!] : 0,
      ),
      notes: gp.notes[i],
      origin: {
        model: gp.models[i],
        data: o.call.source ? null : o.plan.data.arrays,
        source: o.call.source,
        options: { p0: Array.from(local) },
      },
      // For its prediction bands.
      weighted: o.plan.data.sigmaChol !== null ||
        (o.plan.data.arrays?.sigma ?? null) !== null ||
        (o.call.source?.hasSigma ?? false),
      absoluteSigma: options.absoluteSigma ?? false,
    });
    // Its profiles are the stacked problem's, by the dataset's names.
    Object.defineProperty(r, REFIT, {
      value: async () =>
        datasetView(
          await reopen(),
          o.call.model.params,
          gi.map((g) => gp.names[g]),
        ),
    });
    return r;
  });
  const reopen = async () =>
    refitProblem(await openGlobal(datasets, options, popt), u);
  const sum = (f: (s: FinalSums) => number) =>
    fins.reduce((s, fin) => s + f(fin), 0);
  const residuals = fins.every((f) => f.residuals !== null)
    ? () => concat(perDataset.map((r) => r.residuals!))
    : null;
  const unique = (xs: string[]) => [...new Set(xs)].join(" + ");
  return new GlobalFitResult({
    ...common,
    popt,
    paramNames: gp.names,
    nFree: q,
    pcov,
    cost,
    residuals,
    nPoints: sum((f) => f.n),
    ssRes: sum((f) => f.ssRes),
    ssTot: sum((f) => f.ssTot),
    chiSquare: sum((f) => f.chiSquare),
    strategy: unique(gp.opens.map((o) => o.plan.strategyName)),
    backend: unique(gp.opens.map((o) => o.evaluator.backend)),
    preset: gp.opens[0].plan.workflow.name,
    starts: [start],
    activeMask: best.activeMask,
    notes: gp.notes.flatMap((ns, i) => ns.map((n) => `datasets[${i}]: ${n}`)),
  }, {
    datasets: perDataset,
    shared: options.shared ?? [],
    globalNames: gp.globalIndex.map((gi) => gi.map((g) => gp.names[g])),
    reopen,
  });
}

/**
 * pcov of the global free parameters in the caller's variables: the solver
 * saw `(C J S)`, so both scales are undone (C only with absolute sigma; the
 * reduced chi-square cancels it otherwise), as `fit` does.
 */
function covariance(
  gp: GlobalProblem,
  best: SolverResult,
  options: FitGlobalOptions,
): number[][] {
  const absoluteSigma = options.absoluteSigma ?? false;
  const { pcov } = covarianceFromFactor(best.factor, {
    nResiduals: gp.nPoints,
    cost: best.cost,
    absoluteSigma,
    method: gp.solver.method,
  });
  const c2 = absoluteSigma ? gp.residual * gp.residual : 1;
  const S = gp.toTheta(new Float64Array(pcov.length).fill(1));
  return pcov.map((row, i) => row.map((v, j) => v * c2 * S[i] * S[j]));
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

/** The stacked problem as a refit problem over the global free parameters. */
function refitProblem(gp: GlobalProblem, best: Float64Array): RefitProblem {
  const { plan, names } = gp;
  const position = new Map(plan.free.map((k, i) => [names[k], i]));
  return {
    evaluator: gp.evaluator,
    solver: gp.solver,
    best,
    freeNames: plan.free.map((k) => names[k]),
    indexOf: (name) =>
      position.get(name) ?? (names.includes(name) ? -1 : undefined),
    toPhi: gp.toPhi,
    toTheta: gp.toTheta,
    costFloor: gp.costFloor,
    nPoints: gp.nPoints,
    nFree: plan.free.length,
    notes: gp.notes.flat(),
    close: gp.close,
  };
}

/** The stacked problem seen from one dataset: its names for the global ones. */
function datasetView(
  prob: RefitProblem,
  local: readonly string[],
  global: readonly string[],
): RefitProblem {
  const toGlobal = new Map(local.map((n, k) => [n, global[k]]));
  return {
    ...prob,
    freeNames: local.filter((n) => prob.indexOf(toGlobal.get(n)!)! >= 0),
    indexOf: (name) => {
      const g = toGlobal.get(name);
      return g === undefined ? undefined : prob.indexOf(g);
    },
  };
}
