/**
 * A whole NPY array in memory for `fitBatch`: a 2-D file `(nFits, nPoints)`
 * whose rows are fits (numpy's natural layout for a stack of spectra or
 * decays), or a 1-D file (one shared column). The header is the data
 * sources' (`data/_npy_header.ts`: '<f8', '<f4' and big-endian forms, C or
 * Fortran order, the size checked); the values come back as one row-major
 * Float64Array.
 *
 * @module
 */

import { readNpyHeader } from "../data/_npy_header.ts";
import { readExactly, snapshot } from "../data/_file_guard.ts";

/** An NPY array read whole: `rows * cols` values, row-major. */
export interface NpyRows {
  /** 1 for a 1-D file. */
  readonly rows: number;
  readonly cols: number;
  readonly is1d: boolean;
  readonly values: Float64Array;
}

/** Whether `v` names a file (a path string or a file: URL). */
export function isPath(v: unknown): v is string | URL {
  return typeof v === "string" || v instanceof URL;
}

/**
 * Reads the NPY file at `path` whole. Errors are the data sources'
 * `DataSourceError`s, naming the file.
 */
export async function readNpyRows(path: string | URL): Promise<NpyRows> {
  const p = path instanceof URL ? decodeURIComponent(path.pathname) : path;
  const snap = await snapshot(p);
  const h = await readNpyHeader(snap);
  const is1d = h.shape.length === 1;
  const rows = is1d ? 1 : h.shape[0], cols = is1d ? h.shape[0] : h.shape[1];
  const n = rows * cols, size = h.dtype === "f64" ? 8 : 4;
  const bytes = new Uint8Array(n * size);
  const file = await Deno.open(snap.absolute, { read: true });
  try {
    await readExactly(file, h.dataOffset, bytes, p);
  } finally {
    file.close();
  }
  const view = new DataView(bytes.buffer);
  const little = !h.bigEndian;
  const values = new Float64Array(n);
  // Fortran order stores column by column: element (r, c) at c * rows + r.
  const at = h.fortranOrder && !is1d
    ? (k: number) => (k % cols) * rows + Math.floor(k / cols)
    : (k: number) => k;
  for (let k = 0; k < n; k++) {
    const o = at(k) * size;
    values[k] = size === 8
      ? view.getFloat64(o, little)
      : view.getFloat32(o, little);
  }
  return { rows, cols, is1d, values };
}
