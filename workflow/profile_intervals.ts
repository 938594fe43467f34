/**
 * Profile-likelihood confidence intervals: lmfit's `conf_interval` with its
 * F-test. A parameter is held at a value and the others refitted; the
 * interval's ends are where the refitted chi-square reaches
 * `chi2_best * (1 + F(level; 1, n - q) / (n - q))`, found on each side by
 * a bracketing search on `sqrt(chi2 - chi2_best)` (nearly linear in the
 * held value, so a few refits suffice). The refits of every profile run
 * concurrently and share passes over the data; each side's refits start
 * where the previous one ended.
 *
 * @module
 */

import type { Evaluator } from "../core/linearization.ts";
import type { ResolvedSolverOptions } from "../core/_validate.ts";
import { solve } from "../core/solve.ts";
import { studentTQuantile } from "../core/_stats.ts";
import { mappedEvaluator } from "../core/_mapped_evaluator.ts";
import { selectionMap } from "../core/_linearization_map.ts";
import type { FitResult } from "./fit_result.ts";
import { BatchingEvaluator } from "./fit/_batching_evaluator.ts";
import { openRefit, type RefitProblem } from "./_refit.ts";

/**
 * Options of {@linkcode profileIntervals}.
 *
 * @example
 * ```ts
 * import type { ProfileOptions } from "@nlsq/nlsq/workflow";
 * const o: ProfileOptions = { level: 0.683, params: ["b"] };
 * ```
 */
export interface ProfileOptions {
  /** Confidence level, 0 < level < 1 (default 0.95). */
  readonly level?: number;
  /** Parameters to profile (default: every free parameter). */
  readonly params?: readonly string[];
}

/**
 * Profile intervals by name: `[lower, upper]`, not symmetric about the
 * value in general; an end the data do not bound (the chi-square never
 * reaches the threshold before a bound) is `-Infinity` or `Infinity`, and
 * one whose refits failed is `NaN`.
 */
export type ProfileIntervals = Record<string, readonly [number, number]>;

/** Refits stop on a relative change of cost, step or gradient below this. */
const REFIT_TOL = 1e-10;
/** Relative precision of an interval end (in units of its distance). */
const END_RTOL = 1e-7;
/** Evaluations of a profile per side (bracketing and refining). */
const MAX_STEPS = 60;

/**
 * Profile-likelihood intervals of a fit's parameters (lmfit's
 * `conf_interval`, F-test), by refitting with one parameter held fixed.
 * Works on any result that keeps what it was fitted to (`origin`): in
 * memory or streamed, on the fit's strategy (an f32 WebGPU fit refits on
 * the CPU).
 *
 * @throws {RangeError} a level outside (0, 1), an unknown parameter, or
 *   no degrees of freedom left.
 * @throws {TypeError} `params` not an array of names, a fixed or tied
 *   parameter, or a result without its origin (restored from JSON).
 *
 * @example Asymmetric ends of an exponential rate
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * const x = Array.from({ length: 12 }, (_, i) => i / 2);
 * const noise = [0.02, -0.03, 0.01, 0.04, -0.02, 0, -0.01, 0.03, -0.04, 0.02, 0.01, -0.02];
 * const y = x.map((t, i) => 2 * Math.exp(-0.7 * t) + noise[i]);
 * const r = await fit("a * exp(-b * x)", x, y, { p0: [1, 1] });
 * const ci = await r.profileIntervals({ level: 0.95 });
 * const [lo, hi] = ci.b;
 * assert.ok(lo < r.params.b && r.params.b < hi);
 * assert.notStrictEqual((hi - r.params.b).toFixed(6), (r.params.b - lo).toFixed(6));
 * ```
 */
