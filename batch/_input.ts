/**
 * The call of `fitBatch` checked and normalized: the model, the data in
 * flat row-major arrays (fit i's points at `i * nPoints`), and every option
 * resolved to one form ("shared" values once, "per fit" values row-major).
 * Option names and values are checked before the data; every error is a
 * TypeError (wrong kind of value) or RangeError (wrong size or number) that
 * names the argument.
 *
 * @module
 */

import { model as compileModel } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import { type LossName, validateLoss } from "../core/loss.ts";
import {
  assertNotBigIntArray,
  checkSolverOptionValues,
  type NumVec,
  showValue,
} from "../core/_validate.ts";
import { EPS } from "../core/_constants.ts";
import {
  assertInteger,
  assertOneOf,
  assertThreads,
} from "../workflow/_validate.ts";
import { calculateAdaptiveTolerances } from "../workflow/tolerances.ts";
import type { ModelInput } from "../workflow/fit_options.ts";
import {
  FIT_BATCH_OPTION_KEYS,
  type FitBatchBounds,
  type FitBatchOptions,
  type FitBatchProgress,
  type FitBatchXInput,
  type FitBatchYInput,
} from "./fit_batch_options.ts";

/** A checked, normalized batch (fit i's points at `i * nPoints`). */
export interface BatchProblem {
  readonly model: Model;
  readonly nFits: number;
  readonly nPoints: number;
  /** One column per variable: nPoints values (shared) or nFits * nPoints. */
  readonly x: readonly Float64Array[];
  readonly xPerFit: boolean;
  /** nFits * nPoints values, fit i at i * nPoints. */
  readonly y: Float64Array;
  /** Standard deviations: nPoints (shared, checked > 0) or per fit; or null. */
  readonly sigma: Float64Array | null;
  readonly sigmaPerFit: boolean;
  /** Start values: p (shared) or nFits * p. */
  readonly p0: Float64Array;
  readonly p0PerFit: boolean;
  /** Bounds (p or nFits * p values each), or null when there are none. */
  readonly lower: Float64Array | null;
  readonly upper: Float64Array | null;
  readonly boundsPerFit: boolean;
  /** 1 for a fixed parameter. */
  readonly fixed: Uint8Array;
  /** Indices of the free parameters. */
  readonly free: readonly number[];
  readonly estimator: "lse" | "poisson";
  readonly loss: LossName;
  readonly fScale: number;
  readonly method: "trf" | "lm";
  readonly ftol: number;
  readonly xtol: number;
  readonly gtol: number;
  readonly maxNfev: number;
  readonly nanPolicy: "flag" | "omit";
  readonly backend: "auto" | "cpu" | "webgpu";
  readonly threads: number | "auto";
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: FitBatchProgress) => void | Promise<void>;
}

function isRows(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && v.length > 0 && typeof v[0] === "object" &&
    v[0] !== null;
}

function isVector(v: unknown): boolean {
  return v !== null && typeof v === "object" && !(v instanceof DataView) &&
    typeof (v as NumVec).length === "number";
}

/** ArrayLike numbers as a Float64Array (a Float64Array is used as is). */
function numbers(v: unknown, name: string): Float64Array {
  assertNotBigIntArray(v, name);
  if (v instanceof Float64Array) return v;
  if (!isVector(v)) {
    throw new TypeError(
      `${name} must be an array of numbers, got ${showValue(v)}`,
    );
  }
  const raw = v as ArrayLike<unknown>;
  const out = new Float64Array(raw.length);
  const typed = ArrayBuffer.isView(v);
  for (let i = 0; i < raw.length; i++) {
    const e = raw[i];
    if (!typed && typeof e !== "number") {
      throw new TypeError(
        `${name}[${i}] is ${showValue(e)}; expected a number`,
      );
    }
    out[i] = e as number;
  }
  return out;
}

/** Rows of equal length packed row-major. */
function packRows(rows: readonly unknown[], name: string): Float64Array {
  const first = numbers(rows[0], `${name}[0]`);
  const w = first.length;
  const out = new Float64Array(rows.length * w);
  out.set(first);
  for (let i = 1; i < rows.length; i++) {
    const r = numbers(rows[i], `${name}[${i}]`);
    if (r.length !== w) {
      throw new RangeError(
        `${name} is ragged: ${name}[${i}] has length ${r.length}, ${name}[0] has ${w}`,
      );
    }
    out.set(r, i * w);
  }
  return out;
}

function checkFinite(a: Float64Array, name: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new RangeError(
        `${name}[${i}] is ${a[i]}; expected a finite number`,
      );
    }
  }
}

