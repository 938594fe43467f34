/**
 * What a built-in model (`models.*`) brings to a fit: its parameter hints
 * (bounds, lmfit's default ties), and, when the caller gives no start, its
 * own guess from the data.
 *
 * @module
 */

import type { Model } from "../../model/types.ts";
import type { NumVec } from "../../core/_validate.ts";
import type { BatchSourceLike } from "../../strategies/strategy.ts";
import type { FitOptions } from "../fit_options.ts";
import type { ParamsInput, ParamSpec } from "./_params.ts";
import type { XInput } from "./_input.ts";

/** The parts of a built-in model a fit uses. */
interface Guessing {
  readonly paramHints?: Readonly<Record<string, ParamSpec>>;
  guess?(x: XInput, y: NumVec): Record<string, number>;
}

/** Rows of a source a guess reads at most (evenly strided). */
const GUESS_ROWS = 20_000;

/**
 * The options with the model's hints under the caller's `params` (a
 * parameter the caller sets keeps only the caller's settings) and, when
 * there is no start at all, the model's guess as `p0`. A plain model or a
 * start given by the caller: the options as they are (the hints the caller
 * left in force still apply).
 */
export async function withModelStart(
  m: Model,
  options: FitOptions,
  x: XInput | null,
  y: NumVec | null,
  source: BatchSourceLike | null,
): Promise<{ options: FitOptions; guessed: boolean }> {
  const g = m as Model & Guessing;
  const hints = applicableHints(g.paramHints ?? {}, options);
  let out = options;
  if (Object.keys(hints).length > 0) {
    out = {
      ...out,
      params: { ...hints, ...(options.params ?? {}) } as ParamsInput,
    };
  }
  const hasStart = options.p0 !== undefined ||
    Object.values(options.params ?? {}).some((s) =>
      typeof s === "number" || s.value !== undefined
    );
  if (hasStart || typeof g.guess !== "function") {
    return { options: out, guessed: false };
  }
  const data = x !== null && y !== null
    ? { x, y }
    : source
    ? await sampleSource(source, options.signal)
    : null;
  if (!data) return { options: out, guessed: false };
  const values = g.guess(data.x, data.y);
  return { options: { ...out, p0: values }, guessed: true };
}

/**
 * The hints the caller left in force: explicit `bounds` replace the hints'
 * min and max, and a start given to a parameter in `p0` (every parameter for
 * a vector) frees it from its hint's tie (as `voigt`'s gamma = sigma).
 */
function applicableHints(
  hints: Readonly<Record<string, ParamSpec>>,
  options: FitOptions,
): Record<string, ParamSpec> {
  const p0 = options.p0;
  const started = (name: string) =>
    p0 !== undefined &&
    (typeof (p0 as ArrayLike<number>).length === "number" ||
      (p0 as Record<string, number>)[name] !== undefined);
  const out: Record<string, ParamSpec> = {};
  for (const [name, hint] of Object.entries(hints)) {
    if (typeof hint === "number") {
      if (!started(name)) out[name] = hint;
      continue;
    }
    const { min, max, expr, ...rest } = hint;
    const kept: Record<string, unknown> = { ...rest };
    if (options.bounds === undefined) Object.assign(kept, { min, max });
    if (!started(name)) kept.expr = expr;
    for (const k of Object.keys(kept)) {
      if (kept[k] === undefined) delete kept[k];
    }
    if (Object.keys(kept).length > 0) out[name] = kept as ParamSpec;
  }
  return out;
}

/** An evenly strided sample of a source (its rows in order). */
async function sampleSource(
  src: BatchSourceLike,
  signal?: AbortSignal,
): Promise<{ x: XInput; y: NumVec }> {
  const n = src.length;
  const stride = n !== undefined && n > GUESS_ROWS
    ? Math.ceil(n / GUESS_ROWS)
    : 1;
  const xs: number[][] = Array.from({ length: src.nFeatures }, () => []);
  const ys: number[] = [];
  let row = 0;
  for await (const b of src.batches(1 << 16, { signal })) {
    for (let i = 0; i < b.y.length; i++, row++) {
      if (row % stride !== 0) continue;
      b.x.forEach((c, j) => xs[j].push(c[i]));
      ys.push(b.y[i]);
    }
  }
  return { x: xs.length === 1 ? xs[0] : xs, y: ys };
}
