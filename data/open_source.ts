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
import type {
  ColumnRef,
  DataSource,
  OpenSourceOptions,
  SourceFormat,
} from "./source.ts";

const BY_EXTENSION: Record<string, SourceFormat> = {
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

// Each option and the formats it applies to (empty: all).
const OPTION_FORMATS: Record<string, readonly string[]> = {
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
  const format = options.format ??
    BY_EXTENSION[extname(path).toLowerCase()];
  // An option meant for another format would be silently ignored.
  const known = Object.values(BY_EXTENSION).includes(format!);
  checkOptionNames(
    "openSource",
    options,
    OPTION_FORMATS,
    known ? format : undefined,
  );
  const onlyIndices = (role: string, ref: ColumnRef | undefined) => {
    if (typeof ref === "string") {
      throw new TypeError(
        `${role}: ${format} files have no column names; select by 0-based index, got ${
          JSON.stringify(ref)
        }`,
      );
    }
    return ref;
  };
  switch (format) {
    case "npy":
      return await openNpy(path, {
        x: options.x,
        y: onlyIndices("y", options.y),
        sigma: options.sigma,
        dropInvalid: options.dropInvalid,
      });
    case "csv":
    case "tsv":
      return await openCsv(path, { ...options, format });
    case "hdf5":
      return await openHdf5(path, options);
    case "raw": {
      const xs = options.x === undefined
        ? undefined
        : (Array.isArray(options.x) ? options.x : [options.x]).map((r) =>
          onlyIndices("x", r)!
        );
      return await openRaw(path, {
        ...options,
        x: xs,
        y: onlyIndices("y", options.y),
        sigma: onlyIndices("sigma", options.sigma),
      });
    }
    case undefined:
      throw new TypeError(
        `cannot tell the format of ${path} from its extension; give format (${
          [...new Set(Object.values(BY_EXTENSION))].join(", ")
        })`,
      );
    default:
      throw new TypeError(`unknown format ${JSON.stringify(format)}`);
  }
}