/** A value shared by all fits (`size` values) or per fit (`nFits * size`). */
function sharedOrPerFit(
  v: unknown,
  name: string,
  nFits: number,
  size: number,
  unit: string,
): { values: Float64Array; perFit: boolean } {
  if (isRows(v)) {
    if (v.length !== nFits) {
      throw new RangeError(
        `${name} has ${v.length} rows; expected one per fit (${nFits})`,
      );
    }
    const values = packRows(v, name);
    if (values.length !== nFits * size) {
      throw new RangeError(
        `${name}[0] has length ${
          values.length / nFits
        }; expected ${size} (${unit})`,
      );
    }
    return { values, perFit: true };
  }
  const values = numbers(v, name);
  if (values.length === size) return { values, perFit: false };
  if (values.length === nFits * size) return { values, perFit: true };
  throw new RangeError(
    `${name} has length ${values.length}; expected ${size} (${unit}, shared by every fit) or nFits * ${size} = ${
      nFits * size
    } (per fit)`,
  );
}

function resolveModel(m: ModelInput): Model {
  const compiled = typeof m === "object" && m !== null && "kernel" in m
    ? m
    : typeof m === "string"
    ? compileModel(m)
    : null;
  if (!compiled || compiled.kind !== "expression" || !compiled.ast) {
    throw new TypeError(
      "fitBatch: the model must be an expression (a string or model(...) of one); a plain function has no derivatives to compile",
    );
  }
  return compiled;
}

function checkOptions(options: FitBatchOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("fitBatch: options must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!FIT_BATCH_OPTION_KEYS.has(key)) {
      throw new TypeError(
        `fitBatch: unknown option "${key}" (known: ${
          [...FIT_BATCH_OPTION_KEYS].join(", ")
        })`,
      );
    }
  }
  checkSolverOptionValues({
    method: options.method,
    loss: options.loss,
    fScale: options.fScale,
    ftol: options.ftol,
    xtol: options.xtol,
    gtol: options.gtol,
    maxNfev: options.maxNfev,
    signal: options.signal,
  });
  if (options.nPoints !== undefined) {
    assertInteger("nPoints", options.nPoints, 1);
  }
  if (options.threads !== undefined) assertThreads("threads", options.threads);
  if (
    options.onProgress !== undefined &&
    typeof options.onProgress !== "function"
  ) {
    throw new TypeError(
      `onProgress must be a function, got ${showValue(options.onProgress)}`,
    );
  }
  if (options.p0 === undefined) {
    throw new TypeError(
      "fitBatch: p0 is required (p values for every fit, or nFits * p values)",
    );
  }
}

/** Points per fit and the data y, from Y (and x or options.nPoints). */
function resolveY(
  Y: unknown,
  x: unknown,
  nPointsOption: number | undefined,
): { y: Float64Array; nFits: number; nPoints: number } {
  if (isRows(Y)) {
    const y = packRows(Y, "Y");
    const nPoints = y.length / Y.length;
    if (nPointsOption !== undefined && nPointsOption !== nPoints) {
      throw new RangeError(
        `nPoints is ${nPointsOption} but the rows of Y have ${nPoints} values`,
      );
    }
    if (nPoints === 0) throw new RangeError("Y: the rows are empty");
    return { y, nFits: Y.length, nPoints };
  }
  const y = numbers(Y, "Y");
  let nPoints = nPointsOption;
  if (nPoints === undefined) {
    // A flat x column is shared; rows of x give their length.
    const first = isRows(x) && isRows((x as unknown[])[0])
      ? ((x as unknown[][])[0][0] as NumVec)
      : isRows(x)
      ? (x as NumVec[])[0]
      : x as NumVec;
    nPoints = isVector(first) ? first.length : 0;
  }
  if (!(nPoints >= 1)) {
    throw new RangeError(
      "fitBatch: cannot tell the number of points per fit: give Y as rows, a shared x, or options.nPoints",
    );
  }
  if (y.length % nPoints !== 0) {
    throw new RangeError(
      `Y has ${y.length} values, not a multiple of nPoints = ${nPoints} (nFits * nPoints values expected)`,
    );
  }
  return { y, nFits: y.length / nPoints, nPoints };
}

