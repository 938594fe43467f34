/**
 * The data-source contract: how fitting code reads `(x, y[, sigma])` without
 * knowing where the data lives.
 *
 * A {@linkcode DataSource} yields {@linkcode Batch}es of a requested size, in
 * row order, for any row range `[start, end)`. Streaming strategies call
 * `batches()` once per pass; MPI ranks call it with their own row range.
 * File sources read only the rows of the batch being produced (a seek and a
 * read for binary formats, a sparse byte-offset index for CSV, a hyperslab for
 * HDF5), so memory does not grow with the file.
 *
 * Row numbering: `length`, `start`, `end` and {@linkcode Batch.start} count the
 * rows stored in the file (data lines of a CSV after its header). With
 * `dropInvalid`, rows holding a missing, non-numeric or non-finite value (or a
 * sigma that is not positive) are left out of their batch, so a batch may be
 * shorter than its range; the range itself is unchanged, which keeps the
 * partition of rows between passes and ranks exact.
 *
 * Files are checked before every batch: a file whose size, modification time
 * or identity changed since it was opened throws a
 * {@linkcode DataSourceError} with code `"changed"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openSource } from "./open_source.ts";
 * // Any consumer works on the interface alone.
 * async function sumY(source: DataSource, range: BatchOptions) {
 *   let sum = 0;
 *   for await (const batch of source.batches(2, range)) {
 *     const b: Batch = batch;
 *     for (const v of b.y) sum += v;
 *   }
 *   return sum;
 * }
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "x,y\n0,1\n1,2\n2,3\n3,4\n");
 * const y: ColumnRef = "y";
 * const format: SourceFormat = "csv";
 * // An option of another format (dtype is for raw files) is an error.
 * const dtype: SourceDtype = "f64";
 * await assert.rejects(openSource(path, { format, dtype }), /dtype/);
 * const options: OpenSourceOptions = { x: "x", y, format };
 * const src = await openSource(path, options);
 * assert.strictEqual(await sumY(src, { start: 1, end: 3 }), 5);
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

/**
 * A block of consecutive rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { Batch } from "@nlsq/nlsq/data";
 * const batches: Batch[] = [];
 * for await (const b of arraySource([1, 2, 3], [2, 4, 6]).batches(2)) batches.push(b);
 * assert.deepStrictEqual(batches.map((b) => b.start), [0, 2]);
 * ```
 */
export interface Batch {
  /** One column per feature, each with the same length as `y`. */
  x: Float64Array[];
  /** The observed values. */
  y: Float64Array;
  /** Standard deviations of `y`, when the source has them. */
  sigma?: Float64Array;
  /** Index of the first row of the batch's range (0-based). */
  start: number;
}

/**
 * Options of {@linkcode DataSource.batches}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { BatchOptions } from "@nlsq/nlsq/data";
 * const o: BatchOptions = { start: 1, end: 3 };
 * let n = 0;
 * for await (const b of arraySource([1, 2, 3], [2, 4, 6]).batches(10, o)) n += b.y.length;
 * assert.strictEqual(n, 2);
 * ```
 */
export interface BatchOptions {
  /** First row (inclusive, default 0). */
  start?: number;
  /** Last row (exclusive, default `length`). */
  end?: number;
  /** Stops the iteration (it throws `signal.reason`) before the next batch. */
  signal?: AbortSignal;
}

/**
 * Something that yields `(x, y[, sigma])` in batches and knows its length.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { DataSource } from "@nlsq/nlsq";
 * const src: DataSource = arraySource([1, 2, 3], [2, 4, 6]);
 * assert.strictEqual(src.length, 3);
 * assert.strictEqual(src.nFeatures, 1);
 * ```
 */
export interface DataSource {
  /** Rows; `undefined` only for generators of unknown length. */
  readonly length: number | undefined;
  /** Number of x columns. */
  readonly nFeatures: number;
  /** Whether batches carry `sigma`. */
  readonly hasSigma: boolean;
  /** Human-readable summary, e.g. `"data.npy (npy f64, 1000000 rows)"`. */
  readonly description: string;
  /** Names of the x columns where the file gives them (a CSV header). */
  readonly xNames?: readonly string[];
  /**
   * Stable identity of the data, for checkpoints: format, absolute path, size,
   * modification time, selected columns and a hash of the first and last KiB
   * for files; a content hash for arrays.
   */
  readonly fingerprint: string;
  /**
   * Rows `[start, end)` in order, `batchSize` rows per batch (the last one may
   * be shorter). Each call starts an independent pass.
   */
  batches(batchSize: number, options?: BatchOptions): AsyncIterable<Batch>;
  /** All rows as one batch; meant for data that fits in memory. */
  readAll?(): Promise<Batch>;
  /**
   * Random access for consumers that make many passes (the streaming
   * strategy): a reader that reads any row range into buffers the caller
   * owns and reuses, with no new arrays per read. Sources that cannot seek
   * (producers) leave it out.
   */
  openReader?(): Promise<RowReader>;
  /** Releases file handles; later calls to `batches` throw. Idempotent. */
  close(): Promise<void> | void;
}

/**
 * Column buffers of a {@linkcode RowReader}: one array per x column, y, and
 * sigma when the source has it, each at least as long as the rows read.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ColumnBuffers } from "@nlsq/nlsq/data";
 * const into: ColumnBuffers = { x: [new Float64Array(4)], y: new Float64Array(4) };
 * assert.strictEqual(into.sigma, undefined);
 * ```
 */
