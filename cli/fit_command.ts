/**
 * `nlsq fit`: fits a model expression to a data file and prints an
 * lmfit-style report (or one JSON object with `--json`), optionally writing
 * an SVG plot.
 *
 * @module
 */

import { basename } from "node:path";
import type { Model } from "../model/types.ts";
import {
  formatOfPath,
  openSource,
  SOURCE_EXTENSIONS,
} from "../data/open_source.ts";
import {
  type DataSource,
  type OpenSourceOptions,
  SOURCE_DTYPES,
  SOURCE_FORMATS,
} from "../data/source.ts";
import { fit, type FitOptions } from "../workflow/fit.ts";
import type { ParamsInput, ParamSpec } from "../workflow/fit/_params.ts";
import type { FitResult } from "../workflow/fit_result.ts";
import { listCheckpoints } from "../checkpoint/checkpoint.ts";
import { LOSS_NAMES } from "../core/loss.ts";
import { METHOD_NAMES } from "../core/solver_options.ts";
import { BACKEND_NAMES } from "../strategies/backend_name.ts";
import { OptimizationGoal } from "../workflow/goal.ts";
import { WORKFLOW_PRESETS } from "../workflow/presets.ts";
import {
  formatHelp,
  type OptionSpec,
  orList,
  parseAssignments,
  parseBounds,
  parseChoice,
  parseColumns,
  parseCommandArgs,
  type ParsedOptions,
  parseNumber,
  parseP0,
  UsageError,
} from "./args.ts";
import { correlationMatrix } from "../workflow/correlation.ts";
import { FitProgressBar, progressDelayMs } from "./progress.ts";
import { readCsvHeader } from "./csv_header.ts";
import { chooseVariables, usesName } from "./variables.ts";
import { describeError, isInputError } from "./errors.ts";
import { SigintHandler } from "./interrupt.ts";
import { collectPlotData } from "../plot/collect_plot_data.ts";
import { plotSvg } from "../plot/plot_svg.ts";
import { BAND_KINDS, type BandKind } from "../plot/plot_data.ts";
import { type CliIo, defaultIo } from "./io.ts";

