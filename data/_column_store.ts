// A binary copy of the selected columns of a text file, made while the file
// is parsed (once, when it is opened), so that later passes read doubles
// instead of parsing text again. The copy is kept in memory (shared buffers,
// which worker threads read in place) while it fits its budget; past it, in
// one temporary file per column, unlinked as soon as it is created where the
// system allows (so no file is left behind, whatever ends the process),
// else removed by `close()`.

import { readExactly } from "./_file_guard.ts";

/** Rows per block while the copy is built. */
const BLOCK_ROWS = 65536;

/** A finished copy: `rows` rows of `columns` doubles. */
export interface ColumnStore {
  readonly rows: number;
  /** Where the copy lives. */
  readonly where: "memory" | "file";
  /**
   * Rows `[start, end)` of every column: views of the copy (memory), or
   * `into`'s arrays filled from the file.
   */
  read(start: number, end: number, into: Float64Array[]): Promise<
    Float64Array[]
  >;
  /** Releases the copy (closes and removes its files). Idempotent. */
  close(): void;
}

/** Where a copy may go. */
export type CopyPlace = "memory" | "file" | "auto";

/** Builds a {@linkcode ColumnStore} row by row. */
export class ColumnStoreBuilder {
  readonly #columns: number;
  readonly #budget: number;
  readonly #place: CopyPlace;
  #blocks: Float64Array[][] = [];
  #current: Float64Array[];
  #fill = 0;
  #rows = 0;
  #files: TempColumn[] | null = null;
  readonly #fileAllowed: boolean;
  #dropped = false;

  /**
   * @param columns Doubles per row.
   * @param place "memory" (always), "file" (always), or "auto": memory up
   *   to `budgetBytes`, then files where `fileAllowed`, else no copy.
   * @param budgetBytes Most bytes kept in memory under "auto".
   * @param fileAllowed Whether temporary files may be made (permissions).
   */
  constructor(
    columns: number,
    place: CopyPlace,
    budgetBytes: number,
    fileAllowed: boolean,
  ) {
    this.#columns = columns;
    this.#place = place;
    this.#budget = budgetBytes;
    this.#fileAllowed = fileAllowed;
    this.#current = this.#block();
  }

  /** True once "auto" gave up the copy (too large, no files allowed). */
  get dropped(): boolean {
    return this.#dropped;
  }

  /** Rows appended so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends one row (`values[0, columns)`). */
  append(values: Float64Array): void {
    if (this.#dropped) return;
    const f = this.#fill;
    for (let k = 0; k < this.#columns; k++) this.#current[k][f] = values[k];
    this.#rows++;
    if (++this.#fill === BLOCK_ROWS) {
      this.#blocks.push(this.#current);
      this.#current = this.#block();
      this.#fill = 0;
    }
  }

  /**
   * Moves full blocks to their place: to the files once the copy is past
   * its memory budget (or always, for "file").
   */
  async flush(): Promise<void> {
    if (this.#dropped) return;
    const bytes = this.#blocks.length * BLOCK_ROWS * 8 * this.#columns;
    const over = this.#place === "auto" && bytes > this.#budget;
    if (this.#files === null && over && !this.#fileAllowed) {
      this.#dropped = true;
      this.#blocks = [];
      this.#current = [];
      return;
    }
    if (this.#files === null && (this.#place === "file" || over)) {
      this.#files = await openTempColumns(this.#columns);
    }
    if (this.#files === null) return;
    for (const block of this.#blocks) await writeBlock(this.#files, block);
    this.#blocks = [];
  }

  /** The finished copy, or null when it was given up. */
  async finish(): Promise<ColumnStore | null> {
    if (this.#dropped) return null;
    const last = this.#current.map((c) => c.subarray(0, this.#fill));
    if (this.#files === null && this.#place === "file") await this.flush();
    if (this.#files !== null) {
      await this.flush();
      await writeBlock(this.#files, last);
      const files = this.#files;
      this.#files = null;
      return new FileStore(files, this.#rows);
    }
    // One shared array per column, for worker threads to read in place.
    const cols = Array.from({ length: this.#columns }, (_, k) => {
      const out = new Float64Array(new SharedArrayBuffer(this.#rows * 8));
      let at = 0;
      for (const b of [...this.#blocks, last]) {
        out.set(b[k].subarray(0, Math.min(b[k].length, this.#rows - at)), at);
        at += b[k].length;
      }
      return out;
    });
    this.#blocks = [];
    return new MemoryStore(cols, this.#rows);
  }

  /** Drops what was built (an error ended the parse). */
  abandon(): void {
    this.#blocks = [];
    if (this.#files) closeColumns(this.#files);
    this.#files = null;
  }

  #block(): Float64Array[] {
    return Array.from(
      { length: this.#columns },
      () => new Float64Array(BLOCK_ROWS),
    );
  }
}

class MemoryStore implements ColumnStore {
  readonly where = "memory";
  #cols: Float64Array[];

  constructor(cols: Float64Array[], readonly rows: number) {
    this.#cols = cols;
  }

  read(start: number, end: number): Promise<Float64Array[]> {
    return Promise.resolve(this.#cols.map((c) => c.subarray(start, end)));
  }

  close(): void {
    this.#cols = [];
  }
}

interface TempColumn {
  file: Deno.FsFile;
  /** Set when the file could not be unlinked while open. */
  path: string | null;
  written: number;
}

class FileStore implements ColumnStore {
  readonly where = "file";
  #files: TempColumn[];
  // Reads are a seek and a read on one handle: one at a time.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(files: TempColumn[], readonly rows: number) {
    this.#files = files;
  }

  read(
    start: number,
    end: number,
    into: Float64Array[],
  ): Promise<Float64Array[]> {
    const run = async () => {
      if (this.#files.length === 0) throw new Error("the copy is closed");
      const n = end - start;
      for (let k = 0; k < this.#files.length; k++) {
        const t = into[k];
        await readExactly(
          this.#files[k].file,
          start * 8,
          new Uint8Array(t.buffer, t.byteOffset, n * 8),
          "(binary copy)",
        );
      }
      return into;
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => {});
    return p;
  }

  close(): void {
    closeColumns(this.#files);
    this.#files = [];
  }
}

async function openTempColumns(columns: number): Promise<TempColumn[]> {
  const out: TempColumn[] = [];
  try {
    for (let k = 0; k < columns; k++) {
      const path = await Deno.makeTempFile({ prefix: "nlsq_copy_" });
      const file = await Deno.open(path, { read: true, write: true });
      let kept: string | null = path;
      try {
        // The open handle keeps the data; nothing remains to clean up.
        await Deno.remove(path);
        kept = null;
      } catch {
        // (Windows) removed by close() instead
      }
      out.push({ file, path: kept, written: 0 });
    }
  } catch (e) {
    closeColumns(out);
    throw e;
  }
  return out;
}

async function writeBlock(
  files: TempColumn[],
  block: Float64Array[],
): Promise<void> {
  for (let k = 0; k < files.length; k++) {
    const c = block[k];
    const bytes = new Uint8Array(c.buffer, c.byteOffset, c.length * 8);
    const f = files[k];
    await f.file.seek(f.written, Deno.SeekMode.Start);
    for (let done = 0; done < bytes.length;) {
      done += await f.file.write(bytes.subarray(done));
    }
    f.written += bytes.length;
  }
}

function closeColumns(files: TempColumn[]): void {
  for (const f of files) {
    try {
      f.file.close();
    } catch {
      // already closed
    }
    if (f.path !== null) {
      try {
        Deno.removeSync(f.path);
      } catch {
        // gone already
      }
    }
  }
}
