// The NPY header: magic, version, header length, and a Python dict literal
// with 'descr', 'fortran_order' and 'shape'
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).

import { DataSourceError } from "./data_source_error.ts";
import { type FileSnapshot, readExactly } from "./_file_guard.ts";
import type { BinaryPart } from "./_binary_source.ts";
import { snapshot } from "./_file_guard.ts";
import type { SourceDtype } from "./source.ts";

/** A validated NPY header. */
export interface NpyHeader {
  /** Byte offset of the first element. */
  dataOffset: number;
  /** The descr as written, e.g. `"<f8"`. */
  descr: string;
  dtype: SourceDtype;
  bigEndian: boolean;
  fortranOrder: boolean;
  /** `[n]` or `[n, k]`. */
  shape: number[];
  /** Format version, e.g. `"1.0"`. */
  version: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
// numpy itself refuses headers above 10 KiB unless told otherwise.
const MAX_HEADER_BYTES = 1 << 20;

const DESCRS: Record<string, { dtype: SourceDtype; bigEndian: boolean }> = {
  "<f8": { dtype: "f64", bigEndian: false },
  "<f4": { dtype: "f32", bigEndian: false },
  ">f8": { dtype: "f64", bigEndian: true },
  ">f4": { dtype: "f32", bigEndian: true },
};

/** Reads and validates the header of the NPY file `snap`, and its size. */
export async function readNpyHeader(snap: FileSnapshot): Promise<NpyHeader> {
  const path = snap.path;
  const file = await Deno.open(snap.absolute, { read: true });
  try {
    if (snap.size < 10) {
      throw new DataSourceError(
        "format",
        `not an NPY file (${snap.size} bytes, shorter than a header)`,
        { path },
      );
    }
    const prefix = new Uint8Array(Math.min(12, snap.size));
    await readExactly(file, 0, prefix, path);
    if (!MAGIC.every((b, i) => prefix[i] === b)) {
      throw new DataSourceError(
        "format",
        "not an NPY file (missing the \\x93NUMPY magic)",
        { path },
      );
    }
    const major = prefix[6];
    const minor = prefix[7];
    const version = `${major}.${minor}`;
    let headerLength: number;
    let headerStart: number;
    if (major === 1) {
      headerLength = prefix[8] | (prefix[9] << 8);
      headerStart = 10;
    } else if (major === 2 || major === 3) {
      if (prefix.length < 12) {
        throw new DataSourceError("truncated", "the NPY header is cut short", {
          path,
        });
      }
      headerLength = new DataView(prefix.buffer).getUint32(8, true);
      headerStart = 12;
    } else {
      throw new DataSourceError(
        "format",
        `unsupported NPY version ${version} (1.0, 2.0 and 3.0 are supported)`,
        { path },
      );
    }
    if (headerLength > MAX_HEADER_BYTES) {
      throw new DataSourceError(
        "format",
        `NPY header length ${headerLength} is implausibly large`,
        { path },
      );
    }
    const dataOffset = headerStart + headerLength;
    if (dataOffset > snap.size) {
      throw new DataSourceError(
        "truncated",
        `the file ends inside the NPY header (${snap.size} bytes, header needs ${dataOffset})`,
        { path },
      );
    }
    const raw = new Uint8Array(headerLength);
    await readExactly(file, headerStart, raw, path);
    // Version 1/2 headers are latin-1 (ASCII in practice); 3 is UTF-8.
    const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(raw);
    const parsed = parseDict(text, path);
    const itemSize = parsed.dtype === "f64" ? 8 : 4;
    const count = parsed.shape.reduce((a, b) => a * b, 1);
    const expected = dataOffset + count * itemSize;
    if (snap.size !== expected) {
      throw new DataSourceError(
        "truncated",
        `${
          snap.size < expected ? "truncated" : "longer than declared"
        }: the header declares shape ${
          shapeText(parsed.shape)
        } of ${parsed.descr}, which needs ${expected} bytes, but the file has ${snap.size}`,
        { path },
      );
    }
    return { ...parsed, dataOffset, version };
  } finally {
    file.close();
  }
}

function parseDict(
  text: string,
  path: string,
): Omit<NpyHeader, "dataOffset" | "version"> {
  const body = text.trim();
  if (!body.startsWith("{") || !body.endsWith("}")) {
    throw new DataSourceError(
      "format",
      `malformed NPY header ${JSON.stringify(body.slice(0, 80))}`,
      { path },
    );
  }
  const descrMatch = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(body);
  if (descrMatch === null) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(body);
    throw new DataSourceError(
      structured ? "dtype" : "format",
      structured
        ? "structured NPY dtypes are not supported (use '<f8' or '<f4')"
        : "the NPY header has no 'descr'",
      { path },
    );
  }
  const descr = descrMatch[2];
  const kind = DESCRS[descr];
  if (kind === undefined) {
    throw new DataSourceError(
      "dtype",
      `unsupported NPY dtype '${descr}' (supported: '<f8', '<f4', '>f8', '>f4')`,
      { path },
    );
  }
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(body);
  if (fortranMatch === null) {
    throw new DataSourceError(
      "format",
      "the NPY header has no 'fortran_order'",
      { path },
    );
  }
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(body);
  if (shapeMatch === null) {
    throw new DataSourceError("format", "the NPY header has no 'shape'", {
      path,
    });
  }
  const dims = shapeMatch[1].split(",").map((s) => s.trim()).filter((s) =>
    s !== ""
  );
  const shape = dims.map((d) => {
    const m = /^(\d+)L?$/.exec(d);
    if (m === null) {
      throw new DataSourceError(
        "format",
        `malformed NPY shape (${shapeMatch[1]})`,
        { path },
      );
    }
    return Number(m[1]);
  });
  if (shape.length < 1 || shape.length > 2) {
    throw new DataSourceError(
      "layout",
      `NPY arrays of shape ${
        shapeText(shape)
      } are not supported: use a 1-D column (n,) or a 2-D table (n, k)`,
      { path },
    );
  }
  return {
    descr,
    dtype: kind.dtype,
    bigEndian: kind.bigEndian,
    fortranOrder: fortranMatch[1] === "True",
    shape,
  };
}

/** A shape as numpy prints it: `(n,)`, `(n, 1)`. */
export function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
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
