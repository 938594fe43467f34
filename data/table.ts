/**
 * Tables held in memory, from text (CSV, TSV, columns separated by blanks,
 * pasted columns) or from the bytes of an NPY file: what a page reads from a
 * dropped file, where there is no file system to open a source on.
 *
 * Text: the delimiter is a tab, comma, semicolon or blanks, found from the
 * first non-empty line unless given; the first non-empty line is a header
 * when one of its fields is not a number (unless `header` says). Values are
 * decimal numbers as in CSV files (`1`, `-2.5`, `.5`, `6.02e23`); an empty
 * field, any other text, NaN or ±Infinity, and a row with more or fewer
 * fields than the header throw a {@linkcode DataSourceError} naming the
 * file, the 1-based line and the column. Empty lines and lines starting
 * with `#` are skipped; fields may be quoted (`"1.5"`, on one line).
 *
 * @module
 */

import { DataSourceError } from "./data_source_error.ts";
import { clipped, quoted } from "./_quote.ts";
import { npyHeader, npyPrefix, shapeText } from "./_npy_format.ts";

/** Columns of numbers with their names. */
export interface Table {
  /** Column names (the header, or `column 1`, `column 2`, ...). */
  readonly names: string[];
  /** One array per column, all of the same length. */
  readonly columns: Float64Array[];
  /** Whether the first line was a header (text only). */
  readonly header: boolean;
  /** The delimiter found or given (text only; `" "` for blanks). */
  readonly delimiter: string;
}

/** Options of {@linkcode parseTextTable}. */
export interface TextTableOptions {
  /** Tab, comma, semicolon or `" "` (blanks); found when absent. */
  readonly delimiter?: string;
  /** Whether the first non-empty line names the columns; found when absent. */
  readonly header?: boolean;
  /** The file name that messages start with (default `"text"`). */
  readonly name?: string;
}

const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const NON_FINITE = /^\s*[+-]?(?:nan|inf|infinity)\s*$/i;
const BLANKS = /[ \t]+/;

/**
 * Parses a text table; see the module documentation for the rules.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseTextTable } from "@nlsq/nlsq/web";
 * const t = parseTextTable("t,signal\n0,1.5\n1,2.5\n");
 * assert.deepStrictEqual(t.names, ["t", "signal"]);
 * assert.deepStrictEqual(Array.from(t.columns[1]), [1.5, 2.5]);
 * assert.throws(
 *   () => parseTextTable("x,y\n0,1\n1,abc\n", { name: "d.csv" }),
 *   /d\.csv, line 3, column "y": "abc" is not a number/,
 * );
 * ```
 *
 * @throws {DataSourceError} A value is not a finite number, a row has the
 * wrong number of fields, or there is no data row.
 */
export function parseTextTable(
  text: string,
  options: TextTableOptions = {},
): Table {
  const path = options.name ?? "text";
  const lines = splitLines(text);
  const first = lines.findIndex((l) => !skipped(l));
  if (first < 0) {
    throw new DataSourceError("format", "no data: the text has no rows", {
      path,
    });
  }
  const delimiter = options.delimiter ?? findDelimiter(lines[first]);
  const split = splitter(delimiter);
  const firstFields = split(lines[first]);
  const header = options.header ?? firstFields.some((f) => !NUMBER.test(f));
  const names = header
    ? firstFields.map((f, i) => f.trim() || `column ${i + 1}`)
    : firstFields.map((_, i) => `column ${i + 1}`);
  const k = names.length;
  const values: number[][] = names.map(() => []);
  for (let i = header ? first + 1 : first; i < lines.length; i++) {
    const line = lines[i];
    if (skipped(line)) continue;
    const fields = split(line);
    if (fields.length !== k) {
      throw new DataSourceError(
        "format",
        `the row has ${fields.length} field${
          fields.length === 1 ? "" : "s"
        } but ${header ? "the header has" : "the first row has"} ${k}${
          header ? ` (${names.map(quoted).join(", ")})` : ""
        }`,
        { path, line: i + 1 },
      );
    }
    for (let j = 0; j < k; j++) {
      const f = fields[j];
      const v = NUMBER.test(f) ? Number(f) : NaN;
      if (!Number.isFinite(v)) {
        const [code, what] = problem(f);
        throw new DataSourceError(code, what, {
          path,
          line: i + 1,
          column: names[j],
        });
      }
      values[j].push(v);
    }
  }
  if (values[0].length === 0) {
    throw new DataSourceError("format", "no data rows after the header", {
      path,
    });
  }
  return {
    names,
    columns: values.map((v) => Float64Array.from(v)),
    header,
    delimiter,
  };
}

