/**
 * HDF5 datasets, read through h5wasm.
 *
 * Columns are 1-D datasets named by path (`x: "/group/t"`), or columns of one
 * 2-D dataset (`dataset: "/table", x: 0, y: 1`). Each batch reads one
 * hyperslab per dataset (`Dataset.slice`), and h5wasm's Node build reads the
 * file on disk through positional reads (Emscripten's NODERAWFS), so memory
 * holds a batch plus HDF5's chunk cache, never the file. Integer and float
 * datasets (f32, f64, 8- to 64-bit integers) are converted to f64.
 *
 * h5wasm is loaded on first use. Only `--allow-read` is needed. A damaged or
 * truncated file throws a {@linkcode DataSourceError} naming the file and
 * HDF5's reason; the C library's own error report is not printed.
 *
 * @module
 */

import { basename } from "node:path";
import type { Dataset, File as H5File } from "h5wasm/node";
import { diagnosticSummary, loadH5wasm, quietly } from "./_h5wasm.ts";
import {
  assertOpen,
  checkColumns,
  checkFinite,
  checkRead,
  type ColumnLabels,
  readAllBatches,
  resolveRange,
} from "./_batching.ts";
import {
  assertUnchanged,
  fileFingerprint,
  type FileSnapshot,
  readExactly,
  snapshot,
} from "./_file_guard.ts";
import { columnIndex, defaultSelection, selectionText } from "./_select.ts";
import { DataSourceError } from "./data_source_error.ts";
import type {
  Batch,
  BatchOptions,
  ColumnBuffers,
  ColumnRef,
  DataSource,
  RowReader,
  RowsRead,
} from "./source.ts";
import { flag } from "./_options.ts";

/**
 * Options of {@linkcode openHdf5}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { Hdf5Options } from "@nlsq/nlsq/data";
 * const o: Hdf5Options = { x: "/data/t", y: "/data/y", sigma: "/data/err" };
 * assert.strictEqual(o.y, "/data/y");
 * ```
 */
export interface Hdf5Options {
  /**
   * x: dataset path(s) (default `"x"`), or with `dataset`, column index(es)
   * (default 0).
   */
  x?: ColumnRef | ColumnRef[];
  /** y: dataset path (default `"y"`), or column index (default 1). */
  y?: ColumnRef;
  /** sigma: dataset path or column index. */
  sigma?: ColumnRef;
  /** A 2-D dataset `(n, k)` whose columns x/y/sigma select by index. */
  dataset?: string;
  /** Leave out rows with NaN/Inf (or sigma <= 0) instead of throwing. */
  dropInvalid?: boolean;
}

// The HDF5 superblock signature, searched at 0, 512, 1024, 2048, ...
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

/**
 * Opens datasets of an HDF5 file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import h5wasm from "h5wasm/node";
 * await h5wasm.ready;
 * const path = await Deno.makeTempFile({ suffix: ".h5" });
 * const w = new h5wasm.File(path, "w");
 * w.create_dataset({ name: "t", data: new Float64Array([0, 1, 2, 3]) });
 * w.create_dataset({ name: "v", data: new Float32Array([1, 3, 5, 7]) });
 * w.close();
 *
 * const options: Hdf5Options = { x: "/t", y: "/v" };
 * const src = await openHdf5(path, options);
 * const ys = [];
 * for await (const b of src.batches(3)) ys.push(Array.from(b.y));
 * assert.deepStrictEqual(ys, [[1, 3, 5], [7]]);
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param options See {@linkcode Hdf5Options}.
 */
export async function openHdf5(
  path: string,
  options: Hdf5Options = {},
): Promise<DataSource> {
  const snap = await snapshot(path);
  await assertHdf5(snap);
  const h5 = await loadH5wasm();
  const file = guard(path, "open the file", () => {
    const f = new h5.File(snap.absolute, "r");
    // A failed open leaves its reason in the diagnostics.
    if (f.file_id < 0n) throw new Error("HDF5 could not open the file");
    return f;
  });
  try {
    const table = options.dataset;
    const sel = defaultSelection(
      options,
      table === undefined ? { x: "x", y: "y" } : { x: 0, y: 1 },
    );
    const refs = [...sel.x, sel.y];
    if (sel.sigma !== undefined) refs.push(sel.sigma);
    let columns: Column[];
    if (table !== undefined) {
      const ds = dataset(h5, file, table, snap.path);
      const shape = checkShape(ds, table, snap.path, 2);
      columns = refs.map((r, j) => {
        const role = roleOf(j, sel.x.length);
        return {
          ds,
          name: table,
          column: columnIndex(r, shape[1], role, snap.path),
          width: shape[1],
          rows: shape[0],
        };
      });
    } else {
      columns = refs.map((r, j) => {
        if (typeof r !== "string") {
          throw new TypeError(
            `${
              roleOf(j, sel.x.length)
            }: give a dataset path, or give dataset to select columns of a 2-D dataset by index (got ${r})`,
          );
        }
        const ds = dataset(h5, file, r, snap.path);
        const shape = checkShape(ds, r, snap.path, 1);
        return { ds, name: r, column: 0, width: 1, rows: shape[0] };
      });
    }
    for (const c of columns) {
      if (c.rows !== columns[0].rows) {
        throw new DataSourceError(
          "layout",
          `dataset ${c.name} has ${c.rows} rows but ${columns[0].name} has ${
            columns[0].rows
          }`,
          { path, column: c.name },
        );
      }
    }
    const text = `${table === undefined ? "" : `${table}:`}${
      selectionText(sel)
    }`;
    return new Hdf5Source(
      snap,
      file,
      columns,
      sel.x.length,
      sel.sigma !== undefined,
      `${basename(path)} (hdf5, ${columns[0].rows} rows, ${text})`,
      await fileFingerprint(snap, "hdf5", text),
      flag("dropInvalid", options.dropInvalid, false),
    );
  } catch (error) {
    quietly(() => file.close());
    throw error;
  }
}

