/**
 * `nlsq batch`: many fits of one model at once (`fitBatch`), from a 2-D
 * NPY file whose rows are fits, or from a CSV/TSV table with a group
 * column; one row per fit out, to CSV/TSV, NPY or JSON.
 *
 * @module
 */

import { extname } from "node:path";
import type { Model } from "../model/types.ts";
import { model as compileModel } from "../model/model.ts";
import { models } from "../models/mod.ts";
import { fitBatch } from "../batch/fit_batch.ts";
import type { BatchResult } from "../batch/batch_result.ts";
import type { FitBatchOptions } from "../batch/fit_batch_options.ts";
import { readNpyRows } from "../batch/_npy_rows.ts";
import { LOSS_NAMES } from "../core/loss.ts";
import { METHOD_NAMES } from "../core/solver_options.ts";
import {
  formatHelp,
  type OptionSpec,
  orList,
  parseBounds,
  parseChoice,
  parseColumns,
  parseCommandArgs,
  type ParsedOptions,
  parseNumber,
  parseP0,
  UsageError,
} from "./args.ts";
import { fixedAndTied } from "./fit_command.ts";
import { resolveVariables } from "./variables.ts";
import { readCsvHeader } from "./csv_header.ts";
import { readGroupedTable } from "./batch_table.ts";
import { batchCsv, batchOutFormat, writeBatchOut } from "./batch_output.ts";
import { BatchProgressBar, progressDelayMs } from "./progress.ts";
import { SigintHandler } from "./interrupt.ts";
import { type CliIo, defaultIo } from "./io.ts";

const OPTIONS: Record<string, OptionSpec> = {
  model: {
    type: "string",
    short: "m",
    arg: "EXPR",
    help:
      'model expression ("a * exp(-b * x) + c") or built-in model name(s) joined by + ("gaussian+constant") (required)',
  },
  data: {
    type: "string",
    short: "d",
    arg: "FILE",
    help:
      "a 2-D .npy file (rows are fits) or a .csv/.tsv table, one row per point (required)",
  },
  group: {
    type: "string",
    arg: "COL",
    help: "CSV/TSV: the column that says which fit a row belongs to",
  },
  x: {
    type: "string",
    arg: "COLS|FILE",
    help:
      "CSV/TSV: x column(s) (default: the first other column); NPY: an .npy of x, 1-D shared or 2-D per fit (default 0, 1, 2, ...)",
  },
  y: {
    type: "string",
    arg: "COL",
    help: "CSV/TSV: the y column (default: the next other column)",
  },
  sigma: {
    type: "string",
    arg: "COL|FILE",
    help: "standard deviations of y: a CSV/TSV column, or an .npy like --data",
  },
  vars: {
    type: "string",
    arg: "NAMES",
    help: "model variable names for the x columns (default as nlsq fit)",
  },
  p0: {
    type: "string",
    arg: "a=1,b=2|auto",
    help:
      "shared start by name (others 1) or one value per parameter; auto: a built-in model's guess per fit (its default)",
  },
  bounds: {
    type: "string",
    arg: "b=0:10",
    help: "bounds name=lo:hi, comma-separated; an empty side is infinite",
  },
  fix: { type: "string", arg: "c=0.5", help: "hold parameters at values" },
  tie: { type: "string", arg: "s2=s1", help: "tie parameters to expressions" },
  estimator: {
    type: "string",
    arg: "E",
    help: "lse (least squares, default) or poisson (counts)",
  },
  method: { type: "string", arg: "M", help: orList(METHOD_NAMES, "trf") },
  loss: { type: "string", arg: "L", help: orList(LOSS_NAMES, "linear") },
  "f-scale": { type: "string", arg: "S", help: "soft margin of the loss" },
  "max-nfev": { type: "string", arg: "N", help: "evaluations per fit at most" },
  ftol: { type: "string", arg: "T", help: "tolerance on the cost change" },
  xtol: { type: "string", arg: "T", help: "tolerance on the step" },
  gtol: { type: "string", arg: "T", help: "tolerance on the gradient" },
  threads: { type: "string", arg: "N", help: 'CPU threads, or "auto"' },
  "nan-policy": {
    type: "string",
    arg: "P",
    help:
      "a fit with NaN in its data: flag (default: not fitted, status -5) or omit (those points left out)",
  },
  delimiter: { type: "string", arg: "C", help: "CSV field delimiter" },
  "no-header": {
    type: "boolean",
    help: "CSV/TSV without a header line (columns by 0-based index)",
  },
  "drop-invalid": {
    type: "boolean",
    help: "CSV/TSV: leave out rows with a missing or non-numeric value",
  },
  out: {
    type: "string",
    short: "o",
    arg: "FILE",
    help:
      "write one row per fit to FILE: .csv .tsv .npy .json (default: CSV on stdout)",
  },
  quiet: {
    type: "boolean",
    short: "q",
    help: "no progress bar and no summary line",
  },
};

