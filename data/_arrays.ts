// Normalizes user-supplied numeric arrays (x may be one column or a list of
// columns) into Float64Arrays, copying only what is not one already.

import { assertNotBigIntArray } from "../core/_validate.ts";

/**
 * One numeric column as users may pass it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { NumericArray } from "@nlsq/nlsq/data";
 * const cols: NumericArray[] = [[1, 2], new Float32Array([1, 2]), new Float64Array([1, 2])];
 * assert.ok(cols.every((c) => c.length === 2));
 * ```
 */
export type NumericArray = Float64Array | Float32Array | ArrayLike<number>;

/**
 * x as users may pass it: one column, or one column per feature.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { XInput } from "@nlsq/nlsq/data";
 * const one: XInput = [1, 2, 3];
 * const two: XInput = [[1, 2, 3], new Float64Array([4, 5, 6])];
 * assert.strictEqual(arraySource(two, [0, 0, 0]).nFeatures, 2);
 * assert.strictEqual(arraySource(one, [0, 0, 0]).nFeatures, 1);
 * ```
 */
export type XInput = NumericArray | readonly NumericArray[];

/** Converts a column to a Float64Array (the same object when it is one). */
export function toFloat64(a: NumericArray, name: string): Float64Array {
  if (a instanceof Float64Array) return a;
  assertNotBigIntArray(a, name);
  if (a === null || typeof a !== "object" || typeof a.length !== "number") {
    throw new TypeError(`${name} must be an array of numbers`);
  }
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== "number") {
      throw new TypeError(`${name}[${i}] must be a number, got ${typeof v}`);
    }
    out[i] = v;
  }
  return out;
}

/** Splits x into its feature columns. */
export function toColumns(x: XInput, name = "x"): Float64Array[] {
  if (isColumnList(x)) {
    return x.map((c, f) => toFloat64(c, `${name}[${f}]`));
  }
  return [toFloat64(x as NumericArray, name)];
}

function isColumnList(x: XInput): x is readonly NumericArray[] {
  if (!Array.isArray(x) || x.length === 0) return false;
  const first = x[0];
  return typeof first === "object" && first !== null &&
    typeof (first as ArrayLike<number>).length === "number";
}