const OPTIONS: Record<string, OptionSpec> = {
  model: {
    type: "string",
    short: "m",
    arg: "EXPR",
    help: 'model expression, e.g. "a * exp(-b * x) + c" (required)',
  },
  data: {
    type: "string",
    short: "d",
    arg: "FILE",
    help: `data file: ${extensionsHelp()} (required)`,
  },
  x: {
    type: "string",
    arg: "COLS",
    help:
      "x column(s): header names, dataset paths or 0-based indices, comma-separated (default: column 0 / dataset x)",
  },
  y: {
    type: "string",
    arg: "COL",
    help: "y column (default: column 1 / dataset y)",
  },
  sigma: {
    type: "string",
    arg: "COL",
    help: "column of standard deviations of y (weights 1/sigma)",
  },
  vars: {
    type: "string",
    arg: "NAMES",
    help:
      "model variable names for the x columns (default: the column names when the model uses them, else x or x0,x1,...)",
  },
  p0: {
    type: "string",
    arg: "a=1,b=2",
    help:
      "starting values by name (others start at 1, moved inside bounds), or one value per parameter",
  },
  bounds: {
    type: "string",
    arg: "b=0:10",
    help: "bounds name=lo:hi, comma-separated; an empty side is infinite",
  },
  fix: {
    type: "string",
    arg: "c=0.5",
    help: "hold parameters at values (name=value, comma-separated)",
  },
  tie: {
    type: "string",
    arg: "s2=s1",
    help:
      "tie parameters to expressions of others (name=expr, comma-separated)",
  },
  method: { type: "string", arg: "M", help: orList(METHOD_NAMES, "trf") },
  loss: {
    type: "string",
    arg: "L",
    help: `robust loss: ${orList(LOSS_NAMES, "linear")}`,
  },
  "f-scale": { type: "string", arg: "S", help: "soft margin of the loss" },
  "x-scale": {
    type: "string",
    arg: "S",
    help: 'parameter scale: a number, "jac", or one value per parameter',
  },
  "max-nfev": {
    type: "string",
    arg: "N",
    help: "maximum number of function evaluations",
  },
  ftol: { type: "string", arg: "T", help: "tolerance on the cost change" },
  xtol: { type: "string", arg: "T", help: "tolerance on the step" },
  gtol: { type: "string", arg: "T", help: "tolerance on the gradient" },
  workflow: {
    type: "string",
    arg: "W",
    help: `preset (${
      Object.keys(WORKFLOW_PRESETS).join(" ")
    }) or strategy name (default auto)`,
  },
  goal: {
    type: "string",
    arg: "G",
    help: orList(Object.values(OptimizationGoal)),
  },
  backend: { type: "string", arg: "B", help: orList(BACKEND_NAMES, "auto") },
  "memory-limit-gb": {
    type: "string",
    arg: "N",
    help: "memory limit in GB, replacing detection",
  },
  threads: { type: "string", arg: "N", help: 'CPU threads, or "auto"' },
  seed: { type: "string", arg: "N", help: "seed of multi-start sampling" },
  "checkpoint-dir": {
    type: "string",
    arg: "DIR",
    help: "write checkpoints to DIR",
  },
  resume: {
    type: "boolean",
    help: "resume from the newest checkpoint in --checkpoint-dir",
  },
  estimator: {
    type: "string",
    arg: "E",
    help:
      "lse (least squares, default) or poisson (counts: maximum likelihood, errors from the Fisher information)",
  },
  "absolute-sigma": {
    type: "boolean",
    help: "sigma is absolute (pcov not scaled by the reduced chi-square)",
  },
  format: {
    type: "string",
    arg: "F",
    help: `file format when the extension does not tell: ${
      SOURCE_FORMATS.join(" ")
    }`,
  },
  dtype: {
    type: "string",
    arg: "T",
    help: `raw files: ${orList(SOURCE_DTYPES)}`,
  },
  columns: { type: "string", arg: "N", help: "raw files: columns per row" },
  dataset: {
    type: "string",
    arg: "PATH",
    help: "HDF5: a 2-D dataset whose columns --x/--y/--sigma index",
  },
  delimiter: { type: "string", arg: "C", help: "CSV field delimiter" },
  "no-header": {
    type: "boolean",
    help: "CSV/TSV without a header line (select columns by index)",
  },
  "drop-invalid": {
    type: "boolean",
    help: "skip rows with missing or non-finite values instead of failing",
  },
  "binary-copy": {
    type: "string",
    arg: "WHERE",
    help:
      "CSV/TSV: where the binary copy made at open goes: auto (default), memory, file or none (every pass parses the text)",
  },
  alpha: {
    type: "string",
    arg: "A",
    help: "significance level of the confidence intervals (default 0.05: 95%)",
  },
  json: {
    type: "boolean",
    help: "print one JSON object instead of the report",
  },
  out: {
    type: "string",
    arg: "FILE",
    help:
      "save the result: FILE.json (what FitResult.fromJSON restores) or FILE.csv (one row per parameter)",
  },
  plot: {
    type: "string",
    arg: "FILE.svg",
    help: "write an SVG plot of the data, the fit and the residuals",
  },
  band: {
    type: "string",
    arg: "KIND",
    help:
      "--plot: the confidence or prediction band around the fit (coverage 1 - --alpha)",
  },
  "log-x": {
    type: "boolean",
    help: "--plot: logarithmic x axis (x <= 0 left out, with a note)",
  },
  "log-y": {
    type: "boolean",
    help: "--plot: logarithmic y axis (y <= 0 left out, with a note)",
  },
  quiet: {
    type: "boolean",
    short: "q",
    help: "no progress bar (it shows only on a terminal, after ~1 s)",
  },
  verbose: {
    type: "count",
    short: "v",
    help:
      "library log on stderr: -v start and end lines, -vv every iteration (or --verbose=N)",
  },
};

