/**
 * The data of a batch from files: x and Y as NPY paths (read whole), or a
 * data source (`fitBatch(model, source, { nPoints })`) whose rows are
 * points: fit i is rows `[i * nPoints, (i + 1) * nPoints)`, its x columns
 * per fit and its sigma column (if any) per fit.
 * The source is read whole, in order; `fit(..., { estimator: "poisson" })`
 * reads its sources the same way.
 *
 * @module
 */

import type { BatchSourceLike } from "../strategies/strategy.ts";
import type {
  FitBatchOptions,
  FitBatchXInput,
  FitBatchYInput,
} from "./fit_batch_options.ts";
import { isPath, readNpyRows } from "./_npy_rows.ts";

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

/**
 * x and Y given as NPY paths, read whole: a 2-D file's rows are fits, a
 * 1-D x file is shared.
 */
export async function loadFiles(
  x: FitBatchXInput,
  Y: FitBatchYInput,
): Promise<{ x: FitBatchXInput; Y: FitBatchYInput; nPoints?: number }> {
  let nPoints: number | undefined;
  if (isPath(Y)) {
    const r = await readNpyRows(Y);
    Y = r.values;
    nPoints = r.cols;
  }
  if (isPath(x)) {
    const r = await readNpyRows(x);
    if (r.is1d) x = r.values;
    else {
      x = Array.from(
        { length: r.rows },
        (_, i) => r.values.subarray(i * r.cols, (i + 1) * r.cols),
      );
    }
  }
  return { x, Y, nPoints };
}

/** A source's rows as a batch: blocks of `options.nPoints` rows are fits. */
export async function sourceData(
  source: BatchSourceLike,
  options: FitBatchOptions,
  extra: unknown,
): Promise<{ x: FitBatchXInput; Y: FitBatchYInput; options: FitBatchOptions }> {
  if (extra !== undefined) {
    throw new TypeError(
      "fitBatch(model, source, options): with a data source, options are the third argument",
    );
  }
  const n = options.nPoints;
  if (n === undefined) {
    throw new TypeError(
      "fitBatch(model, source, options): options.nPoints is required (fit i is the source's rows [i * nPoints, (i + 1) * nPoints))",
    );
  }
  const whole = await readSourceWhole(source, options.signal);
  if (Number.isInteger(n) && n > 0 && whole.y.length % n !== 0) {
    throw new RangeError(
      `${source.description}: ${whole.y.length} rows, not a multiple of nPoints = ${n}`,
    );
  }
  if (whole.sigma && options.sigma !== undefined) {
    throw new TypeError(
      "fitBatch: the source has a sigma column and options.sigma is given; give one",
    );
  }
  return {
    x: whole.x.length === 1 ? whole.x[0] : whole.x,
    Y: whole.y,
    options: whole.sigma ? { ...options, sigma: whole.sigma } : options,
  };
}
