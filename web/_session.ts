// The page's data and fits, held in its Web Worker (and testable in Deno):
// a table read from a file's bytes or pasted text, the chosen x/y/sigma
// columns, a fit of a model spec, and views of any x range.

import { parseNpyTable, parseTextTable, type Table } from "../data/table.ts";
import { fit } from "../workflow/fit.ts";
import type { FitProgress } from "../workflow/fit_options.ts";
import type { ParamSpec } from "../workflow/fit/_params.ts";
import type { FitResult } from "../workflow/fit_result.ts";
import type { Model } from "../model/types.ts";
import type { BuiltinModel } from "../models/mod.ts";
import { modelFromSpec } from "./_model_spec.ts";
import { type View, type ViewFit, viewOf } from "./_view.ts";
import { correlationMatrix } from "../workflow/correlation.ts";
import { textReport } from "./_report.ts";
import { denoScript } from "./_script.ts";
import { plotSvg } from "../plot/plot_svg.ts";
import { type Refined, refineFixedPoint } from "./_refine.ts";

/** The columns of the table that the fit uses (indices). */
export interface ColumnChoice {
  readonly x: number;
  readonly y: number;
  /** -1: no sigma. */
  readonly sigma: number;
}

/** A table's shape and a few rows, for the page's column pickers. */
export interface TableInfo {
  readonly name: string;
  readonly names: string[];
  readonly nRows: number;
  readonly head: number[][];
}

/** One parameter row of the page. */
export interface ParamRow {
  readonly name: string;
  readonly value?: number;
  readonly min?: number;
  readonly max?: number;
  readonly vary?: boolean;
  readonly expr?: string;
}

/** What the page asks to fit. */
export interface FitRequest {
  readonly model: string;
  readonly params: readonly ParamRow[];
  readonly backend: "cpu" | "webgpu";
  /** ftol, xtol and gtol (the page's default 1e-14: fits end at the zero of the gradient to about 1e-11, on either backend). */
  readonly tol?: number;
}

/** A fit's outcome as plain data (what crosses from the worker). */
export interface FitSummary {
  readonly names: string[];
  readonly values: number[];
  readonly stderr: number[];
  readonly lower: number[];
  readonly upper: number[];
  readonly vary: boolean[];
  readonly correlation: number[][];
  readonly success: boolean;
  readonly message: string;
  readonly backend: string;
  readonly strategy: string;
  readonly nPoints: number;
  readonly nfev: number;
  readonly nit: number;
  readonly cost: number;
  readonly rSquared: number;
  readonly elapsedMs: number;
  readonly derived: Record<string, { value: number; stderr: number }>;
  readonly report: string;
  readonly json: Record<string, unknown>;
}

/**
 * Reads a file's bytes: NPY by its magic or `.npy` name, else text (CSV, TSV,
 * blanks). Errors name the file and the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readTable } from "./_session.ts";
 * const t = readTable("d.csv", new TextEncoder().encode("x,y\n1,2\n3,4\n"));
 * assert.deepStrictEqual(t.names, ["x", "y"]);
 * assert.throws(() => readTable("d.csv", new TextEncoder().encode("x,y\n1,2\n3,z\n")),
 *   /d\.csv, line 3, column "y": "z" is not a number/);
 * ```
 */
export function readTable(name: string, bytes: Uint8Array): Table {
  const npy = bytes[0] === 0x93 && bytes[1] === 0x4e;
  if (npy || name.toLowerCase().endsWith(".npy")) {
    return parseNpyTable(bytes, name);
  }
  return parseTextTable(new TextDecoder().decode(bytes), { name });
}

function finite(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/** The page's parameter rows as `fit`'s `params` (rows with nothing set are left out). */
export function paramsOption(
  rows: readonly ParamRow[],
): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = {};
  for (const r of rows) {
    const spec: {
      value?: number;
      min?: number;
      max?: number;
      vary?: boolean;
      expr?: string;
    } = {};
    if (r.expr !== undefined && r.expr.trim() !== "") spec.expr = r.expr.trim();
    else {
      if (finite(r.value) !== undefined) spec.value = r.value;
      if (finite(r.min) !== undefined) spec.min = r.min;
      if (finite(r.max) !== undefined) spec.max = r.max;
      if (r.vary === false) spec.vary = false;
    }
    if (Object.keys(spec).length > 0) out[r.name] = spec as ParamSpec;
  }
  return out;
}

