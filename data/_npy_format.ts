// The NPY format (magic, version, header length, and a Python dict literal
// with 'descr', 'fortran_order' and 'shape';
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
// read from bytes in memory: the file source reads them from disk, a page
// from a dropped file.

import { DataSourceError } from "./data_source_error.ts";
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

/** Where the header dict lies, from the first (up to) 12 bytes. */
export interface NpyPrefix {
  major: number;
  version: string;
  /** Byte offset of the header dict. */
  headerStart: number;
  /** Its length in bytes. */
  headerLength: number;
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

/**
 * Checks the magic and version in the first `min(12, size)` bytes of an NPY
 * file of `size` bytes, and says where its header dict lies.
 */
export function npyPrefix(
  prefix: Uint8Array,
  size: number,
  path: string,
): NpyPrefix {
  if (size < 10) {
    throw new DataSourceError(
      "format",
      `not an NPY file (${size} bytes, shorter than a header)`,
      { path },
    );
  }
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
    headerLength = new DataView(prefix.buffer, prefix.byteOffset).getUint32(
      8,
      true,
    );
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
  if (dataOffset > size) {
    throw new DataSourceError(
      "truncated",
      `the file ends inside the NPY header (${size} bytes, header needs ${dataOffset})`,
      { path },
    );
  }
  return { major, version, headerStart, headerLength };
}

/**
 * The header from its dict's bytes `raw` (after {@linkcode npyPrefix}),
 * checked against the file's `size`.
 */
export function npyHeader(
  at: NpyPrefix,
  raw: Uint8Array,
  size: number,
  path: string,
): NpyHeader {
  // Version 1/2 headers are latin-1 (ASCII in practice); 3 is UTF-8.
  const text = new TextDecoder(at.major === 3 ? "utf-8" : "latin1").decode(
    raw,
  );
  const parsed = parseDict(text, path);
  const dataOffset = at.headerStart + at.headerLength;
  const itemSize = parsed.dtype === "f64" ? 8 : 4;
  const count = parsed.shape.reduce((a, b) => a * b, 1);
  const expected = dataOffset + count * itemSize;
  if (size !== expected) {
    throw new DataSourceError(
      "truncated",
      `${
        size < expected ? "truncated" : "longer than declared"
      }: the header declares shape ${
        shapeText(parsed.shape)
      } of ${parsed.descr}, which needs ${expected} bytes, but the file has ${size}`,
      { path },
    );
  }
  return { ...parsed, dataOffset, version: at.version };
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
