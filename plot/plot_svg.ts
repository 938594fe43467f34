/**
 * `plotSvg(r, options)`: the figure of a fit as a self-contained SVG string:
 * the data (with error bars), the fitted curve with its confidence or
 * prediction band and the components of a composite model, and the
 * residuals in a panel below; linear or logarithmic axes.
 *
 * @module
 */

import type { FitResult } from "../workflow/fit_result.ts";
import type { Model } from "../model/types.ts";
import type { BuiltinModel } from "../models/builtin_model.ts";
import { normalizeX, type XInput } from "../workflow/fit/_input.ts";
import {
  assertKnownOptions,
  listChoices,
  type NumVec,
  showValue,
  toVector,
} from "../core/_validate.ts";
import { bandAt, isWeighted } from "./_band.ts";
import { plotDataOfArrays } from "./collect_plot_data.ts";
import { BAND_KINDS, type BandKind, type PlotData } from "./plot_data.ts";
import { type PlotLabels, renderFitSvg } from "./render_fit_svg.ts";

/**
 * Data to plot in memory: x (one column, or one per model variable; the
 * first is the horizontal axis), y, and optionally sigma (error bars).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotArrays } from "@nlsq/nlsq/workflow";
 * const d: PlotArrays = { x: [1, 2, 3], y: [2, 4, 6], sigma: [0.1, 0.1, 0.2] };
 * assert.strictEqual(d.y.length, 3);
 * ```
 */
export interface PlotArrays {
  readonly x: XInput;
  readonly y: NumVec;
  readonly sigma?: NumVec | null;
}

/**
 * Options of {@linkcode plotSvg}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotSvgOptions } from "@nlsq/nlsq";
 * const o: PlotSvgOptions = { band: "prediction", level: 0.9, logY: true };
 * assert.strictEqual(o.band, "prediction");
 * ```
 */
export interface PlotSvgOptions {
  /**
   * The data drawn (default: the fit's own, `r.origin.data`): arrays, or
   * what `collectPlotData` read from a source (a fit of a source needs it;
   * its `logX`, `logY` and `residuals` are those of the collection).
   */
  readonly data?: PlotArrays | PlotData;
  /** Draw the confidence or the prediction band around the curve. */
  readonly band?: BandKind;
  /** Coverage of the band (default 0.95). */
  readonly level?: number;
  /**
   * Error bars y ± sigma (default: where the data has sigma and the points
   * are drawn one by one; true without sigma is an error).
   */
  readonly errorBars?: boolean;
  /**
   * "normalized": residuals divided by sigma where the data has it, else by
   * their root mean square (default "raw").
   */
  readonly residuals?: "raw" | "normalized";
  /** Logarithmic x axis (points with x <= 0 left out, with a note). */
  readonly logX?: boolean;
  /** Logarithmic y axis (points with y <= 0 left out, with a note). */
  readonly logY?: boolean;
  /** Draw each component of a composite built-in model (dashed). */
  readonly components?: boolean;
  /** Title (default: the model's expression). */
  readonly title?: string;
  /** Grey line under the title (default: n, R², RMSE and the parameters). */
  readonly subtitle?: string;
  /** x axis label (default: the model's first variable). */
  readonly xLabel?: string;
  /** y axis label (default "y"). */
  readonly yLabel?: string;
  /** Width in px (default 900). */
  readonly width?: number;
  /** Height in px (default 640). */
  readonly height?: number;
  /**
   * Points drawn one by one up to this many; beyond, each pixel column shows
   * the min and max of its points (default 2000).
   */
  readonly maxPoints?: number;
}

const KNOWN = new Set([
  "data",
  "band",
  "level",
  "errorBars",
  "residuals",
  "logX",
  "logY",
  "components",
  "title",
  "subtitle",
  "xLabel",
  "yLabel",
  "width",
  "height",
  "maxPoints",
]);

const RESIDUALS = ["raw", "normalized"] as const;

function checkOptions(o: PlotSvgOptions): void {
  assertKnownOptions("plotSvg", o, KNOWN);
  const bool = (name: keyof PlotSvgOptions) => {
    if (o[name] !== undefined && typeof o[name] !== "boolean") {
      throw new TypeError(
        `plotSvg: ${name} must be true or false, got ${showValue(o[name])}`,
      );
    }
  };
  for (const k of ["errorBars", "logX", "logY", "components"] as const) bool(k);
  const choice = (name: "band" | "residuals", values: readonly string[]) => {
    const v = o[name];
    if (v !== undefined && !values.includes(v as string)) {
      throw new TypeError(
        `plotSvg: ${name} must be ${listChoices(values)}, got ${showValue(v)}`,
      );
    }
  };
  choice("band", BAND_KINDS);
  choice("residuals", RESIDUALS);
  if (
    o.level !== undefined &&
    !(typeof o.level === "number" && o.level > 0 && o.level < 1)
  ) {
    throw new RangeError(
      `plotSvg: level must be in (0, 1), got ${showValue(o.level)}`,
    );
  }
  for (const k of ["width", "height", "maxPoints"] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      throw new RangeError(
        `plotSvg: ${k} must be a positive integer, got ${showValue(v)}`,
      );
    }
  }
  for (const k of ["title", "subtitle", "xLabel", "yLabel"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "string") {
      throw new TypeError(
        `plotSvg: ${k} must be a string, got ${showValue(o[k])}`,
      );
    }
  }
}

