/**
 * Validation and normalization of in-memory fit input: x, y and sigma.
 * Every error names the argument and the offending index.
 */

import { cholesky } from "../../core/linalg.ts";
import { weightsFromSigma } from "../../core/weights.ts";
import { readBatches } from "../../data/_batching.ts";
import type { InMemoryData, StrategyData } from "../../strategies/strategy.ts";
import type { FitCall } from "./_call.ts";
import { assertNotBigIntArray, showValue } from "../../core/_validate.ts";

/**
 * The x argument: one column, or one column per feature.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { FitXInput } from "@nlsq/nlsq";
 * const x: FitXInput = [[0, 1, 2, 3], new Float64Array([1, 1, 1, 1])];
 * const r = await fit("a * x0 + b * x1", x, [1, 3, 5, 7], { p0: [1, 1] });
 * assert.ok(Math.abs(r.params.a - 2) < 1e-8);
 * ```
 */
export type XInput =
  | Float64Array
  | readonly number[]
  | readonly (Float64Array | readonly number[])[];

/** Normalized in-memory data. */
export interface FitInput {
  x: Float64Array[];
  y: Float64Array;
  /** 1-D sigma, or null. */
  sigma: Float64Array | null;
  /** Lower Cholesky factor of a 2-D sigma (covariance), or null. */
  sigmaChol: Float64Array | null;
  /** Rows dropped by `nanPolicy: "omit"`. */
  dropped: number;
}

function column(v: unknown, name: string): Float64Array {
  if (v instanceof Float64Array) return v;
  assertNotBigIntArray(v, name);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "number") {
        throw new TypeError(
          `${name}[${i}] is ${showValue(v[i])}; expected a number`,
        );
      }
    }
    return Float64Array.from(v);
  }
  // Other typed arrays hold numbers; a DataView holds bytes of any type.
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Float64Array.from(v as unknown as ArrayLike<number>);
  }
  throw new TypeError(
    `${name} must be a Float64Array or an array of numbers, got ${
      showValue(v)
    }`,
  );
}

/** Splits x into feature columns for a model with `nFeatures` variables. */
export function normalizeX(x: unknown, nFeatures: number): Float64Array[] {
  if (x === null || x === undefined) throw new TypeError("x is required");
  const isNested = Array.isArray(x) && x.length > 0 &&
    (Array.isArray(x[0]) || ArrayBuffer.isView(x[0]));
  if (!isNested) {
    if (nFeatures !== 1) {
      throw new TypeError(
        `x must be an array of ${nFeatures} columns (one per model variable)`,
      );
    }
    return [column(x, "x")];
  }
  const cols = (x as unknown[]).map((c, k) => column(c, `x[${k}]`));
  if (cols.length !== nFeatures) {
    throw new RangeError(
      `x has ${cols.length} columns but the model has ${nFeatures} variable(s)`,
    );
  }
  return cols;
}

/**
 * Validates x, y and sigma; drops non-finite rows with `nanPolicy: "omit"`.
 */
export function normalizeFitInput(
  xIn: unknown,
  yIn: unknown,
  sigmaIn: unknown,
  nFeatures: number,
  nanPolicy: "raise" | "omit" = "raise",
): FitInput {
  if (nanPolicy !== "raise" && nanPolicy !== "omit") {
    throw new TypeError(
      `nanPolicy must be "raise" or "omit", got ${showValue(nanPolicy)}`,
    );
  }
  let x = normalizeX(xIn, nFeatures);
  let y = column(yIn, "y");
  const n0 = y.length;
  if (n0 === 0) throw new RangeError("y is empty: no data to fit");
  x.forEach((c, k) => {
    if (c.length !== n0) {
      throw new RangeError(
        `x${
          nFeatures > 1 ? `[${k}]` : ""
        } has length ${c.length} but y has length ${n0}`,
      );
    }
  });
  let sigma: Float64Array | null = null;
  let sigma2: Float64Array | null = null;
  if (sigmaIn !== undefined && sigmaIn !== null) {
    const nested = Array.isArray(sigmaIn) && sigmaIn.length > 0 &&
      (Array.isArray(sigmaIn[0]) || ArrayBuffer.isView(sigmaIn[0]));
    if (nested) {
      const rows = sigmaIn as ArrayLike<number>[];
      rows.forEach((r, i) => assertNotBigIntArray(r, `sigma[${i}]`));
      if (rows.length !== n0) {
        throw new RangeError(
          `sigma is ${rows.length} x ? but y has length ${n0}`,
        );
      }
      sigma2 = new Float64Array(n0 * n0);
      for (let i = 0; i < n0; i++) {
        if (rows[i].length !== n0) {
          throw new RangeError(
            `sigma row ${i} has length ${rows[i].length}, expected ${n0}`,
          );
        }
        for (let j = 0; j < n0; j++) {
          const v = rows[i][j];
          if (typeof v !== "number") {
            throw new TypeError(
              `sigma[${i}][${j}] is ${showValue(v)}; expected a number`,
            );
          }
          if (!Number.isFinite(v)) {
            throw new RangeError(
              `sigma[${i}][${j}] is ${v}; expected a finite number`,
            );
          }
          sigma2[i * n0 + j] = v;
        }
      }
    } else {
      sigma = column(sigmaIn, "sigma");
      if (sigma.length !== n0) {
        throw new RangeError(
          `sigma has length ${sigma.length} but y has length ${n0}`,
        );
      }
    }
  }
  // Non-finite values: an error naming the first one, or dropped rows.
  const bad = new Uint8Array(n0);
  let nBad = 0;
  const scan = (a: Float64Array, name: string) => {
    for (let i = 0; i < n0; i++) {
      if (!Number.isFinite(a[i])) {
        if (nanPolicy === "raise") {
          throw new RangeError(
            `${name}[${i}] is ${
              a[i]
            }; pass nanPolicy: "omit" to drop such points`,
          );
        }
        if (!bad[i]) nBad++;
        bad[i] = 1;
      }
    }
  };
  x.forEach((c, k) => scan(c, nFeatures > 1 ? `x[${k}]` : "x"));
  scan(y, "y");
  if (sigma) scan(sigma, "sigma");
  if (nBad > 0) {
    const keep = (a: Float64Array) => a.filter((_, i) => !bad[i]);
    x = x.map(keep);
    y = keep(y);
    if (sigma) sigma = keep(sigma);
    if (sigma2) {
      const n1 = n0 - nBad;
      const s = new Float64Array(n1 * n1);
      let r = 0;
      for (let i = 0; i < n0; i++) {
        if (bad[i]) continue;
        let c = 0;
        for (let j = 0; j < n0; j++) {
          if (!bad[j]) s[r * n1 + c++] = sigma2[i * n0 + j];
        }
        r++;
      }
      sigma2 = s;
    }
    if (y.length === 0) {
      throw new RangeError(
        "no finite data points remain after dropping NaN/Inf",
      );
    }
  }
  if (sigma) {
    for (let i = 0; i < sigma.length; i++) {
      if (!(sigma[i] > 0)) {
        throw new RangeError(
          `sigma[${i}] = ${sigma[i]}; every sigma must be > 0`,
        );
      }
    }
  }
  let sigmaChol: Float64Array | null = null;
  if (sigma2) {
    const n = y.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const a = sigma2[i * n + j], b = sigma2[j * n + i];
        if (
          Math.abs(a - b) > 1e-12 * Math.max(Math.abs(a), Math.abs(b), 1e-300)
        ) {
          throw new RangeError(
            `sigma (covariance) is not symmetric: sigma[${i}][${j}] = ${a} but sigma[${j}][${i}] = ${b}`,
          );
        }
      }
    }
    sigmaChol = cholesky(sigma2, n);
    if (!sigmaChol) {
      throw new RangeError(
        "sigma (covariance matrix) is not positive definite",
      );
    }
  }
  return { x, y, sigma, sigmaChol, dropped: nBad };
}

