/**
 * {@linkcode openSource}: opens a data file by its extension or a declared
 * format.
 *
 * @module
 */

import { extname } from "node:path";
import { openCsv } from "./csv_source.ts";
import { openHdf5 } from "./hdf5_source.ts";
import { openNpy } from "./npy_source.ts";
import { openRaw } from "./raw_source.ts";
import { checkOptionNames } from "./_options.ts";
import {
  type ColumnRef,
  type DataSource,
  type OpenSourceOptions,
  SOURCE_FORMATS,
  type SourceFormat,
} from "./source.ts";

/**
 * The format of each file extension {@linkcode openSource} knows.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(SOURCE_EXTENSIONS[".tab"], "tsv");
 * ```
 */
export const SOURCE_EXTENSIONS: Readonly<Record<string, SourceFormat>> = {
  ".npy": "npy",
  ".csv": "csv",
  ".tsv": "tsv",
  ".tab": "tsv",
  ".h5": "hdf5",
  ".hdf5": "hdf5",
  ".he5": "hdf5",
  ".f64": "raw",
  ".f32": "raw",
  ".bin": "raw",
  ".raw": "raw",
};

/**
 * The format of a file by its extension (case-insensitive), or undefined
 * when the extension does not tell.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(formatOfPath("runs/decay.TSV"), "tsv");
 * assert.strictEqual(formatOfPath("data.h5"), "hdf5");
 * assert.strictEqual(formatOfPath("data.txt"), undefined);
 * ```
 */
export function formatOfPath(path: string): SourceFormat | undefined {
  const ext = extname(path).toLowerCase();
  return Object.hasOwn(SOURCE_EXTENSIONS, ext)
    ? SOURCE_EXTENSIONS[ext]
    : undefined;
}

/**
 * Each option and the formats it applies to (empty: all). Typed by the
 * option names: an option added to `OpenSourceOptions` without an entry
 * here is a compile error.
 */
const OPTION_FORMATS: {
  readonly [K in keyof OpenSourceOptions]-?: readonly SourceFormat[];
} = {
  x: [],
  y: [],
  sigma: [],
  format: [],
  dropInvalid: [],
  dtype: ["raw"],
  columns: ["raw"],
  layout: ["raw"],
  byteOffset: ["raw"],
  dataset: ["hdf5"],
  delimiter: ["csv", "tsv"],
  header: ["csv", "tsv"],
  binaryCopy: ["csv", "tsv"],
};

/** Opens one format, `options` checked against {@linkcode OPTION_FORMATS}. */
type Opener = (
  path: string,
  options: OpenSourceOptions,
  format: SourceFormat,
) => Promise<DataSource>;

/** Refuses a column name for a format whose columns have only indices. */
function onlyIndices(
  format: SourceFormat,
  role: string,
  ref: ColumnRef | undefined,
): number | undefined {
  if (typeof ref === "string") {
    throw new TypeError(
      `${role}: ${format} files have no column names; select by 0-based index, got ${
        JSON.stringify(ref)
      }`,
    );
  }
  return ref;
}

/**
 * The opener of every format. Typed by {@linkcode SourceFormat}: a format
 * added to `SOURCE_FORMATS` without an opener here is a compile error.
 */
const OPENERS: { readonly [F in SourceFormat]: Opener } = {
  npy: (path, options, format) =>
    openNpy(path, {
      x: options.x,
      y: onlyIndices(format, "y", options.y),
      sigma: options.sigma,
      dropInvalid: options.dropInvalid,
    }),
  csv: (path, options) => openCsv(path, { ...options, format: "csv" }),
  tsv: (path, options) => openCsv(path, { ...options, format: "tsv" }),
  hdf5: (path, options) => openHdf5(path, options),
  raw: (path, options, format) => {
    const xs = options.x === undefined
      ? undefined
      : (Array.isArray(options.x) ? options.x : [options.x]).map((r) =>
        onlyIndices(format, "x", r)!
      );
    return openRaw(path, {
      ...options,
      x: xs,
      y: onlyIndices(format, "y", options.y),
      sigma: onlyIndices(format, "sigma", options.sigma),
    });
  },
};

/**
 * Opens a data file as a {@linkcode DataSource}. The format comes from
 * `options.format`, else from the extension: `.npy`, `.csv`, `.tsv`, `.h5` /
 * `.hdf5`, and raw `.f64` / `.f32` / `.bin` (raw files need `columns`, and
 * `.bin` needs `dtype`). `x` / `y` / `sigma` select columns: header names or
 * indices for CSV/TSV, indices for NPY tables and raw files, dataset paths for
 * HDF5 (or indices into `dataset`). Defaults: x is column 0 and y column 1
 * (HDF5: datasets `x` and `y`); no sigma.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "x,y\n0,1\n1,3\n2,5\n");
 * const src = await openSource(path, { x: "x", y: "y" });
 * assert.strictEqual(src.length, 3);
 * let total = 0;
 * for await (const b of src.batches(2)) total += b.y.reduce((a, v) => a + v, 0);
 * assert.strictEqual(total, 9);
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param options Column selection, format and layout.
 * @returns The opened source; `close()` it when done.
 */
export async function openSource(
  path: string,
  options: OpenSourceOptions = {},
): Promise<DataSource> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("path must be a non-empty string");
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError("openSource options must be an object");
  }
  const format = options.format ?? formatOfPath(path);
  // An option meant for another format would be silently ignored.
  const known = format !== undefined && Object.hasOwn(OPENERS, format);
  checkOptionNames(
    "openSource",
    options,
    OPTION_FORMATS,
    known ? format : undefined,
  );
  if (format === undefined) {
    throw new TypeError(
      `cannot tell the format of ${path} from its extension; give format (${
        SOURCE_FORMATS.join(", ")
      })`,
    );
  }
  if (!known) {
    throw new TypeError(
      `unknown format ${JSON.stringify(format)}; expected one of ${
        SOURCE_FORMATS.join(", ")
      }`,
    );
  }
  return await OPENERS[format](path, options, format);
}
