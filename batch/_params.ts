/**
 * Parameters by name in `fitBatch`, as in `fit`: a built-in model's hints,
 * `params` (`{ value, min, max, vary, expr }`), p0 by name, and `"auto"`
 * (each fit's start from the built-in model's guess on its own data).
 * Fixed and tied parameters are substituted into the model's AST
 * (`workflow/fit/_params.ts`), so the engine fits a reduced model over the
 * free parameters; the outputs are then expanded back to every parameter.
 *
 * The call is first resolved over the caller's model (every array checked
 * and laid out as usual), then reduced column by column.
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import type { NumVec } from "../core/_validate.ts";
import { showValue } from "../core/_validate.ts";
import type { XInput } from "../workflow/fit/_input.ts";
import {
  type ParamPlan,
  type ParamSpec,
  resolveParams,
} from "../workflow/fit/_params.ts";
import { applicableHints } from "../workflow/fit/_model_start.ts";
import type { FitBatchOptions } from "./fit_batch_options.ts";
import { type BatchProblem, resolveMethod } from "./_input.ts";
import { fitCovariance, fitData } from "./_single_fit.ts";
import { cholesky, solveLowerInPlace } from "../core/linalg.ts";
import type { BatchOutputs } from "./_outputs.ts";

/** The parts of a built-in model a batch uses. */
interface Guessing {
  readonly paramHints?: Readonly<Record<string, ParamSpec>>;
  guess?(x: XInput, y: NumVec): Record<string, number>;
}

/** How the starts and parameters of a batch are to be resolved. */
export interface BatchParams {
  /** Free parameters by name -> every parameter; null: all free, untouched. */
  readonly plan: ParamPlan | null;
  /** Each fit's start is the model's guess on its data. */
  readonly auto: boolean;
  /** p0 is resolved here (not an array of numbers over every parameter). */
  readonly startsLater: boolean;
  /** Starts by name (shared; `params` values and p0 by name). */
  readonly starts: Readonly<Record<string, number>>;
  /** min / max from `params` (and hints), by name. */
  readonly limits: Readonly<Record<string, { min?: number; max?: number }>>;
}

function isVector(v: unknown): boolean {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

function hasGuess(m: Model): boolean {
  return typeof (m as Model & Guessing).guess === "function";
}

/**
 * Resolves `params`, p0 by name or `"auto"`, and a built-in model's hints
 * for the model `full` (before the data are read).
 */
export function batchParams(full: Model, o: FitBatchOptions): BatchParams {
  const g = full as Model & Guessing;
  const user = o.params ?? {};
  if (typeof user !== "object" || user === null || Array.isArray(user)) {
    throw new TypeError(
      `params must be an object of parameter settings by name, got ${
        showValue(user)
      }`,
    );
  }
  const p0 = o.p0;
  const byName = p0 !== undefined && p0 !== "auto" && !isVector(p0);
  if (byName && (typeof p0 !== "object" || p0 === null)) {
    throw new TypeError(
      `p0 must be numbers, rows of numbers, an object by name or "auto", got ${
        showValue(p0)
      }`,
    );
  }
  // A start of a free parameter (a fixed value is not a start).
  const userStart = Object.values(user).some((s) =>
    typeof s === "number" ||
    (typeof s === "object" && s?.value !== undefined && s.vary !== false &&
      s.expr === undefined)
  );
  if (p0 === "auto" && !hasGuess(full)) {
    throw new TypeError(
      'p0 "auto" needs a built-in model (models.gaussian(), ...), which guesses starts from the data; give p0 for an expression',
    );
  }
  const auto = p0 === "auto" ||
    (p0 === undefined && !userStart && hasGuess(full));
  // Hints as fit applies them; their values only where nothing else starts.
  const hints = applicableHints(g.paramHints ?? {}, {
    p0: auto ? undefined : p0 as NumVec | undefined,
    bounds: o.bounds as never,
  });
  const merged: Record<string, ParamSpec> = {};
  const startsGiven = p0 !== undefined || auto;
  for (const [name, h] of Object.entries(hints)) {
    if (typeof h === "number") {
      if (!startsGiven) merged[name] = h;
      continue;
    }
    const { value, ...rest } = h;
    merged[name] = startsGiven ? rest : { value, ...rest };
  }
  Object.assign(merged, user);
  const startsLater = p0 === undefined || p0 === "auto" || byName;
  if (Object.keys(merged).length === 0 && !byName) {
    return { plan: null, auto, startsLater, starts: {}, limits: {} };
  }
  // Starts of free parameters stay out of the plan (p0 may be per fit): they
  // are applied to every fit's row below.
  const starts: Record<string, number> = {};
  if (byName) Object.assign(starts, p0);
  const limits: Record<string, { min?: number; max?: number }> = {};
  const stripped: Record<string, ParamSpec> = {};
  for (const [name, raw] of Object.entries(merged)) {
    const spec = typeof raw === "number" ? { value: raw } : raw;
    if (typeof spec !== "object" || spec === null) {
      stripped[name] = spec; // resolveParams names the problem
      continue;
    }
    const free = spec.vary !== false && spec.expr === undefined;
    if (free && spec.value !== undefined) {
      starts[name] = spec.value;
      const { value: _, ...rest } = spec;
      stripped[name] = rest;
    } else stripped[name] = spec;
    if (spec.min !== undefined || spec.max !== undefined) {
      limits[name] = { min: spec.min, max: spec.max };
    }
  }
  const plan = resolveParams(full, { params: stripped });
  for (const name of Object.keys(starts)) {
    const v = starts[name];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new TypeError(
        `p0.${name} must be a finite number, got ${showValue(v)}`,
      );
    }
    if (!full.params.includes(name)) {
      throw new TypeError(
        `p0: unknown parameter '${name}' (the model's parameters: ${
          full.params.join(", ")
        })`,
      );
    }
  }
  return { plan, auto, startsLater, starts, limits };
}