/**
 * Runs h5wasm calls with HDF5's stderr diagnostics captured: a thrown error,
 * or an error stack printed by a call that returned, means the file is
 * damaged (or uses what this build cannot read, such as an unregistered
 * filter) and becomes a DataSourceError naming the file and HDF5's reason.
 */
function guard<T>(
  path: string,
  doing: string,
  fn: () => T,
  column?: string,
): T {
  const r = quietly(fn);
  if (r.ok && r.diagnostics === "") return r.value;
  const reason = diagnosticSummary(r.diagnostics) ||
    (r.ok ? "HDF5 reported an error" : String(
      (r.error as Error)?.message ?? r.error,
    ).slice(0, 200));
  const truncated = /truncated/i.test(reason);
  throw new DataSourceError(
    truncated ? "truncated" : "format",
    `cannot ${doing}: the file is ${
      truncated ? "truncated" : "damaged or not readable by HDF5"
    } (HDF5: ${reason})`,
    { path, column },
    r.ok ? undefined : { cause: r.error },
  );
}

interface Column {
  ds: Dataset;
  name: string;
  column: number;
  width: number;
  rows: number;
}

function roleOf(j: number, nx: number): string {
  return j < nx ? (nx > 1 ? `x[${j}]` : "x") : j === nx ? "y" : "sigma";
}

async function assertHdf5(snap: FileSnapshot): Promise<void> {
  const file = await Deno.open(snap.absolute, { read: true });
  try {
    const probe = new Uint8Array(8);
    for (let at = 0; at + 8 <= snap.size; at = at === 0 ? 512 : at * 2) {
      await readExactly(file, at, probe, snap.path);
      if (SIGNATURE.every((b, i) => probe[i] === b)) return;
    }
  } finally {
    file.close();
  }
  throw new DataSourceError(
    "format",
    "not an HDF5 file (no superblock signature)",
    { path: snap.path },
  );
}

function dataset(
  h5: Awaited<ReturnType<typeof loadH5wasm>>,
  file: H5File,
  name: string,
  path: string,
): Dataset {
  const entity = guard(path, `read ${name}`, () => file.get(name), name);
  if (entity instanceof h5.Dataset) return entity;
  const available: string[] = [];
  const walk = (group: InstanceType<typeof h5.Group>, prefix: string) => {
    for (const key of group.keys()) {
      const child = group.get(key);
      if (child instanceof h5.Dataset) available.push(`${prefix}/${key}`);
      else if (child instanceof h5.Group) walk(child, `${prefix}/${key}`);
    }
  };
  guard(path, "list the datasets", () => walk(file, ""));
  throw new DataSourceError(
    "column",
    `${entity === null ? "no dataset" : "not a dataset:"} ${
      JSON.stringify(name)
    }; datasets in the file: ${available.join(", ") || "(none)"}`,
    { path, column: name },
  );
}

function checkShape(
  ds: Dataset,
  name: string,
  path: string,
  want: 1 | 2,
): number[] {
  const { meta, dtype, shape } = guard(path, `read ${name}`, () => ({
    meta: ds.metadata,
    dtype: ds.dtype,
    shape: ds.shape ?? [],
  }), name);
  const numeric = meta.type === H5T_INTEGER ||
    (meta.type === H5T_FLOAT && (meta.size === 4 || meta.size === 8));
  if (!numeric) {
    throw new DataSourceError(
      "dtype",
      `dataset ${name} has type ${dtype}; numeric (float32/64, integer) datasets are supported`,
      { path, column: name },
    );
  }
  // (n, 1) is a column too.
  const ok = want === 1
    ? shape.length === 1 || (shape.length === 2 && shape[1] === 1)
    : shape.length === 2;
  if (!ok) {
    throw new DataSourceError(
      "layout",
      `dataset ${name} has shape (${shape.join(", ")}); expected ${
        want === 1 ? "a 1-D dataset (n,)" : "a 2-D dataset (n, k)"
      }`,
      { path, column: name },
    );
  }
  return shape;
}