export async function profileIntervals(
  r: FitResult,
  options: ProfileOptions = {},
): Promise<ProfileIntervals> {
  const level = options.level ?? 0.95;
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    throw new RangeError(`level must be in (0, 1), got ${level}`);
  }
  const wanted = options.params;
  if (
    wanted !== undefined &&
    (!Array.isArray(wanted) || wanted.some((n) => typeof n !== "string"))
  ) {
    throw new TypeError("params must be an array of parameter names");
  }
  const prob = await openRefit(r);
  try {
    const names = wanted ?? prob.freeNames;
    const indices = names.map((name) => freeIndex(prob, name));
    return await profiles(r, prob, level, names, indices);
  } finally {
    await prob.close();
  }
}

function freeIndex(prob: RefitProblem, name: string): number {
  const j = prob.indexOf(name);
  if (j === undefined) {
    throw new RangeError(
      `params: unknown parameter "${name}" (free parameters: ${
        prob.freeNames.join(", ")
      })`,
    );
  }
  if (j < 0) {
    throw new TypeError(
      `params: "${name}" is fixed or tied; only a free parameter has a profile`,
    );
  }
  return j;
}

async function profiles(
  r: FitResult,
  prob: RefitProblem,
  level: number,
  names: readonly string[],
  indices: readonly number[],
): Promise<ProfileIntervals> {
  const q = prob.nFree, dof = prob.nPoints - q;
  if (dof <= 0) {
    throw new RangeError(
      `profile intervals need degrees of freedom: ${prob.nPoints} points, ${q} free parameters`,
    );
  }
  const so = tightened(prob.solver);
  const costFloor = prob.costFloor;
  // The best point again, converged as tightly as the refits will be.
  const start = prob.toPhi(prob.best);
  const again = await solve(prob.evaluator, start, so, { costFloor });
  const [atStart] = await prob.evaluator.evaluate([start], [false]);
  const best = again.cost <= atStart.cost ? again.x : start;
  // In the solver's units (a data scale cancels in the F-test's ratio, and
  // the caller's cost of data near 1e-200 underflows).
  const chi2Best = 2 * Math.min(again.cost, atStart.cost);
  const t = studentTQuantile((1 + level) / 2, dof);
  // lmfit's F-test with one parameter fixed: F(level; 1, dof) = t^2.
  const goal = Math.sqrt(chi2Best * t * t / dof);
  const invScale = prob.toPhi(new Float64Array(q).fill(1));
  const batcher = new BatchingEvaluator(prob.evaluator, 2 * names.length);
  const side = async (j: number, name: string, dir: 1 | -1) => {
    try {
      const k = r.paramNames.indexOf(name);
      const step = firstStep(r.perr[k] * invScale[j], best[j], t);
      const end = await profileEnd({
        ev: batcher,
        so,
        costFloor,
        best,
        j,
        dir,
        step,
        goal,
        chi2Best,
      });
      return Number.isFinite(end) ? end / invScale[j] : end;
    } finally {
      batcher.done();
    }
  };
  const ends = await Promise.all(indices.flatMap((j, i) => [
    side(j, names[i], -1),
    side(j, names[i], 1),
  ]));
  return Object.fromEntries(
    names.map((name, i) => [name, [ends[2 * i], ends[2 * i + 1]] as const]),
  );
}

/**
 * The Wald half-width where it is usable, else lmfit's fallback step (in
 * the solver's variables).
 */
function firstStep(perr: number, value: number, t: number): number {
  if (perr > 0 && Number.isFinite(perr)) return t * perr;
  return Math.max(0.2 * Math.abs(value), 1e-3);
}

function tightened(so: ResolvedSolverOptions): ResolvedSolverOptions {
  return {
    ...so,
    ftol: Math.min(so.ftol, REFIT_TOL),
    xtol: Math.min(so.xtol, REFIT_TOL),
    gtol: Math.min(so.gtol, REFIT_TOL),
  };
}

interface Side {
  /** The problem over every free parameter (solver's variables). */
  readonly ev: Evaluator;
  readonly so: ResolvedSolverOptions;
  readonly costFloor: () => number;
  /** The best point. */
  readonly best: Float64Array;
  /** The held parameter. */
  readonly j: number;
  readonly dir: 1 | -1;
  /** First step from the best value (> 0). */
  readonly step: number;
  /** sqrt(chi2 - chi2Best) at the interval's end. */
  readonly goal: number;
  /** Twice the best cost (the solver's units). */
  readonly chi2Best: number;
}