/** The help text of `nlsq batch`. */
export const BATCH_HELP: string = formatHelp(
  'nlsq batch --model "<expr>" --data <file> [options]',
  [
    "Fits one model to many datasets at once, each independently, on all",
    "cores, and writes one row per fit: the parameters, their standard",
    "errors, cost, R^2, evaluations, status and message.",
    "",
    "Data: a 2-D .npy array (rows are fits; x from --x FILE.npy or 0, 1, ...)",
    "or a CSV/TSV table in long form, one row per point, with --group naming",
    "the column that tells the fits apart (groups of different sizes are",
    "fine). NPY output columns: the parameters, their standard errors, cost,",
    "r_squared, nfev, status, success.",
    "",
    "Exit codes: 0 every fit converged, 1 some did not (the output is still",
    "written; the summary on stderr lists them), 2 bad input, 3 internal",
    "error, 130 interrupted.",
    "",
    "Examples:",
    "  nlsq batch -m gaussian+constant -d spectra.npy --x wavelengths.npy --out fits.csv",
    '  nlsq batch -m "top/(1+(ec50/dose)^n)" -d plate.csv --group well \\',
    "      --x dose --y response --p0 top=100,ec50=1,n=1 --out fits.json",
  ].join("\n"),
  OPTIONS,
);

const str = (v: string | boolean | number | undefined) =>
  typeof v === "string" ? v : undefined;

/** A built-in model name, or names joined by +, as one model; else null. */
function builtinModel(text: string): Model | null {
  const names = text.split("+").map((s) => s.trim());
  if (!names.every((n) => /^[A-Za-z]\w*$/.test(n) && n in models)) return null;
  type Composable = Model & { add(o: Model): Composable };
  const table = models as unknown as Record<
    string,
    (o?: unknown) => Composable
  >;
  const many = names.length > 1;
  const parts = names.map((n, i) => {
    try {
      return table[n](many ? { prefix: `${n[0]}${i + 1}_` } : undefined);
    } catch (e) {
      throw new UsageError(`--model ${n}: ${(e as Error).message}`);
    }
  });
  return parts.slice(1).reduce((acc, m) => acc.add(m), parts[0]);
}

/** The batch's inputs, read from the files. */
interface BatchInput {
  model: Model;
  x: Float64Array | Float64Array[] | Float64Array[][];
  Y: Float64Array;
  nPoints: number;
  sigma?: Float64Array;
  labels: string[];
  labelName: string;
  /** The table's groups differ in size: pad points are left out. */
  ragged: boolean;
  notes: string[];
}

function isNpy(path: string): boolean {
  return extname(path).toLowerCase() === ".npy";
}

