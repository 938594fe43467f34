/**
 * A data source as the data of a batch (`fitBatch(model, source, { nPoints
 * })`): its rows are points, fit i is rows `[i * nPoints, (i + 1) *
 * nPoints)`, its x columns per fit and its sigma column (if any) per fit.
 * The source is read whole, in order; `fit(..., { estimator: "poisson" })`
 * reads its sources the same way.
 *
 * @module
 */

import type { BatchSourceLike } from "../strategies/strategy.ts";

/** Whether `v` is a data source rather than arrays. */
export function isBatchSource(v: unknown): v is BatchSourceLike {
  return v !== null && typeof v === "object" &&
    typeof (v as BatchSourceLike).batches === "function" &&
    typeof (v as BatchSourceLike).fingerprint === "string";
}

/** Every row of a source: its x columns, y and sigma (or null). */
export async function readSourceWhole(
  src: BatchSourceLike,
  signal?: AbortSignal,
): Promise<
  { x: Float64Array[]; y: Float64Array; sigma: Float64Array | null }
> {
  const xs: Float64Array[][] = Array.from({ length: src.nFeatures }, () => []);
  const ys: Float64Array[] = [], ss: Float64Array[] = [];
  for await (const b of src.batches(1 << 16, { signal })) {
    // Batches may reuse their buffers: copy.
    b.x.forEach((c, j) => xs[j].push(c.slice()));
    ys.push(b.y.slice());
    if (b.sigma) ss.push(b.sigma.slice());
  }
  const join = (parts: Float64Array[]) => {
    const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return {
    x: xs.map(join),
    y: join(ys),
    sigma: src.hasSigma ? join(ss) : null,
  };
}
