/**
 * One fit of a batch as a full `FitResult`, computed on demand: its data
 * (the points the engine used), the covariance from a QR of its Jacobian at
 * popt with `fit()`'s conventions (the pseudo-inverse from an SVD, or
 * Infinity with method "lm" where J is rank deficient), and the statistics.
 * The engine's standard errors come from the normal matrix; where that was
 * singular, this is also the path that fills them in.
 *
 * @module
 */

import { covarianceFromFactor } from "../core/covariance.ts";
import { toFactor } from "../core/_factor.ts";
import { householderMergeRows } from "../core/linalg.ts";
import { qrFromAugmented } from "../core/_linearization_forms.ts";
import { applyLossToBlock } from "../core/loss.ts";
import { findActiveConstraints } from "../core/_trust_region.ts";
import { FitResult } from "../workflow/fit_result.ts";
import { derivedQuantities } from "../workflow/fit/_finish.ts";
import type { Model } from "../model/types.ts";
import type { ParamPlan } from "../workflow/fit/_params.ts";
import type { FitOptions } from "../workflow/fit_options.ts";
import type { JacobianFactor } from "../workflow/diagnostics.ts";
import { summarizeData } from "../workflow/data_summary.ts";
import type { BatchProblem } from "./_input.ts";
import { BATCH_STATUS, type BatchOutputs, statusMessage } from "./_outputs.ts";

/** The points of one fit that the engine used. */
export interface FitData {
  readonly x: Float64Array[];
  readonly y: Float64Array;
  /** 1 / sigma, or null. */
  readonly w: Float64Array | null;
  /** Why the fit's data are unusable ("y[3] = NaN"), or "" when they are not. */
  readonly bad: string;
}

/** Fit i's data, without its unusable points under nanPolicy "omit". */
export function fitData(pr: BatchProblem, i: number): FitData {
  const n = pr.nPoints, o = i * n;
  const xs = pr.x.map((c) => pr.xPerFit ? c.subarray(o, o + n) : c);
  const y = pr.y.subarray(o, o + n);
  const s = pr.sigma
    ? (pr.sigmaPerFit ? pr.sigma.subarray(o, o + n) : pr.sigma)
    : null;
  const keep: number[] = [];
  let bad = "";
  for (let k = 0; k < n; k++) {
    let why = "";
    if (!Number.isFinite(y[k])) why = `y[${k}] = ${y[k]}`;
    else if (pr.estimator === "poisson" && y[k] < 0) {
      why = `y[${k}] = ${y[k]} is a negative count`;
    } else if (pr.xPerFit) {
      const v = xs.findIndex((c) => !Number.isFinite(c[k]));
      if (v >= 0) why = `x[${v}][${k}] = ${xs[v][k]}`;
    }
    if (!why && s && pr.sigmaPerFit && !(s[k] > 0 && s[k] < Infinity)) {
      why = `sigma[${k}] = ${s[k]}`;
    }
    if (why) bad ||= why;
    else keep.push(k);
  }
  const pick = (a: Float64Array) =>
    keep.length === n ? a : Float64Array.from(keep, (k) => a[k]);
  const w = s ? pick(s).map((v) => 1 / v) : null;
  return { x: xs.map(pick), y: pick(y), w, bad };
}

/**
 * The covariance of fit i at `popt` (p x p, zero rows and columns for fixed
 * parameters) and the cost there.
 */
export function fitCovariance(
  pr: BatchProblem,
  d: FitData,
  popt: Float64Array,
): {
  pcov: number[][];
  cost: number;
  gradient: Float64Array;
  factor: JacobianFactor;
} {
  const m = pr.model, p = m.params.length, q = pr.free.length;
  const n = d.y.length;
  const poisson = pr.estimator === "poisson";
  let w = d.w;
  if (poisson) w = m.evaluate(d.x, popt).map((f) => 1 / Math.sqrt(f));
  const B = new Float64Array(n * (p + 1));
  m.kernel(d.x, d.y, w, popt, 0, n, B, n, true);
  // The free columns and the residual column, as the solver saw them.
  const Bq = new Float64Array(n * (q + 1));
  pr.free.forEach((j, a) => Bq.set(B.subarray(j * n, (j + 1) * n), a * n));
  Bq.set(B.subarray(p * n, (p + 1) * n), q * n);
  let cost = 0;
  if (pr.loss !== "linear") {
    cost = applyLossToBlock(pr.loss, pr.fScale, Bq, n, n, q, true);
  } else {
    for (let k = 0; k < n; k++) cost += 0.5 * Bq[q * n + k] ** 2;
  }
  if (poisson) cost = poissonHalfDeviance(d.y, m.evaluate(d.x, popt));
  const aug = new Float64Array((q + 1) * (q + 1));
  householderMergeRows(aug, Bq, n, n, q + 1);
  const factor = toFactor(qrFromAugmented(aug, q, cost, n), q);
  const { pcov: small } = covarianceFromFactor(factor, {
    nResiduals: n,
    cost,
    absoluteSigma: poisson,
    method: pr.method,
  });
  const pcov = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  pr.free.forEach((j, a) =>
    pr.free.forEach((l, b) => pcov[j][l] = small[a][b])
  );
  const gradient = new Float64Array(p);
  pr.free.forEach((j, a) => gradient[j] = factor.g[a]);
  if (poisson) {
    // The weighted residual is not the likelihood's: g = sum((1 - y/f) J).
    gradient.fill(0);
    const f = m.evaluate(d.x, popt);
    m.kernel(d.x, d.y, null, popt, 0, n, B, n, true);
    pr.free.forEach((j) => {
      let g = 0;
      for (let k = 0; k < n; k++) g += B[j * n + k] * (1 - d.y[k] / f[k]);
      gradient[j] = g;
    });
  }
  return {
    pcov,
    cost,
    gradient,
    factor: { f: factor.f, colNorms: factor.colNorms },
  };
}

