// The NPY header of a file on disk (the format itself: `_npy_format.ts`).

import { type FileSnapshot, readExactly } from "./_file_guard.ts";
import type { BinaryPart } from "./_binary_source.ts";
import { snapshot } from "./_file_guard.ts";
import {
  type NpyHeader,
  npyHeader,
  npyPrefix,
  shapeText,
} from "./_npy_format.ts";

export type { NpyHeader } from "./_npy_format.ts";
export { shapeText } from "./_npy_format.ts";

/** Reads and validates the header of the NPY file `snap`, and its size. */
export async function readNpyHeader(snap: FileSnapshot): Promise<NpyHeader> {
  const path = snap.path;
  const file = await Deno.open(snap.absolute, { read: true });
  try {
    const prefix = new Uint8Array(Math.min(12, snap.size));
    if (snap.size >= 10) await readExactly(file, 0, prefix, path);
    const at = npyPrefix(prefix, snap.size, path);
    const raw = new Uint8Array(at.headerLength);
    await readExactly(file, at.headerStart, raw, path);
    return npyHeader(at, raw, snap.size, path);
  } finally {
    file.close();
  }
}

/**
 * Opens the NPY file `path` as a binary table; `is1d` for one column, of
 * shape (n,) or (n, 1) (`shape` tells them apart in messages).
 */
export async function npyPart(
  path: string,
): Promise<{ part: BinaryPart; is1d: boolean; shape: string }> {
  const snap = await snapshot(path);
  const header = await readNpyHeader(snap);
  const [rows, columns = 1] = header.shape;
  return {
    shape: shapeText(header.shape),
    is1d: header.shape.length === 1 || columns === 1,
    part: {
      snap,
      dataOffset: header.dataOffset,
      rows,
      columns,
      dtype: header.dtype,
      bigEndian: header.bigEndian,
      // A (n,) array has one layout only; Fortran order of (n, k) is columns.
      layout: header.fortranOrder && columns > 1 ? "columns" : "rows",
    },
  };
}
