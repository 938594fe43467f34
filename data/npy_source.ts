/**
 * NPY files (numpy's `np.save` format): a 2-D table `(n, k)` whose columns
 * are selected by index, or single columns (`(n,)` or `(n, 1)`) in separate
 * files.
 *
 * Supported: versions 1.0, 2.0 and 3.0; `'<f8'` and `'<f4'` (and their
 * big-endian forms, byte-swapped on read); C order, and Fortran order, which
 * stores each column contiguously and is read column by column. The header
 * is validated, and so is the file size against it.
 *
 * @module
 */

import { basename } from "node:path";
import { BinarySource, type ColumnPick } from "./_binary_source.ts";
import { fileFingerprint } from "./_file_guard.ts";
import { npyPart } from "./_npy_header.ts";
import { columnIndex, defaultSelection, selectionText } from "./_select.ts";
import { npySource } from "./npy_columns_source.ts";
import type { DataSource } from "./source.ts";
import { flag } from "./_options.ts";

/**
 * Options of {@linkcode openNpy}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { NpyOptions } from "@nlsq/nlsq/data";
 * const o: NpyOptions = { x: [0, 1], y: 2 };
 * assert.strictEqual(o.y, 2);
 * ```
 */
export interface NpyOptions {
  /**
   * 2-D table: x column index (or indices; default 0). 1-D file: path(s) of
   * NPY files holding x, the file at `path` being y.
   */
  x?: number | string | (number | string)[];
  /** 2-D table: y column index (default 1). */
  y?: number;
  /** 2-D table: sigma column index; 1-D file: path of the sigma NPY file. */
  sigma?: number | string;
  /** Leave out rows with NaN/Inf (or sigma <= 0) instead of throwing. */
  dropInvalid?: boolean;
}

/**
 * Opens an NPY file. A 2-D table `(n, k)` selects its columns by index (x
 * defaults to column 0 and y to column 1). A 1-D file is the y column, and
 * `x` (and `sigma`) name the other 1-D files, as in `npySource`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // A 3 x 2 table of '<f8' written by hand: header, then rows.
 * const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }";
 * const padded = header.padEnd(128 - 10 - 1) + "\n";
 * const bytes = new Uint8Array(128 + 48);
 * bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length, 0]);
 * bytes.set(new TextEncoder().encode(padded), 10);
 * new Float64Array(bytes.buffer, 128).set([0, 1, 1, 3, 2, 5]);
 * const path = await Deno.makeTempFile({ suffix: ".npy" });
 * await Deno.writeFile(path, bytes);
 *
 * const options: NpyOptions = { x: 0, y: 1 };
 * const src = await openNpy(path, options);
 * const all = await src.readAll!();
 * assert.deepStrictEqual(Array.from(all.y), [1, 3, 5]);
 * assert.strictEqual(src.length, 3);
 * await Deno.remove(path);
 * ```
 *
 * @param path The NPY file.
 * @param options See {@linkcode NpyOptions}.
 */
export async function openNpy(
  path: string,
  options: NpyOptions = {},
): Promise<DataSource> {
  const part = await npyPart(path);
  if (part.is1d) {
    const xs = options.x === undefined
      ? []
      : Array.isArray(options.x)
      ? options.x
      : [options.x];
    if (xs.length === 0 || xs.some((p) => typeof p !== "string")) {
      throw new TypeError(
        `${path} holds a single column (shape ${part.shape}): give x as the path of the x file (openNpy(yPath, { x: "x.npy" })), or use npySource({ x, y })`,
      );
    }
    if (options.y !== undefined) {
      throw new TypeError(
        `${path} holds a single column (shape ${part.shape}), which is y itself; y selects a column of a 2-D table (n, k)`,
      );
    }
    if (options.sigma !== undefined && typeof options.sigma !== "string") {
      throw new TypeError(
        "sigma must be the path of an NPY file holding one column",
      );
    }
    return npySource(
      { x: xs as string[], y: path, sigma: options.sigma },
      { dropInvalid: options.dropInvalid },
    );
  }
  const sel = defaultSelection(options);
  const columns = part.part.columns;
  const pick = (ref: number | string, role: string): ColumnPick => {
    const column = columnIndex(ref, columns, role, path);
    return { part: 0, column, label: column };
  };
  const x = sel.x.map((r, f) => pick(r, sel.x.length > 1 ? `x[${f}]` : "x"));
  const y = pick(sel.y, "y");
  const sigma = sel.sigma === undefined ? undefined : pick(sel.sigma, "sigma");
  const text = selectionText(sel);
  return new BinarySource({
    parts: [part.part],
    x,
    y,
    sigma,
    description: `${basename(path)} (npy ${part.part.dtype} ${
      part.part.layout === "columns" ? "fortran " : ""
    }${part.part.rows} x ${columns}, ${part.part.rows} rows, ${text})`,
    fingerprint: await fileFingerprint(part.part.snap, "npy", text),
    dropInvalid: flag("dropInvalid", options.dropInvalid, false),
  });
}