/** sum(f - y - y log(f / y)), with y log(y / f) = 0 at y = 0. */
function poissonHalfDeviance(y: Float64Array, f: Float64Array): number {
  let c = 0;
  for (let k = 0; k < y.length; k++) {
    c += y[k] > 0 ? (f[k] - y[k]) - y[k] * Math.log(f[k] / y[k]) : f[k];
  }
  return c;
}

/**
 * A Poisson fit that ended with the model ~0 at a point (a count of 0
 * there): it stopped on the boundary f = 0 of the likelihood, which the
 * solver cannot follow (a step past it is rejected), so the optimum may lie
 * further along it. Empty for any other fit.
 */
export function boundaryNote(
  pr: BatchProblem,
  i: number,
  popt: Float64Array,
): string {
  if (pr.estimator !== "poisson") return "";
  const d = fitData(pr, i);
  if (d.y.length === 0) return "";
  const f = pr.model.evaluate(d.x, popt);
  let k = 0, top = 0;
  for (let j = 0; j < f.length; j++) {
    if (f[j] < f[k]) k = j;
    top = Math.max(top, f[j]);
  }
  return f[k] < 1e-8 * top
    ? ` The model is ~0 at point ${k} (count ${
      d.y[k]
    }): the fit stopped on the boundary f = 0 of the Poisson likelihood; the optimum may lie further along it.`
    : "";
}

/** How the batch ran, for the results of its fits. */
export interface BatchRunInfo {
  readonly backend: string;
  readonly elapsedMs: number;
  readonly notes: readonly string[];
  /** The caller's model (every parameter), when `pr.model` is reduced. */
  readonly fullModel?: Model;
  /** Free parameters -> every parameter (params by name), or null. */
  readonly plan?: ParamPlan | null;
  /** Options a refit of fit i would take (its origin), without p0 and bounds. */
  readonly refit?: FitOptions;
}

