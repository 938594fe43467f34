/**
 * The Michaelis-Menten rate law.
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
import { levelCrossing } from "./_levels.ts";
import { lstsq } from "./_linear_lsq.ts";

/**
 * vmax and km from y (km + x) = vmax x, linear in both (least squares of
 * vmax x - km y against x y); where that gives no positive km, vmax from the
 * largest rate and km where the rate is half of it.
 */
function guess(d: GuessData): Record<string, number> {
  const { xs, ys } = d;
  const c = lstsq([xs, ys.map((v) => -v)], xs.map((x, i) => x * ys[i]));
  if (c && c[1] > 0 && Number.isFinite(c[0])) return { vmax: c[0], km: c[1] };
  let big = 0;
  for (const v of ys) if (Math.abs(v) > Math.abs(big)) big = v;
  const vmax = 1.2 * big;
  return { vmax, km: levelCrossing(xs, ys.map((v) => v / vmax), 0.5) };
}

const SPEC: LeafSpec = {
  name: "michaelisMenten",
  params: ["vmax", "km"],
  expression: "vmax * x / (km + x)",
  hints: { km: { min: 0 } },
  guess,
};

/**
 * The Michaelis-Menten rate `vmax * x / (km + x)` of substrate
 * concentration x, with `km >= 0` the concentration at half the maximum
 * rate `vmax`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "@nlsq/nlsq";
 * const x = [0.5, 1, 2, 4, 8, 16];
 * const g = models.michaelisMenten().guess(x, x.map((s) => 10 * s / (3 + s)));
 * assert.ok(Math.abs(g.vmax - 10) < 1e-9 && Math.abs(g.km - 3) < 1e-9);
 * ```
 */
export function michaelisMenten(options?: ModelFactoryOptions): BuiltinModel {
  return createLeaf(
    SPEC,
    checkFactoryOptions(options, ["prefix"], "models.michaelisMenten"),
  );
}
