/**
 * The guess of a composite (private helper): peaks found in the data go to
 * the peak components in order of position; baselines and other components
 * are fitted to what the peaks leave.
 *
 * @module
 */

import type { BuiltinModel, GuessOptions } from "./builtin_model.ts";
import { internalsOf } from "./_internal.ts";
import type { GuessData } from "./_data.ts";
import { lstsq } from "./_linear_lsq.ts";
import { findPeaks, remeasure, robustBaseline } from "./_peaks.ts";
import type { PeakMeasurement } from "./_internal.ts";

/** Columns of the composite's x that component `m` reads. */
function columnsOf(
  m: BuiltinModel,
  d: GuessData,
  variables: readonly string[],
): Float64Array[] {
  return m.variables.map((v) => d.x[variables.indexOf(v)]);
}

/** `m` at `values` (by name; a missing one at its hint, else 1). */
function valuesOf(
  m: BuiltinModel,
  d: GuessData,
  variables: readonly string[],
  values: Record<string, number>,
): Float64Array {
  const p = m.params.map((n) =>
    Number.isFinite(values[n]) ? values[n] : m.paramHints[n]?.value ?? 1
  );
  const f = m.evaluate(columnsOf(m, d, variables), p);
  return f.map((v) => (Number.isFinite(v) ? v : 0));
}

/** v (in the caller's order) in the order of ascending x. */
function sorted(d: GuessData, v: Float64Array): Float64Array {
  return Float64Array.from(d.order, (i) => v[i]);
}

/**
 * Guesses of the operands of a sum, by full parameter name: peaks (in
 * order of position) on the data less a robust polynomial baseline, each
 * measured again with the others and a least-squares baseline removed;
 * then the other operands and the baseline on what is left (twice when
 * both kinds are present, each seeing the other's latest guess).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "../mod.ts";
 * const m = models.gaussian({ prefix: "a_" }).add(models.gaussian({ prefix: "b_" }));
 * const x = Array.from({ length: 301 }, (_, i) => i / 10);
 * const y = x.map((t) => Math.exp(-((t - 20) ** 2) / 2) + 2 * Math.exp(-((t - 8) ** 2) / 2));
 * const g = m.guess(x, y);
 * assert.ok(Math.abs(g.a_center - 8) < 0.1 && Math.abs(g.b_center - 20) < 0.1);
 * ```
 */
export function guessSum(
  operands: readonly BuiltinModel[],
  d: GuessData,
  variables: readonly string[],
  options: GuessOptions,
): Record<string, number> {
  const n = d.y.length;
  const role = (m: BuiltinModel) => internalsOf(m).role;
  const peaks = variables.length === 1
    ? operands.filter((m) => role(m) === "peak")
    : [];
  const bases = operands.filter((m) => role(m) === "baseline");
  const others = operands.filter((m) =>
    !peaks.includes(m) && !bases.includes(m)
  );
  const out: Record<string, number> = {};
  const peakSum = new Float64Array(n);
  if (peaks.length > 0) {
    guessPeaks(peaks, bases, others.length > 0, d, variables, options, out);
    for (const m of peaks) {
      valuesOf(m, d, variables, out).forEach((v, i) => (peakSum[i] += v));
    }
  }
  let baseline: Float64Array = new Float64Array(n);
  const rounds = others.length > 0 && bases.length > 0 ? 2 : 1;
  for (let round = 0; round < rounds; round++) {
    const otherSum = new Float64Array(n);
    for (const m of others) {
      const target = d.y.map((v, i) =>
        v - peakSum[i] - baseline[i] - otherSum[i]
      );
      Object.assign(out, m.guess(columnsOf(m, d, variables), target, options));
      valuesOf(m, d, variables, out).forEach((v, i) => (otherSum[i] += v));
    }
    if (bases.length > 0) {
      const target = d.y.map((v, i) => v - peakSum[i] - otherSum[i]);
      baseline = fitBaselines(bases, d, variables, target, out);
    }
  }
  return out;
}

/**
 * The peaks' guesses: found greedily on the data less a robust baseline
 * (of the baselines' degree; quadratic under other components), assigned in
 * order of position, then each measured twice more on the data less the
 * other peaks and a least-squares baseline.
 */