class Hdf5Source implements DataSource {
  readonly length: number;
  #closed = false;
  #labels: ColumnLabels;

  constructor(
    readonly snap: FileSnapshot,
    readonly file: H5File,
    readonly columns: Column[],
    readonly nFeatures: number,
    readonly hasSigma: boolean,
    readonly description: string,
    readonly fingerprint: string,
    readonly dropInvalid: boolean,
  ) {
    this.length = columns[0].rows;
    const label = (c: Column) => c.width === 1 ? c.name : c.column;
    this.#labels = {
      x: columns.slice(0, nFeatures).map(label),
      y: label(columns[nFeatures]),
      sigma: hasSigma ? label(columns[nFeatures + 1]) : undefined,
    };
  }

  async *batches(
    batchSize: number,
    options?: BatchOptions,
  ): AsyncGenerator<Batch> {
    assertOpen(this.#closed, this.snap.path);
    const { start, end } = resolveRange(batchSize, options, this.length);
    for (let s = start; s < end; s += batchSize) {
      options?.signal?.throwIfAborted();
      assertOpen(this.#closed, this.snap.path);
      await assertUnchanged(this.snap);
      const e = Math.min(end, s + batchSize);
      const out = this.#read(s, e);
      const batch: Batch = {
        x: out.slice(0, this.nFeatures),
        y: out[this.nFeatures],
        start: s,
      };
      if (this.hasSigma) batch.sigma = out[this.nFeatures + 1];
      yield checkFinite(batch, this.#labels, this.snap.path, this.dropInvalid);
    }
  }

  #read(s: number, e: number): Float64Array[] {
    // Columns of one 2-D dataset share a read of whole rows when few columns
    // are skipped; otherwise each column is its own hyperslab.
    const shared = new Map<Dataset, ArrayLike<number | bigint>>();
    return this.columns.map((c) => {
      if (c.width === 1) {
        return toFloat64(this.#slice(c, [[s, e]]), 0, 1, e - s);
      }
      if (c.width <= 2 * this.columns.length) {
        let rows = shared.get(c.ds);
        if (rows === undefined) {
          rows = this.#slice(c, [[s, e]]);
          shared.set(c.ds, rows);
        }
        return toFloat64(rows, c.column, c.width, e - s);
      }
      return toFloat64(
        this.#slice(c, [[s, e], [c.column, c.column + 1]]),
        0,
        1,
        e - s,
      );
    });
  }

  #slice(c: Column, ranges: [number, number][]): ArrayLike<number | bigint> {
    const data = guard(
      this.snap.path,
      `read rows ${ranges[0][0]}..${ranges[0][1]} of ${c.name}`,
      () => c.ds.slice(ranges),
      c.name,
    );
    if (
      data === null || typeof data !== "object" ||
      typeof (data as ArrayLike<unknown>).length !== "number"
    ) {
      throw new DataSourceError(
        "format",
        `reading rows ${ranges[0][0]}..${ranges[0][1]} of ${c.name} failed`,
        { path: this.snap.path, column: c.name },
      );
    }
    return data as ArrayLike<number | bigint>;
  }

  readAll(): Promise<Batch> {
    return readAllBatches(this);
  }

  /**
   * Random access by hyperslab: each read returns the columns h5wasm makes
   * for the slice (it copies out of the file anyway), checked, with bad
   * rows named or left out.
   */
  openReader(): Promise<RowReader> {
    assertOpen(this.#closed, this.snap.path);
    let open = true;
    const path = this.snap.path;
    const read = async (
      start: number,
      end: number,
      into: ColumnBuffers,
    ): Promise<RowsRead> => {
      assertOpen(this.#closed || !open, path);
      checkRead(start, end, this.length, into, this.nFeatures, this.hasSigma);
      await assertUnchanged(this.snap);
      const out = this.#read(start, end);
      const nf = this.nFeatures;
      const cols: RowsRead = { x: out.slice(0, nf), y: out[nf], rows: 0 };
      if (this.hasSigma) cols.sigma = out[nf + 1];
      cols.rows = checkColumns(
        cols,
        end - start,
        start,
        this.#labels,
        path,
        this.dropInvalid,
      );
      return cols;
    };
    return Promise.resolve({
      read,
      close: () => {
        open = false;
      },
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    quietly(() => this.file.close());
  }
}

// Column `column` of row-major data with `stride` values per row, as f64
// (64-bit integers arrive as BigInt64Array and go through Number).
function toFloat64(
  data: ArrayLike<number | bigint>,
  column: number,
  stride: number,
  rows: number,
): Float64Array {
  if (
    stride === 1 && !(data instanceof BigInt64Array) &&
    !(data instanceof BigUint64Array)
  ) {
    return new Float64Array(data as ArrayLike<number>);
  }
  const out = new Float64Array(rows);
  for (let i = 0, at = column; i < rows; i++, at += stride) {
    out[i] = Number(data[at]);
  }
  return out;
}
