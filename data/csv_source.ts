/**
 * CSV and TSV files, parsed by csv-parse in streaming mode.
 *
 * Opening a file makes one full pass: it reads the header, resolves the
 * selected columns, validates every row (so bad data fails at open, not in the
 * middle of a fit), counts the rows and builds a sparse index holding the
 * byte offset and line number of every 1024th row. Later passes seek to the
 * nearest indexed row at or before `start` and parse from there, so a rank
 * reading rows `[start, end)` parses at most 1023 rows it does not need and
 * memory holds one batch, never the file.
 *
 * Values: decimal numbers (`1`, `-2.5`, `.5`, `6.02e23`, surrounding spaces
 * allowed). An empty or absent field, any other text, NaN and ±Infinity (and a
 * sigma that is not positive) throw a {@linkcode DataSourceError} naming the
 * file, the 1-based line (counting the header) and the column, or drop the
 * row with `dropInvalid`; so does a row with more or fewer fields than the
 * header (or, without a header, the first row): `1,5,2` under `x,y` is a
 * decimal comma or a missing quote, never x = 1, y = 5. Two header columns
 * of the same name are an error. Empty lines are skipped; a UTF-8 byte order
 * mark is ignored; quoted fields may span lines. Messages quote at most 40
 * characters of a field.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { basename } from "node:path";
import { parse } from "csv-parse/stream";
import { assertOpen, readAllBatches, resolveRange } from "./_batching.ts";
import {
  assertUnchanged,
  fileFingerprint,
  type FileSnapshot,
  snapshot,
} from "./_file_guard.ts";
import { defaultSelection, selectionText } from "./_select.ts";
import { DataSourceError } from "./data_source_error.ts";
import { clipped, quoted } from "./_quote.ts";
import type { Batch, BatchOptions, ColumnRef, DataSource } from "./source.ts";
import { flag } from "./_options.ts";

/**
 * Options of {@linkcode openCsv}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { CsvOptions } from "@nlsq/nlsq/data";
 * const o: CsvOptions = { x: "t", y: "signal", delimiter: ";" };
 * assert.strictEqual(o.delimiter, ";");
 * ```
 */
export interface CsvOptions {
  /** x column(s) by header name or 0-based index (default column 0). */
  x?: ColumnRef | ColumnRef[];
  /** y column (default column 1). */
  y?: ColumnRef;
  /** sigma column (none by default). */
  sigma?: ColumnRef;
  /** Field delimiter (default `,`; a tab for `format: "tsv"`). */
  delimiter?: string;
  /** `"csv"` (default) or `"tsv"`; only sets the default delimiter. */
  format?: "csv" | "tsv";
  /** Whether the first line holds column names (default true). */
  header?: boolean;
  /** Leave out rows with missing or invalid values instead of throwing. */
  dropInvalid?: boolean;
}

/** Rows between entries of the sparse offset index. */
const INDEX_STRIDE = 1024;
/** Bytes read from the file per parser call. */
const CHUNK_BYTES = 1 << 20;
const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const NON_FINITE = /^\s*[+-]?(?:nan|inf|infinity)\s*$/i;

/**
 * Opens a CSV or TSV file; see the module documentation for what the open
 * pass does and which values are accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "t,signal,err\n0,1.5,0.1\n1,2.5,0.1\n2,oops,0.1\n");
 * const options: CsvOptions = {
 *   x: "t",
 *   y: "signal",
 *   sigma: "err",
 *   dropInvalid: true,
 * };
 * const src = await openCsv(path, options);
 * const b = await src.readAll!();
 * assert.deepStrictEqual(Array.from(b.y), [1.5, 2.5]);
 * await assert.rejects(
 *   openCsv(path, { x: "t", y: "signal" }),
 *   /line 4, column "signal": "oops" is not a number/,
 * );
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param options See {@linkcode CsvOptions}.
 */
export async function openCsv(
  path: string,
  options: CsvOptions = {},
): Promise<DataSource> {
  const delimiter = options.delimiter ??
    (options.format === "tsv" ? "\t" : ",");
  if (typeof delimiter !== "string" || delimiter.length === 0) {
    throw new TypeError("delimiter must be a non-empty string");
  }
  const sel = defaultSelection(options);
  const snap = await snapshot(path);
  const source = new CsvSource(
    snap,
    delimiter,
    flag("header", options.header, true),
    flag("dropInvalid", options.dropInvalid, false),
    options.format ?? (delimiter === "\t" ? "tsv" : "csv"),
  );
  await source.scan(sel);
  source.fingerprint = await fileFingerprint(
    snap,
    source.format,
    `${selectionText(sel)},delimiter=${JSON.stringify(delimiter)}`,
  );
  return source;
}

