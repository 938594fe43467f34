/**
 * The p-sized summary of the data that the solver works on (docs/architecture.md §2).
 *
 * A strategy (standard, chunked, streaming, distributed) turns "the data" at a
 * parameter vector θ into a {@linkcode Linearization}; the solver never sees
 * the data. Every quantity here already has sigma and the robust loss applied
 * (scipy's `scale_for_robust_loss_function`).
 *
 * @module
 */

/**
 * QR form: `R` is the p x p upper-triangular factor of the (weighted,
 * loss-scaled) Jacobian J, row-major, and `qtf = Q^T f` (first p components),
 * so `J^T J = R^T R` and `J^T f = R^T qtf`. This keeps QR-level accuracy.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { QrLinearization } from "@nlsq/nlsq/strategies";
 * const lin: QrLinearization = {
 *   form: "qr", cost: 0.5, r: new Float64Array([1]), qtf: new Float64Array([1]),
 *   nResiduals: 1,
 * } as QrLinearization;
 * assert.strictEqual(lin.form, "qr");
 * ```
 */
export interface QrLinearization {
  /** Discriminant: the QR form. */
  readonly form: "qr";
  /** 0.5 * sum(rho(f_i^2)), the robust cost. */
  readonly cost: number;
  /** p x p upper-triangular, row-major. */
  readonly r: Float64Array;
  /** Q^T f, length p. */
  readonly qtf: Float64Array;
  /** Number of residuals that went into it. */
  readonly nResiduals: number;
}

/**
 * Normal form: `jtj = J^T J` (p x p, full symmetric, row-major) and
 * `jtf = J^T f`. Cheaper to reduce across GPU workgroups or MPI ranks; the
 * solver converts it with column scaling.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { NormalLinearization } from "@nlsq/nlsq/strategies";
 * const lin: NormalLinearization = {
 *   form: "normal", cost: 0.5, jtj: new Float64Array([1]), jtf: new Float64Array([1]),
 *   nResiduals: 1,
 * } as NormalLinearization;
 * assert.strictEqual(lin.form, "normal");
 * ```
 */
export interface NormalLinearization {
  /** Discriminant: the normal-equations form. */
  readonly form: "normal";
  /** 0.5 * sum(rho(f_i^2)), the robust cost. */
  readonly cost: number;
  /** p x p symmetric, row-major. */
  readonly jtj: Float64Array;
  /** J^T f, length p. */
  readonly jtf: Float64Array;
  /** Number of residuals that went into it. */
  readonly nResiduals: number;
}

/**
 * Either form of linearization.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "./dense_evaluator.ts";
 * import type { Linearization } from "@nlsq/nlsq/strategies";
 * const ev = createDenseEvaluator((p) => [p[0] - 1, p[0] + 1], 2, 1);
 * const [e] = await ev.evaluate([new Float64Array([0])], [true]);
 * const lin: Linearization = e.lin!;
 * assert.ok(lin.form === "qr" || lin.form === "normal");
 * ```
 */
export type Linearization = QrLinearization | NormalLinearization;

/**
 * What the solver gets back for one parameter vector: the cost always, and the
 * linearization when it was asked for. A non-finite cost marks a point where
 * the model or the loss produced NaN or Infinity (the solver rejects the step).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "./dense_evaluator.ts";
 * import type { Evaluation } from "@nlsq/nlsq/strategies";
 * const ev = createDenseEvaluator((p) => [p[0] - 1, p[0] + 1], 2, 1);
 * const [e]: Evaluation[] = await ev.evaluate([new Float64Array([0])], [false]);
 * assert.strictEqual(e.cost, 1);
 * ```
 */
export interface Evaluation {
  /** 0.5 * sum(rho(f_i^2)); NaN or Infinity if any residual is not finite. */
  readonly cost: number;
  /** Present when the Jacobian was requested and the cost is finite. */
  readonly lin?: Linearization;
}

/**
 * A problem as the solver sees it: something that evaluates the cost, and on
 * request the linearization, at parameter vectors. Strategies implement it.
 * `evaluate` takes several points so a backend can batch trial steps into one
 * pass over the data (one GPU submission, one read of a file).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createDenseEvaluator } from "./dense_evaluator.ts";
 * import type { Evaluator } from "@nlsq/nlsq/strategies";
 * const ev: Evaluator = createDenseEvaluator((p) => [p[0] - 1, p[0] + 1], 2, 1);
 * assert.strictEqual(ev.nParams, 1);
 * assert.strictEqual(ev.nResiduals, 2);
 * ```
 */
export interface Evaluator {
  /** Number of parameters p. */
  readonly nParams: number;
  /** Number of residuals m (after any dropped points). */
  readonly nResiduals: number;
  /**
   * Evaluate at each of `thetas`; `withJacobian[i]` says whether point i needs
   * the linearization too.
   */
  evaluate(
    thetas: readonly Float64Array[],
    withJacobian: readonly boolean[],
  ): Promise<Evaluation[]>;
}
