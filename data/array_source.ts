/**
 * A data source over arrays already in memory.
 *
 * @module
 */

import {
  allValid,
  assertOpen,
  checkColumns,
  checkFinite,
  checkRead,
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
import type {
  Batch,
  BatchOptions,
  ColumnBuffers,
  DataSource,
  RowReader,
  RowsRead,
} from "./source.ts";
import { flag } from "./_options.ts";

/**
 * Options of {@linkcode arraySource}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "@nlsq/nlsq";
 * import type { ArraySourceOptions } from "@nlsq/nlsq/data";
 * const o: ArraySourceOptions = { dropInvalid: true };
 * const src = arraySource([1, 2, 3], [1, NaN, 3], undefined, o);
 * let rows = 0;
 * for await (const b of src.batches(10)) rows += b.y.length;
 * assert.strictEqual(rows, 2);
 * ```
 */
export interface ArraySourceOptions {
  /** Leave out rows with NaN/Inf (or sigma <= 0) instead of throwing. */
  dropInvalid?: boolean;
}

/**
 * Wraps in-memory arrays as a {@linkcode DataSource}. Batches are views into
 * the arrays (no copy) unless rows are dropped. `x` is one column or a list of
 * columns (one per feature); number arrays are converted to Float64Array once.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const options: ArraySourceOptions = { dropInvalid: true };
 * const src = arraySource([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], undefined, options);
 * const sizes = [];
 * for await (const b of src.batches(2, { start: 1 })) {
 *   sizes.push([b.start, Array.from(b.y)]);
 * }
 * assert.deepStrictEqual(sizes, [[1, [4, 6]], [3, [8, 10]]]);
 * assert.strictEqual(src.length, 5);
 * ```
 *
 * @param x One column, or one column per feature.
 * @param y Observed values.
 * @param sigma Optional standard deviations of `y`.
 * @param options See {@linkcode ArraySourceOptions}.
 */
export function arraySource(
  x: XInput,
  y: NumericArray,
  sigma?: NumericArray,
  options: ArraySourceOptions = {},
): DataSource {
  return new ArraySource(
    toColumns(x),
    toFloat64(y, "y"),
    sigma === undefined ? undefined : toFloat64(sigma, "sigma"),
    flag("dropInvalid", options.dropInvalid, false),
  );
}

class ArraySource implements DataSource {
  readonly length: number;
  readonly nFeatures: number;
  readonly hasSigma: boolean;
  #x: Float64Array[];
  #y: Float64Array;
  #sigma: Float64Array | undefined;
  #dropInvalid: boolean;
  #fingerprint: string | undefined;
  #labels: ColumnLabels;
  #closed = false;

  constructor(
    x: Float64Array[],
    y: Float64Array,
    sigma: Float64Array | undefined,
    dropInvalid: boolean,
  ) {
    for (const [f, c] of x.entries()) {
      if (c.length !== y.length) {
        throw new RangeError(
          `x${
            x.length > 1 ? `[${f}]` : ""
          } has ${c.length} values but y has ${y.length}`,
        );
      }
    }
    if (sigma !== undefined && sigma.length !== y.length) {
      throw new RangeError(
        `sigma has ${sigma.length} values but y has ${y.length}`,
      );
    }
    this.#x = x;
    this.#y = y;
    this.#sigma = sigma;
    this.#dropInvalid = dropInvalid;
    this.length = y.length;
    this.nFeatures = x.length;
    this.hasSigma = sigma !== undefined;
    this.#labels = {
      x: x.length === 1 ? ["x"] : x.map((_, f) => `x${f}`),
      y: "y",
      sigma: "sigma",
    };
  }

  get description(): string {
    return `array (${this.length} rows, ${this.nFeatures} feature${
      this.nFeatures === 1 ? "" : "s"
    }${this.hasSigma ? ", sigma" : ""})`;
  }

  /** A content hash, computed on first use (one pass over the arrays). */
  get fingerprint(): string {
    if (this.#fingerprint === undefined) {
      let h = 0x811c9dc5;
      const columns = [...this.#x, this.#y];
      if (this.#sigma) columns.push(this.#sigma);
      for (const c of columns) {
        const words = new Uint32Array(c.buffer, c.byteOffset, c.length * 2);
        for (let i = 0; i < words.length; i++) {
          h = Math.imul(h ^ words[i], 0x01000193);
          h ^= h >>> 15;
        }
      }
      this.#fingerprint = `array:${this.length}:${this.nFeatures}:${
        this.hasSigma ? 1 : 0
      }:${(h >>> 0).toString(16).padStart(8, "0")}`;
    }
    return this.#fingerprint;
  }

  async *batches(
    batchSize: number,
    options?: BatchOptions,
  ): AsyncGenerator<Batch> {
    assertOpen(this.#closed, "array");
    const { start, end } = resolveRange(batchSize, options, this.length);
    for (let s = start; s < end; s += batchSize) {
      options?.signal?.throwIfAborted();
      const e = Math.min(end, s + batchSize);
      const batch: Batch = {
        x: this.#x.map((c) => c.subarray(s, e)),
        y: this.#y.subarray(s, e),
        sigma: this.#sigma?.subarray(s, e),
        start: s,
      };
      if (batch.sigma === undefined) delete batch.sigma;
      yield checkFinite(batch, this.#labels, "array", this.#dropInvalid);
    }
  }

  readAll(): Promise<Batch> {
    return readAllBatches(this);
  }

  /** Reads views of the arrays; rows are copied only when some are dropped. */
  openReader(): Promise<RowReader> {
    assertOpen(this.#closed, "array");
    let open = true;
    const read = (start: number, end: number, into: ColumnBuffers) => {
      assertOpen(this.#closed || !open, "array");
      checkRead(start, end, this.length, into, this.nFeatures, this.hasSigma);
      const n = end - start;
      const view = (a: Float64Array) => a.subarray(start, end);
      const cols: ColumnBuffers = { x: this.#x.map(view), y: view(this.#y) };
      if (this.#sigma) cols.sigma = view(this.#sigma);
      if (allValid(cols, n)) return { ...cols, rows: n };
      // Bad rows: an error, or the good ones copied into the caller's buffers.
      into.x.forEach((c, f) => c.set(cols.x[f]));
      into.y.set(cols.y);
      if (cols.sigma) into.sigma!.set(cols.sigma);
      const rows = checkColumns(
        into,
        n,
        start,
        this.#labels,
        "array",
        this.#dropInvalid,
        false,
      );
      const out: RowsRead = { x: into.x, y: into.y, rows };
      if (cols.sigma) out.sigma = into.sigma;
      return out;
    };
    return Promise.resolve({
      read: (start, end, into) => {
        try {
          return Promise.resolve(read(start, end, into));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      close: () => {
        open = false;
      },
    });
  }

  close(): void {
    this.#closed = true;
  }
}
