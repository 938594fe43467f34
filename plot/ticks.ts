/**
 * Tick positions and labels of the plot axes: round steps on a linear axis,
 * decades (with the 2..9 multiples as minor ticks) on a logarithmic one.
 *
 * @module
 */

/**
 * "Nice" tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a
 * power of ten, about `count` of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { niceTicks } from "@nlsq/nlsq/plot";
 * assert.deepStrictEqual(niceTicks(0, 1, 5).values, [0, 0.2, 0.4, 0.6, 0.8, 1]);
 * assert.deepStrictEqual(niceTicks(-3, 17, 5).values, [0, 5, 10, 15]);
 * ```
 *
 * @param lo Lower end of the range.
 * @param hi Upper end of the range.
 * @param count About how many ticks (default 6).
 */
export function niceTicks(
  lo: number,
  hi: number,
  count = 6,
): { values: number[]; step: number } {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    return niceTicks(lo - d, lo + d, count);
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The candidate whose tick count is closest to the request.
  let step = mag;
  for (const s of [1, 2, 2.5, 5, 10].map((f) => f * mag)) {
    const dist = (q: number) => Math.abs((hi - lo) / q - count);
    if (dist(s) < dist(step)) step = s;
  }
  const values: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let k = first; k * step <= hi + step * 1e-9; k++) {
    // Multiply rather than accumulate so 0.1 * 3 prints as 0.3 below.
    values.push(Number((k * step).toPrecision(12)));
  }
  return { values, step };
}

/**
 * A tick label: fixed-point with as many decimals as the step needs, or
 * exponent form for very large or small magnitudes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatTick } from "@nlsq/nlsq/plot";
 * assert.strictEqual(formatTick(0.25, 0.25), "0.25");
 * assert.strictEqual(formatTick(-0, 1), "0");
 * assert.strictEqual(formatTick(200000, 100000), "2e5");
 * assert.strictEqual(formatTick(0.00015, 0.00005), "1.5e-4");
 * ```
 *
 * @param v The tick value.
 * @param step The distance between ticks (sets the decimals shown).
 */
export function formatTick(v: number, step: number): string {
  if (v === 0 || Math.abs(v) < step * 1e-9) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || step < 1e-3) {
    const digits = Math.max(
      0,
      Math.min(10, Math.floor(Math.log10(a)) - Math.floor(Math.log10(step))),
    );
    return Number(v.toExponential(digits)).toExponential().replace("e+", "e");
  }
  let decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  while (
    decimals < 10 && Math.abs(Number(v.toFixed(decimals)) - v) > step * 1e-6
  ) {
    decimals++;
  }
  return v.toFixed(decimals);
}

/**
 * One tick of an axis. A labelled tick has `text`; a power of ten may be
 * written as `text` with a superscript `exponent` ("10" and "-3" for 0.001).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { Tick } from "@nlsq/nlsq/plot";
 * const t: Tick = { value: 1e-3, major: true, text: "10", exponent: "-3" };
 * assert.strictEqual(t.value, 0.001);
 * ```
 */
export interface Tick {
  /** Position in data units. */
  readonly value: number;
  /** A major tick (longer, with a grid line); minor ticks are short marks. */
  readonly major: boolean;
  /** The label, absent for an unlabelled tick. */
  readonly text?: string;
  /** A superscript after `text` (the exponent of a power of ten). */
  readonly exponent?: string;
}

/** Powers of ten are written as plain numbers inside this range. */
const PLAIN_MIN = 1e-3, PLAIN_MAX = 1e4;

/** The label of 10^k: "0.01", "1000", or "10" with a superscript k. */
function decadeLabel(
  k: number,
  plain: boolean,
): Pick<Tick, "text" | "exponent"> {
  if (plain) return { text: formatTick(10 ** k, 10 ** Math.min(k, 0)) };
  return { text: "10", exponent: String(k) };
}

/**
 * Ticks of a logarithmic axis over [lo, hi] (0 < lo < hi): a major tick at
 * every power of ten, minor ticks at its 2..9 multiples. Over many decades
 * only every 2nd, 3rd, ... decade is labelled (and minor ticks are left out
 * beyond 8 decades); over less than two decades the multiples 2 and 5 (or
 * every multiple) are labelled too, and over less than a factor of 3 the
 * axis falls back to {@linkcode niceTicks}, since no power of ten may lie
 * inside it. Labels are plain numbers while every labelled decade lies in
 * [0.001, 10000], else 10 with a superscript exponent.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { logTicks } from "@nlsq/nlsq/plot";
 * const t = logTicks(0.5, 2000);
 * const major = t.filter((k) => k.major).map((k) => k.value);
 * assert.deepStrictEqual(major, [1, 10, 100, 1000]);
 * assert.ok(t.some((k) => !k.major && k.value === 20));
 * const wide = logTicks(1e-12, 1e3);
 * assert.deepStrictEqual(wide.filter((k) => k.text).map((k) => k.exponent), [
 *   "-12", "-9", "-6", "-3", "0", "3",
 * ]);
 * ```
 *
 * @param lo Lower end, positive.
 * @param hi Upper end, above `lo`.
 */
export function logTicks(lo: number, hi: number): Tick[] {
  if (!(lo > 0 && hi > lo)) {
    throw new RangeError(`logTicks: needs 0 < lo < hi, got ${lo}, ${hi}`);
  }
  const l0 = Math.log10(lo), l1 = Math.log10(hi);
  if (l1 - l0 < Math.log10(3)) {
    const { values, step } = niceTicks(lo, hi, 5);
    return values.filter((v) => v > 0).map((v) => ({
      value: v,
      major: true,
      text: formatTick(v, step),
    }));
  }
  const eps = 1e-9;
  const k0 = Math.ceil(l0 - eps), k1 = Math.floor(l1 + eps);
  const nDecades = k1 - k0 + 1;
  const every = Math.max(1, Math.ceil(nDecades / 7));
  const plain = 10 ** k0 >= PLAIN_MIN * (1 - eps) &&
    10 ** k1 <= PLAIN_MAX * (1 + eps);
  const ticks: Tick[] = [];
  // Label multiples when too few decades carry a label.
  const labelled = nDecades >= 2 ? [] : l1 - l0 > 0.8 ? [2, 5] : [2, 3, 5];
  for (let k = Math.floor(l0) - 1; k <= k1 + 1; k++) {
    const v = 10 ** k;
    if (k >= k0 && k <= k1) {
      ticks.push({
        value: v,
        major: true,
        ...(k % every === 0 ? decadeLabel(k, plain) : {}),
      });
    }
    if (nDecades > 8) continue;
    for (let m = 2; m <= 9; m++) {
      const mv = Number((m * v).toPrecision(12));
      if (mv < lo * (1 - eps) || mv > hi * (1 + eps)) continue;
      const text = labelled.includes(m)
        ? plain || (k >= -3 && k <= 3) ? formatTick(mv, v) : `${m}×10`
        : undefined;
      ticks.push({
        value: mv,
        major: false,
        ...(text === undefined ? {} : { text }),
        ...(text?.endsWith("×10") ? { exponent: String(k) } : {}),
      });
    }
  }
  return ticks.sort((a, b) => a.value - b.value);
}
