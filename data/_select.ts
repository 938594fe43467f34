// Column selection for tables whose columns have indices but no names (NPY
// 2-D arrays, raw binary, HDF5 2-D datasets).

import { DataSourceError } from "./data_source_error.ts";
import type { ColumnRef } from "./source.ts";
import { checkColumnRef } from "./_options.ts";

/** The x/y/sigma selection, with defaults applied. */
export interface Selection<T> {
  x: T[];
  y: T;
  sigma?: T;
}

/** Applies the defaults (x = column 0, y = column 1) to user options. */
export function defaultSelection(
  options: { x?: ColumnRef | ColumnRef[]; y?: ColumnRef; sigma?: ColumnRef },
  defaults: { x: ColumnRef; y: ColumnRef } = { x: 0, y: 1 },
): Selection<ColumnRef> {
  checkColumnRef("x", options.x);
  checkColumnRef("y", options.y);
  checkColumnRef("sigma", options.sigma);
  const x = options.x === undefined
    ? [defaults.x]
    : Array.isArray(options.x)
    ? options.x
    : [options.x];
  if (x.length === 0) throw new TypeError("x must select at least one column");
  const sel: Selection<ColumnRef> = { x, y: options.y ?? defaults.y };
  if (options.sigma !== undefined) sel.sigma = options.sigma;
  return sel;
}

/** Resolves a column reference to an index in `[0, columns)`. */
export function columnIndex(
  ref: ColumnRef,
  columns: number,
  role: string,
  path: string,
): number {
  if (typeof ref === "string") {
    throw new TypeError(
      `${role}: ${path} has no column names; select columns by 0-based index, got ${
        JSON.stringify(ref)
      }`,
    );
  }
  if (!Number.isSafeInteger(ref) || ref < 0) {
    throw new RangeError(
      `${role}: column index must be a non-negative integer, got ${ref}`,
    );
  }
  if (ref >= columns) {
    throw new DataSourceError(
      "column",
      `${role} selects column ${ref}, but the table has ${columns} column${
        columns === 1 ? "" : "s"
      } (0..${columns - 1})`,
      { path, column: ref },
    );
  }
  return ref;
}

/** Short text of a selection, for descriptions and fingerprints. */
export function selectionText(sel: Selection<ColumnRef>): string {
  return `x=${sel.x.join("+")},y=${sel.y}${
    sel.sigma === undefined ? "" : `,sigma=${sel.sigma}`
  }`;
}