// Why a field was rejected: [code, message].
function describe(
  field: string | undefined,
  fields: number,
  isSigma: boolean,
): [DataSourceError["code"], string] {
  if (field === undefined) {
    return [
      "missing",
      `missing value (the row has ${fields} field${fields === 1 ? "" : "s"})`,
    ];
  }
  if (field.trim() === "") return ["missing", "empty value"];
  if (NUMBER.test(field)) {
    const v = Number(field);
    return Number.isFinite(v) && isSigma
      ? ["not-finite", `sigma must be positive, got ${v}`]
      : ["not-finite", `value ${clipped(field.trim())} is not finite`];
  }
  if (NON_FINITE.test(field)) {
    return ["not-finite", `value ${clipped(field.trim())} is not finite`];
  }
  return ["not-a-number", `${quoted(field)} is not a number`];
}

class CsvSource implements DataSource {
  length = 0;
  nFeatures = 0;
  hasSigma = false;
  fingerprint = "";
  /** Every selected column: its index in a record, and its label. */
  #columns: { index: number; label: string | number }[] = [];
  /** Fields of every record: the header's, or the first row's. */
  #fields = -1;
  /** The header's names (an empty list without a header). */
  #names: string[] = [];
  #offsets: number[] = [];
  #lineBases: number[] = [];
  #closed = false;

  constructor(
    readonly snap: FileSnapshot,
    readonly delimiter: string,
    readonly header: boolean,
    readonly dropInvalid: boolean,
    readonly format: string,
  ) {}

  get description(): string {
    const names = this.#columns.map((c) => c.label);
    return `${
      basename(this.snap.path)
    } (${this.format}, ${this.length} rows, x=${
      names.slice(0, this.nFeatures).join("+")
    }, y=${names[this.nFeatures]}${
      this.hasSigma ? `, sigma=${names[this.nFeatures + 1]}` : ""
    })`;
  }

