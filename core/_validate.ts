/**
 * Validation of solver options shared by `leastSquares`, `curveFit` and
 * `fit`: every error names the option and the problem.
 */

import { validateLoss } from "./loss.ts";
import type { LossName } from "./loss.ts";
import { EPS } from "./_constants.ts";

/**
 * A numeric vector as users pass it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { NumVec } from "@nlsq/nlsq";
 * const a: NumVec = [1, 2, 3];
 * const b: NumVec = new Float64Array([1, 2, 3]);
 * assert.strictEqual(a.length, b.length);
 * ```
 */
export type NumVec = ArrayLike<number>;

/**
 * Bounds as users pass them: scalars apply to every parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * import type { BoundsInput } from "@nlsq/nlsq";
 * const bounds: BoundsInput = [0, [10, Infinity]];
 * const r = await leastSquares((p) => [p[0] - 20, p[1] - 3], [1, 1], { bounds });
 * assert.ok(Math.abs(r.x[0] - 10) < 1e-6);
 * ```
 */
export type BoundsInput = readonly [NumVec | number, NumVec | number];

/** The solver-level options after validation. */
export interface ResolvedSolverOptions {
  method: "trf" | "lm";
  lower: Float64Array;
  upper: Float64Array;
  bounded: boolean;
  loss: LossName;
  fScale: number;
  xScale: Float64Array | "jac";
  ftol: number;
  xtol: number;
  gtol: number;
  maxNfev: number;
}

/** Raw solver options as users pass them. */
export interface SolverOptionsInput {
  method?: "trf" | "lm" | "auto";
  bounds?: BoundsInput;
  loss?: LossName;
  fScale?: number;
  xScale?: NumVec | number | "jac";
  ftol?: number;
  xtol?: number;
  gtol?: number;
  maxNfev?: number;
}

/** Converts to Float64Array and checks length and finiteness. */
export function toVector(
  v: unknown,
  name: string,
  n?: number,
  allowInfinite = false,
): Float64Array {
  if (
    v === null || typeof v !== "object" ||
    typeof (v as NumVec).length !== "number"
  ) {
    throw new TypeError(`${name} must be an array of numbers`);
  }
  const a = Float64Array.from(v as NumVec);
  if (n !== undefined && a.length !== n) {
    throw new RangeError(`${name} has length ${a.length}, expected ${n}`);
  }
  for (let i = 0; i < a.length; i++) {
    const ok = allowInfinite ? !Number.isNaN(a[i]) : Number.isFinite(a[i]);
    if (!ok || typeof (v as NumVec)[i] !== "number") {
      throw new RangeError(
        `${name}[${i}] is ${(v as NumVec)[i]}; expected a ${
          allowInfinite ? "number" : "finite number"
        }`,
      );
    }
  }
  return a;
}

function tolerance(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v)) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  }
  return v;
}

/** Resolves bounds to two vectors; lower must be strictly below upper. */
export function resolveBounds(
  bounds: BoundsInput | undefined,
  n: number,
  names?: readonly string[],
): { lower: Float64Array; upper: Float64Array; bounded: boolean } {
  const lower = new Float64Array(n).fill(-Infinity);
  const upper = new Float64Array(n).fill(Infinity);
  if (bounds === undefined || bounds === null) {
    return { lower, upper, bounded: false };
  }
  if (!Array.isArray(bounds) || bounds.length !== 2) {
    throw new TypeError("bounds must be a pair [lower, upper]");
  }
  const side = (b: NumVec | number, name: string, fill: Float64Array) => {
    if (typeof b === "number") {
      if (Number.isNaN(b)) throw new RangeError(`${name} is NaN`);
      fill.fill(b);
    } else fill.set(toVector(b, name, n, true));
  };
  side(bounds[0], "bounds[0] (lower)", lower);
  side(bounds[1], "bounds[1] (upper)", upper);
  let bounded = false;
  for (let i = 0; i < n; i++) {
    if (!(lower[i] < upper[i])) {
      const label = names?.[i] ? ` (${names[i]})` : "";
      throw new RangeError(
        `bounds: lower bound ${
          lower[i]
        } must be strictly less than upper bound ${
          upper[i]
        } for parameter ${i}${label}`,
      );
    }
    if (Number.isFinite(lower[i]) || Number.isFinite(upper[i])) bounded = true;
  }
  return { lower, upper, bounded };
}

