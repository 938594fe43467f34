// Batches from binary tables of f64/f32 (NPY and raw files): one or more
// files ("parts"), each a table of `rows` x `columns` elements stored row
// after row (C order) or column after column (Fortran order). A read costs
// one positioned read per part (row layout) or per selected column (column
// layout). Native f64 columns (column layout, or a part of one column) are
// read straight into the caller's buffers; interleaved rows are read into
// one reused buffer and split into the columns in one loop per part, which
// also checks the values.

import {
  assertOpen,
  checkColumns,
  checkRead,
  type ColumnLabels,
  firstBadSigma,
  firstNonFinite,
  readAllBatches,
  resolveRange,
} from "./_batching.ts";
import {
  assertUnchanged,
  type FileSnapshot,
  readExactly,
} from "./_file_guard.ts";
import type {
  Batch,
  BatchOptions,
  ColumnBuffers,
  DataSource,
  RowReader,
  RowsRead,
  SourceDtype,
} from "./source.ts";

/** One file holding a table. */
export interface BinaryPart {
  snap: FileSnapshot;
  dataOffset: number;
  rows: number;
  columns: number;
  dtype: SourceDtype;
  bigEndian: boolean;
  layout: "rows" | "columns";
}

/** A selected column: which part, which column of it, and its label. */
export interface ColumnPick {
  part: number;
  column: number;
  label: string | number;
}

/** Everything a {@linkcode BinarySource} needs. */
export interface BinarySourceInit {
  parts: BinaryPart[];
  x: ColumnPick[];
  y: ColumnPick;
  sigma?: ColumnPick;
  description: string;
  fingerprint: string;
  dropInvalid: boolean;
}

const HOST_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/** Rows of a table as the file holds them (see {@linkcode TableReader}). */
export interface TableRows {
  /** `rows * stride` values: the rows, columns interleaved. */
  readonly table: Float64Array;
  readonly stride: number;
  /** Column of each x, then of y. */
  readonly columns: readonly number[];
  /** Column of sigma, or -1. */
  readonly sigmaColumn: number;
  readonly rows: number;
}

/**
 * A reader of one interleaved table of native f64 rows (an (n, k) NPY
 * array, a raw file of rows) that can also hand out the rows unchecked and
 * unsplit, for consumers that split and check them where they compute
 * (`core/_table_rows.ts`); where a check fails they read the range again
 * with `read`, which names the bad value or drops its row.
 */
export interface TableReader extends RowReader {
  /** Values per row of the table. */
  readonly stride: number;
  /** Rows `[start, end)` as the file holds them, into `into` (from 0). */
  readTable(start: number, end: number, into: Float64Array): Promise<TableRows>;
}

/** Whether `reader` is a {@linkcode TableReader}. */
export function isTableReader(reader: RowReader): reader is TableReader {
  return typeof (reader as Partial<TableReader>).readTable === "function";
}

/** A data source over binary tables. */
export class BinarySource implements DataSource {
  readonly length: number;
  readonly nFeatures: number;
  readonly hasSigma: boolean;
  readonly description: string;
  readonly fingerprint: string;
  #init: BinarySourceInit;
  #labels: ColumnLabels;
  #closed = false;