function guessPeaks(
  peaks: readonly BuiltinModel[],
  bases: readonly BuiltinModel[],
  hasOthers: boolean,
  d: GuessData,
  variables: readonly string[],
  options: GuessOptions,
  out: Record<string, number>,
): void {
  const n = d.y.length;
  const degree = bases.length > 0
    ? Math.max(...bases.map((m) => internalsOf(m).degree ?? 0))
    : hasOthers
    ? 2
    : -1;
  let base: Float64Array = robustBaseline(d.xs, d.ys, degree);
  const fromPeak = (m: BuiltinModel, p: PeakMeasurement) =>
    internalsOf(m).fromPeak!(p);
  // Subtract peaks of the components' shape when they all have one.
  const same = peaks.every((m) => m.name === peaks[0].name);
  const shape = same
    ? (p: PeakMeasurement) =>
      sorted(d, valuesOf(peaks[0], d, variables, fromPeak(peaks[0], p)))
    : undefined;
  const sign = options.negative === undefined
    ? undefined
    : options.negative
    ? -1
    : 1;
  const found = findPeaks(
    d.xs,
    d.ys.map((v, i) => v - base[i]),
    peaks.length,
    sign,
    shape,
  ).sort((a, b) => a.xMax - b.xMax);
  const s: 1 | -1 = found[0].height < 0 ? -1 : 1;
  const values = peaks.map((m, j) => fromPeak(m, found[j]));
  for (let round = 0; round < 2; round++) {
    // Each peak and their sum, in the caller's order.
    const each = peaks.map((m, j) => valuesOf(m, d, variables, values[j]));
    const sum = new Float64Array(n);
    for (const f of each) f.forEach((v, i) => (sum[i] += v));
    if (bases.length > 0) {
      const target = d.y.map((v, i) => v - sum[i]);
      base = sorted(d, fitBaselines(bases, d, variables, target, {}));
    }
    const total = sorted(d, sum);
    peaks.forEach((m, j) => {
      const mine = sorted(d, each[j]);
      const r = d.ys.map((v, i) => v - base[i] - total[i] + mine[i]);
      found[j] = remeasure(d.xs, r, found[j], s);
      values[j] = fromPeak(m, found[j]);
    });
  }
  for (const v of values) Object.assign(out, v);
}

/**
 * Least squares for the (linear) parameters of the baseline operands;
 * writes them to `out` and returns the baseline's values.
 */
function fitBaselines(
  bases: readonly BuiltinModel[],
  d: GuessData,
  variables: readonly string[],
  target: Float64Array,
  out: Record<string, number>,
): Float64Array {
  const names = bases.flatMap((m) => m.params);
  const cols = names.map((name) => {
    const m = bases.find((b) => b.params.includes(name))!;
    const unit = Object.fromEntries(
      m.params.map((p) => [p, p === name ? 1 : 0]),
    );
    return valuesOf(m, d, variables, unit);
  });
  const c = lstsq(cols, target);
  const values = new Float64Array(target.length);
  if (c === null) return values;
  names.forEach((name, k) => {
    out[name] = c[k];
    cols[k].forEach((v, i) => (values[i] += c[k] * v));
  });
  return values;
}

/**
 * Guesses of the operands of a product, in order: each on the data divided
 * by the product of the operands before it (where that product is not
 * near 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { models } from "../mod.ts";
 * const m = models.constant().mul(models.exponential());
 * const x = Array.from({ length: 50 }, (_, i) => i / 10);
 * const g = m.guess(x, x.map((t) => 6 * Math.exp(-t / 2)));
 * assert.ok(Math.abs(g.c * g.amplitude - 6) < 0.01);
 * ```
 */
export function guessProduct(
  operands: readonly BuiltinModel[],
  d: GuessData,
  variables: readonly string[],
  options: GuessOptions,
): Record<string, number> {
  const out: Record<string, number> = {};
  const acc = new Float64Array(d.y.length).fill(1);
  for (const m of operands) {
    let big = 0;
    for (const v of acc) big = Math.max(big, Math.abs(v));
    const keep: number[] = [];
    acc.forEach((v, i) => {
      if (Math.abs(v) > 1e-6 * big) keep.push(i);
    });
    const cols = columnsOf(m, d, variables).map((c) =>
      Float64Array.from(keep, (i) => c[i])
    );
    const target = Float64Array.from(keep, (i) => d.y[i] / acc[i]);
    if (keep.length >= Math.max(2, m.params.length)) {
      Object.assign(out, m.guess(cols, target, options));
    }
    valuesOf(m, d, variables, out).forEach((v, i) => (acc[i] *= v));
  }
  return out;
}