/**
 * Validates and resolves solver options for `n` parameters and `m` residuals.
 * `method: "auto"` picks "lm" without bounds and with the linear loss, else
 * "trf" (scipy's `curve_fit` rule, extended to robust losses).
 */
export function resolveSolverOptions(
  o: SolverOptionsInput,
  n: number,
  m: number,
  names?: readonly string[],
): ResolvedSolverOptions {
  const loss = validateLoss(o.loss);
  const fScale = o.fScale ?? 1;
  if (typeof fScale !== "number" || !(fScale > 0) || !Number.isFinite(fScale)) {
    throw new RangeError(`fScale must be a finite number > 0, got ${o.fScale}`);
  }
  const { lower, upper, bounded } = resolveBounds(o.bounds, n, names);
  const method0 = o.method ?? "auto";
  if (!["trf", "lm", "auto"].includes(method0)) {
    throw new TypeError(
      `method: unknown method ${
        JSON.stringify(method0)
      }; expected "trf", "lm" or "auto"`,
    );
  }
  const method = method0 === "auto"
    ? (bounded || loss !== "linear" ? "trf" : "lm")
    : method0;
  if (method === "lm") {
    if (bounded) {
      throw new TypeError('method "lm" does not support bounds; use "trf"');
    }
    if (loss !== "linear") {
      throw new TypeError(
        `method "lm" supports only the linear loss, got "${loss}"; use "trf"`,
      );
    }
    if (m < n) {
      throw new RangeError(
        `method "lm" needs at least as many residuals (${m}) as parameters (${n})`,
      );
    }
  }
  let ftol = tolerance(o.ftol, "ftol", 1e-8);
  let xtol = tolerance(o.xtol, "xtol", 1e-8);
  let gtol = tolerance(o.gtol, "gtol", 1e-8);
  if (ftol < EPS && xtol < EPS && gtol < EPS) {
    throw new RangeError(
      "ftol, xtol, gtol: at least one must be >= machine epsilon (2.2e-16)",
    );
  }
  if (method === "lm") {
    ftol = Math.max(ftol, EPS);
    xtol = Math.max(xtol, EPS);
    gtol = Math.max(gtol, EPS);
  }
  const maxNfev = o.maxNfev ?? 100 * n;
  if (!Number.isInteger(maxNfev) || maxNfev < 1) {
    throw new RangeError(`maxNfev must be an integer >= 1, got ${o.maxNfev}`);
  }
  let xScale: Float64Array | "jac";
  if (o.xScale === undefined) {
    xScale = method === "lm" ? "jac" : new Float64Array(n).fill(1);
  } else if (o.xScale === "jac") xScale = "jac";
  else if (typeof o.xScale === "number") {
    if (!(o.xScale > 0) || !Number.isFinite(o.xScale)) {
      throw new RangeError(`xScale must be > 0, got ${o.xScale}`);
    }
    xScale = new Float64Array(n).fill(o.xScale);
  } else {
    xScale = toVector(o.xScale, "xScale", n);
    if (xScale.some((s) => !(s > 0))) {
      throw new RangeError("xScale entries must be > 0");
    }
  }
  return {
    method,
    lower,
    upper,
    bounded,
    loss,
    fScale,
    xScale,
    ftol,
    xtol,
    gtol,
    maxNfev,
  };
}

/** Checks that x0 lies inside the bounds; the error names the parameter. */
export function checkFeasible(
  x0: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  label = "p0",
  names?: readonly string[],
): void {
  for (let i = 0; i < x0.length; i++) {
    if (!(x0[i] >= lower[i] && x0[i] <= upper[i])) {
      const nm = names?.[i] ? ` (${names[i]})` : "";
      throw new RangeError(
        `${label}[${i}]${nm} = ${x0[i]} is outside the bounds [${lower[i]}, ${
          upper[i]
        }]`,
      );
    }
  }
}