/**
 * One end of a profile: steps out from the best value until the profile
 * passes the goal (a secant on sqrt(chi2 - chi2Best), overshooting a
 * little so that it brackets), then refines inside the bracket by the
 * Illinois method.
 */
async function profileEnd(s: Side): Promise<number> {
  const { best, j, dir } = s;
  const lo = s.so.lower[j], hi = s.so.upper[j];
  const clip = (v: number) => Math.min(hi, Math.max(lo, v));
  const refit = heldRefit(s);
  let a = best[j], fa = -s.goal;
  let b = clip(best[j] + dir * s.step);
  let fb = NaN;
  let steps = 0;
  for (; steps < MAX_STEPS; steps++) {
    if (b === a) return dir * Infinity; // at a bound from the start
    fb = await refit(b) - s.goal;
    if (!Number.isFinite(fb)) return NaN;
    if (fb >= 0) break;
    if (b === lo || b === hi) return dir * Infinity;
    const slope = (fb - fa) / (b - a);
    const dist = Math.abs(b - best[j]);
    // A flat or falling profile: step out by doubling.
    const ahead = slope * dir > 0 ? -fb / Math.abs(slope) * 1.1 : dist;
    a = b, fa = fb;
    b = clip(b + dir * Math.min(Math.max(ahead, 0.05 * dist), 10 * dist));
  }
  if (!(fb >= 0)) return dir * Infinity;
  // Illinois: regula falsi that halves the stale end's value.
  let side = 0;
  const tol = END_RTOL * Math.abs(b - best[j]);
  for (; steps < MAX_STEPS && Math.abs(b - a) > tol; steps++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = await refit(c) - s.goal;
    if (!Number.isFinite(fc)) return NaN;
    if (Math.abs(fc) <= 1e-10 * s.goal) return c;
    if (fc < 0) {
      a = c, fa = fc;
      if (side === -1) fb /= 2;
      side = -1;
    } else {
      b = c, fb = fc;
      if (side === 1) fa /= 2;
      side = 1;
    }
  }
  return (a * fb - b * fa) / (fb - fa);
}

/**
 * Refits with parameter `j` held at a value: sqrt(chi2 - chi2Best) at the
 * optimum of the others, each refit starting where the last one ended.
 */
function heldRefit(s: Side): (v: number) => Promise<number> {
  const { j, best } = s;
  const q = best.length;
  const keep = [...best.keys()].filter((k) => k !== j);
  const map = selectionMap(q, keep);
  const so = held(s.so, keep);
  let others: Float64Array = Float64Array.from(keep, (k) => best[k]);
  return async (v) => {
    const at = (u: Float64Array) => {
      const full = new Float64Array(q);
      keep.forEach((k, i) => (full[k] = u[i]));
      full[j] = v;
      return full;
    };
    let cost: number;
    if (keep.length === 0) {
      [{ cost }] = await s.ev.evaluate([at(others)], [false]);
    } else {
      const ev = mappedEvaluator(
        [{ evaluator: s.ev, at, map: () => map }],
        keep.length,
      );
      const out = await solve(ev, others, so, { costFloor: s.costFloor });
      if (Number.isFinite(out.cost)) others = out.x;
      cost = out.cost;
    }
    return Math.sqrt(Math.max(2 * cost - s.chi2Best, 0));
  };
}

/** Solver options over the kept parameters. */
function held(
  so: ResolvedSolverOptions,
  keep: readonly number[],
): ResolvedSolverOptions {
  const pick = (a: Float64Array) => Float64Array.from(keep, (k) => a[k]);
  const lower = pick(so.lower), upper = pick(so.upper);
  return {
    ...so,
    lower,
    upper,
    bounded: lower.some(Number.isFinite) || upper.some(Number.isFinite),
    xScale: so.xScale === "jac" ? "jac" : pick(so.xScale),
  };
}
