// Shared by every source: argument checks for batches(), the finite-value
// check with optional dropping of rows, and readAll() on top of batches().

import { DataSourceError } from "./data_source_error.ts";
import type {
  Batch,
  BatchOptions,
  ColumnBuffers,
  DataSource,
} from "./source.ts";

/** A checked row range. */
export interface RowRange {
  start: number;
  end: number;
}

/** Validates `batchSize` and the `[start, end)` range against `length`. */
export function resolveRange(
  batchSize: number,
  options: BatchOptions | undefined,
  length: number | undefined,
): RowRange {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  const start = options?.start ?? 0;
  const end = options?.end ?? length ?? Number.POSITIVE_INFINITY;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`start must be a non-negative integer, got ${start}`);
  }
  if (end !== Number.POSITIVE_INFINITY && !Number.isSafeInteger(end)) {
    throw new RangeError(`end must be an integer, got ${end}`);
  }
  if (end < start) {
    throw new RangeError(`end (${end}) must not be less than start (${start})`);
  }
  if (length !== undefined && end > length) {
    throw new RangeError(`end (${end}) exceeds the length (${length})`);
  }
  return { start, end };
}

/** Labels of a source's columns, used in error messages. */
export interface ColumnLabels {
  x: (string | number)[];
  y: string | number;
  sigma?: string | number;
}

/**
 * Checks that every value is finite (and sigma positive). Throws on the first
 * bad value, or with `dropInvalid` returns a batch without the bad rows (the
 * input itself when all rows are good, so the common case copies nothing).
 */
export function checkFinite(
  batch: Batch,
  labels: ColumnLabels,
  path: string,
  dropInvalid: boolean,
): Batch {
  const n = batch.y.length;
  if (allValid(batch, n)) return batch;
  let keep: Uint8Array | undefined;
  let kept = n;
  for (let i = 0; i < n; i++) {
    const bad = badColumn(batch, i, labels);
    if (bad === undefined) continue;
    if (!dropInvalid) throw notFinite(bad, path, batch.start + i);
    keep ??= new Uint8Array(n).fill(1);
    keep[i] = 0;
    kept--;
  }
  if (keep === undefined) return batch;
  const pick = (a: Float64Array): Float64Array => {
    const out = new Float64Array(kept);
    for (let i = 0, j = 0; i < n; i++) if (keep[i]) out[j++] = a[i];
    return out;
  };
  const out: Batch = {
    x: batch.x.map(pick),
    y: pick(batch.y),
    start: batch.start,
  };
  if (batch.sigma !== undefined) out.sigma = pick(batch.sigma);
  return out;
}

function badColumn(
  batch: Batch,
  i: number,
  labels: ColumnLabels,
): { label: string | number; value: number; isSigma: boolean } | undefined {
  for (let f = 0; f < batch.x.length; f++) {
    const v = batch.x[f][i];
    if (!Number.isFinite(v)) {
      return { label: labels.x[f], value: v, isSigma: false };
    }
  }
  const y = batch.y[i];
  if (!Number.isFinite(y)) return { label: labels.y, value: y, isSigma: false };
  if (batch.sigma !== undefined) {
    const s = batch.sigma[i];
    if (!(Number.isFinite(s) && s > 0)) {
      return { label: labels.sigma ?? "sigma", value: s, isSigma: true };
    }
  }
  return undefined;
}

/**
 * Reads `source` batch by batch and concatenates the batches into one, up to
 * the batch that reaches `maxRows` (default: all rows), in shared memory:
 * worker threads then read the rows in place (no copy per fit). A single
 * batch already in shared memory is returned as it came.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "./array_source.ts";
 * const src = arraySource([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
 * const b = await readBatches(src, 2, { maxRows: 3 });
 * assert.deepStrictEqual([...b.y], [2, 4, 6, 8]); // whole batches
 * ```
 */
