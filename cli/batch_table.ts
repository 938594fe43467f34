/**
 * The data of `nlsq batch` from a CSV/TSV table in long form: one row per
 * point, a group column (`--group well`) saying which fit a row belongs
 * to. Groups are fits in the order they first appear; their rows keep the
 * file's order. Groups of different sizes are padded with NaN points that
 * the batch leaves out (nanPolicy "omit").
 *
 * @module
 */

import { parse } from "csv-parse/sync";
import type { ColumnRef } from "../data/source.ts";
import { UsageError } from "./args.ts";

/** What {@linkcode readGroupedTable} reads. */
export interface GroupedTableRequest {
  readonly path: string;
  readonly delimiter: string;
  readonly header: boolean;
  /** The group column; undefined: the whole table is one fit. */
  readonly group?: ColumnRef;
  readonly x: readonly ColumnRef[];
  readonly y: ColumnRef;
  readonly sigma?: ColumnRef;
  /** Leave out rows with a missing or non-numeric value (else an error). */
  readonly dropInvalid: boolean;
}

/** A grouped table as `fitBatch`'s arrays: fit i's points at `i * nPoints`. */
export interface GroupedTable {
  /** The group of each fit (its value in the group column). */
  readonly labels: string[];
  readonly nPoints: number;
  /** One column per x: nFits * nPoints values (NaN padding). */
  readonly x: Float64Array[];
  readonly y: Float64Array;
  readonly sigma: Float64Array | null;
  /** Whether groups differ in size (padded). */
  readonly ragged: boolean;
  /** Rows left out by dropInvalid. */
  readonly dropped: number;
  /** The smallest and largest group. */
  readonly sizes: readonly [number, number];
}

/** A cell as a finite number, or NaN (empty, text, nan, inf). */
function cellNumber(s: string | undefined): number {
  const t = (s ?? "").trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
}

/**
 * Reads a CSV/TSV table and groups its rows by the group column.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "well,dose,resp\nA1,1,2\nB1,1,3\nA1,2,4\nB1,2,6\n");
 * const t = await readGroupedTable({
 *   path, delimiter: ",", header: true, group: "well", x: ["dose"], y: "resp",
 *   dropInvalid: false,
 * });
 * assert.deepStrictEqual(t.labels, ["A1", "B1"]);
 * assert.deepStrictEqual(Array.from(t.y), [2, 4, 3, 6]);
 * await Deno.remove(path);
 * ```
 */
export async function readGroupedTable(
  req: GroupedTableRequest,
): Promise<GroupedTable> {
  const text = await Deno.readTextFile(req.path);
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: req.delimiter,
      relax_column_count: false,
      skip_empty_lines: true,
      trim: false,
    }) as string[][];
  } catch (e) {
    throw new UsageError(
      `--data ${req.path}: not a valid table: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const header = req.header ? records.shift() ?? [] : undefined;
  const width = header?.length ?? records[0]?.length ?? 0;
  const index = (ref: ColumnRef, option: string): number => {
    if (typeof ref === "number") {
      if (ref < width) return ref;
      throw new UsageError(
        `${option}: column ${ref} is out of range (the file has ${width} columns)`,
      );
    }
    const k = header?.findIndex((h) => h.trim() === ref) ?? -1;
    if (k < 0) {
      throw new UsageError(
        header
          ? `${option}: no column "${ref}" in ${req.path} (columns: ${
            header.map((h) => h.trim()).join(", ")
          })`
          : `${option}: "${ref}" names a column, but ${req.path} has no header (--no-header): use 0-based indices`,
      );
    }
    return k;
  };
  const g = req.group === undefined ? -1 : index(req.group, "--group");
  const xs = req.x.map((r) => index(r, "--x"));
  const yk = index(req.y, "--y");
  const sk = req.sigma === undefined ? -1 : index(req.sigma, "--sigma");
  const name = (k: number) => header ? `"${header[k].trim()}"` : `${k}`;
  const groups = new Map<string, number[][]>();
  let dropped = 0;
  const firstLine = req.header ? 2 : 1;
  records.forEach((rec, r) => {
    const cols = [...xs, yk, ...(sk >= 0 ? [sk] : [])];
    const values = cols.map((k) => cellNumber(rec[k]));
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      if (req.dropInvalid) {
        dropped++;
        return;
      }
      throw new UsageError(
        `--data ${req.path}: line ${firstLine + r}, column ${
          name(cols[bad])
        }: ${
          JSON.stringify(rec[cols[bad]])
        } is not a finite number (--drop-invalid leaves such rows out)`,
      );
    }
    const key = g >= 0 ? rec[g].trim() : "";
    let rows = groups.get(key);
    if (!rows) groups.set(key, rows = []);
    rows.push(values);
  });
  if (groups.size === 0) {
    throw new UsageError(`--data ${req.path}: no data rows`);
  }
  const sizes = [...groups.values()].map((r) => r.length);
  const nPoints = Math.max(...sizes), nFits = groups.size;
  const x = xs.map(() => new Float64Array(nFits * nPoints).fill(NaN));
  const y = new Float64Array(nFits * nPoints).fill(NaN);
  const sigma = sk >= 0 ? new Float64Array(nFits * nPoints).fill(NaN) : null;
  [...groups.values()].forEach((rows, i) => {
    rows.forEach((v, k) => {
      const o = i * nPoints + k;
      xs.forEach((_, c) => x[c][o] = v[c]);
      y[o] = v[xs.length];
      if (sigma) sigma[o] = v[xs.length + 1];
    });
  });
  return {
    labels: [...groups.keys()],
    nPoints,
    x,
    y,
    sigma,
    ragged: Math.min(...sizes) !== nPoints,
    dropped,
    sizes: [Math.min(...sizes), nPoints],
  };
}
