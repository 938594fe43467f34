/**
 * A data source over batches produced on the fly (a simulation, a network
 * stream, a generator), re-cut to the batch size the consumer asks for.
 *
 * @module
 */

import {
  assertOpen,
  checkFinite,
  type ColumnLabels,
  readAllBatches,
  resolveRange,
} from "./_batching.ts";
import {
  type NumericArray,
  toColumns,
  toFloat64,
  type XInput,
} from "./_arrays.ts";
import { DataSourceError } from "./data_source_error.ts";
import type { Batch, BatchOptions, DataSource } from "./source.ts";
import { flag } from "./_options.ts";

/**
 * A batch as a producer may yield it: plain arrays are accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { iterableSource } from "@nlsq/nlsq/data";
 * import type { BatchLike } from "@nlsq/nlsq/data";
 * const b: BatchLike = { x: [0, 1], y: [1, 3] };
 * const src = iterableSource([b], { nFeatures: 1 });
 * assert.strictEqual(src.nFeatures, 1);
 * ```
 */
export interface BatchLike {
  /** One column, or one column per feature. */
  x: XInput;
  /** Observed values. */
  y: NumericArray;
  /** Standard deviations, required when the source declares `hasSigma`. */
  sigma?: NumericArray;
}

/**
 * What {@linkcode iterableSource} accepts.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { iterableSource } from "@nlsq/nlsq/data";
 * import type { BatchProducer } from "@nlsq/nlsq/data";
 * const producer: BatchProducer = function* () {
 *   yield { x: [0, 1], y: [1, 3] };
 * };
 * assert.strictEqual(iterableSource(producer, { nFeatures: 1 }).hasSigma, false);
 * ```
 */
export type BatchProducer =
  | AsyncIterable<BatchLike>
  | Iterable<BatchLike>
  | (() => AsyncIterable<BatchLike> | Iterable<BatchLike>);

/**
 * Options of {@linkcode iterableSource}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { iterableSource } from "@nlsq/nlsq/data";
 * import type { IterableSourceOptions } from "@nlsq/nlsq/data";
 * const o: IterableSourceOptions = { nFeatures: 1, length: 2, description: "demo" };
 * const src = iterableSource([{ x: [0, 1], y: [1, 3] }], o);
 * assert.strictEqual(src.length, 2);
 * ```
 */
export interface IterableSourceOptions {
  /** Number of x columns every batch must have. */
  nFeatures: number;
  /** Total rows, when known; a producer that yields another count throws. */
  length?: number;
  /** Whether batches carry sigma (default false; extra sigma is ignored). */
  hasSigma?: boolean;
  /** Summary used in logs (default `"iterable"`). */
  description?: string;
  /** Identity for checkpoints; give one if resuming must recognize the data. */
  fingerprint?: string;
  /** Leave out rows with NaN/Inf (or sigma <= 0) instead of throwing. */
  dropInvalid?: boolean;
}

/**
 * Wraps a producer of batches of any size as a {@linkcode DataSource}. Pass a
 * function returning a fresh iterable to allow several passes (every
 * streaming fit needs several); a bare iterable supports one pass, and a
 * second throws a `DataSourceError` with code `"exhausted"`. Rows before
 * `start` are produced and skipped, since a producer cannot seek.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * async function* produce(): AsyncGenerator<BatchLike> {
 *   for (let k = 0; k < 3; k++) {
 *     const x = [k * 3, k * 3 + 1, k * 3 + 2];
 *     yield { x, y: x.map((v) => 2 * v) };
 *   }
 * }
 * const producer: BatchProducer = produce; // a function: several passes
 * const options: IterableSourceOptions = { nFeatures: 1, length: 9 };
 * const src = iterableSource(producer, options);
 * const ys = [];
 * for await (const b of src.batches(4)) ys.push(Array.from(b.y));
 * assert.deepStrictEqual(ys, [[0, 2, 4, 6], [8, 10, 12, 14], [16]]);
 * ```
 *
 * @param producer An iterable of batches, or a function returning one.
 * @param options See {@linkcode IterableSourceOptions}.
 */
export function iterableSource(
  producer: BatchProducer,
  options: IterableSourceOptions,
): DataSource {
  if (!Number.isSafeInteger(options?.nFeatures) || options.nFeatures < 1) {
    throw new RangeError(
      `nFeatures must be a positive integer, got ${options?.nFeatures}`,
    );
  }
  if (
    options.length !== undefined &&
    (!Number.isSafeInteger(options.length) || options.length < 0)
  ) {
    throw new RangeError(
      `length must be a non-negative integer, got ${options.length}`,
    );
  }
  if (
    typeof producer !== "function" &&
    !(Symbol.asyncIterator in Object(producer)) &&
    !(Symbol.iterator in Object(producer))
  ) {
    throw new TypeError(
      "iterableSource needs an iterable or a function returning one",
    );
  }
  return new IterableSource(producer, options);
}

class IterableSource implements DataSource {
  readonly length: number | undefined;
  readonly nFeatures: number;
  readonly hasSigma: boolean;
  readonly description: string;
  readonly fingerprint: string;
  #producer: BatchProducer;
  #used = false;
  #closed = false;
  #dropInvalid: boolean;
  #labels: ColumnLabels;

