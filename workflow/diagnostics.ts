/**
 * What a fit's Jacobian says about its parameters (NLSQ's identifiability
 * report): the condition number and numerical rank of the column-scaled
 * Jacobian at the solution, the directions the data cannot determine
 * (named by their dominant parameters), strongly correlated pairs,
 * parameters at a bound, and plain-language warnings.
 *
 * @module
 */

import { svd } from "../core/linalg.ts";
import { scaledFactor } from "../core/_factor.ts";
import { EPS } from "../core/_constants.ts";
import { NEAR_NULL } from "../core/_null_space_probe.ts";
import { correlationMatrix, strongCorrelations } from "./correlation.ts";
import type { ParamSetting } from "./fit/_params.ts";

/** |correlation| above which a pair of parameters gets a warning. */
export const STRONG_CORRELATION = 0.95;
/**
 * Condition of the column-scaled Jacobian above which the fit is called
 * ill-conditioned (NLSQ's practical unidentifiability; its threshold of
 * 1e12 on J^T J). Column scaling keeps parameters of different units
 * from counting.
 */
export const ILL_CONDITIONED = 1e6;

/**
 * A square factor of the weighted Jacobian over the free parameters at the
 * solution, as the solver left it: `f^T f = J^T J` (q x q, row-major), with
 * J's column norms. The solver's own scaling of residuals and parameters
 * does not change the column-scaled Jacobian, so neither its condition nor
 * its near-null directions.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { JacobianFactor } from "@nlsq/nlsq/workflow";
 * const j: JacobianFactor = { f: new Float64Array([2, 0, 0, 1]), colNorms: new Float64Array([2, 1]) };
 * assert.strictEqual(j.f.length, j.colNorms.length ** 2);
 * ```
 */
export interface JacobianFactor {
  readonly f: Float64Array;
  readonly colNorms: Float64Array;
}

/**
 * A direction in the free parameters along which the fit barely changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { UndeterminedDirection } from "@nlsq/nlsq/workflow";
 * const d: UndeterminedDirection = { names: ["a", "b"], weights: [0.71, -0.71], singularValue: 1e-12 };
 * assert.strictEqual(d.names.length, d.weights.length);
 * ```
 */
export interface UndeterminedDirection {
  /** Its dominant parameters (together at least 90% of its squared length). */
  readonly names: readonly string[];
  /** Their components in the direction (in column-scaled units). */
  readonly weights: readonly number[];
  /** Its singular value relative to the largest. */
  readonly singularValue: number;
}

/**
 * The diagnostics of a fit (`r.diagnostics`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import type { FitDiagnostics } from "@nlsq/nlsq/workflow";
 * const x = [0, 1, 2, 3, 4, 5];
 * // b and c enter only as b + c: the data cannot tell them apart.
 * const r = await fit("a * x + b + c", x, x.map((t) => 2 * t + 1), { p0: [1, 0, 0] });
 * const d: FitDiagnostics = r.diagnostics;
 * assert.strictEqual(d.rank, 2);
 * assert.deepStrictEqual(d.undetermined[0].names, ["b", "c"]);
 * assert.ok(d.warnings.some((w) => w.includes("cannot determine")));
 * ```
 */
export interface FitDiagnostics {
  /**
   * Whether the Jacobian at the solution was at hand (false: a result
   * built without one; `conditionNumber`, `rank`, `singularValues` and
   * `undetermined` are then NaN and empty).
   */
  readonly hasJacobian: boolean;
  /** The free parameters, the Jacobian's columns. */
  readonly freeNames: readonly string[];
  /** Condition number of the column-scaled Jacobian (Infinity: singular). */
  readonly conditionNumber: number;
  /** Its numerical rank (singular values above eps * max(n, q) * the largest). */
  readonly rank: number;
  /** Its singular values, relative to the largest, decreasing. */
  readonly singularValues: readonly number[];
  /** Correlation matrix of every parameter, model order (NaN: fixed). */
  readonly correlation: readonly (readonly number[])[];
  /** Pairs of free parameters with |correlation| > 0.95, strongest first. */
  readonly strongCorrelations: readonly {
    readonly a: string;
    readonly b: string;
    readonly value: number;
  }[];
  /** Parameters at a bound. */
  readonly atBounds: readonly {
    readonly name: string;
    readonly side: "lower" | "upper";
    readonly bound: number;
  }[];
  /** Near-null directions (singular value below sqrt(eps) of the largest). */
  readonly undetermined: readonly UndeterminedDirection[];
  /** One sentence per finding. */
  readonly warnings: readonly string[];
}

/** What {@linkcode fitDiagnostics} reads of a result. */
export interface DiagnosticsInputs {
  readonly names: readonly string[];
  readonly settings: readonly ParamSetting[];
  readonly pcov: readonly (readonly number[])[];
  /** Model order: -1 at the lower bound, 1 at the upper, 0 inside. */
  readonly activeMask: ArrayLike<number>;
  readonly nPoints: number;
  readonly factor: JacobianFactor | null;
}

/**
 * The diagnostics of a fit from its Jacobian factor (or without one) and
 * its covariance.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fitDiagnostics } from "./diagnostics.ts";
 * const d = fitDiagnostics({
 *   names: ["a", "b"],
 *   settings: [{ vary: true, min: 0, max: Infinity }, { vary: true, min: -Infinity, max: Infinity }],
 *   pcov: [[1, 0.99], [0.99, 1]],
 *   activeMask: [-1, 0],
 *   nPoints: 10,
 *   factor: null,
 * });
 * assert.deepStrictEqual(d.atBounds, [{ name: "a", side: "lower", bound: 0 }]);
 * assert.strictEqual(d.strongCorrelations.length, 1);
 * assert.strictEqual(d.warnings.length, 2);
 * ```
 */