/** The x columns of the model's variables, all shared or all per fit. */
function resolveX(
  x: unknown,
  nVars: number,
  nFits: number,
  nPoints: number,
): { x: Float64Array[]; perFit: boolean } {
  let entries: unknown[];
  if (nVars === 1) {
    entries = !isRows(x) ? [x] : x.length === 1 ? [x[0]] : [x];
  } else {
    if (!Array.isArray(x) || x.length !== nVars) {
      throw new TypeError(
        `x must be an array of ${nVars} entries, one per variable, got ${
          showValue(x)
        }`,
      );
    }
    entries = x;
  }
  const cols = entries.map((e, v) => {
    const name = nVars === 1 ? "x" : `x[${v}]`;
    if (isRows(e) && e.length !== 1) {
      return sharedOrPerFit(e, name, nFits, nPoints, "nPoints");
    }
    return sharedOrPerFit(
      isRows(e) ? e[0] : e,
      name,
      nFits,
      nPoints,
      "nPoints",
    );
  });
  const perFit = cols.some((c) => c.perFit);
  if (perFit && nFits > 1 && cols.some((c) => !c.perFit)) {
    throw new TypeError(
      "x: the variables must be all shared or all per fit",
    );
  }
  if (!perFit) cols.forEach((c, v) => checkFinite(c.values, `x[${v}]`));
  return { x: cols.map((c) => c.values), perFit: perFit && nFits > 1 };
}

function resolveBounds(
  bounds: FitBatchBounds | undefined,
  p: number,
  nFits: number,
  names: readonly string[],
): { lower: Float64Array; upper: Float64Array; perFit: boolean } | null {
  if (bounds === undefined) return null;
  if (!Array.isArray(bounds) || bounds.length !== 2) {
    throw new TypeError(
      `bounds must be a pair [lower, upper], got ${showValue(bounds)}`,
    );
  }
  const sides = bounds.map((b, s) => {
    const name = s === 0 ? "bounds[0] (lower)" : "bounds[1] (upper)";
    if (typeof b === "number") {
      if (Number.isNaN(b)) throw new RangeError(`${name} is NaN`);
      return { values: new Float64Array(p).fill(b), perFit: false };
    }
    const r = sharedOrPerFit(b, name, nFits, p, "one per parameter");
    for (let i = 0; i < r.values.length; i++) {
      if (Number.isNaN(r.values[i])) {
        throw new RangeError(`${name}[${i}] is NaN`);
      }
    }
    return r;
  });
  const perFit = sides.some((s) => s.perFit) && nFits > 1;
  const expand = (v: Float64Array) => {
    if (!perFit || v.length === nFits * p) return v;
    const out = new Float64Array(nFits * p);
    for (let i = 0; i < nFits; i++) out.set(v, i * p);
    return out;
  };
  const lower = expand(sides[0].values), upper = expand(sides[1].values);
  let finite = false;
  for (let i = 0; i < lower.length; i++) {
    if (!(lower[i] < upper[i])) {
      const j = i % p, fit = Math.floor(i / p);
      throw new RangeError(
        `bounds: lower bound ${
          lower[i]
        } must be strictly less than upper bound ${
          upper[i]
        } for parameter ${j} (${names[j]})${perFit ? ` of fit ${fit}` : ""}`,
      );
    }
    if (Number.isFinite(lower[i]) || Number.isFinite(upper[i])) finite = true;
  }
  return finite ? { lower, upper, perFit } : null;
}

function resolveFixed(fixed: unknown, p: number): Uint8Array {
  const mask = new Uint8Array(p);
  if (fixed === undefined) return mask;
  if (!Array.isArray(fixed) || fixed.length !== p) {
    throw new TypeError(
      `fixed must be an array of ${p} booleans (one per parameter), got ${
        showValue(fixed)
      }`,
    );
  }
  fixed.forEach((f, j) => {
    if (typeof f !== "boolean") {
      throw new TypeError(`fixed[${j}] is ${showValue(f)}; expected a boolean`);
    }
    mask[j] = f ? 1 : 0;
  });
  if (mask.every((f) => f === 1)) {
    throw new RangeError("fixed: every parameter is fixed; nothing to fit");
  }
  return mask;
}

function resolveMethod(
  method: FitBatchOptions["method"],
  bounded: boolean,
  loss: LossName,
): "trf" | "lm" {
  const m = method === "auto"
    ? (bounded || loss !== "linear" ? "trf" : "lm")
    : method ?? "trf";
  if (m === "lm" && bounded) {
    throw new TypeError('method "lm" does not support bounds; use "trf"');
  }
  if (m === "lm" && loss !== "linear") {
    throw new TypeError(
      `method "lm" supports only the linear loss, got "${loss}"; use "trf"`,
    );
  }
  return m;
}

