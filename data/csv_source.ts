/**
 * CSV and TSV files: numeric files by a byte-level parser of our own,
 * others (quoted fields, a lone carriage return, a delimiter of several
 * characters) by csv-parse in streaming mode.
 *
 * Opening a file makes one full pass: it reads the header, resolves the
 * selected columns, validates every row (so bad data fails at open, not in the
 * middle of a fit), counts the rows, builds a sparse index holding the byte
 * offset and line number of every 1024th row, and keeps a binary copy of the
 * selected columns (`binaryCopy`): in memory while it fits a quarter of the
 * memory budget (`MemoryBudget`: 75% of the available memory), else in
 * temporary files (one per column, unlinked at once where the system allows,
 * so nothing is left behind), else none. Later passes read the copy at the
 * speed of a binary file; without one they seek to the nearest indexed row at
 * or before `start` and parse from there, so a rank reading rows
 * `[start, end)` parses at most 1023 rows it does not need and memory holds
 * one batch, never the file. The description says which parser ran and where
 * the copy is.
 *
 * Values: decimal numbers (`1`, `-2.5`, `.5`, `6.02e23`, surrounding spaces
 * allowed), converted exactly as `Number()` does. An empty or absent field,
 * any other text, NaN and ±Infinity (and a
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
import {
  assertOpen,
  checkColumns,
  checkRead,
  type ColumnLabels,
  readAllBatches,
  resolveRange,
} from "./_batching.ts";
import {
  assertUnchanged,
  fileFingerprint,
  type FileSnapshot,
  snapshot,
} from "./_file_guard.ts";
import { defaultSelection, selectionText } from "./_select.ts";
import { DataSourceError } from "./data_source_error.ts";
import { clipped, quoted } from "./_quote.ts";
import type {
  Batch,
  BatchOptions,
  ColumnBuffers,
  ColumnRef,
  DataSource,
  RowReader,
  RowsRead,
} from "./source.ts";
import { flag } from "./_options.ts";
import {
  FastCsvScanner,
  type FastCsvSink,
  fastDelimiter,
} from "./_csv_fast.ts";
import {
  type ColumnStore,
  ColumnStoreBuilder,
  type CopyPlace,
} from "./_column_store.ts";
import { getAvailableMemoryInfo } from "../memory/available_memory.ts";
import { canRead, canReadEnv, canWrite } from "../runtime/permissions.ts";

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
  /**
   * Where the binary copy of the selected columns made at open goes:
   * `"auto"` (default: memory while it fits a quarter of the memory budget,
   * else temporary files where writing to the temporary directory is
   * granted, else none), `"memory"`, `"file"`, or `"none"` (every pass
   * parses the text; memory stays flat).
   */
  binaryCopy?: "auto" | "memory" | "file" | "none";
}