export async function readBatches(
  source: Pick<DataSource, "nFeatures" | "hasSigma" | "batches">,
  batchSize: number,
  options: { maxRows?: number; signal?: AbortSignal } = {},
): Promise<Batch> {
  const parts: Batch[] = [];
  let rows = 0;
  const maxRows = options.maxRows ?? Infinity;
  for await (const b of source.batches(batchSize, { signal: options.signal })) {
    parts.push(b);
    rows += b.y.length;
    if (rows >= maxRows) break;
  }
  const shared = (a: Float64Array) => a.buffer instanceof SharedArrayBuffer;
  if (
    parts.length === 1 && parts[0].x.every(shared) && shared(parts[0].y) &&
    (parts[0].sigma === undefined || shared(parts[0].sigma))
  ) return parts[0];
  const concat = (get: (b: Batch) => Float64Array): Float64Array => {
    const out = new Float64Array(new SharedArrayBuffer(rows * 8));
    let at = 0;
    for (const b of parts) {
      const a = get(b);
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  const out: Batch = {
    x: Array.from(
      { length: source.nFeatures },
      (_, f) => concat((b) => b.x[f]),
    ),
    y: concat((b) => b.y),
    start: parts[0]?.start ?? 0,
  };
  if (source.hasSigma) out.sigma = concat((b) => b.sigma!);
  return out;
}

/** Concatenates all batches of `source` into one. */
export function readAllBatches(source: DataSource): Promise<Batch> {
  return readBatches(
    source,
    Math.max(1, Math.min(source.length ?? 65536, 1 << 20)),
  );
}

/** Throws the typed "closed" error when `closed`. */
export function assertOpen(closed: boolean, path: string): void {
  if (closed) {
    throw new DataSourceError("closed", "the data source is closed", { path });
  }
}

/** Index of the first value that is not finite in `a[0, n)`, or -1. */
export function firstNonFinite(a: Float64Array, n: number): number {
  // x - x is 0 for finite x and NaN otherwise; a branch per value (never
  // taken) costs less than a chain of dependent additions.
  for (let i = 0; i < n; i++) if (a[i] - a[i] !== 0) return i;
  return -1;
}

/** Index of the first sigma that is not finite and positive, or -1. */
export function firstBadSigma(a: Float64Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (!(v > 0) || v === Infinity) return i;
  }
  return -1;
}

/** Whether rows `[0, n)` of `cols` hold only finite values (sigma > 0). */
export function allValid(cols: ColumnBuffers, n: number): boolean {
  for (const c of cols.x) if (firstNonFinite(c, n) >= 0) return false;
  if (firstNonFinite(cols.y, n) >= 0) return false;
  return cols.sigma === undefined || firstBadSigma(cols.sigma, n) < 0;
}

/**
 * Checks rows `[0, n)` of `cols` (rows `start + i` of the source) as
 * {@linkcode checkFinite} does, in place: throws on the first bad value, or
 * with `dropInvalid` moves the good rows to the front. Returns the rows
 * kept. `valid` says the caller already knows every value is good.
 */
export function checkColumns(
  cols: ColumnBuffers,
  n: number,
  start: number,
  labels: ColumnLabels,
  path: string,
  dropInvalid: boolean,
  valid = allValid(cols, n),
): number {
  if (valid) return n;
  const batch: Batch = { x: cols.x, y: cols.y, sigma: cols.sigma, start };
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const bad = badColumn(batch, i, labels);
    if (bad !== undefined) {
      if (!dropInvalid) throw notFinite(bad, path, start + i);
      continue;
    }
    if (kept !== i) {
      for (const c of cols.x) c[kept] = c[i];
      cols.y[kept] = cols.y[i];
      if (cols.sigma) cols.sigma[kept] = cols.sigma[i];
    }
    kept++;
  }
  return kept;
}

function notFinite(
  bad: { label: string | number; value: number; isSigma: boolean },
  path: string,
  row: number,
): DataSourceError {
  const value = bad.value;
  return new DataSourceError(
    "not-finite",
    bad.isSigma && Number.isFinite(value)
      ? `sigma must be positive, got ${value}`
      : `value ${value} is not finite`,
    { path, row, column: bad.label },
  );
}

/** Checks `start <= end <= length` and the capacity of `into` for a read. */
export function checkRead(
  start: number,
  end: number,
  length: number,
  into: ColumnBuffers,
  nFeatures: number,
  hasSigma: boolean,
): void {
  if (
    !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 ||
    end < start || end > length
  ) {
    throw new RangeError(
      `rows [${start}, ${end}) are not a range of the ${length} rows`,
    );
  }
  const n = end - start;
  const short = (a: Float64Array | undefined) => !a || a.length < n;
  if (
    into.x.length !== nFeatures || into.x.some(short) || short(into.y) ||
    (hasSigma && short(into.sigma))
  ) {
    throw new RangeError(
      `the buffers must hold ${n} rows of ${nFeatures} x column(s), y${
        hasSigma ? " and sigma" : ""
      }`,
    );
  }
}