/** Fit i of a batch as a FitResult. */
export function singleFitResult(
  pr: BatchProblem,
  out: BatchOutputs,
  i: number,
  info: BatchRunInfo,
): FitResult {
  const p = pr.model.params.length;
  const d = fitData(pr, i);
  const popt = out.popt.slice(i * p, (i + 1) * p);
  const p0 = pr.p0PerFit ? pr.p0.slice(i * p, (i + 1) * p) : pr.p0.slice();
  const status = out.status[i];
  const fitted = status >= 0;
  const cov = fitted ? fitCovariance(pr, d, popt) : null;
  const f = fitted ? pr.model.evaluate(d.x, popt) : null;
  let ssRes = NaN, chi = NaN, mean = 0, ssTot = 0;
  for (const v of d.y) mean += v / d.y.length;
  for (const v of d.y) ssTot += (v - mean) ** 2;
  if (f) {
    ssRes = 0;
    chi = 0;
    for (let k = 0; k < d.y.length; k++) {
      const r = d.y[k] - f[k];
      ssRes += r * r;
      chi += d.w ? (r * d.w[k]) ** 2 : r * r;
    }
    if (pr.estimator === "poisson") chi = 2 * out.cost[i];
  }
  let optimality = NaN;
  let activeMask: Int8Array = new Int8Array(p);
  const lb = pr.lower
    ? pr.lower.subarray(pr.boundsPerFit ? i * p : 0)
    : new Float64Array(p).fill(-Infinity);
  const ub = pr.upper
    ? pr.upper.subarray(pr.boundsPerFit ? i * p : 0)
    : new Float64Array(p).fill(Infinity);
  if (cov) {
    activeMask = findActiveConstraints(popt, lb, ub, pr.xtol);
    optimality = 0;
    for (const j of pr.free) {
      const g = cov.gradient[j];
      // A bound that holds the parameter against its gradient is satisfied.
      if ((activeMask[j] === -1 && g > 0) || (activeMask[j] === 1 && g < 0)) {
        continue;
      }
      optimality = Math.max(optimality, Math.abs(g));
    }
  }
  const full = info.fullModel ?? pr.model, plan = info.plan ?? null;
  const pf = full.params.length;
  const nan = () =>
    Array.from({ length: pf }, () => new Array<number>(pf).fill(NaN));
  const poptFull = plan ? plan.expand(popt) : popt;
  const pcovFull = cov
    ? (plan ? plan.expandCovariance(cov.pcov, popt) : cov.pcov)
    : nan();
  const p0Full = plan ? plan.expand(p0) : p0;
  const bounds = (side: Float64Array | null) =>
    side
      ? Array.from(side.subarray(pr.boundsPerFit ? i * p : 0).subarray(0, p))
      : null;
  const lo = bounds(pr.lower), hi = bounds(pr.upper);
  return new FitResult({
    popt: poptFull,
    paramNames: full.params,
    nFree: pr.free.length,
    derived: fitted ? derivedQuantities(full, poptFull, pcovFull) : undefined,
    pcov: pcovFull,
    cost: out.cost[i],
    residuals: f ? () => d.y.map((v, k) => v - f[k]) : null,
    nPoints: d.y.length,
    ssRes,
    ssTot,
    chiSquare: chi,
    nfev: out.nfev[i],
    njev: out.nit[i] + (out.nfev[i] > 0 ? 1 : 0),
    nit: out.nit[i],
    status,
    message: statusMessage(
      status,
      out.flags[i],
      statusDetail(pr, i, d, p0, status),
    ) + (fitted ? boundaryNote(pr, i, popt) : ""),
    method: pr.method,
    strategy: "batch",
    backend: info.backend,
    preset: "batch",
    tolerances: { ftol: pr.ftol, xtol: pr.xtol, gtol: pr.gtol },
    starts: [{
      p0: Array.from(p0Full),
      popt: Array.from(poptFull),
      cost: out.cost[i],
      status,
      nfev: out.nfev[i],
      success: status > 0,
    }],
    optimality,
    activeMask,
    elapsedMs: info.elapsedMs,
    notes: [...info.notes],
    origin: {
      model: full,
      data: { x: d.x, y: d.y, sigma: d.w ? d.w.map((v) => 1 / v) : null },
      source: null,
      options: {
        ...info.refit,
        // The free parameters' start and bounds in the reduced model's
        // order are fit i's; by name they stay valid for the full model.
        params: {
          ...info.refit?.params,
          ...Object.fromEntries(pr.model.params.map((name, a) => [name, {
            value: p0[a],
            ...(lo ? { min: lo[a] } : {}),
            ...(hi ? { max: hi[a] } : {}),
            ...(pr.fixed[a] ? { vary: false } : {}),
          }])),
        },
      },
    },
    paramSettings: plan ? plan.settings() : pr.model.params.map((_, k) => ({
      vary: pr.fixed[k] === 0,
      min: lb[k],
      max: ub[k],
    })),
    weighted: d.w !== null,
    absoluteSigma: pr.estimator === "poisson",
    estimator: pr.estimator,
    dataSummary: () =>
      summarizeData(
        full.variables,
        { x: d.x, y: d.y, sigma: null },
        d.y.length,
        d.w !== null,
        `fit ${i} of a batch of ${pr.nFits}`,
      ),
    // Over the free parameters, as the settings' varied ones.
    jacobianFactor: cov?.factor ?? null,
  });
}

/** What went wrong with a fit that was not fitted (empty for the others). */
function statusDetail(
  pr: BatchProblem,
  i: number,
  d: FitData,
  p0: Float64Array,
  status: number,
): string {
  if (status === BATCH_STATUS.BAD_DATA) return d.bad;
  if (status === BATCH_STATUS.NOT_ENOUGH_POINTS) {
    return `${d.y.length} of ${pr.nPoints} points usable (${d.bad}), ${pr.free.length} free parameters`;
  }
  if (status !== BATCH_STATUS.BAD_START) return "";
  const p = p0.length;
  const j = p0.findIndex((v) => !Number.isFinite(v));
  if (j >= 0) return `p0[${j}] (${pr.model.params[j]}) = ${p0[j]}`;
  if (pr.lower && pr.upper) {
    const o = pr.boundsPerFit ? i * p : 0;
    for (let k = 0; k < p; k++) {
      const lo = pr.lower[o + k], hi = pr.upper[o + k];
      if (!(p0[k] >= lo && p0[k] <= hi)) {
        return `p0[${k}] (${pr.model.params[k]}) = ${
          p0[k]
        } is outside the bounds [${lo}, ${hi}]`;
      }
    }
  }
  return pr.estimator === "poisson"
    ? "the model (> 0) or its derivatives are not finite at every point at p0"
    : "the model or its derivatives are not finite at every point at p0";
}