/** The extensions of every format: `.npy .csv .tsv/.tab ...`. */
function extensionsHelp(): string {
  return SOURCE_FORMATS.map((f) =>
    Object.keys(SOURCE_EXTENSIONS).filter((e) => SOURCE_EXTENSIONS[e] === f)
      .join("/")
  ).filter((s) => s !== "").join(" ");
}

/** The help text of `nlsq fit`. */
export const FIT_HELP: string = formatHelp(
  'nlsq fit --model "<expr>" --data <file> [options]',
  [
    "Fits a model expression to a data file and prints a report: parameters",
    "with standard errors and confidence intervals, chi-square, R^2, RMSE,",
    "AIC/BIC, evaluations, status, strategy, backend and time.",
    "",
    "A model that names a column of a CSV/TSV file (t in a*exp(-b*t)+c) uses",
    "that column as its variable; a parameter may not be named like a column.",
    "",
    "Ctrl-C stops the fit; with --checkpoint-dir it writes a last checkpoint",
    "and says where (continue with --resume).",
    "",
    "Exit codes: 0 converged, 1 did not converge (e.g. --max-nfev reached),",
    "2 bad input (unknown option, model syntax error, missing file or column;",
    "a --plot or --out that cannot be written, after the report), 3 internal error,",
    "130 interrupted.",
    "",
    "Examples:",
    '  nlsq fit -m "b1*(1-exp(-b2*x))" -d examples/data/misra1a.csv --p0 b1=500,b2=1e-4',
    '  nlsq fit -m "a*exp(-b*t)+c" -d examples/data/decay.csv --x t --y signal \\',
    "      --sigma sigma --bounds b=0: --plot decay.svg",
  ].join("\n"),
  OPTIONS,
);

const str = (v: string | boolean | number | undefined) =>
  typeof v === "string" ? v : undefined;

/** Everything `fit` needs, parsed and checked, before the data is read. */
interface FitPlan {
  expression: string;
  model: Model;
  dataPath: string;
  sourceOptions: OpenSourceOptions;
  fitOptions: FitOptions;
  p0: number[] | undefined;
  bounds: [number[], number[]] | undefined;
  alpha: number;
  json: boolean;
  plot: string | undefined;
  out: string | undefined;
  /** How the plot is drawn (--band, --log-x, --log-y). */
  plotStyle: { band?: BandKind; logX: boolean; logY: boolean };
  quiet: boolean;
  xLabel: string;
  yLabel: string;
  /** Things worth saying on stderr before the fit. */
  warnings: string[];
}

/**
 * The column names of a CSV/TSV data file with a header line; undefined for
 * other formats (their columns have indices, or dataset paths).
 */
async function columnNames(
  path: string,
  o: OpenSourceOptions,
): Promise<string[] | undefined> {
  const format = o.format ?? formatOfPath(path);
  if ((format !== "csv" && format !== "tsv") || o.header === false) {
    return undefined;
  }
  return await readCsvHeader(
    path,
    o.delimiter ?? (format === "tsv" ? "\t" : ","),
  );
}

/** Fails early, with the option's name, on a data file that is not there. */
async function assertDataFile(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`--data: no such file: ${path}`);
    }
    throw e;
  }
  if (info.isDirectory) {
    throw new UsageError(`--data: ${path} is a directory, not a data file`);
  }
}

/**
 * Checks `--checkpoint-dir` before the fit: a file where the directory
 * should be would fail only at the first checkpoint.
 */
