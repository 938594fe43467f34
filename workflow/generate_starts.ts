/**
 * Starting points of a multi-start fit.
 *
 * @module
 */

import {
  isSamplerName,
  sample,
  SAMPLER_NAMES,
  type SamplerName,
} from "../sampling/samplers.ts";
import { assertInteger, assertPositiveFinite } from "./_validate.ts";

/**
 * A finite box spanning at least this ratio (`upper / lower`, both > 0) is
 * sampled log-uniformly: with bounds like [1e-6, 1e3], a uniform draw would put
 * nearly every start in the top decade.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(LOG_SCALE_RATIO, 1000);
 * ```
 */
export const LOG_SCALE_RATIO = 1000;

/**
 * Options of {@linkcode generateStarts}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const options: GenerateStartsOptions = { p0: [1, 2], nStarts: 3 };
 * assert.strictEqual(generateStarts(options).length, 3);
 * ```
 */
export interface GenerateStartsOptions {
  /** The initial guess; always the first start. */
  p0: ArrayLike<number>;
  /** Lower bounds (default -Infinity each). */
  lower?: ArrayLike<number>;
  /** Upper bounds (default Infinity each). */
  upper?: ArrayLike<number>;
  /** Number of starts including p0, an integer >= 1. */
  nStarts: number;
  /** The sampler of the other starts. Default "lhs". */
  sampler?: SamplerName;
  /** Seed of the sampler. Default 0 (fits are reproducible by default). */
  seed?: number;
  /**
   * Where a bound is infinite, starts are drawn on a logarithmic scale,
   * `p0 * 10^[-1, 1]` (a decade either way, so that starts can change
   * basins), or linearly from `p0 ± spread * max(|p0|, 1)` when `spread` is
   * given; a start of 0 is spread linearly (`spread` 0.5). Reflected at a
   * finite bound.
   */
  spread?: number;
}

/**
 * Maps `nStarts - 1` sampler points onto the search region, after `p0` itself:
 * per parameter, a finite `[lower, upper]` box is sampled uniformly (or
 * log-uniformly when `lower > 0` and `upper / lower >=`
 * {@linkcode LOG_SCALE_RATIO}); where a bound is infinite, `p0 * 10^[-1, 1]`
 * (or `p0 ± spread * max(|p0|, 1)` when `spread` is given), reflected back
 * at a finite bound.
 *
 * @example Three starts in a box, p0 first
 * ```ts
 * import assert from "node:assert";
 * const starts = generateStarts({
 *   p0: [1, 0.5],
 *   lower: [0, 0],
 *   upper: [10, 1],
 *   nStarts: 3,
 *   sampler: "sobol",
 *   seed: 1,
 * });
 * assert.deepStrictEqual(starts[0], [1, 0.5]);
 * assert.strictEqual(starts.length, 3);
 * for (const [a, b] of starts) assert.ok(a >= 0 && a <= 10 && b >= 0 && b <= 1);
 * ```
 *
 * @throws {TypeError} `p0`, `lower` or `upper` is not an array of numbers, or
 * `sampler` names no sampler.
 * @throws {RangeError} `p0` is empty, non-finite or outside the bounds, bounds
 * have the wrong length or `lower >= upper`, `nStarts` is not an integer
 * >= 1, `spread` is not > 0, or `seed` is not a safe integer.
 */
export function generateStarts(options: GenerateStartsOptions): number[][] {
  const p0 = numbers("p0", options.p0);
  const d = p0.length;
  if (d === 0) throw new RangeError("p0 must not be empty");
  p0.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      throw new RangeError(`p0[${i}] must be finite, got ${v}`);
    }
  });
  const lower = options.lower === undefined
    ? new Array<number>(d).fill(-Infinity)
    : numbers("lower", options.lower);
  const upper = options.upper === undefined
    ? new Array<number>(d).fill(Infinity)
    : numbers("upper", options.upper);
  for (const [name, bound] of [["lower", lower], ["upper", upper]] as const) {
    if (bound.length !== d) {
      throw new RangeError(
        `${name} must have ${d} entries (one per parameter), got ${bound.length}`,
      );
    }
  }
  for (let i = 0; i < d; i++) {
    if (
      Number.isNaN(lower[i]) || Number.isNaN(upper[i]) || !(lower[i] < upper[i])
    ) {
      throw new RangeError(
        `lower[${i}] must be < upper[${i}], got ${lower[i]} and ${upper[i]}`,
      );
    }
    if (p0[i] < lower[i] || p0[i] > upper[i]) {
      throw new RangeError(
        `p0[${i}] = ${p0[i]} is outside the bounds [${lower[i]}, ${upper[i]}]`,
      );
    }
  }
  const nStarts = assertInteger("nStarts", options.nStarts, 1);
  const sampler = options.sampler ?? "lhs";
  if (!isSamplerName(sampler)) {
    throw new TypeError(
      `sampler must be one of ${SAMPLER_NAMES.join(", ")}, got "${sampler}"`,
    );
  }
  // Without bounds: a linear spread when one is given (the old rule), else
  // a logarithmic one, p0 times 10^[-1, 1], wide enough to change basins.
  const linear = options.spread !== undefined;
  const spread = assertPositiveFinite("spread", options.spread ?? 0.5);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${seed}`);
  }

  const starts: number[][] = [p0];
  for (const u of sample(sampler, nStarts - 1, d, { seed })) {
    starts.push(
      u.map((uj, j) => place(uj, p0[j], lower[j], upper[j], spread, linear)),
    );
  }
  return starts;
}

function place(
  u: number,
  p0: number,
  lower: number,
  upper: number,
  spread: number,
  linear: boolean,
): number {
  if (Number.isFinite(lower) && Number.isFinite(upper)) {
    if (lower > 0 && upper / lower >= LOG_SCALE_RATIO) {
      const x = Math.exp(Math.log(lower) + u * Math.log(upper / lower));
      return Math.min(upper, Math.max(lower, x));
    }
    return Math.min(upper, lower + u * (upper - lower));
  }
  const x = linear || p0 === 0
    ? p0 + (2 * u - 1) * spread * Math.max(Math.abs(p0), 1)
    : p0 * 10 ** (2 * u - 1);
  // Only one bound can be finite here; reflecting keeps the draw's density
  // instead of piling starts onto the bound.
  if (x < lower) return lower + (lower - x);
  if (x > upper) return upper - (x - upper);
  return x;
}

function numbers(name: string, value: ArrayLike<number>): number[] {
  if (
    typeof value !== "object" || value === null ||
    typeof value.length !== "number"
  ) {
    throw new TypeError(`${name} must be an array of numbers`);
  }
  const out = Array.from(value);
  out.forEach((v, i) => {
    if (typeof v !== "number") {
      throw new TypeError(`${name}[${i}] must be a number, got ${typeof v}`);
    }
  });
  return out;
}
