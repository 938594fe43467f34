// The passes of the streaming strategy over its data, batch by batch: row
// ranges of in-memory arrays (views, no copy), or batches read from a
// source. A source with random access (`openReader`) is read into two sets
// of shared buffers that live as long as the evaluator: the next batch is
// read while the current one is computed, the worker threads read the batch
// in place, and no arrays are allocated per batch. A table of interleaved
// rows (an (n, k) NPY array, a raw file) is read as it is, and every thread
// splits its own share into columns as it computes (on the GPU the kernels
// read the rows as they are); other sources are read as columns. Sources without random access are iterated with `batches()`,
// one batch read ahead.

import type { WeightedData } from "../core/weights.ts";
import { weightsFromSigma, weightsInto } from "../core/weights.ts";
import type { ColumnBuffers, RowReader, RowsRead } from "../data/source.ts";
import type { BatchSourceLike, StrategyData } from "./strategy.ts";
import {
  isTableReader,
  type TableReader,
  type TableRows,
} from "../data/_binary_source.ts";
import { sampleRows, sampleRuns } from "./_warm_start.ts";

/** Rows [start, end) of `data`, ready for `linearizeRange`. */
export interface RowBlock {
  readonly data: WeightedData;
  readonly start: number;
  readonly end: number;
  readonly table?: undefined;
}

/**
 * Rows of an interleaved table as the file holds them, unchecked: the
 * consumer splits and checks them (`BatchRunner.runTable`), and where a
 * check fails reads them again as columns ({@linkcode StreamingData.columns}).
 */
export interface TableBlock {
  readonly table: TableRows;
  /** Index of the first row in the source. */
  readonly first: number;
}

/**
 * The data of a streaming evaluator and the buffers its passes reuse.
 * `close()` releases the reader (its files).
 */
export class StreamingData {
  readonly #data: StrategyData;
  readonly #batchSize: number;
  #reader: Promise<RowReader> | null = null;
  #sets: ColumnBuffers[] = [];
  #tables: Float64Array[] = [];
  #w: Float64Array | null = null;
  #closed = false;

  readonly #shared: boolean;

  /**
   * @param shared Whether batches go to worker threads (shared memory); a
   *   GPU upload copies shared memory once more, so it reads into plain
   *   buffers.
   */
  constructor(data: StrategyData, batchSize: number, shared = true) {
    this.#data = data;
    this.#batchSize = batchSize;
    this.#shared = shared;
  }

  /** Whether rows can be read at any position (arrays, seekable sources). */
  get randomAccess(): boolean {
    const d = this.#data;
    return d.kind === "memory" ||
      (d.openReader !== undefined && d.length !== undefined);
  }

  /**
   * One pass: the data as row blocks of at most `batchSize` rows; with
   * `tables`, a source that is one interleaved table yields its rows
   * unsplit ({@linkcode TableBlock}).
   */
  blocks(signal?: AbortSignal, tables?: false): AsyncGenerator<RowBlock>;
  blocks(
    signal: AbortSignal | undefined,
    tables: boolean,
  ): AsyncGenerator<RowBlock | TableBlock>;
  blocks(
    signal?: AbortSignal,
    tables = false,
  ): AsyncGenerator<RowBlock | TableBlock> {
    return this.#blocks(signal, tables);
  }