/** Columns `cols` of each row of `w` values (shared: one row). */
function pickColumns(
  a: Float64Array,
  w: number,
  cols: readonly number[],
): Float64Array {
  const rows = a.length / w, q = cols.length;
  const out = new Float64Array(rows * q);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < q; c++) out[i * q + c] = a[i * w + cols[c]];
  }
  return out;
}

/** Every fit's start over every parameter: the model's guess on its data. */
function guessStarts(pr: BatchProblem, full: Model): Float64Array {
  const p = full.params.length, out = new Float64Array(pr.nFits * p);
  const g = full as Model & Guessing;
  for (let i = 0; i < pr.nFits; i++) {
    const d = fitData(pr, i);
    let row: Record<string, number> | null = null;
    try {
      if (d.y.length > 0) row = g.guess!(d.x.length === 1 ? d.x[0] : d.x, d.y);
    } catch {
      row = null; // an unusable start: the fit is flagged (status -4)
    }
    for (let j = 0; j < p; j++) {
      const v = row?.[full.params[j]];
      out[i * p + j] = typeof v === "number" ? v : NaN;
    }
  }
  return out;
}

/**
 * The batch as the engine fits it: the model over the free parameters,
 * starts (guessed, by name, from `params`), bounds (with `params`' min and
 * max) and the `fixed` mask reduced to the free columns.
 */
export function reduceProblem(
  pr: BatchProblem,
  bp: BatchParams,
  o: FitBatchOptions,
): BatchProblem {
  const full = pr.model, p = full.params.length;
  const free = bp.plan?.free ?? full.params.map((_, j) => j);
  const names = free.map((j) => full.params[j]);
  let p0 = pr.p0, p0PerFit = pr.p0PerFit;
  if (bp.auto) {
    p0 = guessStarts(pr, full);
    p0PerFit = pr.nFits > 1;
  } else if (bp.startsLater) p0 = p0.slice();
  p0 = pickColumns(p0, p, free);
  const q = free.length;
  names.forEach((name, a) => {
    const v = bp.starts[name];
    if (v === undefined) return;
    for (let i = 0; i < p0.length / q; i++) p0[i * q + a] = v;
  });
  if (!bp.auto && !p0PerFit) {
    const missing = names.filter((_, a) => Number.isNaN(p0[a]));
    if (missing.length > 0) {
      throw new TypeError(
        `fitBatch: p0 is required (no start for ${
          missing.map((n) => `'${n}'`).join(", ")
        }): give p0 (a vector, by name, or "auto" for a built-in model) or params values`,
      );
    }
  }
  let lower = pr.lower ? pickColumns(pr.lower, p, free) : null;
  let upper = pr.upper ? pickColumns(pr.upper, p, free) : null;
  names.forEach((name, a) => {
    const lim = bp.limits[name];
    if (!lim) return;
    const rows = pr.boundsPerFit ? pr.nFits : 1;
    lower ??= new Float64Array(rows * q).fill(-Infinity);
    upper ??= new Float64Array(rows * q).fill(Infinity);
    for (let i = 0; i < rows; i++) {
      if (lim.min !== undefined) lower[i * q + a] = lim.min;
      if (lim.max !== undefined) upper[i * q + a] = lim.max;
    }
  });
  if (lower && upper && !p0PerFit && !(pr.boundsPerFit)) {
    names.forEach((name, a) => {
      if (!(p0[a] >= lower![a] && p0[a] <= upper![a])) {
        throw new RangeError(
          `p0 of ${name} = ${p0[a]} is outside the bounds [${lower![a]}, ${
            upper![a]
          }]`,
        );
      }
    });
  }
  const fixed = Uint8Array.from(free, (j) => pr.fixed[j]);
  if (fixed.every((f) => f === 1)) {
    throw new RangeError(
      "fixed: every free parameter is fixed; nothing to fit",
    );
  }
  const model = bp.plan?.model ?? full;
  return {
    ...pr,
    model,
    p0,
    p0PerFit,
    lower,
    upper,
    fixed,
    free: [...fixed.keys()].filter((a) => fixed[a] === 0),
    method: resolveMethod(o.method, lower !== null, pr.loss),
  };
}

