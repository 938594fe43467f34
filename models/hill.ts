/**
 * The four-parameter dose-response (Hill) curve.
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
import { endLevels, levelCrossing } from "./_levels.ts";

/**
 * bottom and top from the ends (low and high x), then where the curve is
 * a quarter, half and three quarters of the way in ln x:
 * ec50 at half, n = 2 ln 3 / (ln x75 - ln x25).
 */
function guess(d: GuessData): Record<string, number> {
  const keep: number[] = [];
  d.xs.forEach((x, i) => {
    if (x > 0) keep.push(i);
  });
  if (keep.length < 2) return {};
  const t = Float64Array.from(keep, (i) => Math.log(d.xs[i]));
  const y = Float64Array.from(keep, (i) => d.ys[i]);
  const [bottom, top] = endLevels(y);
  const s = y.map((v) => (v - bottom) / (top - bottom || 1));
  const t25 = levelCrossing(t, s, 0.25), t75 = levelCrossing(t, s, 0.75);
  const n = 2 * Math.log(3) / Math.max(t75 - t25, 1e-3);
  return { bottom, top, ec50: Math.exp(levelCrossing(t, s, 0.5)), n };
}

const SPEC: LeafSpec = {
  name: "hill",
  params: ["bottom", "top", "ec50", "n"],
  expression: "bottom + (top - bottom) / (1 + (ec50 / x)^n)",
  hints: { ec50: { min: 0 } },
  guess,
};

/**
 * The four-parameter logistic dose-response curve (Hill equation),
 * `bottom + (top - bottom) / (1 + (ec50 / x)^n)` for doses x > 0: `bottom`
 * at low doses, `top` at high doses, half way at `ec50 >= 0`, with Hill
 * coefficient `n` (the steepness; `top < bottom` for inhibition).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const m = models.hill();
 * const y = m.evaluate([new Float64Array([0.5])], [1, 9, 0.5, 2]);
 * assert.strictEqual(y[0], 5); // half way at ec50
 * ```
 */
export function hill(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.hill"),
  );
}