  async *#blocks(
    signal: AbortSignal | undefined,
    tables: boolean,
  ): AsyncGenerator<RowBlock | TableBlock> {
    const d = this.#data;
    if (d.kind === "memory") {
      yield* memoryBlocks(d, this.#batchSize, signal);
    } else if (!this.randomAccess) {
      yield* sourceBlocks(d, this.#batchSize, signal);
    } else {
      const reader = await this.#openReader(d);
      if (tables && isTableReader(reader)) {
        yield* this.#tableBlocks(d.length!, reader, signal);
      } else yield* this.#readerBlocks(d, signal);
    }
  }

  /** Rows `[first, first + rows)` read and checked as columns. */
  async columns(first: number, rows: number): Promise<RowBlock> {
    const d = this.#data as BatchSourceLike;
    const reader = await this.#openReader(d);
    const into = allocate(d.nFeatures, d.hasSigma, rows, this.#shared);
    const got = await reader.read(first, first + rows, into);
    return { data: this.#weighted(got), start: 0, end: got.rows };
  }

  /**
   * About `rows` rows spread evenly over the data (from a source, runs of a
   * few hundred consecutive rows); only with random access.
   */
  async sample(rows: number, signal?: AbortSignal): Promise<WeightedData> {
    const d = this.#data;
    if (d.kind === "memory") return sampleRows(d, rows);
    if (!this.randomAccess) throw new TypeError("no random access");
    const runs = sampleRuns(d.length!, rows);
    const total = runs.reduce((t, r) => t + r.rows, 0);
    const cols = allocate(d.nFeatures, d.hasSigma, total, false);
    const reader = await this.#openReader(d);
    let at = 0;
    for (const { start: s, rows: run } of runs) {
      signal?.throwIfAborted();
      const into: ColumnBuffers = {
        x: cols.x.map((c) => c.subarray(at)),
        y: cols.y.subarray(at),
      };
      if (cols.sigma) into.sigma = cols.sigma.subarray(at);
      const got = await reader.read(s, s + run, into);
      if (got.y !== into.y) copyRows(got, into);
      at += got.rows;
    }
    const cut = (a: Float64Array) => a.slice(0, at);
    return {
      x: cols.x.map(cut),
      y: cut(cols.y),
      w: weightsFromSigma(cols.sigma?.subarray(0, at)),
    };
  }

  /** Releases the reader; later passes throw. */
  async close(): Promise<void> {
    this.#closed = true;
    const r = this.#reader;
    this.#reader = null;
    if (r) (await r.catch(() => null))?.close();
  }

  #openReader(src: BatchSourceLike): Promise<RowReader> {
    if (this.#closed) throw new Error("the streaming evaluator is closed");
    this.#reader ??= src.openReader!();
    return this.#reader;
  }

  async *#readerBlocks(
    src: BatchSourceLike,
    signal?: AbortSignal,
  ): AsyncGenerator<RowBlock> {
    const n = src.length!;
    const size = this.#batchSize;
    const reader = await this.#openReader(src);
    const rows = Math.min(size, n);
    if (this.#sets.length === 0) {
      this.#sets = [0, 1].map(() =>
        allocate(src.nFeatures, src.hasSigma, rows, this.#shared)
      );
    }
    const read = (s: number, k: number): Promise<RowsRead> => {
      const p = reader.read(s, Math.min(n, s + size), this.#sets[k % 2]);
      p.catch(() => {}); // surfaced where it is awaited, if ever
      return p;
    };
    let next = n > 0 ? read(0, 0) : null;
    for (let s = 0, k = 0; next !== null; s += size, k++) {
      signal?.throwIfAborted();
      const got = await next;
      // Read ahead into the other set while this batch is computed: the
      // consumer finishes a block before it asks for the next.
      next = s + size < n ? read(s + size, k + 1) : null;
      yield { data: this.#weighted(got), start: 0, end: got.rows };
    }
  }

  async *#tableBlocks(
    n: number,
    reader: TableReader,
    signal?: AbortSignal,
  ): AsyncGenerator<TableBlock> {
    const size = this.#batchSize;
    if (this.#tables.length === 0) {
      const values = Math.min(size, n) * reader.stride;
      // Shared for the worker threads; plain for a GPU upload, which would
      // copy shared memory once more.
      this.#tables = [0, 1].map(() =>
        new Float64Array(
          this.#shared
            ? new SharedArrayBuffer(values * 8)
            : new ArrayBuffer(values * 8),
        )
      );
    }
    const read = (s: number, k: number) => {
      const p = reader.readTable(s, Math.min(n, s + size), this.#tables[k % 2]);
      p.catch(() => {}); // surfaced where it is awaited, if ever
      return p;
    };
    let next = n > 0 ? read(0, 0) : null;
    for (let s = 0, k = 0; next !== null; s += size, k++) {
      signal?.throwIfAborted();
      const table = await next;
      // Read ahead into the other buffer while this batch is computed.
      next = s + size < n ? read(s + size, k + 1) : null;
      yield { table, first: s };
    }
  }

  // Weights from sigma, into one reused shared buffer.
  #weighted(got: RowsRead): WeightedData {
    let w: Float64Array | null = null;
    if (got.sigma) {
      const n = got.rows;
      if (!this.#w || this.#w.length < n) {
        const bytes = Math.max(n, this.#batchSize) * 8;
        this.#w = new Float64Array(
          this.#shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes),
        );
      }
      w = this.#w.subarray(0, n);
      weightsInto(got.sigma.subarray(0, n), w);
    }
    return { x: got.x, y: got.y, w };
  }
}

/** Column buffers of `rows` rows, in shared memory when `shared`. */
function allocate(
  nFeatures: number,
  hasSigma: boolean,
  rows: number,
  shared: boolean,
): ColumnBuffers {
  const col = () =>
    new Float64Array(
      shared ? new SharedArrayBuffer(rows * 8) : new ArrayBuffer(rows * 8),
    );
  const out: ColumnBuffers = {
    x: Array.from({ length: nFeatures }, col),
    y: col(),
  };
  if (hasSigma) out.sigma = col();
  return out;
}

function copyRows(from: RowsRead, into: ColumnBuffers): void {
  const n = from.rows;
  into.x.forEach((c, f) => c.set(from.x[f].subarray(0, n)));
  into.y.set(from.y.subarray(0, n));
  if (from.sigma) into.sigma!.set(from.sigma.subarray(0, n));
}

async function* memoryBlocks(
  data: WeightedData,
  batchSize: number,
  signal?: AbortSignal,
): AsyncGenerator<RowBlock> {
  const n = data.y.length;
  for (let s = 0; s < n; s += batchSize) {
    signal?.throwIfAborted();
    yield { data, start: s, end: Math.min(n, s + batchSize) };
  }
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