async function readNpyInput(
  o: ParsedOptions,
  dataPath: string,
  expression: string,
): Promise<BatchInput> {
  for (const opt of ["group", "y", "no-header", "drop-invalid", "delimiter"]) {
    if (o[opt] !== undefined) {
      throw new UsageError(`--${opt} is for CSV/TSV data, not ${dataPath}`);
    }
  }
  const rows = await readNpyRows(dataPath);
  const n = rows.cols;
  let x: Float64Array | Float64Array[] = Float64Array.from(
    { length: n },
    (_, k) => k,
  );
  const notes: string[] = [];
  const xPath = str(o.x);
  if (xPath !== undefined) {
    if (!isNpy(xPath)) {
      throw new UsageError(
        `--x: with NPY data, x is an .npy file (1-D shared or 2-D per fit), got ${xPath}`,
      );
    }
    const xr = await readNpyRows(xPath);
    if (xr.cols !== n || (!xr.is1d && xr.rows !== rows.rows)) {
      throw new UsageError(
        `--x ${xPath}: shape ${
          xr.is1d ? `(${xr.cols},)` : `(${xr.rows}, ${xr.cols})`
        } does not match the data's (${rows.rows}, ${n}): give (${n},) or (${rows.rows}, ${n})`,
      );
    }
    x = xr.is1d ? xr.values : Array.from(
      { length: xr.rows },
      (_, i) => xr.values.subarray(i * n, (i + 1) * n),
    );
  } else notes.push(`x is the point index 0..${n - 1} (give --x FILE.npy)`);
  let sigma: Float64Array | undefined;
  const sPath = str(o.sigma);
  if (sPath !== undefined) {
    const sr = await readNpyRows(sPath);
    if (sr.cols !== n || (!sr.is1d && sr.rows !== rows.rows)) {
      throw new UsageError(
        `--sigma ${sPath}: shape does not match the data's (${rows.rows}, ${n})`,
      );
    }
    sigma = sr.values;
  }
  const m = builtinModel(expression) ??
    compileModel(expression, {
      variables: resolveVariables(expression, undefined, str(o.vars)),
    });
  const xs = m.variables.length > 1
    ? (() => {
      throw new UsageError(
        `the model has ${m.variables.length} variables (${
          m.variables.join(", ")
        }); NPY data give one x: use a CSV/TSV table with --x COL1,COL2`,
      );
    })()
    : x;
  return {
    model: m,
    x: xs,
    Y: rows.values,
    nPoints: n,
    sigma,
    labels: Array.from({ length: rows.rows }, (_, i) => String(i)),
    labelName: "fit",
    ragged: false,
    notes,
  };
}

async function readTableInput(
  o: ParsedOptions,
  dataPath: string,
  expression: string,
): Promise<BatchInput> {
  const ext = extname(dataPath).toLowerCase();
  const delimiter = str(o.delimiter) === "\\t"
    ? "\t"
    : str(o.delimiter) ?? (ext === ".tsv" || ext === ".tab" ? "\t" : ",");
  const headerRow = o["no-header"]
    ? undefined
    : await readCsvHeader(dataPath, delimiter);
  const group = o.group === undefined
    ? undefined
    : parseColumns("--group", str(o.group)!);
  if (group && group.length !== 1) {
    throw new UsageError("--group: expected one column");
  }
  const ySel = o.y === undefined ? undefined : parseColumns("--y", str(o.y)!);
  const sSel = o.sigma === undefined
    ? undefined
    : parseColumns("--sigma", str(o.sigma)!);
  const width = headerRow?.length ?? Infinity;
  const nameOf = (r: string | number) =>
    typeof r === "number" ? (headerRow?.[r] ?? r) : r;
  const taken = new Set(
    [group?.[0], ySel?.[0], sSel?.[0]].filter((v) => v !== undefined).map(
      nameOf,
    ),
  );
  // Defaults: x the first column not otherwise used, y the next.
  const free: (string | number)[] = [];
  for (let k = 0; k < Math.min(width, 64) && free.length < 2; k++) {
    const ref = headerRow ? headerRow[k] : k;
    if (!taken.has(ref)) free.push(ref);
  }
  const xSel = o.x === undefined ? [free[0]] : parseColumns("--x", str(o.x)!);
  const y = ySel?.[0] ?? free.find((r) => !xSel.includes(r));
  if (y === undefined || xSel[0] === undefined) {
    throw new UsageError(
      `--data ${dataPath}: give the columns with --x and --y`,
    );
  }
  const table = await readGroupedTable({
    path: dataPath,
    delimiter,
    header: headerRow !== undefined,
    group: group?.[0],
    x: xSel,
    y,
    sigma: sSel?.[0],
    dropInvalid: o["drop-invalid"] === true,
  });
  const notes: string[] = [];
  if (table.ragged) {
    notes.push(
      `groups have ${table.sizes[0]} to ${
        table.sizes[1]
      } rows: shorter ones are padded with points left out`,
    );
  }
  if (table.dropped > 0) {
    notes.push(`${table.dropped} row(s) with invalid values left out`);
  }
  if (group === undefined) notes.push("no --group: the whole table is one fit");
  const m = builtinModel(expression) ??
    compileModel(expression, {
      variables: resolveVariables(
        expression,
        xSel.map((r) => nameOf(r)),
        str(o.vars),
      ),
    });
  if (m.variables.length !== xSel.length) {
    throw new UsageError(
      `the model has ${m.variables.length} variable(s) (${
        m.variables.join(", ")
      }) but --x selects ${xSel.length} column(s)`,
    );
  }
  const perFit = (c: Float64Array) =>
    Array.from(
      { length: table.labels.length },
      (_, i) => c.subarray(i * table.nPoints, (i + 1) * table.nPoints),
    );
  return {
    model: m,
    x: table.x.length === 1 ? perFit(table.x[0]) : table.x.map(perFit),
    Y: table.y,
    nPoints: table.nPoints,
    sigma: table.sigma ?? undefined,
    labels: table.labels,
    labelName: group === undefined ? "fit" : String(nameOf(group[0])),
    ragged: table.ragged,
    notes,
  };
}