const isPlotData = (d: PlotArrays | PlotData): d is PlotData => "nPoints" in d;

/** Data collected elsewhere, checked against the options (a copy). */
function collected(d: PlotData, o: PlotSvgOptions): PlotData {
  const same = (name: "logX" | "logY", v: boolean | undefined) => {
    if (v !== undefined && v !== (d[name] ?? false)) {
      throw new TypeError(
        `plotSvg: ${name} is ${v} but data was collected with ${name}: ${
          d[name] ?? false
        }`,
      );
    }
  };
  same("logX", o.logX);
  same("logY", o.logY);
  const normalized = (d.residualScale ?? "raw") !== "raw";
  if (
    o.residuals !== undefined && (o.residuals === "normalized") !== normalized
  ) {
    throw new TypeError(
      `plotSvg: residuals is "${o.residuals}" but data was collected with ${
        normalized ? "normalized" : "raw"
      } residuals`,
    );
  }
  return { ...d, notes: [...(d.notes ?? [])] };
}

/** Arrays checked and read into the plot data. */
function fromArrays(
  d: PlotArrays,
  m: Model,
  r: FitResult,
  o: PlotSvgOptions,
): PlotData {
  let x: Float64Array[];
  try {
    x = normalizeX(d.x, m.variables.length);
  } catch (e) {
    const E = e instanceof RangeError ? RangeError : TypeError;
    throw new E(`plotSvg: data: ${(e as Error).message}`);
  }
  const y = toVector(d.y, "plotSvg: data.y", x[0].length, true);
  let sigma: Float64Array | null = null;
  if (d.sigma !== undefined && d.sigma !== null) {
    sigma = toVector(d.sigma, "plotSvg: data.sigma", y.length);
    const bad = sigma.findIndex((s) => !(s > 0));
    if (bad >= 0) {
      throw new RangeError(
        `plotSvg: data.sigma[${bad}] is ${sigma[bad]}; expected > 0`,
      );
    }
  }
  return plotDataOfArrays({ x, y, sigma }, m, r.popt, {
    logX: o.logX,
    logY: o.logY,
    residuals: o.residuals,
    maxPoints: o.maxPoints,
  });
}

/**
 * A log axis with nothing on it would be made up: an error instead, that
 * says why (every x, or every y and fitted value, <= 0).
 */
function assertSomethingOnLogAxes(d: PlotData): void {
  const rows = `${d.nPoints} point${d.nPoints === 1 ? "" : "s"}`;
  if (d.logX && !d.points?.x.length && !d.bins) {
    throw new RangeError(
      `plotSvg: logX: no x > 0 to show (${rows}); draw a linear x axis`,
    );
  }
  if (!d.logY) return;
  const positive = (a?: ArrayLike<number>) =>
    a !== undefined && Array.prototype.some.call(a, (v: number) => v > 0);
  const { points: p, bins: b } = d;
  if (
    !positive(p?.y) && !positive(p?.fitted) && !positive(b?.yMax) &&
    !positive(b?.fMax) && !positive(d.curve?.y)
  ) {
    throw new RangeError(
      `plotSvg: logY: no y > 0 to show (${rows}, and the fit is <= 0 everywhere); draw a linear y axis`,
    );
  }
}

/** Keeps or drops the error bars as asked. */
function applyErrorBars(d: PlotData, errorBars: boolean | undefined): void {
  if (errorBars === false) {
    if (d.points?.sigma) {
      d.points = { ...d.points, sigma: undefined, residualSigma: undefined };
    }
    return;
  }
  if (errorBars !== true) return;
  if (d.bins) {
    d.notes!.push(
      `error bars not drawn: ${d.nPoints} points shown as min/max per pixel column`,
    );
  } else if (!d.points?.sigma) {
    throw new TypeError("plotSvg: errorBars: the data has no sigma");
  }
}

/**
 * The sigma of a new observation at each x of the curve, for a prediction
 * band of a weighted fit: the data's sigma where it is one number, else
 * interpolated linearly (in log x on a log x axis) between the points'
 * sigma, with a note saying so.
 */
