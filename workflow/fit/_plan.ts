/**
 * Phase 3 of `fit()`: the plan. The workflow (preset or config), the
 * strategy (named, or picked by the memory-budget selector), the solver
 * options and tolerances, the start point(s), and the scaling of data and
 * parameters of extreme magnitude.
 *
 * @module
 */

import {
  checkFeasible,
  type NumVec,
  type ResolvedSolverOptions,
  resolveSolverOptions,
  toVector,
} from "../../core/_validate.ts";
import { solverOptionsOf } from "../../core/solver_options.ts";
import { getStrategy, type Strategy } from "../../strategies/strategy.ts";
import "../../strategies/standard.ts";
import "../../strategies/chunked.ts";
import "../../strategies/streaming.ts";
import { generateStarts } from "../generate_starts.ts";
import { resolveWorkflow, type WorkflowConfig } from "../presets.ts";
import { MemoryBudgetSelector } from "../../memory/selector.ts";
import { calculateAdaptiveTolerances } from "../tolerances.ts";
import type { FitCall } from "./_call.ts";
import { type FitData, loadFitData } from "./_input.ts";
import { type ProblemScale, scaleProblem } from "./_scale.ts";
import { GLOBAL_STARTS } from "./_global.ts";

/** Everything decided before the evaluator is built. */
export interface FitPlan {
  /** The resolved workflow (preset name, tolerance, multi-start...). */
  readonly workflow: WorkflowConfig;
  readonly strategyName: string;
  readonly strategy: Strategy;
  /** The strategy's configuration (selector's, with the caller's on top). */
  readonly config: Record<string, unknown> | null;
  /** The data, read into memory when the strategy needs it. */
  readonly data: FitData;
  /** Solver options in the caller's variables. */
  readonly solver: ResolvedSolverOptions;
  /**
   * The start points in the caller's variables (p0 first); with a global
   * search, placeholders that the search replaces.
   */
  readonly starts: Float64Array[];
  /** Whether the fit starts with a global search inside the bounds. */
  readonly global: boolean;
  /** Scaling of residuals and parameters (identity for ordinary data). */
  readonly scale: ProblemScale;
}

/** Builds the plan of a fit (reads a source when the strategy needs memory). */
export async function planFit(
  call: FitCall,
  input: FitData,
  notes: string[],
): Promise<FitPlan> {
  const wf = resolveWorkflow(call.options.workflow, {
    isStrategyName: (name) => getStrategy(name) !== undefined,
  });
  const { name: strategyName, config } = chooseStrategy(
    call,
    wf,
    input,
    notes,
  );
  const strategy = getStrategy(strategyName);
  if (!strategy) {
    throw new TypeError(
      `workflow: strategy "${strategyName}" is not registered${
        strategyName === "streaming" || strategyName === "distributed"
          ? " (import its module first)"
          : ""
      }`,
    );
  }
  let data = input;
  if (data.data.kind !== "memory" && !strategy.accepts.includes("source")) {
    data = await loadFitData(data, call.options.signal);
    notes.push(
      `read the source into memory for the "${strategyName}" strategy`,
    );
  }
  const solver = solverOptions(call, wf, data.nPoints);
  const { starts, global } = startPoints(call, wf, solver);
  const scale = scaleProblem(call, data, solver, starts[0], notes);
  return {
    workflow: wf,
    global,
    strategyName,
    strategy,
    config,
    data: scale.data,
    solver,
    starts,
    scale,
  };
}

