/**
 * Scaling of problems of extreme magnitude, residuals and parameters.
 *
 * Residuals: data near 1e±160 overflow the sum of squares and data near
 * 1e-200 underflow it (see `core/_residual_scale.ts`); the residuals are
 * scaled by a power of two through the weights, and costs reported unscaled.
 *
 * Parameters of extreme magnitude: a Jacobian column
 * near 1e±200 (an amplitude of 1e-200 beside a rate of order one, in data
 * whose residuals were scaled to order one) overflows the products of the
 * QR merge and of the solver's SVD. Fitting `phi_k = theta_k / s_k` with a
 * power of two `s_k` that brings the column to order one changes no
 * rounding in the model and keeps derivatives exact (the substitution is
 * made in the AST before differentiation). Columns inside the window below
 * keep `s_k = 1`, so ordinary fits are bit for bit unchanged.
 *
 * @module
 */

import type { Model } from "../../model/types.ts";
import type { InMemoryData, StrategyData } from "../../strategies/strategy.ts";
import type { ResolvedSolverOptions } from "../../core/_validate.ts";
import { EPS } from "../../core/_constants.ts";
import {
  representableInF32,
  residualScale,
} from "../../core/_residual_scale.ts";
import { scaleWeights } from "../../core/weights.ts";
import type { FitCall } from "./_call.ts";
import type { FitData } from "./_input.ts";
import { modelFromAst } from "../../model/model.ts";
import { substituteParams } from "../../model/_substitute.ts";

/** The block parameterScale reads the sample's Jacobian into. */
let sampleBlock = new Float64Array(0);

/** Jacobian columns with largest entry in [2^-64, 2^64] are left alone. */
const WINDOW = 64;
/** Rows of the sample the column magnitudes are read from. */
const SAMPLE_ROWS = 256;

/**
 * The scale `s` of each parameter (powers of two), or null when every
 * Jacobian column of the (weighted) data at `p0` is of ordinary magnitude or
 * the model is not an expression. Reads at most 256 evenly spread rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = model("a * x");
 * const x = new Float64Array([1, 2, 3]);
 * // Data near 1e-200 fitted with residuals scaled by 2^664 (as fit() does):
 * // d f / d a = x becomes a column near 1e200.
 * const w = new Float64Array(3).fill(2 ** 664);
 * const data = { kind: "memory" as const, x: [x], y: x.map((v) => v * 1e-200), w };
 * const s = parameterScale(m, data, new Float64Array([1e-200]))!;
 * assert.ok(s[0] < 1e-150);
 * assert.strictEqual(parameterScale(m, { ...data, w: null }, new Float64Array([1])), null);
 * ```
 */
export function parameterScale(
  m: Model,
  data: InMemoryData,
  p0: Float64Array,
): Float64Array | null {
  if (!m.ast) return null;
  const n = data.y.length, p = p0.length;
  const ns = Math.min(n, SAMPLE_ROWS);
  if (ns === 0) return null;
  let X = data.x, y = data.y, w = data.w;
  if (ns < n) {
    // Evenly spread rows (small problems use all of theirs, uncopied).
    const pick = (a: Float64Array) => {
      const out = new Float64Array(ns);
      for (let i = 0; i < ns; i++) out[i] = a[Math.floor(i * n / ns)];
      return out;
    };
    X = data.x.map(pick);
    y = pick(data.y);
    w = data.w ? pick(data.w) : null;
  }
  // Scratch shared by every call (the kernel runs synchronously).
  if (sampleBlock.length < ns * (p + 1)) {
    sampleBlock = new Float64Array(ns * (p + 1));
  }
  const B = sampleBlock;
  m.kernel(X, y, w, p0, 0, ns, B, ns, true);
  let s: Float64Array | null = null;
  for (let k = 0; k < p; k++) {
    let big = 0;
    for (let i = 0; i < ns; i++) {
      const a = Math.abs(B[k * ns + i]);
      if (a > big && a !== Infinity) big = a;
    }
    if (big === 0) continue;
    const e = Math.round(Math.log2(big));
    if (Math.abs(e) <= WINDOW) continue;
    s ??= new Float64Array(p).fill(1);
    s[k] = 2 ** Math.max(-1022, Math.min(1023, -e));
  }
  return s;
}

/**
 * The model in scaled parameters: parameter `k` of the result is
 * `theta_k / s[k]`, substituted into the AST before differentiation.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * const m = scaleModelParameters(model("a * x"), new Float64Array([2 ** -100]));
 * const v = m.evaluate([new Float64Array([3])], [2 ** 100]);
 * assert.strictEqual(v[0], 3);
 * ```
 */
