/**
 * An evaluator for a general residual function (scipy's `least_squares`
 * interface): the full residual vector and Jacobian are formed in memory and
 * reduced to the QR linearization.
 *
 * @module
 */

import type { Evaluation, Evaluator } from "./linearization.ts";
import { householderMergeRows } from "./linalg.ts";
import { applyLossToBlock, type LossName } from "./loss.ts";
import { qrFromAugmented } from "./_linearization_forms.ts";
import { finiteDifferenceJacobian } from "./_finite_diff.ts";

/**
 * A residual function: parameters -> residual vector.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ResidualFunction } from "@nlsq/nlsq";
 * const fun: ResidualFunction = (p) => [p[0] - 1, p[0] + 1];
 * assert.deepStrictEqual(Array.from(fun(new Float64Array([0]))), [-1, 1]);
 * ```
 */
export type ResidualFunction = (x: Float64Array) => ArrayLike<number>;

/**
 * A Jacobian function: parameters -> m x n matrix (rows or row-major flat).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leastSquares } from "@nlsq/nlsq";
 * import type { JacobianFunction } from "@nlsq/nlsq";
 * const jac: JacobianFunction = (_p) => [[1], [1]];
 * const r = await leastSquares((p) => [p[0] - 1, p[0] + 1], [5], { jac });
 * assert.ok(Math.abs(r.x[0]) < 1e-8);
 * ```
 */
export type JacobianFunction = (
  x: Float64Array,
) => ArrayLike<ArrayLike<number>> | ArrayLike<number>;

/** Options of {@linkcode createDenseEvaluator}. */
export interface DenseEvaluatorOptions {
  readonly jac?: JacobianFunction | "2-point" | "3-point";
  readonly loss?: LossName;
  readonly fScale?: number;
  readonly lower?: Float64Array;
  readonly upper?: Float64Array;
}

/** Calls fun and checks the result's length. */
function callFun(
  fun: ResidualFunction,
  x: Float64Array,
  m: number,
): Float64Array {
  const f = Float64Array.from(fun(Float64Array.from(x)));
  if (f.length !== m) {
    throw new RangeError(
      `the residual function returned ${f.length} values, expected ${m}`,
    );
  }
  return f;
}

function toRowMajor(
  J: ArrayLike<ArrayLike<number>> | ArrayLike<number>,
  m: number,
  n: number,
): Float64Array {
  const out = new Float64Array(m * n);
  if (J.length === m && typeof J[0] === "object") {
    const rows = J as ArrayLike<ArrayLike<number>>;
    for (let i = 0; i < m; i++) {
      if (rows[i].length !== n) {
        throw new RangeError(
          `jac row ${i} has length ${rows[i].length}, expected ${n}`,
        );
      }
      for (let j = 0; j < n; j++) out[i * n + j] = rows[i][j];
    }
  } else if (J.length === m * n) out.set(J as ArrayLike<number>);
  else throw new RangeError(`jac must be ${m} x ${n}`);
  return out;
}

/**
 * Creates an evaluator for `fun` with `m` residuals and `n` parameters. It
 * also keeps the last residual vector and Jacobian it computed (`last`), for
 * the result object.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const ev = createDenseEvaluator((p) => [p[0] - 1, p[0] + 1], 2, 1);
 * const [e] = await ev.evaluate([new Float64Array([0])], [true]);
 * assert.strictEqual(e.cost, 1);
 * ```
 */
export function createDenseEvaluator(
  fun: ResidualFunction,
  m: number,
  n: number,
  options: DenseEvaluatorOptions = {},
): Evaluator & { last(x: Float64Array): { f: Float64Array; J: Float64Array } } {
  const loss = options.loss ?? "linear";
  const fScale = options.fScale ?? 1;
  const jac = options.jac ?? "2-point";
  const jacobian = (x: Float64Array, f: Float64Array) =>
    typeof jac === "function"
      ? toRowMajor(jac(Float64Array.from(x)), m, n)
      : finiteDifferenceJacobian(
        (t) => callFun(fun, t, m),
        x,
        f,
        jac,
        options.lower,
        options.upper,
      );
  const evalOne = (x: Float64Array, withJac: boolean): Evaluation => {
    const f = callFun(fun, x, m);
    const c = n + 1;
    const B = new Float64Array(m * c);
    for (let i = 0; i < m; i++) B[n * m + i] = f[i];
    let finite = true;
    for (let i = 0; i < m; i++) if (!Number.isFinite(f[i])) finite = false;
    if (!finite) return { cost: NaN };
    if (withJac) {
      const J = jacobian(x, f);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) B[j * m + i] = J[i * n + j];
      }
    }
    let cost: number;
    if (loss === "linear") {
      let s = 0;
      for (let i = 0; i < m; i++) s += f[i] * f[i];
      cost = 0.5 * s;
    } else cost = applyLossToBlock(loss, fScale, B, m, m, n, withJac);
    if (!withJac) return { cost };
    const aug = new Float64Array(c * c);
    householderMergeRows(aug, B, m, m, c);
    return { cost, lin: qrFromAugmented(aug, n, cost, m) };
  };
  return {
    nParams: n,
    nResiduals: m,
    evaluate(thetas, withJacobian) {
      try {
        return Promise.resolve(
          thetas.map((t, i) => evalOne(t, withJacobian[i])),
        );
      } catch (e) {
        return Promise.reject(e);
      }
    },
    last(x: Float64Array) {
      const f = callFun(fun, x, m);
      return { f, J: jacobian(x, f) };
    },
  };
}