/** Rows between entries of the sparse offset index. */
const INDEX_STRIDE = 1024;
/** Bytes read from the file per parser call. */
const CHUNK_BYTES = 1 << 20;
/** Room in front of a chunk for the unfinished line of the one before. */
const CARRY_BYTES = 1 << 16;
const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const NON_FINITE = /^\s*[+-]?(?:nan|inf|infinity)\s*$/i;
/** Share of the memory budget a binary copy may keep in memory ("auto"). */
const COPY_BUDGET_FRACTION = 0.25 * 0.75;

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
 * assert.match(src.description, /numeric parser, binary copy in memory/);
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
  const copy = options.binaryCopy ?? "auto";
  if (!["auto", "memory", "file", "none"].includes(copy)) {
    throw new TypeError(
      `binaryCopy must be "auto", "memory", "file" or "none", got ${
        JSON.stringify(copy)
      }`,
    );
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
  await source.scan(sel, copy);
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

/**
 * The temporary directory, and whether files may be made there without a
 * permission prompt (reading and writing it already granted).
 */
function tempDirectory(): { dir: string; allowed: boolean } {
  let dir = Deno.build.os === "windows" ? "" : "/tmp";
  for (const name of ["TMPDIR", "TMP", "TEMP"]) {
    if (!canReadEnv(name)) continue;
    const v = Deno.env.get(name);
    if (v) {
      dir = v;
      break;
    }
  }
  return { dir, allowed: dir !== "" && canRead(dir) && canWrite(dir) };
}

/**
 * Per record: the line it ends on, the byte offset of its start, and the
 * lines before that offset (a parse from there numbers lines from `base`).
 */
type OnRecord = (
  record: string[],
  line: number,
  start: number,
  base: number,
) => boolean;

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
  /** Which parser reads the file: ours, or csv-parse. */
  #fast = false;
  #store: ColumnStore | null = null;
  /** The copy holds rows that dropInvalid leaves out (as NaN). */
  #storeHasInvalid = false;
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
    const where = this.#store === null
      ? "no binary copy"
      : `binary copy ${
        this.#store.where === "memory" ? "in memory" : "in temporary files"
      }`;
    return `${
      basename(this.snap.path)
    } (${this.format}, ${this.length} rows, x=${
      names.slice(0, this.nFeatures).join("+")
    }, y=${names[this.nFeatures]}${
      this.hasSigma ? `, sigma=${names[this.nFeatures + 1]}` : ""
    }; ${this.#fast ? "numeric parser" : "csv-parse"}, ${where})`;
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

  #labels(): ColumnLabels {
    const labels = this.#columns.map((c) => c.label);
    return {
      x: labels.slice(0, this.nFeatures),
      y: labels[this.nFeatures],
      sigma: this.hasSigma ? labels[this.nFeatures + 1] : undefined,
    };
  }

  /**
   * The open pass: header, selection, validation, row count, index and the
   * binary copy. The numeric parser runs first; a file it cannot take is
   * read again from the start by csv-parse.
   */
  async scan(
    sel: { x: ColumnRef[]; y: ColumnRef; sigma?: ColumnRef },
    copy: CopyPlace | "none",
  ): Promise<void> {
    const fast = fastDelimiter(this.delimiter) !== null &&
      await this.#scanOnce(sel, copy, true);
    if (!fast) await this.#scanOnce(sel, copy, false);
    this.#fast = fast;
  }

  // One open pass with one parser; false when the numeric parser gave up.
  async #scanOnce(
    sel: { x: ColumnRef[]; y: ColumnRef; sigma?: ColumnRef },
    copy: CopyPlace | "none",
    fast: boolean,
  ): Promise<boolean> {
    const refs = [...sel.x, sel.y];
    if (sel.sigma !== undefined) refs.push(sel.sigma);
    this.nFeatures = sel.x.length;
    this.hasSigma = sel.sigma !== undefined;
    this.#names = [];
    this.#fields = -1;
    this.#offsets = [];
    this.#lineBases = [];
    this.#storeHasInvalid = false;
    let names: string[] | undefined;
    let rows = 0;
    const values = new Float64Array(refs.length);
    const invalid = new Float64Array(refs.length).fill(NaN);
    const temp = copy === "none" || copy === "memory" ? null : tempDirectory();
    if (copy === "file" && !temp!.allowed) {
      throw new TypeError(
        `binaryCopy "file" needs read and write permission for the temporary directory${
          temp!.dir ? ` (${temp!.dir})` : ""
        }`,
      );
    }
    const builder = copy === "none" ? null : new ColumnStoreBuilder(
      refs.length,
      copy,
      COPY_BUDGET_FRACTION * getAvailableMemoryInfo().availableGb * 2 ** 30,
      temp?.allowed ?? false,
    );
    if (!this.header) this.#columns = refs.map((r) => this.#resolve(r));
    const addRow = (start: number, base: number, ok: boolean) => {
      if (rows % INDEX_STRIDE === 0) {
        this.#offsets.push(start);
        this.#lineBases.push(base);
      }
      if (!ok) this.#storeHasInvalid = true;
      builder?.append(ok ? values : invalid);
      rows++;
    };
    const onRecord: OnRecord = (record, line, start, base) => {
      if (this.header && names === undefined) {
        names = record.map((s) => s.trim());
        this.#checkNames(names, line);
        this.#names = names;
        this.#fields = names.length;
        this.#columns = refs.map((r) => this.#resolve(r, names));
      } else {
        if (this.#fields < 0) this.#fields = record.length;
        addRow(start, base, this.#parseRow(record, line, values));
      }
      return true;
    };
    try {
      const scan = fast
        ? this.#scanFast(0, 0, onRecord, (line, start, v) => {
          // The common row: straight from the parser's values to the copy.
          if (rows % INDEX_STRIDE === 0) {
            this.#offsets.push(start);
            this.#lineBases.push(line - 1);
          }
          builder?.append(v);
          rows++;
          return true;
        })
        : this.#scanText(0, 0, onRecord);
      for await (const _ of scan) await builder?.flush();
    } catch (e) {
      builder?.abandon();
      if (e === UNSUPPORTED) return false;
      throw e;
    }
    if (this.header && names === undefined) {
      builder?.abandon();
      throw new DataSourceError("format", "the file is empty (no header)", {
        path: this.snap.path,
      });
    }
    this.length = rows;
    this.#store = builder ? await builder.finish() : null;
    return true;
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
   * Parses the file from byte `offset` on with the numeric parser: rows it
   * takes as they are go to `onValues` (selected values, in order), other
   * lines (the header, rows to check field by field) to `onRecord` split
   * at the delimiter, which is what csv-parse makes of a line without
   * quotes. Lines are numbered from `lineBase + 1`, and offsets are absolute.
   * Yields after each chunk of the file; throws {@linkcode UNSUPPORTED}
   * where the file needs csv-parse. Stops when a callback returns false.
   */
  async *#scanFast(
    offset: number,
    lineBase: number,
    onRecord: OnRecord,
    onValues: (line: number, start: number, values: Float64Array) => boolean,
  ): AsyncGenerator<void> {
    const scanner = new FastCsvScanner(
      fastDelimiter(this.delimiter)!,
      this.nFeatures + (this.hasSigma ? 2 : 1),
      this.header && offset === 0,
      lineBase,
    );
    const select = () => {
      const slots: number[] = [];
      this.#columns.forEach((c, j) => {
        // One field selected twice (x and y the same column) goes as text.
        slots[c.index] = slots[c.index] === undefined ? j : -2;
      });
      const dup = slots.some((s) => s === -2);
      scanner.select(
        dup ? [] : Array.from(slots, (s) => s ?? -1),
        this.hasSigma ? this.#columns.length - 1 : -1,
      );
      scanner.fields = dup ? -1 : this.#fields;
    };
    if (this.#fields >= 0) select();
    const sink: FastCsvSink = {
      row: (line, start) => onValues(line, start, scanner.values),
      text: (text, line, start) => {
        const before = this.#fields;
        const go = onRecord(text.split(this.delimiter), line, start, line - 1);
        if (before < 0 && this.#fields >= 0) select();
        return go;
      },
    };
    const file = await Deno.open(this.snap.absolute, { read: true });
    try {
      await file.seek(offset, Deno.SeekMode.Start);
      // Two chunk buffers: the next chunk is read while this one is parsed.
      // A chunk lands after CARRY_BYTES of headroom, where the unfinished
      // last line of the previous chunk is copied in front of it.
      const fresh = () => new Uint8Array(CARRY_BYTES + CHUNK_BYTES);
      let cur = fresh(), spare = fresh();
      const readInto = async (b: Uint8Array) =>
        await readSome(file, b.subarray(CARRY_BYTES), 0);
      let n = await readInto(cur);
      let from = CARRY_BYTES; // cur[from, to) is unparsed
      let to = CARRY_BYTES + n;
      let at = offset - from; // file offset of cur[0]
      if (
        offset === 0 && n >= 3 && cur[from] === 0xef &&
        cur[from + 1] === 0xbb && cur[from + 2] === 0xbf
      ) {
        from += 3; // a byte order mark is not part of the header
      }
      let eof = n === 0;
      while (true) {
        const next = eof ? null : readInto(spare);
        next?.catch(() => {}); // awaited below
        const view = cur.subarray(from, to);
        const step = scanner.scan(view, view.length, eof, at + from, sink);
        if (step.unsupported) throw UNSUPPORTED;
        if (step.stopped || eof) {
          await next?.catch(() => {});
          yield;
          return;
        }
        const carry = to - from - step.consumed;
        n = await next!;
        eof = n === 0;
        if (carry > CARRY_BYTES) {
          // A line longer than the headroom: one buffer for both parts.
          const both = new Uint8Array(carry + n);
          both.set(cur.subarray(to - carry, to));
          both.set(spare.subarray(CARRY_BYTES, CARRY_BYTES + n), carry);
          at += to - carry;
          cur = both;
          from = 0;
          to = carry + n;
        } else {
          // spare[CARRY_BYTES] is the byte after cur[to - 1] in the file.
          spare.set(cur.subarray(to - carry, to), CARRY_BYTES - carry);
          at += to - CARRY_BYTES;
          const done = cur;
          cur = spare;
          spare = done.length === CARRY_BYTES + CHUNK_BYTES ? done : fresh();
          from = CARRY_BYTES - carry;
          to = CARRY_BYTES + n;
        }
        yield;
      }
    } finally {
      file.close();
    }
  }

  /**
   * Parses the file from byte `offset` on with csv-parse, calling
   * `onRecord` synchronously for every record with the line it ends on and
   * the byte offset of its start (absolute; line numbers offset by
   * `lineBase`), until `onRecord` returns false or the file ends. Yields
   * after each chunk of the file, so that the caller can hand out what
   * `onRecord` collected. Records never cross a promise one by one:
   * csv-parse's `on_record` hook consumes them inside the parser, which is
   * what makes parsing fast.
   */
  async *#scanText(
    offset: number,
    lineBase: number,
    onRecord: OnRecord,
  ): AsyncGenerator<void> {
    let stopped = false;
    let failure: unknown;
    let prevBytes = 0; // byte offset (from `offset`) after the last record
    let prevLines = 0; // line (from lineBase) on which it ended
    const parser = parse({
      delimiter: this.delimiter,
      bom: offset === 0,
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (record: string[], info: { lines: number; bytes: number }) => {
        if (stopped) return undefined;
        try {
          stopped = !onRecord(
            record,
            lineBase + info.lines,
            offset + prevBytes,
            lineBase + prevLines,
          );
          prevBytes = info.bytes;
          prevLines = info.lines;
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

  /**
   * Rows `[start, end)` parsed from the text (no binary copy), handed to
   * `take` as `(values, ok)` in row order: `ok` false for a row that
   * dropInvalid leaves out. Yields after each chunk of the file.
   */
  async *#parseRange(
    start: number,
    end: number,
    take: (values: Float64Array, ok: boolean) => void,
  ): AsyncGenerator<void> {
    const k = Math.floor(start / INDEX_STRIDE);
    let row = k * INDEX_STRIDE;
    const values = new Float64Array(this.#columns.length);
    const onRecord: OnRecord = (record, line) => {
      if (row >= start) take(values, this.#parseRow(record, line, values));
      return ++row < end;
    };
    const onValues = (_line: number, _start: number, v: Float64Array) => {
      if (row >= start) take(v, true);
      return ++row < end;
    };
    const scan = this.#fast
      ? this.#scanFast(this.#offsets[k], this.#lineBases[k], onRecord, onValues)
      : this.#scanText(this.#offsets[k], this.#lineBases[k], onRecord);
    for await (const _ of scan) {
      yield;
      if (row >= end) return;
    }
    if (row < end) {
      // The open pass counted `length` rows; fewer now means the file changed.
      await assertUnchanged(this.snap);
      throw new DataSourceError(
        "changed",
        `the file ended at row ${row}, before row ${end}`,
        { path: this.snap.path },
      );
    }
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
    if (this.#store) {
      // The copy: a read per batch, into fresh arrays (consumers may keep them).
      const reader = await this.openReader();
      try {
        for (let s = start; s < end; s += batchSize) {
          signal?.throwIfAborted();
          const e = Math.min(end, s + batchSize);
          const into = this.#fresh(e - s);
          const r = await reader.read(s, e, into);
          yield this.#batch(r, s, into);
        }
      } finally {
        reader.close();
      }
      return;
    }
    await assertUnchanged(this.snap);
    const nCols = this.#columns.length;
    const ready: Batch[] = [];
    let cols: Float64Array[] = [];
    let filled = 0, row = start, batchStart = start;
    const fresh = () => {
      const size = Math.min(batchSize, end - batchStart);
      cols = Array.from({ length: nCols }, () => new Float64Array(size));
      filled = 0;
    };
    fresh();
    const take = (values: Float64Array, ok: boolean) => {
      if (ok) {
        for (let j = 0; j < nCols; j++) cols[j][filled] = values[j];
        filled++;
      }
      row++;
      if (row === end || row - batchStart === batchSize) {
        const cut = (c: Float64Array) =>
          filled === c.length ? c : c.slice(0, filled);
        const batch: Batch = {
          x: cols.slice(0, this.nFeatures).map(cut),
          y: cut(cols[this.nFeatures]),
          start: batchStart,
        };
        if (this.hasSigma) batch.sigma = cut(cols[this.nFeatures + 1]);
        ready.push(batch);
        if (row === end) return;
        batchStart = row;
        fresh();
      }
    };
    for await (const _ of this.#parseRange(start, end, take)) {
      while (ready.length > 0) {
        signal?.throwIfAborted();
        await assertUnchanged(this.snap);
        yield ready.shift()!;
      }
    }
  }

  #fresh(n: number): ColumnBuffers {
    const col = () => new Float64Array(n);
    const out: ColumnBuffers = {
      x: Array.from({ length: this.nFeatures }, col),
      y: col(),
    };
    if (this.hasSigma) out.sigma = col();
    return out;
  }

  // A batch of fresh arrays from a read (copied out of views of the copy).
  #batch(r: RowsRead, start: number, into: ColumnBuffers): Batch {
    const own = (a: Float64Array, to: Float64Array) => {
      if (a !== to) to.set(a.subarray(0, r.rows));
      return r.rows === to.length ? to : to.slice(0, r.rows);
    };
    const batch: Batch = {
      x: r.x.map((a, f) => own(a, into.x[f])),
      y: own(r.y, into.y),
      start,
    };
    if (r.sigma) batch.sigma = own(r.sigma, into.sigma!);
    return batch;
  }

  /**
   * Reads rows into the caller's buffers: from the binary copy (views of it
   * when it is in memory), else by parsing the text from the nearest
   * indexed row.
   */
  openReader(): Promise<RowReader> {
    assertOpen(this.#closed, this.snap.path);
    let open = true;
    const read = async (
      start: number,
      end: number,
      into: ColumnBuffers,
    ): Promise<RowsRead> => {
      assertOpen(this.#closed || !open, this.snap.path);
      checkRead(start, end, this.length, into, this.nFeatures, this.hasSigma);
      await assertUnchanged(this.snap);
      const n = end - start;
      const targets = [...into.x, into.y];
      if (into.sigma) targets.push(into.sigma);
      let cols: Float64Array[];
      if (this.#store) {
        cols = await this.#store.read(start, end, targets);
      } else {
        cols = targets;
        let i = 0;
        const take = (values: Float64Array, ok: boolean) => {
          for (let j = 0; j < cols.length; j++) {
            cols[j][i] = ok ? values[j] : NaN;
          }
          i++;
        };
        for await (const _ of this.#parseRange(start, end, take)) {
          // rows arrive through take()
        }
      }
      const out = (c: Float64Array[]): RowsRead => {
        const r: RowsRead = {
          x: c.slice(0, this.nFeatures),
          y: c[this.nFeatures],
          rows: n,
        };
        if (this.hasSigma) r.sigma = c[this.nFeatures + 1];
        return r;
      };
      const mayDrop = this.#store ? this.#storeHasInvalid : this.dropInvalid;
      if (!mayDrop) return out(cols);
      // Rows left out at open are NaN here: move the good ones forward.
      if (cols !== targets) targets.forEach((t, j) => t.set(cols[j]));
      const r = out(targets);
      r.rows = checkColumns(r, n, start, this.#labels(), this.snap.path, true);
      return r;
    };
    return Promise.resolve({
      read,
      close: () => {
        open = false;
      },
    });
  }

  readAll(): Promise<Batch> {
    return readAllBatches(this);
  }

  close(): void {
    this.#closed = true;
    this.#store?.close();
    this.#store = null;
  }
}

/** Thrown by the numeric parser's scan where the file needs csv-parse. */
const UNSUPPORTED = new Error("unsupported by the numeric parser");

/** Reads into `buf` from `at` on; 0 at the end of the file. */
async function readSome(
  file: Deno.FsFile,
  buf: Uint8Array,
  at: number,
): Promise<number> {
  const n = await file.read(buf.subarray(at));
  return n ?? 0;
}

/** Header names for a message: quoted, cut, at most 20 of them. */
function listNames(names: string[]): string {
  const shown = names.slice(0, 20).map(quoted).join(", ");
  return names.length > 20 ? `${shown}, ... (${names.length} in all)` : shown;
}