/** A table, its chosen columns and the latest fit. */
export class Session {
  #table?: Table;
  #name = "";
  #cols: ColumnChoice = { x: 0, y: 1, sigma: -1 };
  #fit?: { result: FitResult; view: ViewFit };

  /** Reads a table (replacing the previous one and its fit). */
  load(name: string, bytes: Uint8Array): TableInfo {
    const t = readTable(name, bytes);
    if (t.columns.length < 2) {
      throw new RangeError(
        `${name}: one column only; x and y need two (or paste x and y columns)`,
      );
    }
    this.#table = t;
    this.#name = name;
    this.#fit = undefined;
    this.#cols = { x: 0, y: 1, sigma: -1 };
    const nRows = t.columns[0].length;
    const head = Array.from(
      { length: Math.min(5, nRows) },
      (_, i) => t.columns.map((c) => c[i]),
    );
    return { name, names: t.names, nRows, head };
  }

  /** Chooses the x, y and sigma columns. */
  select(cols: ColumnChoice): void {
    const k = this.table.columns.length;
    for (const [what, i] of Object.entries(cols)) {
      if (!(Number.isInteger(i) && i >= (what === "sigma" ? -1 : 0) && i < k)) {
        throw new RangeError(
          `${what} column ${i} is not one of the ${k} columns`,
        );
      }
    }
    if (cols.sigma >= 0) {
      const s = this.table.columns[cols.sigma];
      const bad = s.findIndex((v) => !(v > 0));
      if (bad >= 0) {
        throw new RangeError(
          `sigma column "${this.table.names[cols.sigma]}": row ${bad + 1} is ${
            s[bad]
          }, not > 0`,
        );
      }
    }
    this.#cols = cols;
    this.#fit = undefined;
  }

