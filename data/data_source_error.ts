/**
 * The error thrown when a data source cannot be read: a malformed or
 * unsupported file, a bad value, or a file that changed while being read.
 *
 * @module
 */

import { quoted } from "./_quote.ts";

/**
 * What went wrong, so that callers can branch without parsing messages.
 *
 * - `"format"`: the file is not what its format says (bad NPY magic or
 *   header, not an HDF5 file or a damaged one, a CSV row with more or fewer
 *   fields than the header).
 * - `"dtype"`: an element type the source does not support (`'<i4'`).
 * - `"layout"`: unsupported layout (Fortran order, 3-D arrays, a raw file whose
 *   size is not a whole number of rows, columns of different lengths).
 * - `"truncated"`: the file is shorter (or longer) than its header declares.
 * - `"missing"`: a CSV row lacks a selected column.
 * - `"not-a-number"`: a CSV field that does not parse as a number.
 * - `"not-finite"`: NaN or ±Infinity (or a sigma that is not positive).
 * - `"changed"`: the file changed size, time or identity since it was opened.
 * - `"column"`: an unknown column or dataset name, or a CSV header that
 *   names two columns alike.
 * - `"closed"`: the source was closed.
 * - `"exhausted"`: a single-use iterable was asked for a second pass.
 * - `"length"`: an iterable produced a different number of rows than declared.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { DataSourceErrorCode } from "@nlsq/nlsq/data";
 * const code: DataSourceErrorCode = "not-finite";
 * assert.strictEqual(code, "not-finite");
 * ```
 */
export type DataSourceErrorCode =
  | "format"
  | "dtype"
  | "layout"
  | "truncated"
  | "missing"
  | "not-a-number"
  | "not-finite"
  | "changed"
  | "column"
  | "closed"
  | "exhausted"
  | "length";

/**
 * Where a {@linkcode DataSourceError} happened. All fields are optional.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { DataSourceErrorLocation } from "@nlsq/nlsq/data";
 * const where: DataSourceErrorLocation = { path: "data.csv", line: 3, column: "y" };
 * assert.strictEqual(where.line, 3);
 * ```
 */
export interface DataSourceErrorLocation {
  /** File path (or a description such as `"array"` for in-memory data). */
  path?: string;
  /** 1-based line in a text file, counting the header line. */
  line?: number;
  /** Column name (CSV header, dataset path) or 0-based column index. */
  column?: string | number;
  /** 0-based data row (not counting a header). */
  row?: number;
}

/**
 * A data file that cannot be read as asked. The message names the file, and
 * the line (text files) or row and the column where they apply; the same
 * facts are available as fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const code: DataSourceErrorCode = "not-a-number";
 * const where: DataSourceErrorLocation = {
 *   path: "data.csv",
 *   line: 5,
 *   column: "y",
 * };
 * const err = new DataSourceError(code, '"abc" is not a number', where);
 * assert.strictEqual(
 *   err.message,
 *   'data.csv, line 5, column "y": "abc" is not a number',
 * );
 * assert.strictEqual(err.line, 5);
 * assert.strictEqual(err.code, "not-a-number");
 * assert.ok(err instanceof Error);
 * ```
 */
export class DataSourceError extends Error {
  /** The kind of failure. */
  readonly code: DataSourceErrorCode;
  /** File path, when the source is a file. */
  readonly path: string | undefined;
  /** 1-based line (text files), counting the header line. */
  readonly line: number | undefined;
  /** Column name or 0-based index. */
  readonly column: string | number | undefined;
  /** 0-based data row. */
  readonly row: number | undefined;

  /**
   * Builds the error; `where` prefixes the message.
   *
   * @param code The kind of failure.
   * @param what What went wrong, without the location.
   * @param where The location; it is prefixed to the message.
   * @param options Standard error options (`cause`).
   */
  constructor(
    code: DataSourceErrorCode,
    what: string,
    where: DataSourceErrorLocation = {},
    options?: ErrorOptions,
  ) {
    super(`${formatLocation(where)}${what}`, options);
    this.name = "DataSourceError";
    this.code = code;
    this.path = where.path;
    this.line = where.line;
    this.column = where.column;
    this.row = where.row;
  }
}

function formatLocation(where: DataSourceErrorLocation): string {
  const parts: string[] = [];
  if (where.path !== undefined) parts.push(where.path);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.row !== undefined) parts.push(`row ${where.row}`);
  if (where.column !== undefined) {
    parts.push(
      typeof where.column === "number"
        ? `column ${where.column}`
        : `column ${quoted(where.column)}`,
    );
  }
  return parts.length === 0 ? "" : `${parts.join(", ")}: `;
}
