/**
 * The rate of an exponential y = A exp(k t) from data (private helper of
 * the exponential and power-law guesses, t = x or ln x): two estimates,
 * the integral equation y = y(t0) + k * integral y dt and a log-linear fit
 * weighted by y^2, and the one whose least-squares amplitude leaves the
 * smaller residual.
 *
 * @module
 */

import { cumulativeIntegral } from "./_levels.ts";
import { lstsq, polyfit } from "./_linear_lsq.ts";

/** A and the residual sum of squares of A exp(k t), for a given k. */
function amplitudeFor(
  t: Float64Array,
  y: Float64Array,
  k: number,
): { A: number; rss: number } {
  // exp(k (t - tr)) with tr the end where it is largest, against overflow.
  const tr = k >= 0 ? t[t.length - 1] : t[0];
  const e = t.map((v) => Math.exp(k * (v - tr)));
  const a = lstsq([e], y);
  if (a === null) return { A: NaN, rss: Infinity };
  let rss = 0;
  for (let i = 0; i < y.length; i++) rss += (y[i] - a[0] * e[i]) ** 2;
  return { A: a[0] * Math.exp(-k * tr), rss };
}

/**
 * k and A of y = A exp(k t) for ascending t.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { exponentialRate } from "./_exp_fit.ts";
 * const t = Float64Array.from({ length: 40 }, (_, i) => i / 4);
 * const r = exponentialRate(t, t.map((v) => 3 * Math.exp(-0.7 * v)));
 * assert.ok(Math.abs(r.k + 0.7) < 1e-9 && Math.abs(r.A - 3) < 1e-8);
 * ```
 */
export function exponentialRate(
  t: Float64Array,
  y: Float64Array,
): { k: number; A: number } {
  const candidates: number[] = [];
  const S = cumulativeIntegral(t, y);
  const c = lstsq([new Float64Array(y.length).fill(1), S], y);
  if (c) candidates.push(c[1]);
  let pos = 0;
  for (const v of y) pos += v > 0 ? 1 : -1;
  const sign = pos >= 0 ? 1 : -1;
  const keep: number[] = [];
  y.forEach((v, i) => {
    if (sign * v > 0) keep.push(i);
  });
  if (keep.length >= 2) {
    const tk = Float64Array.from(keep, (i) => t[i]);
    const l = polyfit(
      tk,
      Float64Array.from(keep, (i) => Math.log(sign * y[i])),
      1,
      Float64Array.from(keep, (i) => y[i] * y[i]),
    );
    if (l) candidates.push(l[1]);
  }
  let best = { k: NaN, A: NaN }, bestRss = Infinity;
  for (const k of candidates) {
    if (!Number.isFinite(k)) continue;
    const { A, rss } = amplitudeFor(t, y, k);
    if (rss < bestRss) {
      bestRss = rss;
      best = { k, A };
    }
  }
  return best;
}