  /** The header's names of the x columns (absent without a header). */
  get xNames(): string[] | undefined {
    if (!this.header) return undefined;
    const names = this.#columns.slice(0, this.nFeatures).map((c) =>
      String(c.label)
    );
    return names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
      ? names
      : undefined;
  }

  /** The open pass: header, selection, validation, row count, index. */
  async scan(sel: { x: ColumnRef[]; y: ColumnRef; sigma?: ColumnRef }) {
    const refs = [...sel.x, sel.y];
    if (sel.sigma !== undefined) refs.push(sel.sigma);
    this.nFeatures = sel.x.length;
    this.hasSigma = sel.sigma !== undefined;
    let names: string[] | undefined;
    let prevBytes = 0; // byte offset just after the previous record
    let prevLines = 0; // line on which the previous record ended
    let rows = 0;
    const values = new Float64Array(refs.length);
    if (!this.header) this.#columns = refs.map((r) => this.#resolve(r));
    const onRecord = (record: string[], lines: number, bytes: number) => {
      if (this.header && names === undefined) {
        names = record.map((s) => s.trim());
        this.#checkNames(names, lines);
        this.#names = names;
        this.#fields = names.length;
        this.#columns = refs.map((r) => this.#resolve(r, names));
      } else {
        if (this.#fields < 0) this.#fields = record.length;
        if (rows % INDEX_STRIDE === 0) {
          this.#offsets.push(prevBytes);
          this.#lineBases.push(prevLines);
        }
        this.#parseRow(record, lines, values);
        rows++;
      }
      prevBytes = bytes;
      prevLines = lines;
      return true;
    };
    for await (const _ of this.#scan(0, 0, onRecord)) {
      // Everything happens in onRecord.
    }
    if (this.header && names === undefined) {
      throw new DataSourceError("format", "the file is empty (no header)", {
        path: this.snap.path,
      });
    }
    this.length = rows;
  }

  #resolve(ref: ColumnRef, names?: string[]): {
    index: number;
    label: string | number;
  } {
    const path = this.snap.path;
    if (typeof ref === "string") {
      if (names === undefined) {
        throw new TypeError(
          `${path} is read without a header: select columns by 0-based index, got ${
            JSON.stringify(ref)
          }`,
        );
      }
      const index = names.indexOf(ref);
      if (index < 0) {
        throw new DataSourceError(
          "column",
          `unknown column ${quoted(ref)}; available columns: ${
            listNames(names)
          }`,
          { path, column: ref },
        );
      }
      return { index, label: ref };
    }
    if (!Number.isSafeInteger(ref) || ref < 0) {
      throw new RangeError(
        `column index must be a non-negative integer, got ${ref}`,
      );
    }
    if (names !== undefined && ref >= names.length) {
      throw new DataSourceError(
        "column",
        `column index ${ref} is out of range; the header has ${names.length} columns: ${
          listNames(names)
        }`,
        { path, column: ref },
      );
    }
    return { index: ref, label: names?.[ref] || ref };
  }

  /** Two columns of one name would make selection by name ambiguous. */
  #checkNames(names: string[], line: number): void {
    const seen = new Map<string, number>();
    names.forEach((name, i) => {
      // Unnamed columns cannot be selected by name: no ambiguity.
      if (name === "") return;
      const first = seen.get(name);
      if (first !== undefined) {
        throw new DataSourceError(
          "column",
          `the header names two columns ${
            quoted(name)
          } (columns ${first} and ${i}); rename one`,
          { path: this.snap.path, line, column: name },
        );
      }
      seen.set(name, i);
    });
  }

  /**
   * Parses the selected fields of `record` into `out`. Returns false for an
   * invalid row under dropInvalid; throws for one otherwise.
   */
  #parseRow(record: string[], line: number, out: Float64Array): boolean {
    const cols = this.#columns;
    const sigmaAt = this.hasSigma ? cols.length - 1 : -1;
    for (let j = 0; j < cols.length; j++) {
      const field = record[cols[j].index];
      // The common case first: a decimal number, finite, positive if sigma.
      if (field !== undefined && NUMBER.test(field)) {
        const v = Number(field);
        if (Number.isFinite(v) && (j !== sigmaAt || v > 0)) {
          out[j] = v;
          continue;
        }
      }
      const problem = describe(field, record.length, j === sigmaAt);
      if (this.dropInvalid) return false;
      throw new DataSourceError(problem[0], problem[1], {
        path: this.snap.path,
        line,
        column: cols[j].label,
      });
    }
    if (record.length === this.#fields) return true;
    if (this.dropInvalid) return false;
    throw new DataSourceError("format", this.#countProblem(record), {
      path: this.snap.path,
      line,
    });
  }

  #countProblem(record: string[]): string {
    const n = record.length, want = this.#fields;
    const what = this.header
      ? `the header has ${want} (${listNames(this.#names)})`
      : `the first row has ${want}`;
    return `the row has ${n} field${n === 1 ? "" : "s"} but ${what}${
      n > want
        ? `; quote fields that contain the delimiter ${
          JSON.stringify(this.delimiter)
        } (a decimal comma?)`
        : ""
    }`;
  }

  /**
   * Parses the file from byte `offset` on, calling `onRecord` synchronously
   * for every record with the line it ends on and the byte offset after it
   * (both relative to `offset`, line numbers offset by `lineBase`), until
   * `onRecord` returns false or the file ends. Yields after each chunk of the
   * file, so that the caller can hand out what `onRecord` collected. Records
   * never cross a promise one by one: csv-parse's `on_record` hook consumes
   * them inside the parser, which is what makes parsing fast.
   */
  async *#scan(
    offset: number,
    lineBase: number,
    onRecord: (record: string[], lines: number, bytes: number) => boolean,
  ): AsyncGenerator<void> {
    let stopped = false;
    let failure: unknown;
    const parser = parse({
      delimiter: this.delimiter,
      bom: offset === 0,
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (record: string[], info: { lines: number; bytes: number }) => {
        if (stopped) return undefined;
        try {
          stopped = !onRecord(record, lineBase + info.lines, info.bytes);
        } catch (error) {
          // Kept here: an error thrown into csv-parse would reach us only as
          // "stream errored".
          failure = error;
          stopped = true;
        }
        return undefined; // nothing reaches the readable side
      },
    });
    const writer = parser.writable.getWriter();
    const settle = async (step: Promise<void>) => {
      try {
        await step;
      } catch (error) {
        // A parse error errors the stream; its reason is on `closed`.
        const reason = await writer.closed.then(() => error, (r) => r);
        this.#rethrow(failure ?? reason, lineBase);
      }
      if (failure !== undefined) throw failure;
    };
    const file = await Deno.open(this.snap.absolute, { read: true });
    try {
      await file.seek(offset, Deno.SeekMode.Start);
      while (!stopped) {
        // A fresh buffer per chunk: csv-parse keeps views of the tail of the
        // previous chunk while a record spans two chunks.
        const chunk = new Uint8Array(CHUNK_BYTES);
        const n = await file.read(chunk);
        if (n === null) {
          await settle(writer.close());
          yield;
          return;
        }
        await settle(writer.write(Buffer.from(chunk.buffer, 0, n)));
        yield;
      }
    } finally {
      file.close();
      writer.abort().catch(() => {});
    }
  }

  // csv-parse's CsvError carries the line (relative to the start of the
  // parse) in `lines`; our own errors from onRecord pass through.
  #rethrow(error: unknown, lineBase: number): never {
    if (
      error instanceof Error && !(error instanceof DataSourceError) &&
      typeof (error as { lines?: unknown }).lines === "number"
    ) {
      const line = lineBase + (error as unknown as { lines: number }).lines;
      throw new DataSourceError(
        "format",
        `malformed CSV: ${error.message.replace(/ (at|on) line \d+/, "")}`,
        { path: this.snap.path, line },
        { cause: error },
      );
    }
    throw error;
  }

  async *batches(
    batchSize: number,
    options?: BatchOptions,
  ): AsyncGenerator<Batch> {
    assertOpen(this.#closed, this.snap.path);
    const { start, end } = resolveRange(batchSize, options, this.length);
    if (start >= end) return;
    const signal = options?.signal;
    signal?.throwIfAborted();
    await assertUnchanged(this.snap);
    const k = Math.floor(start / INDEX_STRIDE);
    let row = k * INDEX_STRIDE;
    const nCols = this.#columns.length;
    const values = new Float64Array(nCols);
    const ready: Batch[] = [];
    let cols: Float64Array[] = [];
    let filled = 0;
    let batchStart = start;
    const fresh = () => {
      const size = Math.min(batchSize, end - batchStart);
      cols = Array.from({ length: nCols }, () => new Float64Array(size));
      filled = 0;
    };
    const finish = () => {
      const take = (c: Float64Array) =>
        filled === c.length ? c : c.slice(0, filled);
      const batch: Batch = {
        x: cols.slice(0, this.nFeatures).map(take),
        y: take(cols[this.nFeatures]),
        start: batchStart,
      };
      if (this.hasSigma) batch.sigma = take(cols[this.nFeatures + 1]);
      ready.push(batch);
    };
    fresh();
    const onRecord = (record: string[], lines: number) => {
      if (row < start) {
        row++;
        return true;
      }
      if (this.#parseRow(record, lines, values)) {
        for (let j = 0; j < nCols; j++) cols[j][filled] = values[j];
        filled++;
      }
      row++;
      if (row === end || row - batchStart === batchSize) {
        finish();
        if (row === end) return false;
        batchStart = row;
        fresh();
      }
      return true;
    };
    const scan = this.#scan(this.#offsets[k], this.#lineBases[k], onRecord);
    for await (const _ of scan) {
      while (ready.length > 0) {
        signal?.throwIfAborted();
        await assertUnchanged(this.snap);
        yield ready.shift()!;
      }
      if (row === end) return;
    }
    // The open pass counted `length` rows; fewer now means the file changed.
    await assertUnchanged(this.snap);
    throw new DataSourceError(
      "changed",
      `the file ended at row ${row}, before row ${end}`,
      { path: this.snap.path },
    );
  }

  readAll(): Promise<Batch> {
    return readAllBatches(this);
  }

  close(): void {
    this.#closed = true;
  }
}

/** Header names for a message: quoted, cut, at most 20 of them. */
function listNames(names: string[]): string {
  const shown = names.slice(0, 20).map(quoted).join(", ");
  return names.length > 20 ? `${shown}, ... (${names.length} in all)` : shown;
}
