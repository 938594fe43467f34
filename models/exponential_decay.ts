/**
 * The exponential with an offset, `a * exp(-b * x) + c`.
 *
 * @module
 */

import type { BuiltinModel } from "./builtin_model.ts";
import type { GuessData } from "./_data.ts";
import {
  checkFactoryOptions,
  createLeaf,
  type LeafSpec,
  type ModelFactoryOptions,
} from "./_leaf.ts";
import { cumulativeIntegral, endLevels } from "./_levels.ts";
import { lstsq } from "./_linear_lsq.ts";

/**
 * b from the integral equation y - y(x0) = -b S + b c (x - x0), S the
 * integral of y from x0 (linear least squares, no starting values needed),
 * then a and c by least squares.
 */
function guess(d: GuessData): Record<string, number> {
  const { xs, ys } = d;
  const n = ys.length, x0 = xs[0];
  const S = cumulativeIntegral(xs, ys);
  const k = lstsq(
    [new Float64Array(n).fill(1), xs.map((x) => x - x0), S],
    ys,
  );
  let b = k ? -k[2] : NaN;
  if (!Number.isFinite(b) || b === 0) b = 3 / (xs[n - 1] - x0 || 1);
  const e = xs.map((x) => Math.exp(-b * (x - x0)));
  const ac = lstsq([e, new Float64Array(n).fill(1)], ys);
  if (ac === null) {
    const [y0, y1] = endLevels(ys);
    return { a: (y0 - y1) * Math.exp(b * x0), b, c: y1 };
  }
  return { a: ac[0] * Math.exp(b * x0), b, c: ac[1] };
}

const SPEC: LeafSpec = {
  name: "exponentialDecay",
  params: ["a", "b", "c"],
  expression: "a * exp(-b * x) + c",
  guess,
};

/**
 * An exponential decay to a baseline, `a * exp(-b * x) + c` (a growth for
 * b < 0). The guess solves the integral equation of the model by linear
 * least squares, so it needs no starting point.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const x = Array.from({ length: 100 }, (_, i) => i / 20);
 * const g = models.exponentialDecay().guess(x, x.map((t) => 2 * Math.exp(-1.3 * t) + 0.5));
 * assert.ok(Math.abs(g.b - 1.3) < 0.01 && Math.abs(g.c - 0.5) < 0.01);
 * ```
 */
export function exponentialDecay(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.exponentialDecay"),
  );
}