/** The strategy: named by the workflow, or the selector's decision. */
function chooseStrategy(
  call: FitCall,
  wf: WorkflowConfig,
  input: FitData,
  notes: string[],
): { name: string; config: Record<string, unknown> | null } {
  const m = call.model;
  const n = input.nPoints;
  let name = wf.strategy;
  let config = (wf as { config?: Record<string, unknown> }).config ?? null;
  const select = (full: boolean) =>
    new MemoryBudgetSelector().select({
      nPoints: n,
      nParams: m.params.length,
      nFeatures: m.variables.length,
      memoryLimitGb: call.options.memoryLimitGb,
      ...(full
        ? {
          goal: call.goal,
          useGpu: call.backend === "webgpu",
          verbose: call.verbose > 0,
        }
        : {}),
    });
  if (name === "auto") {
    if (!Number.isFinite(n)) name = "streaming";
    else {
      const sel = select(true);
      name = sel.strategy;
      // The selector's configuration (chunk or batch size), with the
      // caller's own keys on top.
      const picked = sel.config as Record<string, unknown> | null;
      config = picked || config ? { ...picked, ...config } : null;
      notes.push(`selector: ${sel.reason}`);
    }
  } else if (name === "chunked" && config === null && Number.isFinite(n)) {
    // A named memory strategy takes the selector's sizes where it agrees.
    const sel = select(false);
    config = sel.strategy === name
      ? sel.config as unknown as Record<string, unknown>
      : null;
  }
  if (name === "streaming" && config?.batchSize === undefined) {
    // Batches as large as the memory budget allows, whichever strategy the
    // decision tree would have picked (an unknown length sizes for 2^40).
    const batchSize = new MemoryBudgetSelector().streamingBatchSize({
      nPoints: Number.isFinite(n) ? n : 2 ** 40,
      nParams: m.params.length,
      nFeatures: m.variables.length,
      memoryLimitGb: call.options.memoryLimitGb,
    });
    config = { ...config, batchSize };
  }
  if (input.sigmaChol && name !== "standard") {
    notes.push(`a 2-D sigma needs the dense standard path; "${name}" not used`);
    name = "standard";
  }
  return { name, config };
}

/** Solver options: the caller's, else the workflow's tolerances. */
function solverOptions(
  call: FitCall,
  wf: WorkflowConfig,
  nPoints: number,
): ResolvedSolverOptions {
  const o = call.options;
  const known = Number.isFinite(nPoints);
  const tol = wf.tolerance === "adaptive"
    ? calculateAdaptiveTolerances(known ? nPoints : 1e9, call.goal)
    : { ftol: wf.tolerance, xtol: wf.tolerance, gtol: wf.tolerance };
  return resolveSolverOptions(
    {
      ...solverOptionsOf(o),
      method: o.method ?? "trf",
      ftol: o.ftol ?? tol.ftol,
      xtol: o.xtol ?? tol.xtol,
      gtol: o.gtol ?? tol.gtol,
    },
    call.model.params.length,
    known ? nPoints : Number.MAX_SAFE_INTEGER,
    call.model.params,
  );
}

/**
 * p0, then any multi-start; without a start, a global search inside finite
 * bounds (never a silent default).
 */
function startPoints(
  call: FitCall,
  wf: WorkflowConfig,
  so: ResolvedSolverOptions,
): { starts: Float64Array[]; global: boolean } {
  const m = call.model;
  const bounded = so.lower.every(Number.isFinite) &&
    so.upper.every(Number.isFinite);
  const given = call.options.p0 !== undefined;
  if (!given && !bounded) {
    throw new TypeError(
      `fit: no start for ${
        m.params.join(", ")
      }: give p0 (or params with values), ` +
        "or finite bounds for every parameter (then a global search finds the start), " +
        "or use a built-in model, which guesses its own start",
    );
  }
  const global = wf.globalSearch === true || !given;
  if (global && !bounded) {
    throw new TypeError(
      'workflow "global" needs finite bounds for every parameter (the search stays inside them)',
    );
  }
  const p0 = given
    ? toVector(call.options.p0 as NumVec, "p0", m.params.length)
    : defaultP0(so.lower, so.upper);
  checkFeasible(p0, so.lower, so.upper, "p0", m.params);
  if (global) {
    return { starts: new Array(GLOBAL_STARTS).fill(p0), global: true };
  }
  // Multi-start: the workflow's, or implied by a ROBUST/QUALITY goal.
  let multi = wf.multiStart;
  if (!multi && (call.goal === "robust" || call.goal === "quality")) {
    multi = { nStarts: call.goal === "quality" ? 20 : 10, sampler: "lhs" };
  }
  if (!multi || multi.nStarts <= 1) return { starts: [p0], global: false };
  const starts = generateStarts({
    p0,
    lower: so.lower,
    upper: so.upper,
    nStarts: multi.nStarts,
    sampler: multi.sampler,
    seed: call.options.seed ?? 0,
  }).map((s) => Float64Array.from(s));
  return { starts, global: false };
}

/** Default p0 like scipy: ones, moved inside finite bounds. */
function defaultP0(lower: Float64Array, upper: Float64Array): Float64Array {
  return lower.map((lo, i) => {
    const hi = upper[i];
    if (Number.isFinite(lo) && Number.isFinite(hi)) return 0.5 * (lo + hi);
    if (Number.isFinite(lo)) return Math.max(1, lo + 1);
    if (Number.isFinite(hi)) return Math.min(1, hi - 1);
    return 1;
  });
}