export interface ColumnBuffers {
  /** One column per feature. */
  x: Float64Array[];
  /** The observed values. */
  y: Float64Array;
  /** Standard deviations, when the source has them. */
  sigma?: Float64Array;
}

/**
 * What {@linkcode RowReader.read} returns: the columns holding the rows,
 * valid in their first `rows` entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { RowsRead } from "@nlsq/nlsq/data";
 * const r: RowsRead = { x: [new Float64Array([1, 0])], y: new Float64Array([2, 0]), rows: 1 };
 * assert.strictEqual(r.y.subarray(0, r.rows)[0], 2);
 * ```
 */
export interface RowsRead extends ColumnBuffers {
  /** Rows read: `end - start`, fewer when `dropInvalid` left some out. */
  rows: number;
}

/**
 * Reads row ranges of a source into the caller's buffers (see
 * {@linkcode DataSource.openReader}). The values are checked as by
 * `batches()` (an error names the row and column, or `dropInvalid` leaves
 * the row out), and a file that changed since it was opened throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { RowReader } from "@nlsq/nlsq/data";
 * const reader: RowReader = await arraySource([1, 2, 3], [2, 4, 6]).openReader!();
 * const into = { x: [new Float64Array(2)], y: new Float64Array(2) };
 * const r = await reader.read(1, 3, into);
 * assert.deepStrictEqual([r.rows, ...r.y.subarray(0, r.rows)], [2, 4, 6]);
 * reader.close();
 * ```
 */
export interface RowReader {
  /**
   * Reads rows `[start, end)`. The result's columns are `into`'s (which
   * only this call writes), or read-only views of the source's own arrays
   * where it holds the rows in memory. One read at a time per reader.
   */
  read(start: number, end: number, into: ColumnBuffers): Promise<RowsRead>;
  /** Releases the reader's files (idempotent). */
  close(): void;
}

/**
 * A column: a name (CSV header, HDF5 dataset path, NPY file) or 0-based index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ColumnRef } from "@nlsq/nlsq/data";
 * const refs: ColumnRef[] = ["time", 2];
 * assert.strictEqual(typeof refs[1], "number");
 * ```
 */
export type ColumnRef = string | number;

/**
 * File formats understood by {@linkcode openSource}. A format added here is
 * a compile error in `data/open_source.ts` until it has an opener.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SOURCE_FORMATS } from "@nlsq/nlsq/data";
 * assert.deepStrictEqual([...SOURCE_FORMATS], ["npy", "csv", "tsv", "hdf5", "raw"]);
 * ```
 */
export const SOURCE_FORMATS = ["npy", "csv", "tsv", "hdf5", "raw"] as const;

/**
 * A file format understood by {@linkcode openSource}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SOURCE_FORMATS } from "@nlsq/nlsq/data";
 * import type { SourceFormat } from "@nlsq/nlsq/data";
 * const f: SourceFormat = "tsv";
 * assert.ok(SOURCE_FORMATS.includes(f));
 * ```
 */
export type SourceFormat = typeof SOURCE_FORMATS[number];

/**
 * Element types of binary files.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SOURCE_DTYPES } from "@nlsq/nlsq/data";
 * assert.deepStrictEqual([...SOURCE_DTYPES], ["f64", "f32"]);
 * ```
 */
export const SOURCE_DTYPES = ["f64", "f32"] as const;

/**
 * An element type of binary files.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { SourceDtype } from "@nlsq/nlsq/data";
 * const d: SourceDtype = "f64";
 * assert.strictEqual(d, "f64");
 * ```
 */
export type SourceDtype = typeof SOURCE_DTYPES[number];

/**
 * Options of {@linkcode openSource}. Which ones apply depends on the format;
 * defaults select column 0 as x and column 1 as y (HDF5: datasets `x`, `y`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { OpenSourceOptions } from "@nlsq/nlsq/data";
 * const o: OpenSourceOptions = { format: "csv", x: ["t"], y: "y" };
 * assert.strictEqual(o.format, "csv");
 * ```
 */
export interface OpenSourceOptions {
  /** x column(s): names or 0-based indices; several for several features. */
  x?: ColumnRef | ColumnRef[];
  /** y column. */
  y?: ColumnRef;
  /** sigma column (none by default). */
  sigma?: ColumnRef;
  /** Format; by default from the extension. */
  format?: SourceFormat;
  /** Raw binary: element type (`.f64` and `.f32` imply it; `.bin` needs it). */
  dtype?: SourceDtype;
  /** Raw binary: number of columns per row (required). */
  columns?: number;
  /**
   * Raw binary: `"rows"` (default) stores row after row, the columns of a row
   * interleaved (C order); `"columns"` stores each column contiguously.
   */
  layout?: "rows" | "columns";
  /** Raw binary: bytes to skip at the start of the file (a header). */
  byteOffset?: number;
  /** HDF5: a 2-D dataset whose columns `x`/`y`/`sigma` select by index. */
  dataset?: string;
  /** CSV/TSV: field delimiter (default `,`, or a tab for TSV). */
  delimiter?: string;
  /** CSV/TSV: whether the first line holds column names (default true). */
  header?: boolean;
  /**
   * CSV/TSV: where the binary copy of the selected columns made at open
   * goes (`"auto"`, `"memory"`, `"file"`, `"none"`; see `openCsv`).
   */
  binaryCopy?: "auto" | "memory" | "file" | "none";
  /** Leave out rows with missing or invalid values instead of throwing. */
  dropInvalid?: boolean;
}