/** The data of one fit, as the strategies and the final statistics see it. */
export interface FitData {
  /** What the strategy fits: arrays with weights, or a source. */
  readonly data: StrategyData;
  /** The arrays as given (unweighted), or null while data is a source. */
  readonly arrays: {
    readonly x: Float64Array[];
    readonly y: Float64Array;
    readonly sigma: Float64Array | null;
  } | null;
  /** Lower Cholesky factor of a 2-D sigma, or null. */
  readonly sigmaChol: Float64Array | null;
  /** Points (NaN when a source does not know its length). */
  readonly nPoints: number;
}

/**
 * Phase 2 of `fit()`: the data. Arrays are checked (lengths, NaN/Inf under
 * `nanPolicy`, sigma) and given weights; a source is checked against the
 * model and kept for the strategy to read.
 */
export function prepareFitData(call: FitCall, notes: string[]): FitData {
  const m = call.model;
  const p = m.params.length;
  let fd: FitData;
  if (call.source) {
    const src = call.source;
    if (src.nFeatures !== m.variables.length) {
      throw new RangeError(
        `the source has ${src.nFeatures} x column(s) but the model has ${m.variables.length} variable(s)`,
      );
    }
    if (call.options.sigma !== undefined) {
      throw new TypeError(
        "sigma: give sigma as a column of the source, not as an option",
      );
    }
    fd = {
      data: src,
      arrays: null,
      sigmaChol: null,
      nPoints: src.length ?? NaN,
    };
  } else {
    const inp = normalizeFitInput(
      call.x,
      call.y,
      call.options.sigma,
      m.variables.length,
      call.nanPolicy,
    );
    if (inp.dropped > 0) {
      notes.push(`dropped ${inp.dropped} points with NaN/Inf`);
    }
    fd = {
      data: inMemory(inp.x, inp.y, inp.sigma),
      arrays: { x: inp.x, y: inp.y, sigma: inp.sigma },
      sigmaChol: inp.sigmaChol,
      nPoints: inp.y.length,
    };
  }
  if (Number.isFinite(fd.nPoints) && fd.nPoints < p) {
    throw new RangeError(
      `the model has ${p} parameters but there are only ${fd.nPoints} data points`,
    );
  }
  return fd;
}

/**
 * Reads a source into memory for an in-memory strategy; arrays stay as
 * they are.
 */
export async function loadFitData(
  fd: FitData,
  signal?: AbortSignal,
): Promise<FitData> {
  if (fd.data.kind === "memory") return fd;
  const src = fd.data;
  const b = await readBatches(src, 1 << 16, { signal });
  const sigma = src.hasSigma ? b.sigma! : null;
  return {
    data: inMemory(b.x, b.y, sigma),
    arrays: { x: b.x, y: b.y, sigma },
    sigmaChol: null,
    nPoints: b.y.length,
  };
}

function inMemory(
  x: Float64Array[],
  y: Float64Array,
  sigma: Float64Array | null,
): InMemoryData {
  return { kind: "memory", x, y, w: weightsFromSigma(sigma) };
}
