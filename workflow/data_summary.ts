/**
 * What a saved fit result says about its data without keeping it: the
 * number of points, the range of every variable and of y, whether the fit
 * was weighted, and where the data came from.
 *
 * @module
 */

/**
 * A summary of the data a fit was made on (`r.dataSummary`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { DataSummary } from "@nlsq/nlsq/workflow";
 * const r = await fit("a * x", [1, 2, 3], [2.1, 3.9, 6.1], { p0: [1] });
 * const d: DataSummary = r.dataSummary!;
 * assert.deepStrictEqual(d.x, [{ name: "x", min: 1, max: 3 }]);
 * assert.deepStrictEqual([d.nPoints, d.y.min, d.y.max, d.weighted], [3, 2.1, 6.1, false]);
 * assert.strictEqual(d.description, "3 points in memory");
 * ```
 */
export interface DataSummary {
  /** Points fitted. */
  readonly nPoints: number;
  /** Each variable's name and range (NaN for a source not read here). */
  readonly x: readonly {
    readonly name: string;
    readonly min: number;
    readonly max: number;
  }[];
  /** The range and mean of y (NaN for a source not read here). */
  readonly y: {
    readonly min: number;
    readonly max: number;
    readonly mean: number;
  };
  /** Whether the fit was weighted by a sigma. */
  readonly weighted: boolean;
  /** Where the data came from ("3 points in memory", a source's description). */
  readonly description: string;
}

/** min and max of an array (NaN for an empty one). */
function range(a: Float64Array): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < min) min = a[i];
    if (a[i] > max) max = a[i];
  }
  return a.length > 0 ? { min, max } : { min: NaN, max: NaN };
}

/**
 * The summary of data in memory, or of a source not read into memory
 * (`arrays` null: its ranges would take a pass over it, and are NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { summarizeData } from "./data_summary.ts";
 * const s = summarizeData(["t"], {
 *   x: [new Float64Array([0, 2])], y: new Float64Array([1, 3]), sigma: null,
 * }, 2, false);
 * assert.deepStrictEqual(s.x, [{ name: "t", min: 0, max: 2 }]);
 * assert.strictEqual(s.y.mean, 2);
 * ```
 */
export function summarizeData(
  variables: readonly string[],
  arrays: {
    readonly x: readonly Float64Array[];
    readonly y: Float64Array;
    readonly sigma: Float64Array | null;
  } | null,
  nPoints: number,
  weighted: boolean,
  description = `${nPoints} points in memory`,
): DataSummary {
  if (arrays === null) {
    return {
      nPoints,
      x: variables.map((name) => ({ name, min: NaN, max: NaN })),
      y: { min: NaN, max: NaN, mean: NaN },
      weighted,
      description,
    };
  }
  const y = arrays.y;
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i];
  return {
    nPoints,
    x: variables.map((name, k) => ({ name, ...range(arrays.x[k]) })),
    y: { ...range(arrays.y), mean: sum / arrays.y.length },
    weighted,
    description,
  };
}