/**
 * Reads an NPY file's bytes (numpy's `np.save`): a column `(n,)` or a table
 * `(n, k)` of `<f8`, `<f4` or their big-endian forms, C or Fortran order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseNpyTable } from "@nlsq/nlsq/web";
 * const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
 * const dict = header.padEnd(117, " ") + "\n"; // 10 + 118 = 128 bytes
 * const bytes = new Uint8Array(10 + dict.length + 32);
 * bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length, 0]);
 * bytes.set(new TextEncoder().encode(dict), 10);
 * new Float64Array(bytes.buffer, 10 + dict.length).set([0, 1, 2, 3]);
 * const t = parseNpyTable(bytes);
 * assert.deepStrictEqual(Array.from(t.columns[1]), [1, 3]);
 * ```
 *
 * @throws {DataSourceError} Not an NPY file, an unsupported dtype or shape,
 * a truncated file, or a value that is not finite (with its row).
 */
export function parseNpyTable(bytes: Uint8Array, name = "array.npy"): Table {
  const at = npyPrefix(bytes.subarray(0, 12), bytes.length, name);
  const h = npyHeader(
    at,
    bytes.subarray(at.headerStart, at.headerStart + at.headerLength),
    bytes.length,
    name,
  );
  const [n, k = 1] = h.shape;
  const size = h.dtype === "f64" ? 8 : 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset + h.dataOffset);
  const columns = Array.from({ length: k }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const at = (h.fortranOrder ? j * n + i : i * k + j) * size;
      const v = size === 8
        ? view.getFloat64(at, !h.bigEndian)
        : view.getFloat32(at, !h.bigEndian);
      if (!Number.isFinite(v)) {
        throw new DataSourceError(
          "not-finite",
          `value ${v} is not finite (shape ${shapeText(h.shape)})`,
          { path: name, row: i, column: j },
        );
      }
      columns[j][i] = v;
    }
  }
  return {
    names: columns.map((_, j) => `column ${j + 1}`),
    columns,
    header: false,
    delimiter: "",
  };
}

function splitLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.split(/\r?\n/);
}

function skipped(line: string): boolean {
  const t = line.trim();
  return t === "" || t.startsWith("#");
}

function findDelimiter(line: string): string {
  for (const d of ["\t", ",", ";"]) if (line.includes(d)) return d;
  return " ";
}

function splitter(delimiter: string): (line: string) => string[] {
  if (delimiter === " ") return (line) => line.trim().split(BLANKS);
  return (line) =>
    line.includes('"') ? splitQuoted(line, delimiter) : line.split(delimiter);
}

// A line with quoted fields ("" is a quote inside one).
function splitQuoted(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let field = "";
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQuotes) {
      if (c === '"' && line[i + 1] === '"') field += c, i++;
      else if (c === '"') inQuotes = false;
      else field += c;
    } else if (c === '"') inQuotes = true;
    else if (line.startsWith(delimiter, i)) {
      out.push(field);
      field = "";
      i += delimiter.length - 1;
    } else field += c;
  }
  out.push(field);
  return out;
}

function problem(field: string): [DataSourceError["code"], string] {
  if (field.trim() === "") return ["missing", "empty value"];
  if (NUMBER.test(field) || NON_FINITE.test(field)) {
    return ["not-finite", `value ${clipped(field.trim())} is not finite`];
  }
  return ["not-a-number", `${quoted(field)} is not a number`];
}