function observationSigma(
  d: PlotData,
  r: FitResult,
  kind: BandKind,
  at: Float64Array,
): number | Float64Array | undefined {
  if (kind !== "prediction" || !isWeighted(r)) return undefined;
  const range = d.sigmaRange;
  if (!range) {
    throw new TypeError(
      'plotSvg: band: "prediction": the fit was weighted by sigma but the data drawn has none, so the sigma of a new observation is unknown; give data with sigma, or band: "confidence"',
    );
  }
  const [lo, hi] = range;
  if (hi - lo <= 1e-12 * hi) return hi;
  const p = d.points;
  if (!p?.sigma) {
    throw new TypeError(
      `plotSvg: band: "prediction": the fit was weighted by a sigma that varies (${
        showValue(lo)
      } to ${
        showValue(hi)
      }) over more points than are drawn one by one, so the sigma of a new observation is unknown; draw band: "confidence"`,
    );
  }
  d.notes!.push(
    "prediction band: the σ of a new observation interpolated between the points' σ",
  );
  return interpolate(p.x, p.sigma, at, d.logX ?? false);
}

/** Linear interpolation of (xs, vs) at `at`, constant beyond the ends. */
function interpolate(
  xs: Float64Array,
  vs: Float64Array,
  at: Float64Array,
  log: boolean,
): Float64Array {
  const t = log ? Math.log : (v: number) => v;
  const order = Array.from(xs.keys()).sort((i, j) => xs[i] - xs[j]);
  const kx = Float64Array.from(order, (i) => t(xs[i]));
  const kv = Float64Array.from(order, (i) => vs[i]);
  const out = new Float64Array(at.length);
  let j = 0;
  for (let i = 0; i < at.length; i++) {
    const u = t(at[i]);
    while (j < kx.length - 2 && kx[j + 1] < u) j++;
    const span = kx[j + 1] - kx[j];
    const w = kx.length < 2 || !(span > 0)
      ? 0
      : Math.min(1, Math.max(0, (u - kx[j]) / span));
    out[i] = kv[j] + w * ((kv[j + 1] ?? kv[j]) - kv[j]);
  }
  return out;
}

/** The band at the curve's x; a note where the covariance gives none. */
function applyBand(
  d: PlotData,
  r: FitResult,
  kind: BandKind,
  level: number,
): void {
  if (!d.curve) {
    throw new TypeError("plotSvg: band: needs a model of one variable");
  }
  const sigma = observationSigma(d, r, kind, d.curve.x);
  const { lower, upper } = bandAt(r, d.curve.x, kind, level, sigma);
  const finite = lower.filter(Number.isFinite).length;
  const name = `${Math.round(level * 1000) / 10}% ${kind} band`;
  if (finite === 0) {
    d.notes!.push(`${name} not drawn: the covariance is not finite`);
    return;
  }
  if (finite < lower.length) d.notes!.push(`${name} not finite everywhere`);
  d.band = { kind, level, lower, upper };
}

/** "g1 (gaussian)" for a model with a prefix, else its name. */
const componentLabel = (name: string, prefix: string) =>
  prefix ? `${prefix.replace(/_+$/, "")} (${name})` : name;

/** Each component of a composite built-in model at the curve's x. */
function applyComponents(d: PlotData, m: Model, popt: Float64Array): void {
  const b = m as Partial<BuiltinModel>;
  if (!b.components || !b.evaluateComponents || b.components.length < 2) {
    throw new TypeError(
      "plotSvg: components: the model is not a composite of built-in models (models.gaussian().add(...))",
    );
  }
  if (!d.curve) {
    throw new TypeError("plotSvg: components: needs a model of one variable");
  }
  const values = b.evaluateComponents([d.curve.x], popt);
  d.components = b.components.map((c) => ({
    key: c.key,
    label: componentLabel(c.name, c.prefix),
    y: values[c.key],
  }));
}

/**
 * The title of a model: a composite of built-in models by its components
 * ("g1 (gaussian) + g2 (gaussian) + constant"; its expanded expression is
 * too long to read), a built-in model by its name, else the expression.
 */
function modelTitle(m: Model): string {
  const b = m as Partial<BuiltinModel>;
  if (b.operator && b.operands) {
    return b.operands.map((o) => {
      const t = modelTitle(o);
      return b.operator === "*" && o.operator === "+" ? `(${t})` : t;
    }).join(` ${b.operator} `);
  }
  if (typeof b.name === "string" && b.name !== "expression" && b.components) {
    return componentLabel(b.name, b.prefix ?? "");
  }
  return m.expression ?? "fit";
}

