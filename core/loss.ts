/**
 * Robust loss functions with scipy's `least_squares` semantics.
 *
 * With `z = (f / fScale)^2`, the cost is `0.5 * fScale^2 * sum(rho(z))`, and
 * the Jacobian and residuals are rescaled as in scipy's
 * `scale_for_robust_loss_function`, so the solver sees an ordinary
 * least-squares linearization.
 *
 * @module
 */

import { EPS } from "./_constants.ts";
import type { WorkerPart } from "./_worker_source.ts";

/**
 * The loss names accepted by `fit`, `curveFit` and `leastSquares`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual([...LOSS_NAMES], ["linear", "soft_l1", "huber", "cauchy", "arctan"]);
 * ```
 */
export const LOSS_NAMES = [
  "linear",
  "soft_l1",
  "huber",
  "cauchy",
  "arctan",
] as const;

/**
 * A loss name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LOSS_NAMES } from "@nlsq/nlsq";
 * import type { LossName } from "@nlsq/nlsq";
 * const loss: LossName = "soft_l1";
 * assert.ok(LOSS_NAMES.includes(loss));
 * ```
 */
export type LossName = typeof LOSS_NAMES[number];

/**
 * Validates a loss name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(validateLoss("huber"), "huber");
 * assert.throws(() => validateLoss("l2"), TypeError);
 * ```
 */
export function validateLoss(loss: unknown): LossName {
  if (loss === undefined) return "linear";
  if (typeof loss !== "string" || !LOSS_NAMES.includes(loss as LossName)) {
    throw new TypeError(
      `loss: unknown loss ${JSON.stringify(loss)}; expected one of ${
        LOSS_NAMES.join(", ")
      }`,
    );
  }
  return loss as LossName;
}

/**
 * `rho(z)` and its first two derivatives for one loss at `z >= 0`, written
 * into `out[0..2]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const out = new Float64Array(3);
 * lossRho("soft_l1", 3, out);
 * assert.deepStrictEqual(Array.from(out), [2, 0.5, -0.0625]);
 * ```
 */
export function lossRho(loss: LossName, z: number, out: Float64Array): void {
  switch (loss) {
    case "linear":
      out[0] = z;
      out[1] = 1;
      out[2] = 0;
      return;
    case "huber":
      if (z <= 1) {
        out[0] = z;
        out[1] = 1;
        out[2] = 0;
      } else {
        const s = Math.sqrt(z);
        out[0] = 2 * s - 1;
        out[1] = 1 / s;
        out[2] = -0.5 / (z * s);
      }
      return;
    case "soft_l1": {
      const t = 1 + z;
      const s = Math.sqrt(t);
      out[0] = 2 * (s - 1);
      out[1] = 1 / s;
      out[2] = -0.5 / (t * s);
      return;
    }
    case "cauchy": {
      const t = 1 + z;
      out[0] = Math.log1p(z);
      out[1] = 1 / t;
      out[2] = -1 / (t * t);
      return;
    }
    case "arctan": {
      const t = 1 + z * z;
      out[0] = Math.atan(z);
      out[1] = 1 / t;
      out[2] = -2 * z / (t * t);
      return;
    }
    default: {
      // A loss added to LOSS_NAMES without a case here is a compile error.
      const never: never = loss;
      throw new TypeError(`loss: unknown loss ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Applies a robust loss to a block in place (layout of `BlockKernel`: columns
 * `0..p-1` hold J, column `p` holds f) and returns the block's cost
 * `0.5 * fScale^2 * sum(rho(z))`. Residuals and Jacobian rows are rescaled
 * like scipy's `scale_for_robust_loss_function`. With `withJac` false only
 * the cost is computed.
 */
export function applyLossToBlock(
  loss: LossName,
  fScale: number,
  B: Float64Array,
  ld: number,
  nRows: number,
  p: number,
  withJac: boolean,
): number {
  const rho = new Float64Array(3);
  const fs2 = fScale * fScale;
  const fo = p * ld;
  let cost = 0;
  for (let i = 0; i < nRows; i++) {
    const f = B[fo + i];
    const z = (f * f) / fs2;
    lossRho(loss, z, rho);
    cost += rho[0];
    if (!withJac) continue;
    // scipy: rho[2] /= fScale^2, J_scale = rho1 + 2 rho2 f^2, clipped at EPS.
    let js = rho[1] + 2 * (rho[2] / fs2) * f * f;
    if (js < EPS) js = EPS;
    js = Math.sqrt(js);
    B[fo + i] = f * rho[1] / js;
    for (let k = 0; k < p; k++) B[k * ld + i] *= js;
  }
  return 0.5 * fs2 * cost;
}

/**
 * What worker threads need of this module: the functions they call and
 * every module-level name those read. A helper that `lossRho` or
 * `applyLossToBlock` starts to use belongs here too (the worker-source test
 * runs every loss through this list in an empty scope).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { workerSource } from "./_worker_source.ts";
 * const { lossRho } = new Function(
 *   `${workerSource([LOSS_WORKER_PART])}\nreturn { lossRho };`,
 * )();
 * const out = new Float64Array(3);
 * lossRho("huber", 4, out);
 * assert.deepStrictEqual(Array.from(out), [3, 0.5, -0.0625]);
 * ```
 */
export const LOSS_WORKER_PART: WorkerPart = {
  constants: { EPS },
  functions: [lossRho, applyLossToBlock],
};
