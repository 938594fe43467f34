/**
 * Reads the data of a plot: every point for small data; beyond `maxPoints`,
 * the minimum and maximum of each pixel column (the envelope a full scatter
 * plot would show, at a fixed size). A source is read in batches (two
 * passes), so a file larger than memory plots too; arrays go through the
 * same passes at once.
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import type { BatchSourceLike } from "../strategies/strategy.ts";
import type { PlotBins, PlotData, ResidualScale } from "./plot_data.ts";

/**
 * Options of {@linkcode collectPlotData}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { CollectPlotOptions } from "@nlsq/nlsq/plot";
 * const o: CollectPlotOptions = { maxPoints: 500, logX: true };
 * assert.ok(o.logX);
 * ```
 */
export interface CollectPlotOptions {
  /** Draw points one by one up to this many rows (default 2000). */
  maxPoints?: number;
  /** Pixel columns of the envelope for larger data (default 800). */
  columns?: number;
  /** Samples of the fitted curve (default 600). */
  curveSamples?: number;
  /** Rows per batch read from the source (default 65536). */
  batchSize?: number;
  /** A logarithmic x axis: points with x <= 0 are left out (default false). */
  logX?: boolean;
  /**
   * A logarithmic y axis: points with y <= 0 are left out of the data panel
   * (their residuals are still shown; default false).
   */
  logY?: boolean;
  /**
   * "normalized": residuals divided by sigma where the data has it, else by
   * their root mean square (default "raw").
   */
  residuals?: "raw" | "normalized";
}

/** A batch of rows, as sources yield them. */
interface Rows {
  x: readonly Float64Array[];
  y: Float64Array;
  sigma?: Float64Array | null;
}

/** Min and max of y, residual and fit per column; NaN in empty columns. */
function emptyBins(columns: number, centre: (j: number) => number): PlotBins {
  const nan = () => new Float64Array(columns).fill(NaN);
  return {
    x: Float64Array.from({ length: columns }, (_, j) => centre(j)),
    yMin: nan(),
    yMax: nan(),
    rMin: nan(),
    rMax: nan(),
    fMin: nan(),
    fMax: nan(),
  };
}

function widen(lo: Float64Array, hi: Float64Array, j: number, v: number) {
  // NaN compares false, so an empty column takes the first value.
  if (!(lo[j] <= v)) lo[j] = v;
  if (!(hi[j] >= v)) hi[j] = v;
}

/** The two passes over the rows, shared by sources and arrays. */
class PlotCollector {
  readonly #m: Model;
  readonly #popt: ArrayLike<number>;
  readonly #o: CollectPlotOptions;
  readonly #maxPoints: number;
  #n = 0;
  #xMin = Infinity;
  #xMax = -Infinity;
  #sumSq = 0;
  #droppedX = 0;
  #droppedY = 0;
  #nonFinite = 0;
  #sigmaMin = Infinity;
  #sigmaMax = -Infinity;
  #scale: ResidualScale | undefined;
  #kept:
    | { x: number[]; y: number[]; r: number[]; f: number[]; s: number[] }
    | null = {
      x: [],
      y: [],
      r: [],
      f: [],
      s: [],
    };
  #bins: PlotBins | null = null;
  #column: (x: number) => number = () => 0;

  constructor(m: Model, popt: ArrayLike<number>, o: CollectPlotOptions) {
    this.#m = m;
    this.#popt = popt;
    this.#o = o;
    this.#maxPoints = o.maxPoints ?? 2000;
  }

  /** Whether the rows are drawn per pixel column (a second pass). */
  get binned(): boolean {
    return this.#kept === null;
  }

