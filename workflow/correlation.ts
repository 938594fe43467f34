/**
 * Correlations of fitted parameters from their covariance.
 *
 * @module
 */

/**
 * The correlation matrix of a covariance matrix: `pcov[i][j] /
 * sqrt(pcov[i][i] pcov[j][j])` (NaN where a variance is 0 or infinite),
 * 1 on the diagonal.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { correlationMatrix } from "./correlation.ts";
 * const c = correlationMatrix([[4, 1], [1, 1]]);
 * assert.deepStrictEqual(c, [[1, 0.5], [0.5, 1]]);
 * ```
 */
export function correlationMatrix(
  pcov: readonly (readonly number[])[],
): number[][] {
  const d = pcov.map((row, i) => Math.sqrt(row[i]));
  return pcov.map((row, i) =>
    row.map((v, j) => {
      const s = d[i] * d[j];
      if (!(Number.isFinite(s) && s > 0)) return NaN;
      return i === j ? 1 : v / s; // sqrt(v)^2 need not give v back exactly
    })
  );
}

/**
 * Parameter pairs whose |correlation| exceeds `min`, strongest first;
 * `include` (default: all) says which parameters take part.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { strongCorrelations } from "./correlation.ts";
 * const pcov = [[1, 2, 0], [2, 9, 0], [0, 0, 1]];
 * const pairs = strongCorrelations(["a", "b", "c"], pcov, 0.1);
 * assert.deepStrictEqual(pairs.map((p) => [p.a, p.b]), [["a", "b"]]);
 * assert.ok(Math.abs(pairs[0].value - 2 / 3) < 1e-15);
 * ```
 */
export function strongCorrelations(
  names: readonly string[],
  pcov: readonly (readonly number[])[],
  min = 0.1,
  include: (i: number) => boolean = () => true,
): { a: string; b: string; value: number }[] {
  const c = correlationMatrix(pcov);
  const out: { a: string; b: string; value: number }[] = [];
  for (let i = 0; i < names.length; i++) {
    if (!include(i)) continue;
    for (let j = i + 1; j < names.length; j++) {
      if (include(j) && Math.abs(c[i][j]) > min) {
        out.push({ a: names[i], b: names[j], value: c[i][j] });
      }
    }
  }
  return out.sort((u, v) => Math.abs(v.value) - Math.abs(u.value));
}
