/**
 * The column names of a CSV/TSV file's header line, read without reading the
 * rest of the file: the command line matches them against the identifiers of
 * the model (a model in `t` over a file with a column `t`).
 *
 * @module
 */

import { parse } from "csv-parse/sync";

const CHUNK = 64 * 1024;

/**
 * Reads the first record of a delimited text file (the header line), parsed
 * like the data source parses it (csv-parse: quotes, a byte-order mark and
 * blank lines before it are allowed) and trimmed like its column names.
 * An empty file, or a malformed header line, gives `[]` (the data source
 * reports the problem when it opens the file).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, '\ufefft,"signal (V)"\n0,1\n');
 * assert.deepStrictEqual(await readCsvHeader(path, ","), ["t", "signal (V)"]);
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param delimiter The field delimiter.
 */
export async function readCsvHeader(
  path: string,
  delimiter: string,
): Promise<string[]> {
  const file = await Deno.open(path, { read: true });
  try {
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const chunk = new Uint8Array(CHUNK);
      const n = await file.read(chunk);
      const eof = n === null;
      text += eof ? decoder.decode() : decoder.decode(chunk.subarray(0, n), {
        stream: true,
      });
      const first = firstRecord(text, delimiter, eof);
      if (first !== null) return first.map((s) => s.trim());
      if (eof) return [];
    }
  } finally {
    file.close();
  }
}

// The first record of `text`, or null while it may continue past the text
// read so far (no line break after it yet, or an open quote).
function firstRecord(
  text: string,
  delimiter: string,
  eof: boolean,
): string[] | null {
  let rows: { record: string[]; info: { bytes: number } }[];
  try {
    rows = parse(text, {
      delimiter,
      to: 1,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as typeof rows;
  } catch (e) {
    // An unfinished quoted field: read on. Any other malformed header: no
    // names here; the data source reports the line when it opens the file.
    const open = (e as { code?: string }).code === "CSV_QUOTE_NOT_CLOSED";
    return open && !eof ? null : [];
  }
  if (rows.length === 0) return eof ? [] : null;
  return eof || rows[0].info.bytes < text.length ? rows[0].record : null;
}
