/**
 * Raw binary files: little-endian f64 or f32 elements, `columns` per row,
 * with a declared layout and no header (or one skipped with `byteOffset`).
 *
 * @module
 */

import { basename, extname } from "node:path";
import { BinarySource, type ColumnPick } from "./_binary_source.ts";
import { fileFingerprint, snapshot } from "./_file_guard.ts";
import { columnIndex, defaultSelection, selectionText } from "./_select.ts";
import { DataSourceError } from "./data_source_error.ts";
import { type DataSource, SOURCE_DTYPES, type SourceDtype } from "./source.ts";
import { listChoices } from "../core/_validate.ts";
import { flag } from "./_options.ts";

/**
 * Options of {@linkcode openRaw}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { RawOptions } from "@nlsq/nlsq/data";
 * const o: RawOptions = { dtype: "f32", columns: 3, layout: "rows" };
 * assert.strictEqual(o.columns, 3);
 * ```
 */
export interface RawOptions {
  /** Element type; `.f64` and `.f32` files imply it. */
  dtype?: SourceDtype;
  /** Elements per row (required). */
  columns?: number;
  /** `"rows"` (default): row after row; `"columns"`: column after column. */
  layout?: "rows" | "columns";
  /** Bytes to skip at the start (a header). */
  byteOffset?: number;
  /** x column index or indices (default 0). */
  x?: number | number[];
  /** y column index (default 1). */
  y?: number;
  /** sigma column index. */
  sigma?: number;
  /** Leave out rows with NaN/Inf (or sigma <= 0) instead of throwing. */
  dropInvalid?: boolean;
}

/**
 * Opens a raw binary file. The number of rows follows from the file size,
 * which must be `byteOffset` plus a whole number of rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".f64" });
 * // Rows (x, y, sigma), interleaved.
 * const rows = new Float64Array([0, 1, 0.1, 1, 3, 0.1, 2, 5, 0.2]);
 * await Deno.writeFile(path, new Uint8Array(rows.buffer));
 * const options: RawOptions = { columns: 3, sigma: 2 };
 * const src = await openRaw(path, options);
 * assert.strictEqual(src.length, 3);
 * const b = await src.readAll!();
 * assert.deepStrictEqual(Array.from(b.sigma!), [0.1, 0.1, 0.2]);
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param options See {@linkcode RawOptions}.
 */
export async function openRaw(
  path: string,
  options: RawOptions = {},
): Promise<DataSource> {
  const ext = extname(path).toLowerCase();
  const implied: SourceDtype | undefined = ext === ".f64"
    ? "f64"
    : ext === ".f32"
    ? "f32"
    : undefined;
  if (options.dtype !== undefined && !SOURCE_DTYPES.includes(options.dtype)) {
    throw new TypeError(
      `dtype must be ${listChoices(SOURCE_DTYPES)}, got ${options.dtype}`,
    );
  }
  if (implied && options.dtype && implied !== options.dtype) {
    throw new TypeError(
      `dtype "${options.dtype}" contradicts the extension of ${path}`,
    );
  }
  const dtype = options.dtype ?? implied;
  if (dtype === undefined) {
    throw new TypeError(
      `raw file ${path}: give dtype (${listChoices(SOURCE_DTYPES)}) for a ${
        ext || "file without extension"
      }`,
    );
  }
  const columns = options.columns;
  if (columns === undefined) {
    throw new TypeError(
      `raw file ${path}: give columns (the number of values per row)`,
    );
  }
  if (!Number.isSafeInteger(columns) || columns < 1) {
    throw new RangeError(`columns must be a positive integer, got ${columns}`);
  }
  const layout = options.layout ?? "rows";
  if (layout !== "rows" && layout !== "columns") {
    throw new TypeError(`layout must be "rows" or "columns", got ${layout}`);
  }
  const byteOffset = options.byteOffset ?? 0;
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) {
    throw new RangeError(
      `byteOffset must be a non-negative integer, got ${byteOffset}`,
    );
  }
  const snap = await snapshot(path);
  const rowBytes = columns * (dtype === "f64" ? 8 : 4);
  const dataBytes = snap.size - byteOffset;
  if (dataBytes < 0 || dataBytes % rowBytes !== 0) {
    throw new DataSourceError(
      "layout",
      `size ${snap.size} bytes${
        byteOffset ? ` minus a ${byteOffset}-byte header` : ""
      } is not a whole number of ${rowBytes}-byte rows (${columns} x ${dtype})`,
      { path },
    );
  }
  const rows = dataBytes / rowBytes;
  const sel = defaultSelection(options);
  const pick = (ref: number | string, role: string): ColumnPick => {
    const column = columnIndex(ref, columns, role, path);
    return { part: 0, column, label: column };
  };
  const text = `${
    selectionText(sel)
  },${columns}x${dtype},${layout}@${byteOffset}`;
  return new BinarySource({
    parts: [{
      snap,
      dataOffset: byteOffset,
      rows,
      columns,
      dtype,
      bigEndian: false,
      layout,
    }],
    x: sel.x.map((r, f) => pick(r, sel.x.length > 1 ? `x[${f}]` : "x")),
    y: pick(sel.y, "y"),
    sigma: sel.sigma === undefined ? undefined : pick(sel.sigma, "sigma"),
    description: `${
      basename(path)
    } (raw ${dtype} ${layout}, ${rows} rows x ${columns}, ${
      selectionText(sel)
    })`,
    fingerprint: await fileFingerprint(snap, "raw", text),
    dropInvalid: flag("dropInvalid", options.dropInvalid, false),
  });
}
