// One pass over the data, batch by batch, for the streaming strategy: row
// ranges of in-memory arrays (no copy) or batches read from a source, with
// the next batch's read started before the current one is computed so file
// I/O overlaps the arithmetic.

import type { WeightedData } from "../core/weights.ts";
import { weightsInto } from "../core/weights.ts";
import type { BatchSourceLike, StrategyData } from "./strategy.ts";

/** Rows [start, end) of `data`, ready for `linearizeRange`. */
export interface RowBlock {
  readonly data: WeightedData;
  readonly start: number;
  readonly end: number;
}

/** Yields the data as row blocks of at most `batchSize` rows. */
export async function* rowBlocks(
  data: StrategyData,
  batchSize: number,
  signal?: AbortSignal,
): AsyncGenerator<RowBlock> {
  if (data.kind === "memory") {
    const n = data.y.length;
    for (let s = 0; s < n; s += batchSize) {
      signal?.throwIfAborted();
      yield { data, start: s, end: Math.min(n, s + batchSize) };
    }
    return;
  }
  yield* sourceBlocks(data, batchSize, signal);
}

async function* sourceBlocks(
  src: BatchSourceLike,
  batchSize: number,
  signal?: AbortSignal,
): AsyncGenerator<RowBlock> {
  const it = src.batches(batchSize, { signal })[Symbol.asyncIterator]();
  // Weights are rebuilt per batch into one buffer: the consumer finishes a
  // block synchronously before asking for the next.
  let w: Float64Array | null = null;
  let next = it.next();
  try {
    while (true) {
      const r = await next;
      if (r.done) return;
      // Prefetch: sources return fresh arrays per batch, so reading the next
      // batch while this one is computed is safe.
      next = it.next();
      next.catch(() => {}); // surfaced by the await above, if ever reached
      const b = r.value;
      const n = b.y.length;
      let wb: Float64Array | null = null;
      if (b.sigma) {
        if (!w || w.length < n) w = new Float64Array(Math.max(n, batchSize));
        wb = w.subarray(0, n);
        weightsInto(b.sigma, wb);
      }
      yield { data: { x: b.x, y: b.y, w: wb }, start: 0, end: n };
    }
  } finally {
    await it.return?.();
  }
}