/** The solver options of the command line. */
function batchOptions(o: ParsedOptions, m: Model): FitBatchOptions {
  const out: FitBatchOptions = {};
  const bounds = o.bounds === undefined
    ? undefined
    : parseBounds(str(o.bounds)!, m.params);
  if (bounds) out.bounds = bounds;
  const guesses = typeof (m as Model & { guess?: unknown }).guess ===
    "function";
  const p0 = str(o.p0);
  if (p0 === "auto") {
    if (!guesses) {
      throw new UsageError(
        "--p0 auto needs a built-in model (--model gaussian, ...), which guesses starts",
      );
    }
    out.p0 = "auto";
  } else if (p0 !== undefined) out.p0 = parseP0(p0, m.params, bounds);
  else if (!guesses) out.p0 = parseP0("", m.params, bounds);
  const params = fixedAndTied(o.fix, o.tie, m.params);
  if (params) out.params = params;
  if (o.estimator !== undefined) {
    out.estimator = parseChoice<"lse" | "poisson">(
      "--estimator",
      str(o.estimator)!,
      ["lse", "poisson"],
    );
  }
  if (o.method !== undefined) {
    out.method = parseChoice("--method", str(o.method)!, METHOD_NAMES);
  }
  if (o.loss !== undefined) {
    out.loss = parseChoice("--loss", str(o.loss)!, LOSS_NAMES);
  }
  if (o["f-scale"] !== undefined) {
    out.fScale = parseNumber("--f-scale", str(o["f-scale"])!, {
      positive: true,
    });
  }
  if (o["max-nfev"] !== undefined) {
    out.maxNfev = parseNumber("--max-nfev", str(o["max-nfev"])!, {
      integer: true,
      min: 1,
    });
  }
  for (const key of ["ftol", "xtol", "gtol"] as const) {
    if (o[key] !== undefined) {
      out[key] = parseNumber(`--${key}`, str(o[key])!, { min: 0 });
    }
  }
  if (o.threads !== undefined) {
    const t = str(o.threads)!;
    out.threads = t === "auto"
      ? "auto"
      : parseNumber("--threads", t, { integer: true, min: 1 });
  }
  if (o["nan-policy"] !== undefined) {
    out.nanPolicy = parseChoice<"flag" | "omit">(
      "--nan-policy",
      str(o["nan-policy"])!,
      ["flag", "omit"],
    );
  }
  return out;
}

