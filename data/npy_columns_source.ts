/**
 * Separate 1-D NPY files (one per column) read as one data source.
 *
 * @module
 */

import { basename } from "node:path";
import {
  type BinaryPart,
  BinarySource,
  type ColumnPick,
} from "./_binary_source.ts";
import { fileFingerprint } from "./_file_guard.ts";
import { npyPart } from "./_npy_header.ts";
import { DataSourceError } from "./data_source_error.ts";
import type { DataSource } from "./source.ts";
import { flag } from "./_options.ts";

/**
 * Paths of separate 1-D NPY files for {@linkcode npySource}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { NpyColumnFiles } from "@nlsq/nlsq/data";
 * const files: NpyColumnFiles = { x: ["x0.npy", "x1.npy"], y: "y.npy" };
 * assert.strictEqual(files.x.length, 2);
 * ```
 */
export interface NpyColumnFiles {
  /** x file, or one file per feature. */
  x: string | string[];
  /** y file. */
  y: string;
  /** sigma file. */
  sigma?: string;
}

/**
 * Opens separate 1-D NPY files (shape `(n,)` or `(n, 1)`) as the columns of
 * one source. All files must have the same length; each may be f64 or f32.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // Minimal writer for a 1-D '<f8' array.
 * async function save(values: number[]): Promise<string> {
 *   const header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${values.length},), }`;
 *   const padded = header.padEnd(128 - 10 - 1) + "\n";
 *   const bytes = new Uint8Array(128 + 8 * values.length);
 *   bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length, 0]);
 *   bytes.set(new TextEncoder().encode(padded), 10);
 *   new Float64Array(bytes.buffer, 128).set(values);
 *   const path = await Deno.makeTempFile({ suffix: ".npy" });
 *   await Deno.writeFile(path, bytes);
 *   return path;
 * }
 * const xPath = await save([1, 2, 3]);
 * const yPath = await save([10, 20, 30]);
 * const files: NpyColumnFiles = { x: xPath, y: yPath };
 * const src = await npySource(files);
 * const batches = [];
 * for await (const b of src.batches(2)) batches.push(Array.from(b.x[0]));
 * assert.deepStrictEqual(batches, [[1, 2], [3]]);
 * await Deno.remove(xPath);
 * await Deno.remove(yPath);
 * ```
 *
 * @param files Paths of the x, y and sigma files.
 * @param options `dropInvalid`: leave out rows with NaN/Inf.
 */
export async function npySource(
  files: NpyColumnFiles,
  options: { dropInvalid?: boolean } = {},
): Promise<DataSource> {
  if (files === null || typeof files !== "object") {
    throw new TypeError("npySource needs { x, y, sigma? } file paths");
  }
  const xPaths = Array.isArray(files.x) ? files.x : [files.x];
  const paths = [...xPaths, files.y];
  if (files.sigma !== undefined) paths.push(files.sigma);
  for (const p of paths) {
    if (typeof p !== "string") {
      throw new TypeError(`NPY column files must be paths, got ${p}`);
    }
  }
  if (xPaths.length === 0) throw new TypeError("x must name at least one file");
  const parts: BinaryPart[] = [];
  for (const p of paths) {
    const { part, is1d, shape } = await npyPart(p);
    if (!is1d) {
      throw new DataSourceError(
        "layout",
        `expected a single column, of shape (n,) or (n, 1), got shape ${shape}`,
        { path: p },
      );
    }
    if (part.rows !== parts[0]?.rows && parts.length > 0) {
      throw new DataSourceError(
        "layout",
        `has ${part.rows} rows but ${parts[0].snap.path} has ${parts[0].rows}`,
        { path: p },
      );
    }
    parts.push(part);
  }
  const picks = paths.map((p, k): ColumnPick => ({
    part: k,
    column: 0,
    label: basename(p),
  }));
  const nx = xPaths.length;
  const prints = await Promise.all(
    parts.map((part) => fileFingerprint(part.snap, "npy", "column")),
  );
  return new BinarySource({
    parts,
    x: picks.slice(0, nx),
    y: picks[nx],
    sigma: files.sigma === undefined ? undefined : picks[nx + 1],
    description: `${paths.map((p) => basename(p)).join(" + ")} (npy columns, ${
      parts[0].rows
    } rows)`,
    fingerprint: prints.join("|"),
    dropInvalid: flag("dropInvalid", options.dropInvalid, false),
  });
}