  constructor(init: BinarySourceInit) {
    this.#init = init;
    this.length = init.parts[0].rows;
    this.nFeatures = init.x.length;
    this.hasSigma = init.sigma !== undefined;
    this.description = init.description;
    this.fingerprint = init.fingerprint;
    this.#labels = {
      x: init.x.map((p) => p.label),
      y: init.y.label,
      sigma: init.sigma?.label,
    };
  }

  async *batches(
    batchSize: number,
    options?: BatchOptions,
  ): AsyncGenerator<Batch> {
    assertOpen(this.#closed, this.#init.parts[0].snap.path);
    const { start, end } = resolveRange(batchSize, options, this.length);
    const reader = await this.openReader();
    try {
      for (let s = start; s < end; s += batchSize) {
        options?.signal?.throwIfAborted();
        const e = Math.min(end, s + batchSize);
        // Fresh arrays per batch: consumers of batches() may keep them.
        const col = () => new Float64Array(e - s);
        const into: ColumnBuffers = {
          x: Array.from({ length: this.nFeatures }, col),
          y: col(),
        };
        if (this.hasSigma) into.sigma = col();
        const r = await reader.read(s, e, into);
        const cut = (a: Float64Array) =>
          r.rows === a.length ? a : a.slice(0, r.rows);
        const batch: Batch = { x: r.x.map(cut), y: cut(r.y), start: s };
        if (r.sigma) batch.sigma = cut(r.sigma);
        yield batch;
      }
    } finally {
      reader.close();
    }
  }

  async openReader(): Promise<RowReader> {
    assertOpen(this.#closed, this.#init.parts[0].snap.path);
    const files: Deno.FsFile[] = [];
    try {
      for (const p of this.#init.parts) {
        files.push(await Deno.open(p.snap.absolute, { read: true }));
      }
    } catch (e) {
      for (const f of files) f.close();
      throw e;
    }
    const part = this.#init.parts[0];
    const table = this.#init.parts.length === 1 && part.layout === "rows" &&
      part.columns > 1 && itemSize(part) === 8 &&
      part.bigEndian === HOST_BIG_ENDIAN;
    return table
      ? new BinaryTableReader(this, this.#init, this.#labels, files)
      : new BinaryReader(this, this.#init, this.#labels, files);
  }

  readAll(): Promise<Batch> {
    return readAllBatches(this);
  }

  close(): void {
    this.#closed = true;
  }
}

class BinaryReader implements RowReader {
  #raw = new Uint8Array(0);
  #closed = false;
  // A read is a seek and a read on shared handles: one at a time, even
  // when a caller starts one while another is in flight (read-ahead).
  #queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every read started before it has finished. */
  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn, fn);
    this.#queue = p.catch(() => {});
    return p;
  }

  constructor(
    readonly source: BinarySource,
    readonly init: BinarySourceInit,
    readonly labels: ColumnLabels,
    readonly files: Deno.FsFile[],
  ) {}

  read(
    start: number,
    end: number,
    into: ColumnBuffers,
  ): Promise<RowsRead> {
    return this.exclusive(() => this.#read(start, end, into));
  }

  async #read(
    start: number,
    end: number,
    into: ColumnBuffers,
  ): Promise<RowsRead> {
    const { parts, dropInvalid } = this.init;
    const path = parts[0].snap.path;
    assertOpen(this.#closed, path);
    const src = this.source;
    checkRead(start, end, src.length, into, src.nFeatures, src.hasSigma);
    const n = end - start;
    const picks = [...this.init.x, this.init.y];
    const targets = [...into.x, into.y];
    if (this.init.sigma) {
      picks.push(this.init.sigma);
      targets.push(into.sigma!);
    }
    const sigmaAt = this.init.sigma ? picks.length - 1 : -1;
    let valid = true;
    for (let k = 0; k < parts.length; k++) {
      const part = parts[k];
      const mine = picks.flatMap((p, j) => (p.part === k ? [j] : []));
      if (mine.length === 0) continue;
      await assertUnchanged(part.snap);
      const size = itemSize(part);
      const native = size === 8 && part.bigEndian === HOST_BIG_ENDIAN;
      const file = this.files[k];
      if (part.layout === "rows" && !(part.columns === 1 && native)) {
        const bytes = this.#rawBytes(n * part.columns * size);
        await readExactly(
          file,
          part.dataOffset + start * part.columns * size,
          bytes,
          part.snap.path,
        );
        const view = decode(bytes, part);
        for (let m = 0; m < mine.length; m++) {
          const j = mine[m], j2 = mine[m + 1];
          // Two plain columns of one table (x and y): one loop for both.
          if (j2 !== undefined && j !== sigmaAt && j2 !== sigmaAt) {
            valid = split2(
              view,
              part.columns,
              picks[j].column,
              targets[j],
              picks[j2].column,
              targets[j2],
              n,
            ) && valid;
            m++;
          } else {
            valid = split1(
              view,
              part.columns,
              picks[j].column,
              targets[j],
              n,
              j === sigmaAt,
            ) && valid;
          }
        }
        continue;
      }
      // One column at a time: contiguous in the file.
      for (const j of mine) {
        const offset = part.dataOffset +
          ((part.layout === "columns" ? picks[j].column * part.rows : 0) +
              start) * size;
        const t = targets[j];
        if (native) {
          await readExactly(
            file,
            offset,
            new Uint8Array(t.buffer, t.byteOffset, n * 8),
            part.snap.path,
          );
          valid =
            (j === sigmaAt ? firstBadSigma(t, n) : firstNonFinite(t, n)) < 0 &&
            valid;
        } else {
          const bytes = this.#rawBytes(n * size);
          await readExactly(file, offset, bytes, part.snap.path);
          valid = split1(decode(bytes, part), 1, 0, t, n, j === sigmaAt) &&
            valid;
        }
      }
    }
    const rows = checkColumns(
      into,
      n,
      start,
      this.labels,
      path,
      dropInvalid,
      valid,
    );
    const out: RowsRead = { x: into.x, y: into.y, rows };
    if (into.sigma) out.sigma = into.sigma;
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const f of this.files) f.close();
  }

  /** Throws the typed "closed" error after `close()`. */
  assertOpen(): void {
    assertOpen(this.#closed, this.init.parts[0].snap.path);
  }

  // A buffer at offset 0 of its own ArrayBuffer, so that its views are
  // aligned; grown, never shrunk, over the reader's life.
  #rawBytes(length: number): Uint8Array {
    if (this.#raw.length < length) this.#raw = new Uint8Array(length);
    return this.#raw.subarray(0, length);
  }
}

class BinaryTableReader extends BinaryReader implements TableReader {
  get stride(): number {
    return this.init.parts[0].columns;
  }

  readTable(
    start: number,
    end: number,
    into: Float64Array,
  ): Promise<TableRows> {
    return this.exclusive(() => this.#readTable(start, end, into));
  }

  async #readTable(
    start: number,
    end: number,
    into: Float64Array,
  ): Promise<TableRows> {
    const part = this.init.parts[0];
    const k = part.columns, n = end - start;
    if (
      !Number.isSafeInteger(start) || !Number.isSafeInteger(end) ||
      start < 0 || end < start || end > this.source.length
    ) {
      throw new RangeError(
        `rows [${start}, ${end}) are not a range of the ${this.source.length} rows`,
      );
    }
    if (into.length < n * k) {
      throw new RangeError(`the buffer must hold ${n} rows of ${k} values`);
    }
    this.assertOpen();
    await assertUnchanged(part.snap);
    await readExactly(
      this.files[0],
      part.dataOffset + start * k * 8,
      new Uint8Array(into.buffer, into.byteOffset, n * k * 8),
      part.snap.path,
    );
    const { x, y, sigma } = this.init;
    return {
      table: into.subarray(0, n * k),
      stride: k,
      columns: [...x.map((c) => c.column), y.column],
      sigmaColumn: sigma ? sigma.column : -1,
      rows: n,
    };
  }
}

function itemSize(part: BinaryPart): number {
  return part.dtype === "f64" ? 8 : 4;
}

// Views the bytes (at offset 0 of their own buffer, hence aligned) as floats,
// swapping byte order in place first when the file's differs from the host's.
function decode(
  bytes: Uint8Array,
  part: BinaryPart,
): Float64Array | Float32Array {
  const size = itemSize(part);
  if (part.bigEndian !== HOST_BIG_ENDIAN) {
    for (let i = 0; i < bytes.length; i += size) {
      for (let a = i, b = i + size - 1; a < b; a++, b--) {
        const t = bytes[a];
        bytes[a] = bytes[b];
        bytes[b] = t;
      }
    }
  }
  return size === 8
    ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8)
    : new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

// Copies column `column` of a row-major view with `stride` columns into
// `out`; returns whether every value is finite (and positive, for sigma).
function split1(
  view: Float64Array | Float32Array,
  stride: number,
  column: number,
  out: Float64Array,
  n: number,
  sigma: boolean,
): boolean {
  let ok = true;
  if (sigma) {
    for (let i = 0, at = column; i < n; i++, at += stride) {
      const v = view[at];
      out[i] = v;
      if (!(v > 0) || v === Infinity) ok = false;
    }
  } else {
    for (let i = 0, at = column; i < n; i++, at += stride) {
      const v = view[at];
      out[i] = v;
      if (v - v !== 0) ok = false;
    }
  }
  return ok;
}

// Two columns in one loop (the usual x, y of an (n, 2) table): the rows are
// read from memory once.
function split2(
  view: Float64Array | Float32Array,
  stride: number,
  c0: number,
  out0: Float64Array,
  c1: number,
  out1: Float64Array,
  n: number,
): boolean {
  let ok = true;
  for (let i = 0, at = 0; i < n; i++, at += stride) {
    const a = view[at + c0], b = view[at + c1];
    out0[i] = a;
    out1[i] = b;
    if (a - a !== 0 || b - b !== 0) ok = false;
  }
  return ok;
}
