/**
 * The chunked strategy: data in memory, the linearization accumulated chunk
 * by chunk (tall-skinny QR merges), so working memory beyond the data is
 * bounded by the chunk size; the answer equals the standard one.
 *
 * @module
 */

import { registerStrategy, type Strategy } from "./strategy.ts";
import { inMemoryStrategy } from "./_in_memory.ts";

/** Default rows per chunk when no configuration gives one. */
export const DEFAULT_CHUNK_SIZE = 100_000;

/** Reads and checks the chunk size of a strategy configuration. */
export function chunkSizeOf(
  config: Readonly<Record<string, unknown>> | null,
): number {
  const c = config?.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (typeof c !== "number" || !Number.isInteger(c) || c < 1) {
    throw new RangeError(`chunkSize must be an integer >= 1, got ${c}`);
  }
  return c;
}

/**
 * The "chunked" strategy (registered on import). Like "standard", it starts
 * large fits from a subsample fit (configuration `warmStart`,
 * `warmStartRows`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, model } from "@nlsq/nlsq";
 * const x = Array.from({ length: 1000 }, (_, i) => i / 100);
 * const y = x.map((t) => 3 * t + 2);
 * const r = await fit(model("a * x + b"), x, y, {
 *   p0: [1, 0],
 *   workflow: { strategy: "chunked", config: { chunkSize: 64 } },
 * });
 * assert.strictEqual(r.strategy, "chunked");
 * assert.ok(Math.abs(r.popt[0] - 3) < 1e-10);
 * ```
 */
export const chunkedStrategy: Strategy = inMemoryStrategy(
  "chunked",
  "data in memory, linearization accumulated chunk by chunk",
  (ctx) => chunkSizeOf(ctx.config),
);

registerStrategy(chunkedStrategy);
