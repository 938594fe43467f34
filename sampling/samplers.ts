/**
 * The multi-start samplers by name.
 *
 * @module
 */

import { haltonSequence } from "./halton.ts";
import { latinHypercube } from "./latin_hypercube.ts";
import { sobolSequence } from "./sobol.ts";

/**
 * Names of the multi-start samplers: Latin hypercube, Sobol, Halton.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(SAMPLER_NAMES, ["lhs", "sobol", "halton"]);
 * ```
 */
export const SAMPLER_NAMES: readonly ["lhs", "sobol", "halton"] = Object.freeze(
  ["lhs", "sobol", "halton"] as const,
);

/**
 * A multi-start sampler name.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const name: SamplerName = "sobol";
 * assert.ok(isSamplerName(name));
 * ```
 */
export type SamplerName = typeof SAMPLER_NAMES[number];

/**
 * Whether `name` is a {@linkcode SamplerName}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(isSamplerName("halton"), true);
 * assert.strictEqual(isSamplerName("random"), false);
 * ```
 */
export function isSamplerName(name: unknown): name is SamplerName {
  return (SAMPLER_NAMES as readonly unknown[]).includes(name);
}

/**
 * `n` points in [0, 1)^d from the named sampler, deterministic for a `seed`
 * (default 0). Sobol and Halton are scrambled with the seed unless
 * `scramble: false`, so that different seeds give different designs.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert";
 * const a = sample("sobol", 8, 3, { seed: 5 });
 * assert.deepStrictEqual(a, sample("sobol", 8, 3, { seed: 5 }));
 * assert.notDeepStrictEqual(a, sample("sobol", 8, 3, { seed: 6 }));
 * assert.ok(a.flat().every((u) => u >= 0 && u < 1));
 * ```
 *
 * @throws {TypeError} `sampler` is not one of {@linkcode SAMPLER_NAMES}.
 * @throws {RangeError} As the sampler itself.
 */
export function sample(
  sampler: SamplerName,
  n: number,
  d: number,
  options: { seed?: number; scramble?: boolean } = {},
): number[][] {
  const seed = options.seed ?? 0;
  const scramble = options.scramble ?? true;
  switch (sampler) {
    case "lhs":
      return latinHypercube(n, d, { seed });
    case "sobol":
      return sobolSequence(n, d, { seed, scramble });
    case "halton":
      return haltonSequence(n, d, { seed, scramble });
    default:
      throw new TypeError(
        `sampler must be one of ${SAMPLER_NAMES.join(", ")}, got "${sampler}"`,
      );
  }
}