  get table(): Table {
    if (this.#table === undefined) throw new TypeError("no data loaded");
    return this.#table;
  }

  /** The x column's name (an expression may use it as its variable). */
  get xName(): string {
    return this.table.names[this.#cols.x];
  }

  /** The chosen x, y and sigma. */
  get data(): { x: Float64Array; y: Float64Array; sigma?: Float64Array } {
    const c = this.table.columns;
    return {
      x: c[this.#cols.x],
      y: c[this.#cols.y],
      sigma: this.#cols.sigma >= 0 ? c[this.#cols.sigma] : undefined,
    };
  }

  /** The start a built-in model guesses from the data (empty for expressions). */
  guess(spec: string): Record<string, number> {
    const m = modelFromSpec(spec, this.xName);
    if (!("guess" in m)) return {};
    const { x, y } = this.data;
    return (m as BuiltinModel).guess(x, y);
  }

  /** Fits the model to the chosen columns. */
  async fit(
    req: FitRequest,
    onProgress?: (p: FitProgress) => void,
    signal?: AbortSignal,
  ): Promise<FitSummary> {
    const m = modelFromSpec(req.model, this.xName);
    const { x, y, sigma } = this.data;
    const options = { sigma, ...tolerances(req.tol), onProgress, signal };
    const r = await fit(m, x, y, {
      ...options,
      params: paramsOption(req.params),
      backend: req.backend,
    });
    const refined = req.backend === "webgpu" && r.success
      ? refineGpuFit(m, x, y, sigma, r, req)
      : undefined;
    this.#fit = {
      result: r,
      view: {
        model: m,
        popt: refined?.popt ?? r.popt,
        pcov: r.pcov,
        dof: r.nPoints - r.nFree,
      },
    };
    return summarize(r, req, this.#name, refined);
  }

  /** The drawing of `[lo, hi]` (the whole x range when absent). */
  view(range?: readonly [number, number]): View {
    const { x, y } = this.data;
    let lo = range?.[0] ?? Infinity;
    let hi = range?.[1] ?? -Infinity;
    if (range === undefined) {
      for (const v of x) lo = Math.min(lo, v), hi = Math.max(hi, v);
    }
    return viewOf(x, y, lo, hi, this.#fit?.view);
  }

  /** The Deno script that reproduces a fit of this data (inlined up to 2000 rows). */
  script(req: FitRequest): string {
    const { x, y, sigma } = this.data;
    return denoScript(req.model, req.params, req.backend, req.tol, {
      xName: this.xName,
      file: this.#name,
      names: this.table.names,
      ...this.#cols,
      columns: x.length <= 2000
        ? {
          x: Array.from(x),
          y: Array.from(y),
          sigma: sigma ? Array.from(sigma) : undefined,
        }
        : undefined,
    });
  }

  /**
   * The fit's figure from the library's `plotSvg` (data, fit, confidence
   * band, residuals, the components of a composite), for the SVG export.
   */
  svg(): string {
    if (this.#fit === undefined) throw new TypeError("no fit yet");
    const { x, y, sigma } = this.data;
    const m = this.#fit.view.model;
    return plotSvg(this.#fit.result, {
      data: { x, y, sigma },
      band: "confidence",
      components: "components" in m &&
        (m as BuiltinModel).components.length > 1,
      xLabel: this.xName,
      yLabel: this.table.names[this.#cols.y],
    });
  }

  /** Every row: x, y, sigma, fit and residual, as CSV. */
  csv(): string {
    if (this.#fit === undefined) throw new TypeError("no fit yet");
    const { x, y, sigma } = this.data;
    const f = this.#fit.view.model.evaluate([x], this.#fit.view.popt);
    const lines = [`x,y,${sigma ? "sigma," : ""}fit,residual`];
    for (let i = 0; i < x.length; i++) {
      lines.push(
        `${x[i]},${y[i]},${sigma ? `${sigma[i]},` : ""}${f[i]},${y[i] - f[i]}`,
      );
    }
    return lines.join("\n") + "\n";
  }
}

/** `fit`'s ftol, xtol and gtol for the page's tolerance (none: the library's). */
export function tolerances(
  tol: number | undefined,
): { ftol?: number; xtol?: number; gtol?: number } {
  return tol === undefined ? {} : { ftol: tol, xtol: tol, gtol: tol };
}

/**
 * The page's last steps of a WebGPU fit (web/_refine.ts): Gauss-Newton steps
 * in f64 over the free parameters, inside the bounds; none with ties.
 */
function refineGpuFit(
  m: Model,
  x: Float64Array,
  y: Float64Array,
  sigma: Float64Array | undefined,
  r: FitResult,
  req: FitRequest,
): Refined | undefined {
  const rows = r.paramNames.map((n) => req.params.find((p) => p.name === n));
  if (rows.some((row) => (row?.expr ?? "").trim() !== "")) return undefined;
  const free = rows.flatMap((row, j) => row?.vary === false ? [] : [j]);
  const hints = "defaultBounds" in m
    ? (m as BuiltinModel).defaultBounds
    : [[], []] as const;
  const lower = rows.map((row, j) =>
    finite(row?.min) ?? hints[0][j] ?? -Infinity
  );
  const upper = rows.map((row, j) =>
    finite(row?.max) ?? hints[1][j] ?? Infinity
  );
  return refineFixedPoint(m, x, y, sigma, r.popt, free, lower, upper);
}

function summarize(
  r: FitResult,
  req: FitRequest,
  file: string,
  refined?: Refined,
): FitSummary {
  const ci = r.confidenceIntervals(0.05);
  const values = refined ? Array.from(refined.popt) : Array.from(r.popt);
  const shift = values.map((v, i) => v - r.popt[i]);
  const vary = r.paramNames.map((n) => {
    const row = req.params.find((p) => p.name === n);
    return !(row?.vary === false || (row?.expr ?? "").trim() !== "");
  });
  const derived: Record<string, { value: number; stderr: number }> = {};
  for (const [k, v] of Object.entries(r.derived)) {
    derived[k] = { value: v.value, stderr: v.stderr };
  }
  return {
    names: [...r.paramNames],
    values,
    stderr: Array.from(r.perr),
    lower: ci.map((c, i) => c.lower + shift[i]),
    upper: ci.map((c, i) => c.upper + shift[i]),
    vary,
    correlation: correlationMatrix(r.pcov),
    success: r.success,
    message: r.message,
    backend: refined && refined.steps > 0
      ? `${r.backend} + ${refined.steps} Gauss-Newton step(s) in the page`
      : r.backend,
    strategy: r.strategy,
    nPoints: r.nPoints,
    nfev: r.nfev,
    nit: r.nit,
    cost: r.cost,
    rSquared: r.rSquared,
    elapsedMs: r.elapsedMs,
    derived,
    report: textReport(r, file, refined),
    json: {
      model: req.model,
      file,
      params: req.params,
      result: r.toJSON(),
      ...(refined
        ? {
          pageRefinement: {
            popt: values,
            steps: refined.steps,
            note:
              "Gauss-Newton steps in f64 after the WebGPU fit (web/_refine.ts)",
          },
        }
        : {}),
    },
  };
}