export function scaleModelParameters(m: Model, s: Float64Array): Model {
  if (!m.ast) throw new TypeError("only expression models can be scaled");
  const ast = substituteParams(m.ast, (k) =>
    s[k] === 1 ? null : {
      kind: "bin",
      op: "*",
      left: { kind: "num", value: s[k] },
      right: { kind: "param", index: k },
    });
  return modelFromAst(ast, m.params, m.variables, m.expression ?? "");
}

/** The scaling of one fit, and the maps between its variables. */
export interface ProblemScale {
  /** Residual scale c (a power of two; 1 for ordinary data). */
  readonly residual: number;
  /** Parameter scales s (theta = s * phi), or null. */
  readonly params: Float64Array | null;
  /** The model in the solver's variables phi. */
  readonly model: Model;
  /** The data with scaled weights (and 2-D sigma factor). */
  readonly data: FitData;
  /** Solver options in the solver's variables. */
  readonly solver: ResolvedSolverOptions;
  /** The data or the model's scale literals need double precision. */
  readonly needsF64: boolean;
  /** Caller's variables to the solver's. */
  toPhi(theta: Float64Array): Float64Array;
  /** Solver's variables to the caller's. */
  toTheta(phi: Float64Array): Float64Array;
  /** A cost of the scaled problem as the caller's. */
  unscaleCost(cost: number): number;
  /** The rounding level of the scaled cost (computed on first use). */
  costFloor(): number;
}

/**
 * Scales residuals and parameters of a fit where their magnitude needs it
 * (an identity scaling otherwise), from the data and the start `p0`.
 */
export function scaleProblem(
  call: FitCall,
  input: FitData,
  so: ResolvedSolverOptions,
  p0: Float64Array,
  notes: string[],
): ProblemScale {
  let fd = input;
  let c = 1;
  if (fd.data.kind === "memory") {
    const { y, w } = fd.data;
    c = residualScale(
      y,
      w ??
        (fd.sigmaChol ? choleskyDiagonalWeights(fd.sigmaChol, y.length) : null),
    );
    if (c !== 1) {
      fd = {
        ...fd,
        data: { ...fd.data, w: scaleWeights(w, c, y.length) },
        sigmaChol: fd.sigmaChol?.map((v) => v / c) ?? null,
      };
      notes.push(
        `residuals scaled by 2^${Math.log2(c)} (data of extreme magnitude)`,
      );
    }
  }
  const data = fd.data;
  const s = data.kind === "memory"
    ? parameterScale(call.model, data, p0)
    : null;
  if (s) notes.push("parameters of extreme magnitude solved for scaled");
  const toPhi = (t: Float64Array) => s ? t.map((v, i) => v / s[i]) : t;
  const toTheta = (t: Float64Array) => s ? t.map((v, i) => v * s[i]) : t;
  return {
    residual: c,
    params: s,
    model: s ? scaleModelParameters(call.model, s) : call.model,
    data: fd,
    solver: s
      ? {
        ...so,
        lower: toPhi(so.lower),
        upper: toPhi(so.upper),
        // A given xScale is in the caller's variables; the default of ones
        // (no scaling) stays ones.
        xScale: so.xScale === "jac" || call.options.xScale === undefined
          ? so.xScale
          : toPhi(so.xScale),
      }
      : so,
    needsF64: s !== null ||
      (c !== 1 && data.kind === "memory" &&
        !representableInF32([...data.x, data.y, data.w])),
    toPhi,
    toTheta,
    unscaleCost: (cost) => cost / c / c,
    costFloor: lazyCostFloor(data, fd.sigmaChol),
  };
}

/**
 * The rounding level of the (weighted, possibly scaled) cost,
 * `eps * 0.5 * sum((w y)^2)`: cost differences below it are noise. Computed
 * on first use (a pass over y); 0 for data not in memory.
 */
function lazyCostFloor(
  data: StrategyData,
  sigmaChol: Float64Array | null,
): () => number {
  let floor: number | null = null;
  return () => {
    if (floor !== null) return floor;
    if (data.kind !== "memory") return floor = 0;
    const { y } = data;
    const w = data.w ??
      (sigmaChol ? choleskyDiagonalWeights(sigmaChol, y.length) : null);
    let sum = 0;
    for (let i = 0; i < y.length; i++) {
      const v = w ? w[i] * y[i] : y[i];
      sum += v * v;
    }
    return floor = EPS * 0.5 * sum;
  };
}

/** 1 / diag(L) of the Cholesky factor of a 2-D sigma (n x n, row-major). */
function choleskyDiagonalWeights(L: Float64Array, n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 1 / L[i * n + i];
  return w;
}