/** The popt and perr of every parameter, from the reduced problem's. */
export function expandOutputs(
  pr: BatchProblem,
  plan: ParamPlan,
  out: BatchOutputs,
  p: number,
): { popt: Float64Array; perr: Float64Array } {
  const q = pr.model.params.length, n = pr.nFits;
  const popt = new Float64Array(n * p), perr = new Float64Array(n * p);
  const kinds = new Int32Array(p).fill(-1); // -1 fixed or tied, else index
  plan.free.forEach((j, a) => kinds[j] = a);
  // A tied parameter moves with the free ones; a fixed one does not.
  const at0 = plan.expand(new Float64Array(q).fill(0.5));
  const at1 = plan.expand(new Float64Array(q).fill(1.5));
  const tied = Array.from({ length: p }, (_, j) => at0[j] !== at1[j]);
  for (let i = 0; i < n; i++) {
    const x = out.popt.subarray(i * q, (i + 1) * q);
    if (out.status[i] < 0) {
      popt.fill(NaN, i * p, (i + 1) * p);
      perr.fill(NaN, i * p, (i + 1) * p);
      continue;
    }
    popt.set(plan.expand(x), i * p);
    let cov: number[][] | null = null;
    for (let j = 0; j < p; j++) {
      if (kinds[j] >= 0) {
        perr[i * p + j] = out.perr[i * q + kinds[j]];
        continue;
      }
      // A fixed parameter's error is 0, a tied one's the delta method's.
      if (tied[j]) {
        cov ??= plan.expandCovariance(
          normalCovariance(pr, i, x, out.cost[i]) ??
            fitCovariance(pr, fitData(pr, i), x).pcov,
          x,
        );
        perr[i * p + j] = Math.sqrt(cov[j][j]);
      }
    }
  }
  return { popt, perr };
}

/**
 * The covariance of fit i's parameters from its normal matrix at popt, as
 * the engine's standard errors (least squares: scaled by the reduced
 * chi-square; Poisson: the inverse Fisher information), or null where
 * `fitCovariance`'s QR and SVD path is needed: a robust loss, no degrees of
 * freedom, or a normal matrix that is singular or nearly so.
 */
function normalCovariance(
  pr: BatchProblem,
  i: number,
  popt: Float64Array,
  cost: number,
): number[][] | null {
  if (pr.loss !== "linear") return null;
  const m = pr.model, q = m.params.length, free = pr.free, k = free.length;
  const d = fitData(pr, i), n = d.y.length;
  const poisson = pr.estimator === "poisson";
  if (!poisson && n <= k) return null;
  const w = poisson ? m.evaluate(d.x, popt).map((f) => 1 / Math.sqrt(f)) : d.w;
  const B = new Float64Array(n * (q + 1));
  m.kernel(d.x, d.y, w, popt, 0, n, B, n, true);
  const A = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      let sum = 0;
      const ca = free[a] * n, cb = free[b] * n;
      for (let r = 0; r < n; r++) sum += B[ca + r] * B[cb + r];
      A[a * k + b] = A[b * k + a] = sum;
    }
  }
  const L = cholesky(A, k);
  if (!L) return null;
  // Far from singular only (the normal matrix squares the condition).
  let lo = Infinity, hi = 0;
  for (let a = 0; a < k; a++) {
    lo = Math.min(lo, L[a * k + a] / Math.sqrt(A[a * k + a]));
    hi = Math.max(hi, L[a * k + a] / Math.sqrt(A[a * k + a]));
  }
  if (!(lo > 1e-4 * hi)) return null;
  const s2 = poisson ? 1 : (2 * cost) / (n - k);
  const cov = Array.from({ length: q }, () => new Array<number>(q).fill(0));
  const e = new Float64Array(k);
  const cols: Float64Array[] = [];
  for (let a = 0; a < k; a++) {
    e.fill(0);
    e[a] = 1;
    solveLowerInPlace(L, k, e);
    cols.push(e.slice()); // column a of L^-1
  }
  // (L L^T)^-1 = L^-T L^-1: entry (a, b) = sum_c (L^-1)[c][a] (L^-1)[c][b].
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += cols[a][c] * cols[b][c];
      cov[free[a]][free[b]] = s2 * sum;
    }
  }
  return cov;
}
