/**
 * Sampling of start points for multi-start: a seeded PRNG, Latin hypercube,
 * Sobol and Halton sequences, and one entry point that picks by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sample } from "@nlsq/nlsq/workflow";
 * const pts = sample("lhs", 4, 2, { seed: 1 });
 * assert.strictEqual(pts.length, 4);
 * ```
 *
 * @module
 */

export * from "./prng.ts";
export * from "./latin_hypercube.ts";
export * from "./sobol.ts";
export * from "./halton.ts";
export * from "./samplers.ts";
