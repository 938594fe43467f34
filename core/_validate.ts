/**
 * Validation of solver options shared by `leastSquares`, `curveFit` and
 * `fit`: every error names the option and the problem.
 */

import { validateLoss } from "./loss.ts";
import type { LossName } from "./loss.ts";
import { EPS } from "./_constants.ts";
import {
  METHOD_NAMES,
  type MethodName,
  type SolverName,
  type SolverOptions,
} from "./solver_options.ts";

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
  method: SolverName;
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

/**
 * A value as an error message shows it: strings quoted (and cut), objects
 * by kind, so that `"1"` and `1` read differently.
 */
export function showValue(v: unknown): string {
  if (typeof v === "string") {
    return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  }
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "a function";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "object" && v !== null) {
    return `an object (${v.constructor?.name ?? "Object"})`;
  }
  return String(v);
}

/**
 * The allowed values of an option as its error message lists them:
 * `"trf", "lm" or "auto"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(listChoices(["trf", "lm", "auto"]), '"trf", "lm" or "auto"');
 * assert.strictEqual(listChoices([0, 1]), "0 or 1");
 * ```
 */
export function listChoices(values: readonly (string | number)[]): string {
  const shown = values.map((v) => JSON.stringify(v));
  return shown.length < 2
    ? shown.join("")
    : `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

/**
 * Throws a TypeError naming the first option of `options` that `known` does
 * not list (a misspelt option would otherwise be silently ignored).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.throws(
 *   () => assertKnownOptions("fit", { tol: 1 }, new Set(["ftol"])),
 *   /fit: unknown option "tol" \(known: ftol\)/,
 * );
 * ```
 */
export function assertKnownOptions(
  what: string,
  options: object,
  known: ReadonlySet<string>,
): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new TypeError(
        `${what}: unknown option "${key}" (known: ${[...known].join(", ")})`,
      );
    }
  }
}

/**
 * 64-bit integer arrays hold BigInts, which no arithmetic here accepts;
 * converting them silently could lose precision, so they are refused by name.
 */
export function assertNotBigIntArray(v: unknown, name: string): void {
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    throw new TypeError(
      `${name}: ${v.constructor.name} is not supported; convert to Float64Array`,
    );
  }
}

/** Converts to Float64Array and checks length and finiteness. */
export function toVector(
  v: unknown,
  name: string,
  n?: number,
  allowInfinite = false,
): Float64Array {
  const raw = vectorShape(v, name, n);
  const a = new Float64Array(raw.length);
  for (let i = 0; i < a.length; i++) {
    const x = raw[i];
    checkEntry(x, name, i, allowInfinite);
    a[i] = x as number;
  }
  return a;
}

/**
 * The checks of {@linkcode toVector} without the copy: throws as it does,
 * else returns `v` as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const p0 = [1, 2];
 * assert.strictEqual(checkedVector(p0, "p0", 2), p0);
 * assert.throws(() => checkedVector([1, NaN], "p0", 2), RangeError);
 * ```
 */
export function checkedVector(
  v: unknown,
  name: string,
  n?: number,
  allowInfinite = false,
): ArrayLike<number> {
  const raw = vectorShape(v, name, n);
  for (let i = 0; i < raw.length; i++) {
    checkEntry(raw[i], name, i, allowInfinite);
  }
  return raw as ArrayLike<number>;
}

/** An array-like of the right length, or a typed error. */
function vectorShape(
  v: unknown,
  name: string,
  n?: number,
): ArrayLike<unknown> {
  assertNotBigIntArray(v, name);
  if (
    v === null || typeof v !== "object" || v instanceof DataView ||
    typeof (v as NumVec).length !== "number"
  ) {
    throw new TypeError(
      `${name} must be an array of numbers, got ${showValue(v)}`,
    );
  }
  const raw = v as ArrayLike<unknown>;
  if (n !== undefined && raw.length !== n) {
    throw new RangeError(`${name} has length ${raw.length}, expected ${n}`);
  }
  return raw;
}

/** Entry i of a vector: a number, finite unless `allowInfinite` (not NaN). */
function checkEntry(
  x: unknown,
  name: string,
  i: number,
  allowInfinite: boolean,
): void {
  if (typeof x !== "number") {
    throw new TypeError(
      `${name}[${i}] is ${showValue(x)}; expected a number`,
    );
  }
  if (allowInfinite ? Number.isNaN(x) : !Number.isFinite(x)) {
    throw new RangeError(
      `${name}[${i}] is ${x}; expected a ${
        allowInfinite ? "number" : "finite number"
      }`,
    );
  }
}

