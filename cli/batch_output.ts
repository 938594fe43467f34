/**
 * What `nlsq batch` writes: one row per fit, as CSV/TSV, NPY or JSON (the
 * format from the file's extension).
 *
 * - CSV/TSV: a header, then per fit its label (the group, or the row of the
 *   NPY data), every parameter and its standard error (`name_stderr`),
 *   `cost`, `r_squared`, `nfev`, `status`, `success` and `message`.
 * - NPY: float64 `(nFits, 2 p + 5)`: the parameters, their standard
 *   errors, cost, r_squared, nfev, status, success (labels are the row
 *   order).
 * - JSON: `{ model, estimator, params, nFits, nSuccess, elapsedMs, fits }`,
 *   each fit `{ fit, label, params, stderr, cost, rSquared, nfev, status,
 *   success, message }`, NaN as null.
 *
 * @module
 */

import { extname } from "node:path";
import type { BatchResult } from "../batch/batch_result.ts";
import { UsageError } from "./args.ts";

/** Output formats of `nlsq batch --out`. */
export type BatchOutFormat = "csv" | "tsv" | "npy" | "json";

/**
 * The format of an output path from its extension.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(batchOutFormat("fits.NPY"), "npy");
 * assert.throws(() => batchOutFormat("fits.xlsx"), /--out/);
 * ```
 */
export function batchOutFormat(path: string): BatchOutFormat {
  const ext = extname(path).toLowerCase();
  const f = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".npy": "npy",
    ".json": "json",
  }[ext];
  if (f === undefined) {
    throw new UsageError(
      `--out: cannot tell the format of ${path} (use .csv, .tsv, .npy or .json)`,
    );
  }
  return f as BatchOutFormat;
}

/** What the writers need besides the result. */
export interface BatchOutContext {
  readonly model: string;
  /** Name of the label column ("fit", or the group column). */
  readonly labelName: string;
  /** Label of each fit. */
  readonly labels: readonly string[];
}

/** A CSV/TSV field, quoted where it has to be. */
function field(s: string, sep: string): string {
  return s.includes(sep) || /["\n\r]/.test(s)
    ? `"${s.replaceAll('"', '""')}"`
    : s;
}

/**
 * The table as CSV (or TSV with `sep` a tab), one row per fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fitBatch } from "@nlsq/nlsq";
 * const b = await fitBatch("a * x", [1, 2], [[2, 4], [3, 6]], { p0: [1] });
 * const text = batchCsv(b, { model: "a * x", labelName: "fit", labels: ["0", "1"] });
 * const [head, first] = text.split("\n");
 * assert.strictEqual(head, "fit,a,a_stderr,cost,r_squared,nfev,status,success,message");
 * assert.ok(Math.abs(Number(first.split(",")[1]) - 2) < 1e-12);
 * ```
 */
export function batchCsv(
  b: BatchResult,
  ctx: BatchOutContext,
  sep = ",",
): string {
  const p = b.params.length;
  const head = [
    ctx.labelName,
    ...b.params.flatMap((n) => [n, `${n}_stderr`]),
    "cost",
    "r_squared",
    "nfev",
    "status",
    "success",
    "message",
  ];
  const lines = [head.map((h) => field(h, sep)).join(sep)];
  for (let i = 0; i < b.nFits; i++) {
    const row = [field(ctx.labels[i], sep)];
    for (let j = 0; j < p; j++) {
      row.push(String(b.popt[i * p + j]), String(b.perr[i * p + j]));
    }
    row.push(
      String(b.cost[i]),
      String(b.rSquared[i]),
      String(b.nfev[i]),
      String(b.status[i]),
      String(b.success[i]),
      field(b.message(i), sep),
    );
    lines.push(row.join(sep));
  }
  return lines.join("\n") + "\n";
}

/** The table as an NPY file's bytes: float64 (nFits, 2 p + 5), C order. */
export function batchNpy(b: BatchResult): Uint8Array {
  const p = b.params.length, w = 2 * p + 5, n = b.nFits;
  const header =
    `{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, ${w}), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const padded = header.padEnd(total - 10 - 1) + "\n";
  const bytes = new Uint8Array(total + 8 * n * w);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), 10);
  const view = new DataView(bytes.buffer, total);
  for (let i = 0; i < n; i++) {
    const row = [
      ...b.popt.subarray(i * p, (i + 1) * p),
      ...b.perr.subarray(i * p, (i + 1) * p),
      b.cost[i],
      b.rSquared[i],
      b.nfev[i],
      b.status[i],
      b.success[i],
    ];
    row.forEach((v, c) => view.setFloat64((i * w + c) * 8, v, true));
  }
  return bytes;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** The table as JSON text. */
export function batchJson(
  b: BatchResult,
  ctx: BatchOutContext,
): string {
  const p = b.params.length;
  const byName = (a: Float64Array, i: number) =>
    Object.fromEntries(b.params.map((n, j) => [n, finite(a[i * p + j])]));
  const fits = Array.from({ length: b.nFits }, (_, i) => ({
    fit: i,
    [ctx.labelName === "fit" ? "label" : ctx.labelName]: ctx.labels[i],
    params: byName(b.popt, i),
    stderr: byName(b.perr, i),
    cost: finite(b.cost[i]),
    rSquared: finite(b.rSquared[i]),
    nfev: b.nfev[i],
    status: b.status[i],
    success: b.success[i] === 1,
    message: b.message(i),
  }));
  return JSON.stringify(
    {
      model: ctx.model,
      estimator: b.estimator,
      params: b.params,
      nFits: b.nFits,
      nSuccess: b.nSuccess,
      elapsedMs: b.elapsedMs,
      backend: b.backend,
      fits,
    },
    null,
    1,
  ) + "\n";
}

/** Writes the result to `path` in the format its extension names. */
export async function writeBatchOut(
  path: string,
  b: BatchResult,
  ctx: BatchOutContext,
): Promise<void> {
  const format = batchOutFormat(path);
  try {
    if (format === "npy") await Deno.writeFile(path, batchNpy(b));
    else {
      await Deno.writeTextFile(
        path,
        format === "json"
          ? batchJson(b, ctx)
          : batchCsv(b, ctx, format === "tsv" ? "\t" : ","),
      );
    }
  } catch (e) {
    throw new UsageError(
      `--out: cannot write ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}
