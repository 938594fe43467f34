// The numeric CSV/TSV scanner: one pass over the bytes of the file that
// parses the selected fields of each line straight into doubles (see
// `_csv_number.ts`), skips the others, and counts lines and fields, with no
// string per field or per line. Lines it does not take as they are (the
// header, an empty or non-numeric field, a wrong number of fields, blanks
// other than spaces and tabs) are handed over as text, so the CSV source
// checks them with the same code, and the same messages, as csv-parse's
// records. A quote or a lone carriage return anywhere means a file for
// csv-parse: the scanner then stops and says so.

import { parseDecimal } from "./_csv_number.ts";

const LF = 10, CR = 13, QUOTE = 34, SPACE = 32, TAB = 9;

/**
 * Whether the scanner handles files with this delimiter: one byte that
 * cannot be part of a number or a blank between fields.
 */
export function fastDelimiter(delimiter: string): number | null {
  if (delimiter.length !== 1) return null;
  const c = delimiter.charCodeAt(0);
  if (c >= 128 || c === SPACE || c === LF || c === CR || c === QUOTE) {
    return null;
  }
  if (/[0-9.eE+\-]/.test(delimiter)) return null;
  return c;
}

/** Where the scanner's lines go. */
export interface FastCsvSink {
  /**
   * A data line whose selected fields are numbers (sigma positive) and whose
   * field count is the expected one: the values are in `scanner.values`.
   * `start` is the byte offset of the line. Returns false to stop.
   */
  row(line: number, start: number): boolean;
  /**
   * Any other non-empty line, as text without its line break (the header
   * when `header` is pending, else a row to check field by field).
   */
  text(text: string, line: number, start: number): boolean;
}

/** What {@linkcode FastCsvScanner.scan} did with the bytes. */
export interface ScanStep {
  /** Bytes consumed: every complete line (all of them when `final`). */
  consumed: number;
  /** True when a line was found that only csv-parse reads (quotes, CR). */
  unsupported: boolean;
  /** True when the sink asked to stop. */
  stopped: boolean;
}

/** Scans numeric CSV bytes chunk by chunk; see the module notes. */
export class FastCsvScanner {
  /** The selected values of the last row passed to `sink.row`. */
  readonly values: Float64Array;
  /** Fields every data row must have (-1: not known yet, rows go as text). */
  fields = -1;
  /** The next non-empty line is the header (it goes as text). */
  headerPending: boolean;
  /** Number of the next line (1-based). */
  line: number;
  readonly #delimiter: number;
  readonly #tabIsBlank: boolean;
  #slots = new Int32Array(0);
  #sigmaSlot = -1;
  readonly #decoder = new TextDecoder();

  /**
   * @param delimiter The delimiter byte ({@linkcode fastDelimiter}).
   * @param nValues Selected fields (slots of `values`).
   * @param header Whether the first non-empty line is a header.
   * @param lineBase Lines before the first byte scanned.
   */
  constructor(
    delimiter: number,
    nValues: number,
    header: boolean,
    lineBase: number,
  ) {
    this.#delimiter = delimiter;
    this.#tabIsBlank = delimiter !== TAB;
    this.values = new Float64Array(nValues);
    this.headerPending = header;
    this.line = lineBase + 1;
  }

  /**
   * Selects the fields: `slots[f]` is the slot in `values` of field `f`
   * (-1: not selected; fields past the end are not selected), and
   * `sigmaSlot` the slot that must be positive (-1: none).
   */
  select(slots: readonly number[], sigmaSlot: number): void {
    this.#slots = Int32Array.from(slots);
    this.#sigmaSlot = sigmaSlot;
  }

