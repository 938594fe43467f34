// Batches from binary tables of f64/f32 (NPY and raw files): one or more
// files ("parts"), each a table of `rows` x `columns` elements stored row
// after row (C order) or column after column (Fortran order). A batch costs
// one seek+read per part (row layout) or per selected column (column layout),
// into a buffer reused across the batches of a pass.

import {
  assertOpen,
  checkFinite,
  type ColumnLabels,
  readAllBatches,
  resolveRange,
} from "./_batching.ts";
import {
  assertUnchanged,
  type FileSnapshot,
  readExactly,
} from "./_file_guard.ts";
import type { Batch, BatchOptions, DataSource, SourceDtype } from "./source.ts";

/** One file holding a table. */
export interface BinaryPart {
  snap: FileSnapshot;
  dataOffset: number;
  rows: number;
  columns: number;
  dtype: SourceDtype;
  bigEndian: boolean;
  layout: "rows" | "columns";
}

/** A selected column: which part, which column of it, and its label. */
export interface ColumnPick {
  part: number;
  column: number;
  label: string | number;
}

/** Everything a {@linkcode BinarySource} needs. */
export interface BinarySourceInit {
  parts: BinaryPart[];
  x: ColumnPick[];
  y: ColumnPick;
  sigma?: ColumnPick;
  description: string;
  fingerprint: string;
  dropInvalid: boolean;
}

const HOST_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/** A data source over binary tables. */
export class BinarySource implements DataSource {
  readonly length: number;
  readonly nFeatures: number;
  readonly hasSigma: boolean;
  readonly description: string;
  readonly fingerprint: string;
  #init: BinarySourceInit;
  #labels: ColumnLabels;
  #closed = false;

  constructor(init: BinarySourceInit) {
    this.#init = init;
    this.length = init.parts[0].rows;
    this.nFeatures = init.x.length;
    this.hasSigma = init.sigma !== undefined;
    this.description = init.description;
    this.fingerprint = init.fingerprint;
    this.#labels = {
      x: init.x.map((p) => p.label),
      y: init.y.label,
      sigma: init.sigma?.label,
    };
  }

  async *batches(
    batchSize: number,
    options?: BatchOptions,
  ): AsyncGenerator<Batch> {
    assertOpen(this.#closed, this.#init.parts[0].snap.path);
    const { start, end } = resolveRange(batchSize, options, this.length);
    const parts = this.#init.parts;
    const picks = [...this.#init.x, this.#init.y];
    if (this.#init.sigma) picks.push(this.#init.sigma);
    const files: Deno.FsFile[] = [];
    try {
      for (const p of parts) {
        files.push(await Deno.open(p.snap.absolute, { read: true }));
      }
      const buffers = parts.map((p) =>
        new Uint8Array(
          Math.min(batchSize, Math.max(0, end - start)) * itemSize(p) *
            (p.layout === "rows" ? p.columns : 1),
        )
      );
      for (let s = start; s < end; s += batchSize) {
        options?.signal?.throwIfAborted();
        const e = Math.min(end, s + batchSize);
        const out: Float64Array[] = new Array(picks.length);
        for (let k = 0; k < parts.length; k++) {
          const part = parts[k];
          await assertUnchanged(part.snap);
          if (part.layout === "rows") {
            const bytes = buffers[k].subarray(
              0,
              (e - s) * part.columns * itemSize(part),
            );
            await readExactly(
              files[k],
              part.dataOffset + s * part.columns * itemSize(part),
              bytes,
              part.snap.path,
            );
            const view = decode(bytes, part);
            picks.forEach((pick, j) => {
              if (pick.part === k) {
                out[j] = strided(view, pick.column, part.columns, e - s);
              }
            });
          } else {
            for (const [j, pick] of picks.entries()) {
              if (pick.part !== k) continue;
              const bytes = buffers[k].subarray(0, (e - s) * itemSize(part));
              await readExactly(
                files[k],
                part.dataOffset +
                  (pick.column * part.rows + s) * itemSize(part),
                bytes,
                part.snap.path,
              );
              out[j] = strided(decode(bytes, part), 0, 1, e - s);
            }
          }
        }
        const batch: Batch = {
          x: out.slice(0, this.nFeatures),
          y: out[this.nFeatures],
          start: s,
        };
        if (this.hasSigma) batch.sigma = out[this.nFeatures + 1];
        yield checkFinite(
          batch,
          this.#labels,
          parts[0].snap.path,
          this.#init.dropInvalid,
        );
      }
    } finally {
      for (const f of files) f.close();
    }
  }

  readAll(): Promise<Batch> {
    return readAllBatches(this);
  }

  close(): void {
    this.#closed = true;
  }
}

function itemSize(part: BinaryPart): number {
  return part.dtype === "f64" ? 8 : 4;
}

// Views the bytes (at offset 0 of their own buffer, hence aligned) as floats,
// swapping byte order in place first when the file's differs from the host's.
function decode(
  bytes: Uint8Array,
  part: BinaryPart,
): Float64Array | Float32Array {
  const size = itemSize(part);
  if (part.bigEndian !== HOST_BIG_ENDIAN) {
    for (let i = 0; i < bytes.length; i += size) {
      for (let a = i, b = i + size - 1; a < b; a++, b--) {
        const t = bytes[a];
        bytes[a] = bytes[b];
        bytes[b] = t;
      }
    }
  }
  return size === 8
    ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8)
    : new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

// Copies column `column` of a row-major view with `stride` columns.
function strided(
  view: Float64Array | Float32Array,
  column: number,
  stride: number,
  rows: number,
): Float64Array {
  if (stride === 1) {
    return view instanceof Float64Array
      ? view.slice(0, rows)
      : new Float64Array(view.subarray(0, rows));
  }
  const out = new Float64Array(rows);
  for (let i = 0, at = column; i < rows; i++, at += stride) out[i] = view[at];
  return out;
}
