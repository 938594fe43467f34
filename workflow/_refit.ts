/**
 * A fitted problem opened again for refits (profile intervals): its
 * evaluator over the free parameters, the solver options, and the maps
 * between the solver's variables and the result's parameters. A plain
 * fit's comes from its `origin` through fit's own phases (the strategy,
 * backend and scaling the fit chose); a result of another kind (a global
 * fit) supplies its own under {@linkcode REFIT}.
 *
 * @module
 */

import type { Evaluator } from "../core/linearization.ts";
import type { ResolvedSolverOptions } from "../core/_validate.ts";
import type { FitOptions } from "./fit_options.ts";
import type { FitOrigin, FitResult } from "./fit_result.ts";
import type { ParamSpec } from "./fit/_params.ts";
import { resolveParams } from "./fit/_params.ts";
import { withModelStart } from "./fit/_model_start.ts";
import { type OpenFit, openFit } from "./fit/_open.ts";

/**
 * The key under which a result that is not a plain fit's opens its problem
 * for refits.
 */
export const REFIT: unique symbol = Symbol("nlsq.refit");

/** A result that opens its own problem for refits. */
export interface Refittable {
  /** Opens the problem; the caller closes it. */
  [REFIT](): Promise<RefitProblem>;
}

/** A fitted problem, open for refits. */
export interface RefitProblem {
  /** The problem over the free parameters, in the solver's variables. */
  readonly evaluator: Evaluator;
  /** Solver options in the solver's variables. */
  readonly solver: ResolvedSolverOptions;
  /** The fit's free parameter values (the caller's variables). */
  readonly best: Float64Array;
  /** Names of the free parameters, in the order of `best`. */
  readonly freeNames: readonly string[];
  /**
   * Index among the free parameters of the result's parameter `name`; -1
   * for a fixed or tied one, undefined for a name the result does not have.
   */
  indexOf(name: string): number | undefined;
  /** Caller's variables (free) to the solver's. */
  toPhi(theta: Float64Array): Float64Array;
  /** Solver's variables to the caller's. */
  toTheta(phi: Float64Array): Float64Array;
  /** The rounding level of the solver's cost. */
  costFloor(): number;
  /** Points of the fit. */
  readonly nPoints: number;
  /** Free parameters of the fit. */
  readonly nFree: number;
  /** Remarks on how the problem was opened. */
  readonly notes: readonly string[];
  /** Releases the evaluator. */
  close(): Promise<void>;
}

/**
 * Opens the problem of `r` for refits: the result's own under
 * {@linkcode REFIT}, else its fit's from `r.origin` (with the fit's free
 * parameters starting at their fitted values). An f32 WebGPU evaluator is
 * not accurate enough for chi-square differences: such a problem is opened
 * on the CPU (noted).
 */
export async function openRefit(r: FitResult): Promise<RefitProblem> {
  const own = (r as Partial<Refittable>)[REFIT];
  if (typeof own === "function") return await own.call(r);
  const origin = r.origin;
  if (!origin) {
    throw new TypeError(
      "this result does not keep what it was fitted to (origin), so it cannot refit: refit with fit() instead of a result restored from JSON",
    );
  }
  const notes: string[] = [];
  const options = await refitOptions(origin, r.popt);
  let open = await openOrigin(origin, options, notes);
  if (open.evaluator.firstPhase) {
    await open.evaluator.close();
    notes.push(
      `refits on the CPU: the ${open.evaluator.backend} evaluator is not accurate enough for chi-square differences`,
    );
    open = await openOrigin(origin, { ...options, backend: "cpu" }, notes);
  }
  return fitRefitProblem(r, open, notes);
}

function openOrigin(
  origin: FitOrigin,
  options: FitOptions,
  notes: string[],
): Promise<OpenFit> {
  const data = origin.source
    ? { source: origin.source }
    : { x: origin.data!.x, y: origin.data!.y };
  return openFit(origin.model, data, options, notes);
}

function fitRefitProblem(
  r: FitResult,
  { call, plan, evaluator }: OpenFit,
  notes: string[],
): RefitProblem {
  const { scale } = plan;
  const free = call.params.free;
  const names = call.fullModel.params;
  const position = new Map(free.map((k, i) => [names[k], i]));
  return {
    evaluator,
    solver: scale.solver,
    best: Float64Array.from(free, (k) => r.popt[k]),
    freeNames: free.map((k) => names[k]),
    indexOf: (name) =>
      position.get(name) ?? (names.includes(name) ? -1 : undefined),
    toPhi: scale.toPhi,
    toTheta: scale.toTheta,
    costFloor: scale.costFloor,
    nPoints: plan.data.nPoints,
    nFree: free.length,
    notes,
    close: async () => await evaluator.close(),
  };
}

/**
 * The fit's options for a refit at the fitted values: every free
 * parameter (the model's hints applied as fit applies them) starts at its
 * value; fixed and tied ones stay; checkpoints, progress and logging off.
 * In-memory data travel as the fit kept them (after any dropped rows), so
 * a 1-D sigma comes from there.
 */
export async function refitOptions(
  origin: FitOrigin,
  popt: Float64Array,
): Promise<FitOptions> {
  const m = origin.model;
  const {
    checkpointDir: _c,
    resume: _r,
    onProgress: _o,
    verbose: _v,
    p0: _p,
    ...rest
  } = origin.options;
  const given = await withModelStart(
    m,
    { ...origin.options, p0: Array.from(popt) },
    null,
    null,
    null,
  );
  const plan = resolveParams(m, given.options);
  const specs = given.options.params ?? {};
  const params: Record<string, ParamSpec> = {};
  m.params.forEach((name, k) => {
    const spec = specs[name];
    if (!plan.free.includes(k)) params[name] = spec;
    else {
      params[name] = {
        ...(typeof spec === "object" ? spec : {}),
        value: popt[k],
      };
    }
  });
  const out: FitOptions = { ...rest, params };
  if (origin.data) {
    const sigma = origin.options.sigma;
    const twoD = sigma !== undefined && typeof sigma[0] === "object";
    if (twoD && sigma.length !== origin.data.y.length) {
      throw new RangeError(
        "cannot refit: the fit dropped rows with NaN/Inf but its sigma is a 2-D covariance of all rows",
      );
    }
    if (!twoD) {
      if (origin.data.sigma) out.sigma = origin.data.sigma;
      else delete out.sigma;
    }
  }
  return out;
}