  /**
   * Scans the complete lines of `bytes[0, length)` (`offset`: the file
   * offset of `bytes[0]`). Without `final`, a last line with no line break
   * is left for the next call.
   */
  scan(
    bytes: Uint8Array,
    length: number,
    final: boolean,
    offset: number,
    sink: FastCsvSink,
  ): ScanStep {
    // (select() may run inside sink.text: these are read again after it.)
    let slots = this.#slots, nSlots = slots.length, sigmaSlot = this.#sigmaSlot;
    const delim = this.#delimiter, tabBlank = this.#tabIsBlank;
    const values = this.values;
    let i = 0;
    while (i < length) {
      const ls = i;
      let c = bytes[i];
      // Empty lines are skipped (and counted).
      if (c === LF) {
        this.line++;
        i++;
        continue;
      }
      if (c === CR) {
        if (i + 1 >= length) {
          if (final) return { consumed: ls, unsupported: true, stopped: false };
          break;
        }
        if (bytes[i + 1] !== LF) {
          return { consumed: ls, unsupported: true, stopped: false };
        }
        this.line++;
        i += 2;
        continue;
      }
      let slow = this.headerPending || this.fields < 0;
      let f = 0, j = i;
      let atEnd = false; // j reached `length` inside the line
      if (!slow) {
        for (;;) {
          const slot = f < nSlots ? slots[f] : -1;
          if (slot >= 0) {
            while (
              j < length &&
              ((c = bytes[j]) === SPACE || (c === TAB && tabBlank))
            ) j++;
            const k = parseDecimal(bytes, j, length, values, slot);
            const v = values[slot];
            // No number here, one out of range, or a sigma <= 0.
            if (k < 0 || v - v !== 0 || (slot === sigmaSlot && !(v > 0))) {
              slow = true;
              break;
            }
            j = k;
            while (
              j < length &&
              ((c = bytes[j]) === SPACE || (c === TAB && tabBlank))
            ) j++;
          } else {
            while (j < length) {
              c = bytes[j];
              if (c === delim || c === LF || c === CR) break;
              if (c === QUOTE) {
                return { consumed: ls, unsupported: true, stopped: false };
              }
              j++;
            }
          }
          if (j >= length) {
            atEnd = true;
            break;
          }
          c = bytes[j];
          if (c === delim) {
            f++;
            j++;
            continue;
          }
          if (c !== LF && c !== CR) slow = true;
          break;
        }
        // A number cut by the end of the chunk may go on in the next one.
        if (atEnd && !final) break;
        if (!slow && f + 1 !== this.fields) slow = true;
      }
      if (slow) {
        // The whole line, as text: find its end (and no quote in it).
        j = ls;
        while (j < length && (c = bytes[j]) !== LF) {
          if (c === QUOTE) {
            return { consumed: ls, unsupported: true, stopped: false };
          }
          j++;
        }
        if (j >= length && !final) break;
        let e = j;
        if (e > ls && bytes[e - 1] === CR) e--;
        if (bytes.subarray(ls, e).includes(CR)) {
          return { consumed: ls, unsupported: true, stopped: false };
        }
        const text = this.#decoder.decode(bytes.subarray(ls, e));
        const line = this.line;
        this.headerPending = false;
        i = j < length ? j + 1 : j;
        this.line++;
        if (!sink.text(text, line, offset + ls)) {
          return { consumed: i, unsupported: false, stopped: true };
        }
        slots = this.#slots;
        nSlots = slots.length;
        sigmaSlot = this.#sigmaSlot;
        continue;
      }
      // j is at the line break (or the end of a final chunk).
      if (j < length && bytes[j] === CR) {
        if (j + 1 >= length) {
          if (!final) break;
          return { consumed: ls, unsupported: true, stopped: false };
        }
        if (bytes[j + 1] !== LF) {
          return { consumed: ls, unsupported: true, stopped: false };
        }
        j++;
      }
      i = j < length ? j + 1 : j;
      const line = this.line++;
      if (!sink.row(line, offset + ls)) {
        return { consumed: i, unsupported: false, stopped: true };
      }
    }
    return { consumed: i, unsupported: false, stopped: false };
  }
}