async function assertCheckpointDir(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // created at the first write
    if (!isInputError(e)) throw e;
    throw new UsageError(`--checkpoint-dir: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!info.isDirectory) {
    throw new UsageError(
      `--checkpoint-dir: ${dir} exists and is not a directory`,
    );
  }
}

/** The layout options of the data file (columns are chosen later). */
function planSource(o: ParsedOptions): OpenSourceOptions {
  const sourceOptions: OpenSourceOptions = {};
  if (o.format !== undefined) {
    sourceOptions.format = parseChoice(
      "--format",
      str(o.format)!,
      SOURCE_FORMATS,
    );
  }
  if (o.dtype !== undefined) {
    sourceOptions.dtype = parseChoice("--dtype", str(o.dtype)!, SOURCE_DTYPES);
  }
  if (o.columns !== undefined) {
    sourceOptions.columns = parseNumber("--columns", str(o.columns)!, {
      integer: true,
      min: 1,
    });
  }
  if (o.dataset !== undefined) sourceOptions.dataset = str(o.dataset);
  if (o.delimiter !== undefined) {
    sourceOptions.delimiter = str(o.delimiter) === "\\t"
      ? "\t"
      : str(o.delimiter);
  }
  if (o["no-header"]) sourceOptions.header = false;
  if (o["drop-invalid"]) sourceOptions.dropInvalid = true;
  if (o["binary-copy"] !== undefined) {
    sourceOptions.binaryCopy = parseChoice<
      NonNullable<OpenSourceOptions["binaryCopy"]>
    >("--binary-copy", str(o["binary-copy"])!, [
      "auto",
      "memory",
      "file",
      "none",
    ]);
  }

  return sourceOptions;
}

/** The solver and workflow options (all but `p0` and `bounds`). */
function planFitOptions(o: ParsedOptions): FitOptions {
  const fitOptions: FitOptions = {};
  if (o.method !== undefined) {
    fitOptions.method = parseChoice("--method", str(o.method)!, METHOD_NAMES);
  }
  if (o.loss !== undefined) {
    fitOptions.loss = parseChoice("--loss", str(o.loss)!, LOSS_NAMES);
  }
  if (o["f-scale"] !== undefined) {
    fitOptions.fScale = parseNumber("--f-scale", str(o["f-scale"])!, {
      positive: true,
    });
  }
  if (o["x-scale"] !== undefined) {
    const s = str(o["x-scale"])!;
    if (s === "jac") fitOptions.xScale = "jac";
    else {
      const v = s.split(",").map((t) => parseNumber("--x-scale", t));
      fitOptions.xScale = v.length === 1 ? v[0] : v;
    }
  }
  if (o["max-nfev"] !== undefined) {
    fitOptions.maxNfev = parseNumber("--max-nfev", str(o["max-nfev"])!, {
      integer: true,
      min: 1,
    });
  }
  for (const key of ["ftol", "xtol", "gtol"] as const) {
    if (o[key] !== undefined) {
      fitOptions[key] = parseNumber(`--${key}`, str(o[key])!, { min: 0 });
    }
  }
  if (o.workflow !== undefined) fitOptions.workflow = str(o.workflow);
  if (o.goal !== undefined) fitOptions.goal = str(o.goal);
  if (o.backend !== undefined) {
    fitOptions.backend = parseChoice(
      "--backend",
      str(o.backend)!,
      BACKEND_NAMES,
    );
  }
  if (o["memory-limit-gb"] !== undefined) {
    fitOptions.memoryLimitGb = parseNumber(
      "--memory-limit-gb",
      str(o["memory-limit-gb"])!,
      { positive: true },
    );
  }
  if (o.threads !== undefined) {
    const t = str(o.threads)!;
    fitOptions.threads = t === "auto"
      ? "auto"
      : parseNumber("--threads", t, { integer: true, min: 1 });
  }
  if (o.seed !== undefined) {
    fitOptions.seed = parseNumber("--seed", str(o.seed)!, { integer: true });
  }
  if (o["checkpoint-dir"] !== undefined) {
    fitOptions.checkpointDir = str(o["checkpoint-dir"]);
  }
  if (o.resume) {
    if (fitOptions.checkpointDir === undefined) {
      throw new UsageError("--resume needs --checkpoint-dir <dir>");
    }
    fitOptions.resume = true;
  }
  if (o["absolute-sigma"]) fitOptions.absoluteSigma = true;
  if (o.estimator !== undefined) {
    fitOptions.estimator = parseChoice<"lse" | "poisson">(
      "--estimator",
      str(o.estimator)!,
      ["lse", "poisson"],
    );
  }
  if (typeof o.verbose === "number" && o.verbose > 0) {
    // More v's than levels mean the most detail, as usual for -v flags.
    fitOptions.verbose = Math.min(o.verbose, 2) as 1 | 2;
  }
  return fitOptions;
}

async function plan(args: readonly string[]): Promise<FitPlan | null> {
  const o = parseCommandArgs("fit", args, OPTIONS);
  if (o.help) return null;
  const expression = str(o.model);
  const dataPath = str(o.data);
  if (expression === undefined || expression.trim() === "") {
    throw new UsageError(
      'missing --model "<expr>" (e.g. --model "a * exp(-b * x) + c")\nRun "nlsq fit --help" for the options.',
    );
  }
  if (dataPath === undefined || dataPath === "") {
    throw new UsageError(
      'missing --data <file>\nRun "nlsq fit --help" for the options.',
    );
  }
  const xCols = o.x === undefined ? undefined : parseColumns("--x", str(o.x)!);
  const yCol = o.y === undefined ? undefined : parseColumns("--y", str(o.y)!);
  const sCol = o.sigma === undefined
    ? undefined
    : parseColumns("--sigma", str(o.sigma)!);
  for (const [name, cols] of [["--y", yCol], ["--sigma", sCol]] as const) {
    if (cols && cols.length !== 1) {
      throw new UsageError(`${name}: expected one column, got ${cols.length}`);
    }
  }
  const sourceOptions = planSource(o);
  await assertDataFile(dataPath);
  const header = await columnNames(dataPath, sourceOptions);
  const { model: m, variables, x } = chooseVariables({
    expression,
    x: xCols,
    y: yCol?.[0],
    sigma: sCol?.[0],
    vars: str(o.vars),
    header,
    file: dataPath,
  });
  if (x) sourceOptions.x = x.length === 1 ? x[0] : x;
  if (yCol) sourceOptions.y = yCol[0];
  if (sCol) sourceOptions.sigma = sCol[0];
  const warnings: string[] = [];
  if (!variables.some((v) => usesName(expression, v))) {
    warnings.push(
      `the model does not use its variable${variables.length > 1 ? "s" : ""} ${
        variables.join(", ")
      }, so it is constant in x; its parameters are ${
        m.params.join(", ")
      }. Give the model's name of the x column(s) with --vars NAME, or write the model in ${
        variables.join(", ")
      }.`,
    );
  }
  if (m.params.length === 0) {
    throw new UsageError(
      `the model "${expression}" has no parameters to fit (variables: ${
        variables.join(", ")
      })`,
    );
  }

  const bounds = o.bounds === undefined
    ? undefined
    : parseBounds(str(o.bounds)!, m.params);
  const bounded = bounds !== undefined &&
    bounds[0].every(Number.isFinite) && bounds[1].every(Number.isFinite);
  // Without --p0: a global search inside finite bounds (the library's
  // rule), else every parameter at 1 moved inside its bounds (the default
  // --p0's help states).
  const p0 = o.p0 === undefined
    ? (bounded ? undefined : parseP0("", m.params, bounds))
    : parseP0(str(o.p0)!, m.params, bounds);

  const fitOptions = planFitOptions(o);
  if (p0) fitOptions.p0 = p0;
  if (bounds) fitOptions.bounds = bounds;
  const params = fixedAndTied(o.fix, o.tie, m.params);
  if (params) fitOptions.params = params;
  if (fitOptions.checkpointDir !== undefined) {
    await assertCheckpointDir(fitOptions.checkpointDir);
  }

  const alpha = o.alpha === undefined
    ? 0.05
    : parseNumber("--alpha", str(o.alpha)!, { positive: true });
  if (!(alpha < 1)) throw new UsageError(`--alpha: must be in (0, 1)`);
  const plot = str(o.plot);
  if (plot === "") throw new UsageError("--plot: empty file name");
  const out = str(o.out);
  if (out !== undefined && !/\.(json|csv)$/i.test(out)) {
    throw new UsageError(
      `--out: ${
        JSON.stringify(out)
      } must end in .json (the result, restorable) or .csv (the parameter table)`,
    );
  }
  const plotStyle = parsePlotStyle(o, plot);

  const label = (c: string | number | undefined, dflt: string) =>
    c === undefined
      ? dflt
      : typeof c === "number"
      ? header?.[c] ?? `column ${c}`
      : c;
  return {
    expression,
    model: m,
    dataPath,
    sourceOptions,
    fitOptions,
    p0,
    bounds,
    alpha,
    json: o.json === true,
    plot,
    out,
    plotStyle,
    quiet: o.quiet === true,
    xLabel: x ? label(x[0], "x") : variables[0],
    yLabel: label(yCol?.[0] ?? (header ? 1 : undefined), "y"),
    warnings,
  };
}

/** --band, --log-x and --log-y, which only --plot uses. */
function parsePlotStyle(
  o: ParsedOptions,
  plot: string | undefined,
): FitPlan["plotStyle"] {
  const band = str(o.band);
  if (band !== undefined && !(BAND_KINDS as readonly string[]).includes(band)) {
    throw new UsageError(
      `--band: must be ${orList(BAND_KINDS)}, got "${band}"`,
    );
  }
  const style = {
    band: band as BandKind | undefined,
    logX: o["log-x"] === true,
    logY: o["log-y"] === true,
  };
  const given = [
    ...(band !== undefined ? ["--band"] : []),
    ...(style.logX ? ["--log-x"] : []),
    ...(style.logY ? ["--log-y"] : []),
  ];
  if (plot === undefined && given.length > 0) {
    throw new UsageError(`${given.join(", ")}: only with --plot FILE.svg`);
  }
  return style;
}

/** JSON has no infinities: bounds are written with null for ±infinity. */
const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * Writes the SVG plot of a finished fit. Never throws: the fit's report must
 * not be lost to a plot, so an error is returned, to be reported after it (a
 * file that cannot be written is bad input; a failure to draw is a bug).
 */
async function writePlot(
  p: FitPlan,
  path: string,
  source: DataSource,
  result: FitResult,
): Promise<{ error?: unknown }> {
  let svg: string;
  let drawing = false;
  try {
    const { band, logX, logY } = p.plotStyle;
    const data = await collectPlotData(source, p.model, result.popt, {
      logX,
      logY,
    });
    drawing = true;
    svg = plotSvg(result, {
      data,
      band,
      level: 1 - p.alpha,
      logX,
      logY,
      title: `${p.expression}   (${basename(p.dataPath)})`,
      xLabel: p.xLabel,
      yLabel: p.yLabel,
    });
  } catch (error) {
    // plotSvg's TypeError and RangeError name an option the data cannot
    // honour (a prediction band of a fit weighted by a varying sigma).
    const usage = drawing &&
      (error instanceof TypeError || error instanceof RangeError);
    return {
      error: usage
        ? new UsageError(
          `--plot: ${error.message.replace(/^plotSvg: /, "")}`,
          { cause: error },
        )
        : error,
    };
  }
  try {
    await Deno.writeTextFile(path, svg);
    return {};
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      error: new UsageError(`--plot: cannot write ${path}: ${why}`, {
        cause: e,
      }),
    };
  }
}

/**
 * Writes `--out`: the result as JSON (restorable) or its parameters as CSV.
 * Never throws, like the plot: the report must not be lost.
 */
async function writeOut(
  path: string,
  result: FitResult,
  alpha: number,
): Promise<{ error?: unknown }> {
  const text = /\.json$/i.test(path)
    ? JSON.stringify(result, null, 2) + "\n"
    : result.toCSV({ level: 1 - alpha });
  try {
    await Deno.writeTextFile(path, text);
    return {};
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      error: new UsageError(`--out: cannot write ${path}: ${why}`, {
        cause: e,
      }),
    };
  }
}

/** The `--json` output. */
function jsonReport(
  p: FitPlan,
  source: DataSource,
  result: FitResult,
  extra: { plot: string | null; plotError: string | null },
  totalMs: number,
  exitCode: number,
): string {
  const cis = result.confidenceIntervals(p.alpha);
  // Not a saved result (its model is the expression text): --out FILE.json
  // writes the one FitResult.fromJSON restores.
  const { format: _format, version: _version, ...saved } = result.toJSON();
  const json = {
    ...saved,
    model: p.expression,
    paramNames: result.paramNames,
    variables: p.model.variables,
    data: {
      path: p.dataPath,
      description: source.description,
      nPoints: result.nPoints,
    },
    p0: p.p0 ?? null,
    bounds: p.bounds
      ? [p.bounds[0].map(finiteOrNull), p.bounds[1].map(finiteOrNull)]
      : null,
    confidenceLevel: 1 - p.alpha,
    confidenceIntervals: cis.map((c) => ({
      name: c.name,
      value: c.value,
      lower: finiteOrNull(c.lower),
      upper: finiteOrNull(c.upper),
    })),
    correlation: correlationMatrix(result.pcov).map((row) =>
      row.map(finiteOrNull)
    ),
    ...extra,
    totalMs,
    exitCode,
  };
  return JSON.stringify(json, null, 2) + "\n";
}

/**
 * What to say when Ctrl-C stopped the fit: where its last checkpoint is, when
 * checkpoints were asked for.
 */
async function interruptedMessage(dir: string | undefined): Promise<string> {
  if (dir === undefined) return "nlsq: interrupted\n";
  const last = (await listCheckpoints(dir).catch(() => [])).at(-1);
  return last === undefined
    ? `nlsq: interrupted before the first checkpoint (${dir})\n`
    : `nlsq: interrupted: last checkpoint ${last} (continue with --resume)\n`;
}

/**
 * Runs `nlsq fit` with the arguments after the command name and returns the
 * exit code: 0 converged, 1 not converged, 2 the plot could not be written
 * (after the report: the fit is not lost), 130 interrupted by Ctrl-C (after
 * writing a last checkpoint when `--checkpoint-dir` is given). Bad input
 * throws (a {@linkcode UsageError}, a `ModelSyntaxError`, a
 * `DataSourceError`, ...); `main` in cli.ts turns those into exit code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "t,v\n0,1\n1,3.1\n2,4.9\n3,7.05\n");
 * const out: string[] = [];
 * const io = { out: (s: string) => out.push(s), err: () => {} };
 * const code = await fitCommand(
 *   ["--model", "a*t+b", "--data", path, "--y", "v", "--json"],
 *   io,
 * );
 * assert.strictEqual(code, 0);
 * const r = JSON.parse(out.join(""));
 * assert.ok(Math.abs(r.params.a - 1.995) < 1e-6);
 * // The model names the column t: it is the variable, not a parameter.
 * assert.deepStrictEqual(r.variables, ["t"]);
 * assert.deepStrictEqual(r.paramNames, ["a", "b"]);
 * await Deno.remove(path);
 * ```
 *
 * @param args Arguments after `fit`.
 * @param io Where output goes (default: stdout and stderr).
 */
export async function fitCommand(
  args: readonly string[],
  io: CliIo = defaultIo,
): Promise<number> {
  const t0 = performance.now();
  let progress: FitProgressBar | undefined;
  const sigint = new SigintHandler(() => {
    progress?.stop();
    io.err("nlsq: interrupted\n");
    Deno.exit(130);
  });
  let source: DataSource | undefined;
  try {
    const p = await plan(args);
    if (p === null) {
      io.out(FIT_HELP);
      return 0;
    }
    for (const w of p.warnings) io.err(`nlsq: warning: ${w}\n`);
    source = await openSource(p.dataPath, p.sourceOptions);
    const bar = new FitProgressBar({
      enabled: !p.quiet && (io.isTerminal?.() ?? false),
      delayMs: progressDelayMs(),
      maxNfev: p.fitOptions.maxNfev,
    });
    progress = bar;
    let result: FitResult;
    sigint.arm();
    try {
      result = await fit(p.model, source, {
        ...p.fitOptions,
        signal: sigint.signal,
        onProgress: (update) => bar.update(update),
      });
    } catch (e) {
      if (!sigint.interrupted) throw e;
      bar.stop();
      io.err(await interruptedMessage(p.fitOptions.checkpointDir));
      return 130;
    } finally {
      sigint.disarm();
      bar.stop();
    }
    return await report(p, source, result, io, t0);
  } finally {
    sigint.close();
    progress?.stop();
    await source?.close();
  }
}

/** Writes the plot, prints the report, and returns the exit code. */
async function report(
  p: FitPlan,
  source: DataSource,
  result: FitResult,
  io: CliIo,
  t0: number,
): Promise<number> {
  const plot = p.plot === undefined
    ? {}
    : await writePlot(p, p.plot, source, result);
  const saved = p.out === undefined
    ? {}
    : await writeOut(p.out, result, p.alpha);
  const plotFailure = plot.error === undefined
    ? undefined
    : describeError(plot.error);
  const outFailure = saved.error === undefined
    ? undefined
    : describeError(saved.error);
  const totalMs = performance.now() - t0;
  const exitCode = plotFailure?.code ?? outFailure?.code ??
    (result.success ? 0 : 1);
  const plotWritten = p.plot !== undefined && !plotFailure ? p.plot : null;
  if (p.json) {
    const plotError = plot.error === undefined
      ? null
      : plot.error instanceof Error
      ? plot.error.message
      : String(plot.error);
    io.out(jsonReport(
      p,
      source,
      result,
      { plot: plotWritten, plotError },
      totalMs,
      exitCode,
    ));
  } else {
    io.out(result.report({
      model: p.expression,
      data: source.description,
      p0: p.p0,
      bounds: p.bounds,
      alpha: p.alpha,
      totalMs,
    }));
  }
  if (plotWritten) io.err(`nlsq: plot written to ${plotWritten}\n`);
  if (p.out !== undefined && saved.error === undefined) {
    io.err(`nlsq: result written to ${p.out}\n`);
  }
  if (!result.success) {
    io.err(
      `nlsq: the fit did not converge (status ${result.status}: ${result.message})\n`,
    );
  }
  if (plotFailure) io.err(plotFailure.text);
  if (outFailure) io.err(outFailure.text);
  return exitCode;
}

/**
 * `--fix a=1,b=2` and `--tie s2=s1` as the library's `params` (shared by
 * `nlsq fit` and `nlsq batch`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(fixedAndTied("c=0.5", "s2=s1", ["c", "s1", "s2"]), {
 *   c: { value: 0.5, vary: false },
 *   s2: { expr: "s1" },
 * });
 * ```
 */
export function fixedAndTied(
  fix: unknown,
  tie: unknown,
  names: readonly string[],
): ParamsInput | undefined {
  const params: Record<string, ParamSpec> = {};
  if (typeof fix === "string") {
    for (const [name, value] of parseAssignments("--fix", fix, names)) {
      params[name] = {
        value: parseNumber(`--fix ${name}`, value),
        vary: false,
      };
    }
  }
  if (typeof tie === "string") {
    for (const [name, expr] of parseAssignments("--tie", tie, names)) {
      if (params[name]) {
        throw new UsageError(`--tie ${name}: already fixed by --fix`);
      }
      params[name] = { expr };
    }
  }
  return Object.keys(params).length > 0 ? params : undefined;
}