  constructor(producer: BatchProducer, options: IterableSourceOptions) {
    this.#producer = producer;
    this.length = options.length;
    this.nFeatures = options.nFeatures;
    this.hasSigma = options.hasSigma ?? false;
    this.#dropInvalid = flag("dropInvalid", options.dropInvalid, false);
    this.description = options.description ??
      `iterable (${this.length ?? "unknown number of"} rows)`;
    this.fingerprint = options.fingerprint ??
      `iterable:${this.length ?? "?"}:${this.nFeatures}:${
        this.hasSigma ? 1 : 0
      }`;
    this.#labels = {
      x: this.nFeatures === 1
        ? ["x"]
        : Array.from({ length: this.nFeatures }, (_, f) => `x${f}`),
      y: "y",
      sigma: "sigma",
    };
  }

  #open(): AsyncIterable<BatchLike> | Iterable<BatchLike> {
    if (typeof this.#producer === "function") return this.#producer();
    if (this.#used) {
      throw new DataSourceError(
        "exhausted",
        "a bare iterable allows one pass; pass a function returning a fresh iterable for several",
        { path: this.description },
      );
    }
    this.#used = true;
    return this.#producer;
  }

  async *batches(
    batchSize: number,
    options?: BatchOptions,
  ): AsyncGenerator<Batch> {
    assertOpen(this.#closed, this.description);
    const { start, end } = resolveRange(batchSize, options, this.length);
    const signal = options?.signal;
    const nx = this.nFeatures;
    const pending = new Pending(nx, this.hasSigma);
    let row = 0; // rows produced so far
    let emitted = start; // first row of the next batch
    const flush = (count: number): Batch =>
      checkFinite(
        pending.take(count, emitted),
        this.#labels,
        this.description,
        this.#dropInvalid,
      );
    if (start >= end) return;
    for await (const raw of this.#open()) {
      signal?.throwIfAborted();
      const piece = this.#normalize(raw, row);
      const n = piece.y.length;
      // Keep only the part of the piece inside [start, end).
      const lo = Math.max(0, start - row);
      const hi = Math.min(n, end - row);
      row += n;
      if (lo < hi) pending.push(piece, lo, hi);
      while (pending.rows >= batchSize) {
        yield flush(batchSize);
        emitted += batchSize;
        signal?.throwIfAborted();
      }
      if (row >= end) break;
    }
    if (pending.rows > 0) yield flush(pending.rows);
    // Only a full pass (one that ran to the producer's end) can check length.
    if (this.length !== undefined && end === this.length && row < end) {
      throw new DataSourceError(
        "length",
        `the producer yielded ${row} rows, fewer than the declared length ${this.length}`,
        { path: this.description },
      );
    }
    if (this.length !== undefined && end === this.length && row > end) {
      throw new DataSourceError(
        "length",
        `the producer yielded more rows than the declared length ${this.length}`,
        { path: this.description },
      );
    }
  }

  #normalize(raw: BatchLike, row: number): Batch {
    if (raw === null || typeof raw !== "object") {
      throw new TypeError(`the producer yielded ${raw} instead of a batch`);
    }
    const x = toColumns(raw.x);
    const y = toFloat64(raw.y, "y");
    if (x.length !== this.nFeatures) {
      throw new RangeError(
        `a batch at row ${row} has ${x.length} x columns, expected ${this.nFeatures}`,
      );
    }
    for (const c of x) {
      if (c.length !== y.length) {
        throw new RangeError(
          `a batch at row ${row} has ${c.length} x values but ${y.length} y values`,
        );
      }
    }
    let sigma: Float64Array | undefined;
    if (this.hasSigma) {
      if (raw.sigma === undefined) {
        throw new TypeError(`a batch at row ${row} has no sigma`);
      }
      sigma = toFloat64(raw.sigma, "sigma");
      if (sigma.length !== y.length) {
        throw new RangeError(
          `a batch at row ${row} has ${sigma.length} sigma values but ${y.length} y values`,
        );
      }
    }
    return { x, y, sigma, start: row };
  }

  readAll(): Promise<Batch> {
    return readAllBatches(this);
  }

  close(): void {
    this.#closed = true;
  }
}

// Pieces waiting to be cut into batches: slices are kept as views and copied
// once, into the batch that takes them.
class Pending {
  rows = 0;
  #pieces: { x: Float64Array[]; y: Float64Array; sigma?: Float64Array }[] = [];

  constructor(readonly nx: number, readonly hasSigma: boolean) {}

  push(piece: Batch, lo: number, hi: number): void {
    this.#pieces.push({
      x: piece.x.map((c) => c.subarray(lo, hi)),
      y: piece.y.subarray(lo, hi),
      sigma: piece.sigma?.subarray(lo, hi),
    });
    this.rows += hi - lo;
  }

  take(count: number, start: number): Batch {
    const x = Array.from({ length: this.nx }, () => new Float64Array(count));
    const y = new Float64Array(count);
    const sigma = this.hasSigma ? new Float64Array(count) : undefined;
    let at = 0;
    while (at < count) {
      const p = this.#pieces[0];
      const k = Math.min(count - at, p.y.length);
      for (let f = 0; f < this.nx; f++) x[f].set(p.x[f].subarray(0, k), at);
      y.set(p.y.subarray(0, k), at);
      sigma?.set(p.sigma!.subarray(0, k), at);
      at += k;
      if (k === p.y.length) {
        this.#pieces.shift();
      } else {
        p.x = p.x.map((c) => c.subarray(k));
        p.y = p.y.subarray(k);
        p.sigma = p.sigma?.subarray(k);
      }
    }
    this.rows -= count;
    const batch: Batch = { x, y, start };
    if (sigma) batch.sigma = sigma;
    return batch;
  }
}
