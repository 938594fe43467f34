/**
 * An axis of the plot: a linear or logarithmic map from data units to
 * pixels, with its ticks.
 *
 * @module
 */

import { formatTick, logTicks, niceTicks, type Tick } from "./ticks.ts";

/** A map from data units to pixels, with ticks. */
export interface Axis {
  readonly log: boolean;
  /** Ends of the axis in data units (after padding). */
  readonly lo: number;
  readonly hi: number;
  /** Pixel of a value; NaN for a value <= 0 on a log axis. */
  toPx(v: number): number;
  readonly ticks: readonly Tick[];
}

/**
 * An axis over [lo, hi] drawn from pixel `p0` (at lo) to `p1` (at hi),
 * padded by `pad` of the span on each side (in decades on a log axis,
 * where lo and hi must be positive).
 */
export function makeAxis(
  lo: number,
  hi: number,
  p0: number,
  p1: number,
  options: { log: boolean; pad: number; tickCount: number },
): Axis {
  if (options.log) {
    let [a, b] = [Math.log10(lo), Math.log10(hi)];
    if (!(b > a)) [a, b] = [a - 0.5, b + 0.5];
    const d = (b - a) * options.pad;
    [a, b] = [a - d, b + d];
    const scale = (p1 - p0) / (b - a);
    return {
      log: true,
      lo: 10 ** a,
      hi: 10 ** b,
      toPx: (v) => (v > 0 ? p0 + (Math.log10(v) - a) * scale : NaN),
      ticks: logTicks(10 ** a, 10 ** b),
    };
  }
  let [a, b] = [lo, hi];
  const span = b - a || Math.abs(b) * 0.1 || 1;
  [a, b] = [a - options.pad * span, b + options.pad * span];
  const scale = (p1 - p0) / (b - a);
  const { values, step } = niceTicks(a, b, options.tickCount);
  return {
    log: false,
    lo: a,
    hi: b,
    toPx: (v) => p0 + (v - a) * scale,
    ticks: values.map((v) => ({
      value: v,
      major: true,
      text: formatTick(v, step),
    })),
  };
}