function resolveTolerances(o: FitBatchOptions, nPoints: number) {
  const tol = calculateAdaptiveTolerances(nPoints);
  const ftol = o.ftol ?? tol.ftol, xtol = o.xtol ?? tol.xtol;
  const gtol = o.gtol ?? tol.gtol;
  if (ftol < EPS && xtol < EPS && gtol < EPS) {
    throw new RangeError(
      "ftol, xtol, gtol: at least one must be >= machine epsilon (2.2e-16)",
    );
  }
  return { ftol, xtol, gtol };
}

/**
 * Checks and normalizes `fitBatch(model, x, Y, options)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveBatch } from "./_input.ts";
 * const b = resolveBatch("a * x + b", [0, 1, 2], [[1, 2, 3], [2, 4, 6]], { p0: [1, 0] });
 * assert.deepStrictEqual([b.nFits, b.nPoints, b.xPerFit, b.p0PerFit], [2, 3, false, false]);
 * assert.deepStrictEqual(Array.from(b.y), [1, 2, 3, 2, 4, 6]);
 * ```
 */
export function resolveBatch(
  modelIn: ModelInput,
  x: FitBatchXInput,
  Y: FitBatchYInput,
  options: FitBatchOptions,
): BatchProblem {
  checkOptions(options);
  const m = resolveModel(modelIn);
  const p = m.params.length;
  const estimator = assertOneOf(
    "estimator",
    options.estimator ?? "lse",
    ["lse", "poisson"] as const,
  );
  const loss = validateLoss(options.loss);
  if (estimator === "poisson" && loss !== "linear") {
    throw new TypeError('estimator "poisson" takes no robust loss');
  }
  if (estimator === "poisson" && options.sigma !== undefined) {
    throw new TypeError(
      'estimator "poisson" takes no sigma (the variance of a count is its mean)',
    );
  }
  const nanPolicy = assertOneOf(
    "nanPolicy",
    options.nanPolicy ?? "flag",
    ["flag", "omit"] as const,
  );
  const backend = assertOneOf(
    "backend",
    options.backend ?? "auto",
    ["auto", "cpu", "webgpu"] as const,
  );
  const fixed = resolveFixed(options.fixed, p);
  const free = [...fixed.keys()].filter((j) => fixed[j] === 0);

  const { y, nFits, nPoints } = resolveY(Y, x, options.nPoints);
  if (nPoints < free.length) {
    throw new RangeError(
      `nPoints (${nPoints}) is less than the number of free parameters (${free.length})`,
    );
  }
  const xs = resolveX(x, m.variables.length, nFits, nPoints);
  const p0 = sharedOrPerFit(options.p0, "p0", nFits, p, "one per parameter");
  if (!p0.perFit) checkFinite(p0.values, "p0");
  const bounds = resolveBounds(options.bounds, p, nFits, m.params);
  if (bounds && !p0.perFit && !bounds.perFit) {
    p0.values.forEach((v, j) => {
      if (!(v >= bounds.lower[j] && v <= bounds.upper[j])) {
        throw new RangeError(
          `p0[${j}] (${m.params[j]}) = ${v} is outside the bounds [${
            bounds.lower[j]
          }, ${bounds.upper[j]}]`,
        );
      }
    });
  }
  let sigma: { values: Float64Array; perFit: boolean } | null = null;
  if (options.sigma !== undefined) {
    sigma = sharedOrPerFit(options.sigma, "sigma", nFits, nPoints, "nPoints");
    if (!sigma.perFit) {
      sigma.values.forEach((s, i) => {
        if (!(s > 0 && s < Infinity)) {
          throw new RangeError(
            `sigma[${i}] is ${s}; expected a finite number > 0`,
          );
        }
      });
    }
  }
  const method = resolveMethod(options.method, bounds !== null, loss);
  return {
    model: m,
    nFits,
    nPoints,
    x: xs.x,
    xPerFit: xs.perFit,
    y,
    sigma: sigma?.values ?? null,
    sigmaPerFit: sigma?.perFit ?? false,
    p0: p0.values,
    p0PerFit: p0.perFit && nFits > 1,
    lower: bounds?.lower ?? null,
    upper: bounds?.upper ?? null,
    boundsPerFit: bounds?.perFit ?? false,
    fixed,
    free,
    estimator,
    loss,
    fScale: options.fScale ?? 1,
    method,
    ...resolveTolerances(options, nPoints),
    maxNfev: options.maxNfev ?? 100 * p,
    nanPolicy,
    backend,
    threads: options.threads ?? "auto",
    signal: options.signal,
    onProgress: options.onProgress,
  };
}
