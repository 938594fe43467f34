/**
 * What a fit plot shows, in data units: the points (or, for large data, the
 * min/max of each pixel column), the fitted curve, its band and components.
 *
 * @module
 */

/**
 * Points drawn one by one (small data).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotPoints } from "@nlsq/nlsq/plot";
 * const p: PlotPoints = {
 *   x: new Float64Array([0, 1]),
 *   y: new Float64Array([1, 2]),
 *   fitted: new Float64Array([1, 2.5]),
 *   residual: new Float64Array([0, -0.5]),
 * };
 * assert.strictEqual(p.residual[1], p.y[1] - p.fitted[1]);
 * ```
 */
export interface PlotPoints {
  /** First x column. */
  x: Float64Array;
  y: Float64Array;
  /** y - f(x), divided by sigma or the RMS when the plot normalizes them. */
  residual: Float64Array;
  /** f(x) at the data points. */
  fitted: Float64Array;
  /** Standard deviations of y (error bars), when the data has them. */
  sigma?: Float64Array;
  /**
   * `sigma` in the units of `residual` (the residual panel's error bars;
   * absent where the residuals are divided by sigma).
   */
  residualSigma?: Float64Array;
}

/**
 * Min/max per pixel column (large data); NaN in empty columns.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotBins } from "@nlsq/nlsq/plot";
 * const nan = () => new Float64Array([NaN]);
 * const b: PlotBins = {
 *   x: new Float64Array([0.5]),
 *   yMin: nan(), yMax: nan(), rMin: nan(), rMax: nan(), fMin: nan(), fMax: nan(),
 * };
 * assert.ok(Number.isNaN(b.yMin[0]));
 * ```
 */
export interface PlotBins {
  /** Centre of each column in data units. */
  x: Float64Array;
  yMin: Float64Array;
  yMax: Float64Array;
  rMin: Float64Array;
  rMax: Float64Array;
  fMin: Float64Array;
  fMax: Float64Array;
}

/**
 * How the residuals are scaled: as they are, divided by each point's sigma,
 * or divided by their root mean square.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ResidualScale } from "@nlsq/nlsq/plot";
 * const s: ResidualScale = "sigma";
 * assert.notStrictEqual(s, "raw");
 * ```
 */
export type ResidualScale = "raw" | "sigma" | "rms";

/** The band kinds: around the mean response, or around a new observation. */
export const BAND_KINDS = ["confidence", "prediction"] as const;

/**
 * A band kind of {@linkcode BAND_KINDS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { BandKind } from "@nlsq/nlsq/plot";
 * const k: BandKind = "prediction";
 * assert.strictEqual(k, "prediction");
 * ```
 */
export type BandKind = typeof BAND_KINDS[number];

/**
 * A band around the fitted curve, at the curve's x.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotBand } from "@nlsq/nlsq/plot";
 * const b: PlotBand = {
 *   kind: "confidence",
 *   level: 0.95,
 *   lower: new Float64Array([0.9]),
 *   upper: new Float64Array([1.1]),
 * };
 * assert.ok(b.lower[0] < b.upper[0]);
 * ```
 */
export interface PlotBand {
  kind: BandKind;
  /** Coverage, e.g. 0.95. */
  level: number;
  lower: Float64Array;
  upper: Float64Array;
}

/**
 * One component of a composite model, at the curve's x.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotComponent } from "@nlsq/nlsq/plot";
 * const c: PlotComponent = { key: "g1_", label: "g1 (gaussian)", y: new Float64Array(3) };
 * assert.strictEqual(c.y.length, 3);
 * ```
 */
export interface PlotComponent {
  /** Its key in `evaluateComponents`. */
  key: string;
  /** Its legend text. */
  label: string;
  y: Float64Array;
}

/**
 * What {@linkcode renderFitSvg} draws.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotData } from "@nlsq/nlsq/plot";
 * const d: PlotData = { nPoints: 0, xMin: 0, xMax: 1 };
 * assert.strictEqual(d.points, undefined);
 * ```
 */
export interface PlotData {
  /** Rows read. */
  nPoints: number;
  /** Range of the first x column (of its positive values on a log x axis). */
  xMin: number;
  xMax: number;
  /** Small data: every point. */
  points?: PlotPoints;
  /** Large data: min/max per pixel column. */
  bins?: PlotBins;
  /**
   * The model on a fine grid of x (single-variable models only; with several
   * variables the fitted values are drawn at the data points instead).
   */
  curve?: { x: Float64Array; y: Float64Array };
  /** A band around the curve (at `curve.x`). */
  band?: PlotBand;
  /** The components of a composite model (at `curve.x`). */
  components?: PlotComponent[];
  /** Collected for a logarithmic x axis (x <= 0 left out, log-spaced grid). */
  logX?: boolean;
  /** Collected for a logarithmic y axis. */
  logY?: boolean;
  /** Smallest and largest sigma of the rows drawn, when the data has sigma. */
  sigmaRange?: [number, number];
  /** How `residual`, `rMin` and `rMax` are scaled (default "raw"). */
  residualScale?: ResidualScale;
  /** What a reader should know: points left out, a band not drawn. */
  notes?: string[];
}