export function fitDiagnostics(inp: DiagnosticsInputs): FitDiagnostics {
  const { names, settings } = inp;
  const free = names.flatMap((_, k) => (settings[k].vary ? [k] : []));
  const freeNames = free.map((k) => names[k]);
  const atBounds = names.flatMap((name, k) => {
    const a = inp.activeMask[k];
    if (!a) return [];
    const side = a < 0 ? "lower" as const : "upper" as const;
    return [{ name, side, bound: a < 0 ? settings[k].min : settings[k].max }];
  });
  const strong = strongCorrelations(
    names,
    inp.pcov,
    STRONG_CORRELATION,
    (k) => settings[k].vary,
  );
  const spectrum = inp.factor
    ? scaledSpectrum(inp.factor, freeNames, inp.nPoints)
    : null;
  const d = {
    hasJacobian: inp.factor !== null,
    freeNames,
    conditionNumber: spectrum?.condition ?? NaN,
    rank: spectrum?.rank ?? NaN,
    singularValues: spectrum?.relative ?? [],
    correlation: correlationMatrix(inp.pcov),
    strongCorrelations: strong,
    atBounds,
    undetermined: spectrum?.undetermined ?? [],
  };
  const warnings = [
    ...atBounds.map((b) =>
      `'${b.name}' is at its ${b.side} bound (${b.bound}): the bound, not the data, sets its value, and its standard error means little`
    ),
    ...identifiabilityWarnings(d),
  ];
  return { ...d, warnings };
}

/**
 * The warnings on what the data cannot determine: strongly correlated
 * pairs, a rank-deficient Jacobian, near-null directions (the report's
 * notes; a parameter at a bound is noted by the fit itself).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { identifiabilityWarnings } from "./diagnostics.ts";
 * const w = identifiabilityWarnings({
 *   freeNames: ["a", "b"], rank: 1, conditionNumber: Infinity,
 *   strongCorrelations: [{ a: "a", b: "b", value: -0.99 }],
 *   undetermined: [{ names: ["b"], weights: [1], singularValue: 0 }],
 * });
 * assert.strictEqual(w.length, 3);
 * assert.match(w[2], /cannot determine 'b'/);
 * ```
 */
export function identifiabilityWarnings(
  d: Pick<
    FitDiagnostics,
    | "freeNames"
    | "rank"
    | "strongCorrelations"
    | "undetermined"
    | "conditionNumber"
  >,
): string[] {
  const q = d.freeNames.length;
  const out = d.strongCorrelations.map((c) =>
    `'${c.a}' and '${c.b}' are strongly correlated (r = ${
      c.value.toFixed(4)
    }): the data determine mainly a combination of them`
  );
  if (d.rank < q) {
    const k = q - d.rank;
    out.push(
      `the column-scaled Jacobian has numerical rank ${d.rank} of ${q}: ${k} combination${
        k === 1 ? "" : "s"
      } of the free parameters ${
        k === 1 ? "is" : "are"
      } not determined by the data`,
    );
  }
  if (
    d.rank === q && d.undetermined.length === 0 &&
    d.conditionNumber > ILL_CONDITIONED
  ) {
    out.push(
      `the column-scaled Jacobian is ill-conditioned (condition number ${
        d.conditionNumber.toExponential(1)
      }): some combination of the parameters is poorly determined by the data`,
    );
  }
  for (const u of d.undetermined) {
    const what = u.names.length === 1
      ? `'${u.names[0]}'`
      : `a combination of ${
        u.names.map((nm, i) =>
          `'${nm}' (${u.weights[i] >= 0 ? "+" : ""}${u.weights[i].toFixed(2)})`
        ).join(", ")
      }`;
    out.push(
      `the data cannot determine ${what}: the fit barely changes along it (singular value ${
        u.singularValue.toExponential(1)
      } of the largest, column-scaled Jacobian)`,
    );
  }
  return out;
}

interface Spectrum {
  condition: number;
  rank: number;
  relative: number[];
  undetermined: UndeterminedDirection[];
}

/** Singular values and near-null directions of the column-scaled Jacobian. */
function scaledSpectrum(
  factor: JacobianFactor,
  names: readonly string[],
  n: number,
): Spectrum {
  const q = factor.colNorms.length;
  const { s, v } = svd(scaledFactor(factor.f, factor.colNorms, q), q, q);
  const top = s[0];
  const tol = EPS * Math.max(n, q) * top;
  let rank = 0;
  for (let k = 0; k < q; k++) if (s[k] > tol) rank++;
  const relative = Array.from(s, (t) => (top > 0 ? t / top : NaN));
  const undetermined: UndeterminedDirection[] = [];
  for (let k = 0; k < q; k++) {
    if (!(top > 0) || s[k] >= NEAR_NULL * top) continue;
    const comp = names.map((_, i) => v[i * q + k]);
    // The sign that makes the largest component positive.
    const big = comp.reduce((a, c) => (Math.abs(c) > Math.abs(a) ? c : a), 0);
    const sign = big < 0 ? -1 : 1;
    const order = comp.map((_, i) => i).sort((a, b) =>
      Math.abs(comp[b]) - Math.abs(comp[a])
    );
    const picked: number[] = [];
    let mass = 0;
    for (const i of order) {
      picked.push(i);
      mass += comp[i] * comp[i];
      if (mass >= 0.9) break;
    }
    picked.sort((a, b) => a - b);
    undetermined.push({
      names: picked.map((i) => names[i]),
      weights: picked.map((i) => sign * comp[i]),
      singularValue: relative[k],
    });
  }
  return {
    condition: s[q - 1] > 0 ? top / s[q - 1] : Infinity,
    rank,
    relative,
    undetermined,
  };
}