/** A value with its standard error, both to the error's 2 digits. */
function withError(v: number, e: number): string {
  const short = (u: number) => String(Number(u.toPrecision(5)));
  if (!(e > 0 && Number.isFinite(e))) return short(v);
  const decimals = 1 - Math.floor(Math.log10(e));
  if (decimals >= 0 && decimals <= 9 && Math.abs(v) < 1e6) {
    return `${v.toFixed(decimals)} ± ${e.toFixed(decimals)}`;
  }
  return `${short(v)} ± ${Number(e.toPrecision(2))}`;
}

/**
 * The line under the title: n, the reduced chi-square (a weighted fit) or
 * the RMSE, R², and the parameters with their standard errors.
 */
function statsLine(r: FitResult): string {
  const short = (v: number) => String(Number(v.toPrecision(5)));
  const dof = r.nPoints - r.nFree;
  const spread = isWeighted(r)
    ? `χ²/ν = ${short(r.chiSquare / dof)}`
    : `RMSE = ${short(r.rmse)}`;
  return [
    `n = ${r.nPoints}`,
    spread,
    `R² = ${short(r.rSquared)}`,
    ...r.paramNames.map((name, i) =>
      `${name} = ${withError(r.popt[i], r.perr[i])}`
    ),
  ].join(",  ");
}

/**
 * The figure of a fit as an SVG string (what `nlsq fit --plot` writes): the
 * data and the fitted curve above, the residuals below.
 *
 * - `band`: the confidence band (of the mean response) or the prediction
 *   band (of a new observation) at `level`, as `FitResult.predict` gives
 *   them: `t * sqrt(g' C g)`, plus the variance of one observation for a
 *   prediction band. For a fit weighted by sigma that observation's sigma
 *   is the data's where it is one number, else interpolated between the
 *   points' (a note says so; an error for data drawn as min/max columns).
 * - `errorBars`: y ± sigma where the data has sigma (in the residual panel
 *   too, unless the residuals are divided by sigma).
 * - `components`: each component of a composite built-in model, dashed and
 *   named in the legend; a composite is titled by its components.
 * - `residuals: "normalized"`: divided by sigma, else by their RMS.
 * - `logX`, `logY`: logarithmic axes, ticks at decades with minor ticks
 *   between; points with x <= 0 (or y <= 0) are left out, and a note under
 *   the axis says how many; the curve is sampled evenly in log x.
 * - More than `maxPoints` points are drawn as the min/max of each pixel
 *   column, so the file stays small; a fit that did not converge says so
 *   in red.
 *
 * The data defaults to the fit's own (`r.origin.data`); a fit of a data
 * source is plotted from `collectPlotData` (`@nlsq/nlsq/plot`), which reads
 * the source in batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit, plotSvg } from "@nlsq/nlsq";
 * const x = Array.from({ length: 30 }, (_, i) => 0.1 + i / 3);
 * const y = x.map((t, i) => 5 * Math.exp(-0.7 * t) + 0.2 + 0.05 * Math.sin(7 * i));
 * const sigma = x.map(() => 0.05);
 * const r = await fit("a * exp(-b * x) + c", x, y, { p0: [1, 1, 0], sigma });
 * const svg = plotSvg(r, { band: "confidence", logY: true });
 * assert.ok(svg.startsWith("<svg "));
 * assert.match(svg, /class="band"/);
 * assert.match(svg, /class="error-bars"/);
 * assert.match(svg, /95% confidence band/);
 * ```
 *
 * @param r A result of `fit`.
 * @param options See {@linkcode PlotSvgOptions}.
 */
export function plotSvg(r: FitResult, options: PlotSvgOptions = {}): string {
  checkOptions(options);
  const origin = r.origin;
  if (!origin) {
    throw new TypeError(
      "plotSvg: the result has no origin (its model and data); plot a result of fit",
    );
  }
  const m = origin.model;
  const given = options.data ?? origin.data;
  if (!given) {
    throw new TypeError(
      "plotSvg: the fit read a data source; give data: await collectPlotData(source, r.origin.model, r.popt, options) (from @nlsq/nlsq/plot)",
    );
  }
  const d = isPlotData(given)
    ? collected(given, options)
    : fromArrays(given, m, r, options);
  assertSomethingOnLogAxes(d);
  // The band first: a prediction band may need the points' sigma.
  if (options.band) applyBand(d, r, options.band, options.level ?? 0.95);
  applyErrorBars(d, options.errorBars);
  if (options.components) applyComponents(d, m, r.popt);
  const labels: PlotLabels = {
    title: options.title ?? modelTitle(m),
    subtitle: options.subtitle ?? statsLine(r),
    warning: r.success ? undefined : `NOT CONVERGED (status ${r.status})`,
    xLabel: options.xLabel ?? m.variables[0] ?? "x",
    yLabel: options.yLabel ?? "y",
  };
  return renderFitSvg(d, labels, {
    width: options.width,
    height: options.height,
  });
}
