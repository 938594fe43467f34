/**
 * The data a guess reads (private helper): x checked and split into
 * columns like `fit` does, y checked, and the first column sorted with y in
 * the same order.
 *
 * @module
 */

import { normalizeX, type XInput } from "../workflow/fit/_input.ts";
import { toVector } from "../core/_validate.ts";

/** What a model's guess works on. */
export interface GuessData {
  /** x, one column per model variable, in the caller's order. */
  readonly x: readonly Float64Array[];
  /** y in the caller's order. */
  readonly y: Float64Array;
  /** The first column, ascending. */
  readonly xs: Float64Array;
  /** y in the order of `xs`. */
  readonly ys: Float64Array;
  /** `xs[i] = x[0][order[i]]`. */
  readonly order: Int32Array;
}

/**
 * Checks and prepares `x` and `y` for a guess of a model with
 * `nVariables` variables; errors name the argument and the index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { guessData } from "./_data.ts";
 * const d = guessData([3, 1, 2], [30, 10, 20], 1, "guess");
 * assert.deepStrictEqual(Array.from(d.ys), [10, 20, 30]);
 * ```
 */
export function guessData(
  x: XInput,
  y: ArrayLike<number>,
  nVariables: number,
  who: string,
): GuessData {
  let cols: Float64Array[], yv: Float64Array;
  try {
    cols = normalizeX(x, nVariables);
    yv = toVector(y, "y");
  } catch (e) {
    if (e instanceof Error) e.message = `${who}: ${e.message}`;
    throw e;
  }
  for (let k = 0; k < cols.length; k++) {
    if (cols[k].length !== yv.length) {
      throw new RangeError(
        `${who}: x${cols.length > 1 ? `[${k}]` : ""} has ${
          cols[k].length
        } values, y has ${yv.length}`,
      );
    }
    const bad = cols[k].findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new RangeError(
        `${who}: x${cols.length > 1 ? `[${k}]` : ""}[${bad}] is ${
          cols[k][bad]
        }; expected a finite number`,
      );
    }
  }
  if (yv.length < 2) {
    throw new RangeError(`${who}: needs at least 2 points, got ${yv.length}`);
  }
  return withY({ x: cols, order: sortOrder(cols[0]) }, yv);
}

function sortOrder(x: Float64Array): Int32Array {
  const order = Int32Array.from(x, (_, i) => i);
  order.sort((a, b) => x[a] - x[b] || a - b);
  return order;
}

/**
 * The same x with other y values (a residual, for instance).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { guessData, withY } from "./_data.ts";
 * const d = withY(guessData([2, 1], [0, 0], 1, "guess"), new Float64Array([5, 6]));
 * assert.deepStrictEqual(Array.from(d.ys), [6, 5]);
 * ```
 */
export function withY(
  d: Pick<GuessData, "x" | "order">,
  y: Float64Array,
): GuessData {
  const xs = Float64Array.from(d.order, (i) => d.x[0][i]);
  const ys = Float64Array.from(d.order, (i) => y[i]);
  return { x: d.x, y, xs, ys, order: d.order };
}