/** The summary line(s) on stderr. */
function summary(b: BatchResult, labels: readonly string[]): string {
  const rate = b.elapsedMs > 0 ? b.nFits / (b.elapsedMs / 1000) : 0;
  const lines = [
    `nlsq: ${b.nFits} fits, ${b.nSuccess} converged, ${
      (b.elapsedMs / 1000).toFixed(2)
    } s (${rate.toFixed(0)} fits/s, ${b.backend})`,
  ];
  const failed: number[] = [];
  for (let i = 0; i < b.nFits; i++) if (!b.success[i]) failed.push(i);
  for (const i of failed.slice(0, 5)) {
    lines.push(
      `nlsq:   fit ${labels[i]}: status ${b.status[i]}: ${b.message(i)}`,
    );
  }
  if (failed.length > 5) {
    lines.push(`nlsq:   ... and ${failed.length - 5} more`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Runs `nlsq batch` with the arguments after the command name and returns
 * the exit code: 0 every fit converged, 1 some did not, 130 interrupted.
 * Bad input throws (a {@linkcode UsageError}, a `DataSourceError`, ...);
 * `main` in cli.ts turns those into exit code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "well,t,v\nA,0,1\nA,1,3\nA,2,5\nB,0,0\nB,1,2\nB,2,4\n");
 * const out: string[] = [];
 * const io = { out: (s: string) => out.push(s), err: () => {} };
 * const code = await batchCommand(
 *   ["--model", "a*t+b", "--data", path, "--group", "well", "--x", "t", "--y", "v"],
 *   io,
 * );
 * assert.strictEqual(code, 0);
 * const lines = out.join("").trim().split("\n");
 * assert.strictEqual(lines[0].split(",").slice(0, 3).join(), "well,a,a_stderr");
 * assert.deepStrictEqual(lines.slice(1).map((l) => l.split(",")[0]), ["A", "B"]);
 * await Deno.remove(path);
 * ```
 *
 * @param args Arguments after `batch`.
 * @param io Where output goes (default: stdout and stderr).
 */
export async function batchCommand(
  args: readonly string[],
  io: CliIo = defaultIo,
): Promise<number> {
  const o = parseCommandArgs("batch", args, OPTIONS);
  if (o.help) {
    io.out(BATCH_HELP);
    return 0;
  }
  const expression = str(o.model);
  const dataPath = str(o.data);
  if (expression === undefined || expression.trim() === "") {
    throw new UsageError(
      'missing --model "<expr>"\nRun "nlsq batch --help" for the options.',
    );
  }
  if (dataPath === undefined || dataPath === "") {
    throw new UsageError(
      'missing --data <file>\nRun "nlsq batch --help" for the options.',
    );
  }
  const outPath = str(o.out);
  if (outPath !== undefined) batchOutFormat(outPath);
  try {
    const info = await Deno.stat(dataPath);
    if (info.isDirectory) {
      throw new UsageError(`--data: ${dataPath} is a directory`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`--data: no such file: ${dataPath}`);
    }
    throw e;
  }
  const input = isNpy(dataPath)
    ? await readNpyInput(o, dataPath, expression)
    : await readTableInput(o, dataPath, expression);
  const options = batchOptions(o, input.model);
  if (input.sigma) options.sigma = input.sigma;
  if (input.ragged) options.nanPolicy = "omit";
  const quiet = o.quiet === true;
  if (!quiet) { for (const n of input.notes) io.err(`nlsq: note: ${n}\n`); }
  const bar = new BatchProgressBar({
    enabled: !quiet && (io.isTerminal?.() ?? false),
    delayMs: progressDelayMs(),
  });
  const sigint = new SigintHandler(() => {
    bar.stop();
    io.err("nlsq: interrupted\n");
    Deno.exit(130);
  });
  let b: BatchResult;
  try {
    sigint.arm();
    b = await fitBatch(input.model, input.x, input.Y, {
      ...options,
      nPoints: input.nPoints,
      signal: sigint.signal,
      onProgress: (p) => bar.update(p),
    });
  } catch (e) {
    if (!sigint.interrupted) throw e;
    bar.stop();
    io.err("nlsq: interrupted\n");
    return 130;
  } finally {
    sigint.disarm();
    sigint.close();
    bar.stop();
  }
  const ctx = {
    model: expression,
    labelName: input.labelName,
    labels: input.labels,
  };
  if (outPath === undefined) io.out(batchCsv(b, ctx));
  else await writeBatchOut(outPath, b, ctx);
  if (!quiet) {
    io.err(summary(b, input.labels));
    if (outPath !== undefined) {
      io.err(`nlsq: ${b.nFits} rows written to ${outPath}\n`);
    }
  }
  return b.nSuccess === b.nFits ? 0 : 1;
}