  /** How residuals are scaled; the first batch decides (sigma or not). */
  #scaleOf(b: Rows): ResidualScale {
    this.#scale ??= this.#o.residuals !== "normalized"
      ? "raw"
      : b.sigma
      ? "sigma"
      : "rms";
    return this.#scale;
  }

  /** Row i is drawn (finite, x > 0 on a log x axis); counts what is not. */
  #usable(b: Rows, i: number, count: boolean): boolean {
    const x = b.x[0][i], y = b.y[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (count) this.#nonFinite++;
      return false;
    }
    if (this.#o.logX && !(x > 0)) {
      if (count) this.#droppedX++;
      return false;
    }
    if (count && this.#o.logY && !(y > 0)) this.#droppedY++;
    return true;
  }

  /** Pass 1: the x range and the RMS, keeping the points while few. */
  scan(b: Rows): void {
    const scale = this.#scaleOf(b);
    const keep = this.#kept;
    const f = keep || scale === "rms"
      ? this.#m.evaluate(b.x, this.#popt)
      : null;
    for (let i = 0; i < b.y.length; i++) {
      if (!this.#usable(b, i, true)) continue;
      const x = b.x[0][i];
      if (x < this.#xMin) this.#xMin = x;
      if (x > this.#xMax) this.#xMax = x;
      if (b.sigma) {
        const s = b.sigma[i];
        if (s < this.#sigmaMin) this.#sigmaMin = s;
        if (s > this.#sigmaMax) this.#sigmaMax = s;
      }
      if (!f) continue;
      const r = b.y[i] - f[i];
      this.#sumSq += r * r;
      if (keep) {
        keep.x.push(x);
        keep.y.push(b.y[i]);
        keep.f.push(f[i]);
        keep.r.push(scale === "sigma" ? r / b.sigma![i] : r);
        if (b.sigma) keep.s.push(b.sigma[i]);
      }
    }
    this.#n += b.y.length;
    if (keep && keep.x.length > this.#maxPoints) this.#kept = null;
  }

  /** Pixel columns between xMin and xMax (log-spaced on a log x axis). */
  startBins(): void {
    const columns = this.#o.columns ?? 800;
    const t = this.#o.logX ? Math.log10 : (v: number) => v;
    const a = t(this.#xMin), b = t(this.#xMax);
    const span = b - a || 1;
    const back = (v: number) => (this.#o.logX ? 10 ** v : v);
    this.#bins = emptyBins(
      columns,
      (j) => back(a + (j + 0.5) * span / columns),
    );
    this.#column = (x) =>
      Math.min(
        columns - 1,
        Math.max(0, Math.floor((t(x) - a) / span * columns)),
      );
  }

  /** Pass 2: min/max of y, residual and fit per pixel column. */
  bin(b: Rows): void {
    const bins = this.#bins!;
    const f = this.#m.evaluate(b.x, this.#popt);
    const scale = this.#scale!;
    const rms = Math.sqrt(this.#sumSq / this.#counted) || 1;
    for (let i = 0; i < b.y.length; i++) {
      if (!this.#usable(b, i, false)) continue;
      const j = this.#column(b.x[0][i]), y = b.y[i];
      const r = y - f[i];
      const rs = scale === "sigma"
        ? r / b.sigma![i]
        : scale === "rms"
        ? r / rms
        : r;
      widen(bins.rMin, bins.rMax, j, rs);
      if (!this.#o.logY || y > 0) widen(bins.yMin, bins.yMax, j, y);
      if (!this.#o.logY || f[i] > 0) widen(bins.fMin, bins.fMax, j, f[i]);
    }
  }

  /** Rows that count in the RMS. */
  get #counted(): number {
    return this.#n - this.#droppedX - this.#nonFinite;
  }

  /** The plot data, with the curve on a fine grid for one-variable models. */
  finish(): PlotData {
    const empty = !(this.#xMax >= this.#xMin);
    const xMin = empty ? (this.#o.logX ? 1 : 0) : this.#xMin;
    const xMax = empty ? (this.#o.logX ? 10 : 1) : this.#xMax;
    const data: PlotData = {
      nPoints: this.#n,
      xMin,
      xMax,
      logX: this.#o.logX ?? false,
      logY: this.#o.logY ?? false,
      residualScale: this.#scale ?? "raw",
      notes: this.#notes(),
    };
    if (this.#sigmaMax >= this.#sigmaMin) {
      data.sigmaRange = [this.#sigmaMin, this.#sigmaMax];
    }
    const kept = this.#kept;
    if (kept) {
      const rms = Math.sqrt(this.#sumSq / this.#counted) || 1;
      data.points = {
        x: Float64Array.from(kept.x),
        y: Float64Array.from(kept.y),
        residual: Float64Array.from(
          kept.r,
          (r) => (this.#scale === "rms" ? r / rms : r),
        ),
        fitted: Float64Array.from(kept.f),
      };
      if (kept.s.length > 0) {
        data.points.sigma = Float64Array.from(kept.s);
        // Residuals divided by sigma have bars of 1 everywhere: none drawn.
        if (this.#scale !== "sigma") {
          data.points.residualSigma = Float64Array.from(
            kept.s,
            (v) => (this.#scale === "rms" ? v / rms : v),
          );
        }
      }
    } else {
      data.bins = this.#bins!;
    }
    if (this.#m.variables.length === 1 && !empty) {
      const k = this.#o.curveSamples ?? 600;
      const at = (i: number) =>
        this.#o.logX
          ? xMin * (xMax / xMin) ** (i / (k - 1))
          : xMin + (xMax - xMin) * i / (k - 1);
      const gx = Float64Array.from({ length: k }, (_, i) => at(i));
      data.curve = { x: gx, y: this.#m.evaluate([gx], this.#popt) };
    }
    return data;
  }

  #notes(): string[] {
    const notes: string[] = [];
    const pts = (k: number) => (k === 1 ? "1 point" : `${k} points`);
    if (this.#droppedX > 0) {
      notes.push(`${pts(this.#droppedX)} with x ≤ 0 not shown (log x axis)`);
    }
    if (this.#droppedY > 0) {
      notes.push(
        `${
          pts(this.#droppedY)
        } with y ≤ 0 not shown in the upper panel (log y axis)`,
      );
    }
    if (this.#nonFinite > 0) {
      notes.push(`${pts(this.#nonFinite)} with non-finite x or y not shown`);
    }
    return notes;
  }
}

/**
 * Reads the data from a source and prepares what the plot shows (two passes
 * over the source when it holds more than `maxPoints` rows).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource, model } from "@nlsq/nlsq";
 * import { collectPlotData } from "@nlsq/nlsq/plot";
 * const x = Float64Array.from({ length: 5000 }, (_, i) => i / 1000);
 * const y = x.map((t) => 2 * t + 1);
 * const m = model("a * x + b");
 * const small = await collectPlotData(arraySource(x.slice(0, 10), y.slice(0, 10)), m, [2, 1]);
 * assert.strictEqual(small.points?.x.length, 10);
 * assert.strictEqual(small.points?.residual[3], 0);
 * const big = await collectPlotData(arraySource(x, y), m, [2, 1], { columns: 100 });
 * assert.strictEqual(big.bins?.x.length, 100);
 * assert.strictEqual(big.curve?.y.length, 600);
 * ```
 *
 * @param source The data (x columns, y, and sigma when the source has it).
 * @param m The fitted model.
 * @param popt The fitted parameters.
 * @param options See {@linkcode CollectPlotOptions}.
 */
export async function collectPlotData(
  source: Pick<BatchSourceLike, "batches">,
  m: Model,
  popt: ArrayLike<number>,
  options: CollectPlotOptions = {},
): Promise<PlotData> {
  const batchSize = options.batchSize ?? 65536;
  const c = new PlotCollector(m, popt, options);
  for await (const b of source.batches(batchSize)) c.scan(b);
  if (c.binned) {
    c.startBins();
    for await (const b of source.batches(batchSize)) c.bin(b);
  }
  return c.finish();
}

/**
 * {@linkcode collectPlotData} for data in memory (x columns, y, sigma).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { model } from "@nlsq/nlsq";
 * import { plotDataOfArrays } from "@nlsq/nlsq/plot";
 * const x = new Float64Array([1, 2, 3]);
 * const d = plotDataOfArrays(
 *   { x: [x], y: new Float64Array([2, 4, 7]), sigma: new Float64Array([1, 1, 2]) },
 *   model("a * x"),
 *   [2],
 *   { residuals: "normalized" },
 * );
 * assert.deepStrictEqual(Array.from(d.points!.residual), [0, 0, 0.5]);
 * ```
 *
 * @param data x columns, y and optional sigma, of equal lengths.
 * @param m The fitted model.
 * @param popt The fitted parameters.
 * @param options See {@linkcode CollectPlotOptions} (`batchSize` unused).
 */
export function plotDataOfArrays(
  data: Rows,
  m: Model,
  popt: ArrayLike<number>,
  options: CollectPlotOptions = {},
): PlotData {
  const c = new PlotCollector(m, popt, options);
  c.scan(data);
  if (c.binned) {
    c.startBins();
    c.bin(data);
  }
  return c.finish();
}