/** Throws unless `v` is a number (TypeError) that `ok` accepts (RangeError). */
function checkNumber(
  v: unknown,
  name: string,
  ok: (x: number) => boolean,
  expected: string,
): number {
  if (typeof v !== "number") {
    throw new TypeError(`${name} must be a number, got ${showValue(v)}`);
  }
  if (!ok(v)) throw new RangeError(`${name} must be ${expected}, got ${v}`);
  return v;
}

function tolerance(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  return checkNumber(
    v,
    name,
    (x) => x >= 0 && Number.isFinite(x),
    "a finite number >= 0",
  );
}

/**
 * Checks every solver option that does not depend on the problem's size, so
 * that `fit` can refuse a bad value before it reads any data; the errors name
 * the option.
 */
export function checkSolverOptionValues(o: SolverOptions): void {
  if (typeof o !== "object" || o === null) {
    throw new TypeError("options must be an object");
  }
  validateLoss(o.loss);
  if (o.method !== undefined && !METHOD_NAMES.includes(o.method)) {
    throw new TypeError(
      `method: unknown method ${showValue(o.method)}; expected ${
        listChoices(METHOD_NAMES)
      }`,
    );
  }
  if (o.fScale !== undefined) {
    checkNumber(
      o.fScale,
      "fScale",
      (x) => x > 0 && Number.isFinite(x),
      "a finite number > 0",
    );
  }
  tolerance(o.ftol, "ftol", 0);
  tolerance(o.xtol, "xtol", 0);
  tolerance(o.gtol, "gtol", 0);
  if (o.maxNfev !== undefined) {
    checkNumber(
      o.maxNfev,
      "maxNfev",
      (x) => Number.isSafeInteger(x) && x >= 1,
      "an integer >= 1",
    );
  }
  const xs = o.xScale;
  if (typeof xs === "number") {
    checkNumber(
      xs,
      "xScale",
      (x) => x > 0 && Number.isFinite(x),
      "a finite number > 0",
    );
  } else if (xs !== undefined && xs !== "jac") {
    if (typeof xs === "string") {
      throw new TypeError(
        `xScale must be "jac", a number or an array, got ${showValue(xs)}`,
      );
    }
    toVector(xs, "xScale");
  }
  if (o.bounds !== undefined && o.bounds !== null) {
    if (!Array.isArray(o.bounds) || o.bounds.length !== 2) {
      throw new TypeError(
        `bounds must be a pair [lower, upper], got ${showValue(o.bounds)}`,
      );
    }
    boundSide(o.bounds[0], "bounds[0] (lower)");
    boundSide(o.bounds[1], "bounds[1] (upper)");
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(
      `signal must be an AbortSignal, got ${showValue(o.signal)}`,
    );
  }
}

/** One side of the bounds: a number (not NaN) or a vector of them. */
function boundSide(
  b: unknown,
  name: string,
  n?: number,
): Float64Array | number {
  if (typeof b === "number") {
    if (Number.isNaN(b)) throw new RangeError(`${name} is NaN`);
    return b;
  }
  return toVector(b, name, n, true);
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
    throw new TypeError(
      `bounds must be a pair [lower, upper], got ${showValue(bounds)}`,
    );
  }
  const side = (b: NumVec | number, name: string, fill: Float64Array) => {
    const v = boundSide(b, name, n);
    if (typeof v === "number") fill.fill(v);
    else fill.set(v);
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
  o: SolverOptions,
  n: number,
  m: number,
  names?: readonly string[],
): ResolvedSolverOptions {
  checkSolverOptionValues(o);
  const loss = validateLoss(o.loss);
  const fScale = o.fScale ?? 1;
  const { lower, upper, bounded } = resolveBounds(o.bounds, n, names);
  const method0: MethodName = o.method ?? "auto";
  const method: SolverName = method0 === "auto"
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
  let xScale: Float64Array | "jac";
  if (o.xScale === undefined) {
    xScale = method === "lm" ? "jac" : new Float64Array(n).fill(1);
  } else if (o.xScale === "jac") xScale = "jac";
  else if (typeof o.xScale === "number") {
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
