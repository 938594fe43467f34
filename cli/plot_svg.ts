/**
 * `nlsq fit --plot fit.svg`: the data, the fitted curve and the residuals in
 * a panel below, as a self-contained SVG file.
 *
 * Large data sets are decimated so the file stays small whatever n is: up to
 * `maxPoints` points are drawn one by one; beyond that, each pixel column
 * shows the minimum and maximum of the points that fall in it (the envelope
 * a full scatter plot would show, at a fixed size). The data is read from the
 * source in batches (two passes), so a file larger than memory plots too.
 *
 * @module
 */

import type { Model } from "../model/types.ts";
import type { DataSource } from "../data/source.ts";

/** Points drawn one by one (small data). */
export interface PlotPoints {
  /** First x column. */
  x: Float64Array;
  y: Float64Array;
  /** y - f(x). */
  residual: Float64Array;
  /** f(x) at the data points. */
  fitted: Float64Array;
}

/** Min/max per pixel column (large data); NaN in empty columns. */
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

/** What {@linkcode renderFitSvg} draws. */
export interface PlotData {
  /** Rows read. */
  nPoints: number;
  /** Range of the first x column. */
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
}

/** Options of {@linkcode collectPlotData}. */
export interface CollectPlotOptions {
  /** Draw points one by one up to this many rows (default 2000). */
  maxPoints?: number;
  /** Pixel columns of the envelope for larger data (default 800). */
  columns?: number;
  /** Samples of the fitted curve (default 600). */
  curveSamples?: number;
  /** Rows per batch read from the source (default 65536). */
  batchSize?: number;
}

/**
 * Reads the data from a source and prepares what the plot shows.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource } from "../data/array_source.ts";
 * import { model } from "../model/model.ts";
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
 * @param source The data (x columns, y).
 * @param m The fitted model.
 * @param popt The fitted parameters.
 * @param options See {@linkcode CollectPlotOptions}.
 */
export async function collectPlotData(
  source: Pick<DataSource, "batches">,
  m: Model,
  popt: ArrayLike<number>,
  options: CollectPlotOptions = {},
): Promise<PlotData> {
  const maxPoints = options.maxPoints ?? 2000;
  const columns = options.columns ?? 800;
  const batchSize = options.batchSize ?? 65536;
  // Pass 1: the x range, keeping the points while there are few enough.
  let n = 0, xMin = Infinity, xMax = -Infinity;
  let kept: { x: number[]; y: number[]; r: number[]; f: number[] } | null = {
    x: [],
    y: [],
    r: [],
    f: [],
  };
  for await (const b of source.batches(batchSize)) {
    const x0 = b.x[0];
    const f = kept ? m.evaluate(b.x, popt) : null;
    for (let i = 0; i < b.y.length; i++) {
      const xi = x0[i];
      if (xi < xMin) xMin = xi;
      if (xi > xMax) xMax = xi;
      if (kept && f) {
        kept.x.push(xi);
        kept.y.push(b.y[i]);
        kept.f.push(f[i]);
        kept.r.push(b.y[i] - f[i]);
      }
    }
    n += b.y.length;
    if (kept && n > maxPoints) kept = null;
  }
  if (n === 0) {
    xMin = 0;
    xMax = 1;
  }
  const data: PlotData = { nPoints: n, xMin, xMax };
  if (kept) {
    data.points = {
      x: Float64Array.from(kept.x),
      y: Float64Array.from(kept.y),
      residual: Float64Array.from(kept.r),
      fitted: Float64Array.from(kept.f),
    };
  } else {
    // Pass 2: min/max of y, residual and fit per pixel column.
    const nan = () => new Float64Array(columns).fill(NaN);
    const bins: PlotBins = {
      x: Float64Array.from(
        { length: columns },
        (_, j) => xMin + (j + 0.5) * (xMax - xMin) / columns,
      ),
      yMin: nan(),
      yMax: nan(),
      rMin: nan(),
      rMax: nan(),
      fMin: nan(),
      fMax: nan(),
    };
    const span = xMax - xMin || 1;
    const widen = (
      lo: Float64Array,
      hi: Float64Array,
      j: number,
      v: number,
    ) => {
      // NaN compares false, so an empty column takes the first value.
      if (!(lo[j] <= v)) lo[j] = v;
      if (!(hi[j] >= v)) hi[j] = v;
    };
    for await (const b of source.batches(batchSize)) {
      const f = m.evaluate(b.x, popt);
      const x0 = b.x[0];
      for (let i = 0; i < b.y.length; i++) {
        const j = Math.min(
          columns - 1,
          Math.max(0, Math.floor((x0[i] - xMin) / span * columns)),
        );
        widen(bins.yMin, bins.yMax, j, b.y[i]);
        widen(bins.rMin, bins.rMax, j, b.y[i] - f[i]);
        widen(bins.fMin, bins.fMax, j, f[i]);
      }
    }
    data.bins = bins;
  }
  if (m.variables.length === 1 && n > 0) {
    const k = options.curveSamples ?? 600;
    const gx = Float64Array.from(
      { length: k },
      (_, i) => xMin + (xMax - xMin) * i / (k - 1),
    );
    data.curve = { x: gx, y: m.evaluate([gx], popt) };
  }
  return data;
}

/**
 * "Nice" tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a
 * power of ten, about `count` of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.deepStrictEqual(niceTicks(0, 1, 5).values, [0, 0.2, 0.4, 0.6, 0.8, 1]);
 * assert.deepStrictEqual(niceTicks(-3, 17, 5).values, [0, 5, 10, 15]);
 * ```
 */
export function niceTicks(
  lo: number,
  hi: number,
  count = 6,
): { values: number[]; step: number } {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    return niceTicks(lo - d, lo + d, count);
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The candidate whose tick count is closest to the request.
  let step = mag;
  for (const s of [1, 2, 2.5, 5, 10].map((f) => f * mag)) {
    const dist = (q: number) => Math.abs((hi - lo) / q - count);
    if (dist(s) < dist(step)) step = s;
  }
  const values: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let k = first; k * step <= hi + step * 1e-9; k++) {
    // Multiply rather than accumulate so 0.1 * 3 prints as 0.3 below.
    values.push(Number((k * step).toPrecision(12)));
  }
  return { values, step };
}

/**
 * A tick label: fixed-point with as many decimals as the step needs, or
 * exponent form for very large or small magnitudes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(formatTick(0.25, 0.25), "0.25");
 * assert.strictEqual(formatTick(-0, 1), "0");
 * assert.strictEqual(formatTick(200000, 100000), "2e5");
 * assert.strictEqual(formatTick(0.00015, 0.00005), "1.5e-4");
 * ```
 */
export function formatTick(v: number, step: number): string {
  if (v === 0 || Math.abs(v) < step * 1e-9) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || step < 1e-3) {
    const digits = Math.max(
      0,
      Math.min(10, Math.floor(Math.log10(a)) - Math.floor(Math.log10(step))),
    );
    return Number(v.toExponential(digits)).toExponential().replace("e+", "e");
  }
  let decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  while (
    decimals < 10 && Math.abs(Number(v.toFixed(decimals)) - v) > step * 1e-6
  ) {
    decimals++;
  }
  return v.toFixed(decimals);
}

/** Text of the plot. */
export interface PlotLabels {
  /** Title line (e.g. the model). */
  title: string;
  /** Second line in grey (e.g. statistics). */
  subtitle?: string;
  /** A warning in red, right of the subtitle (e.g. "not converged"). */
  warning?: string;
  xLabel?: string;
  yLabel?: string;
}

/** Size of the SVG. */
export interface PlotSize {
  /** Width in px (default 900). */
  width?: number;
  /** Height in px (default 640). */
  height?: number;
}

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) =>
      ({
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        '"': "&quot;",
        "'": "&apos;",
      })[
        c
      ]!,
  );

const r2 = (v: number) => Math.round(v * 100) / 100;

/** Range of finite values of several arrays. */
function extent(
  ...arrays: (ArrayLike<number> | undefined)[]
): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) {
    if (!a) continue;
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/**
 * Renders the plot: data and fit above, residuals below, sharing the x axis.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const x = Float64Array.from({ length: 20 }, (_, i) => i);
 * const y = x.map((t) => t * t);
 * const svg = renderFitSvg(
 *   {
 *     nPoints: 20, xMin: 0, xMax: 19,
 *     points: { x, y, fitted: y, residual: new Float64Array(20) },
 *     curve: { x, y },
 *   },
 *   { title: "a * x^2", xLabel: "x", yLabel: "y" },
 * );
 * assert.ok(svg.startsWith("<svg "));
 * assert.match(svg, /<polyline /);
 * assert.match(svg, /a \* x\^2/);
 * ```
 */
export function renderFitSvg(
  data: PlotData,
  labels: PlotLabels,
  size: PlotSize = {},
): string {
  const W = size.width ?? 900, H = size.height ?? 640;
  const left = 84, right = 24, top = 64, bottom = 58, gap = 26;
  const plotW = W - left - right;
  const avail = H - top - bottom - gap;
  const mainH = Math.round(avail * 0.72), resH = avail - mainH;
  const mainTop = top, resTop = top + mainH + gap;

  const { points, bins, curve } = data;
  // y range from the data; the curve may widen it, but not without limit
  // (a fit that diverges between points would flatten the data otherwise).
  const [dLo, dHi] = points
    ? extent(points.y, points.fitted)
    : extent(bins?.yMin, bins?.yMax, bins?.fMin, bins?.fMax);
  let [yLo, yHi] = [dLo, dHi];
  if (curve) {
    const [cLo, cHi] = extent(curve.y);
    const span = dHi - dLo || Math.abs(dHi) || 1;
    yLo = Math.min(yLo, Math.max(cLo, dLo - 0.5 * span));
    yHi = Math.max(yHi, Math.min(cHi, dHi + 0.5 * span));
  }
  const pad = (lo: number, hi: number, f: number): [number, number] => {
    const d = hi - lo || Math.abs(hi) * 0.1 || 1;
    return [lo - f * d, hi + f * d];
  };
  [yLo, yHi] = pad(yLo, yHi, 0.06);
  const [xLo, xHi] = pad(data.xMin, data.xMax, 0.02);
  const [rLo0, rHi0] = points
    ? extent(points.residual)
    : extent(bins?.rMin, bins?.rMax);
  const rAbs = Math.max(Math.abs(rLo0), Math.abs(rHi0)) * 1.15 || 1;

  const sx = (v: number) => left + (v - xLo) / (xHi - xLo) * plotW;
  const sy = (v: number) => mainTop + (yHi - v) / (yHi - yLo) * mainH;
  const sr = (v: number) => resTop + (rAbs - v) / (2 * rAbs) * resH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(labels.title)}</title>`,
    `<defs><clipPath id="clip-main"><rect x="${left}" y="${mainTop}" width="${plotW}" height="${mainH}"/></clipPath>` +
      `<clipPath id="clip-res"><rect x="${left}" y="${resTop}" width="${plotW}" height="${resH}"/></clipPath></defs>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  );
  const maxTitle = Math.floor(plotW / 8.5);
  const title = labels.title.length > maxTitle
    ? labels.title.slice(0, maxTitle - 1) + "…"
    : labels.title;
  out.push(
    `<text x="${left}" y="26" font-size="16" font-weight="bold" fill="#222">${
      escapeXml(title)
    }</text>`,
  );
  const clip = (text: string, px: number) => {
    const max = Math.floor(px / 6.6); // about 6.6 px per character at 12 px
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  };
  let warningWidth = 0;
  if (labels.warning) {
    const w = clip(labels.warning, plotW / 2);
    warningWidth = w.length * 6.6 + 16;
    out.push(
      `<text x="${
        left + plotW
      }" y="46" font-size="12" font-weight="bold" text-anchor="end" fill="#c0392b">${
        escapeXml(w)
      }</text>`,
    );
  }
  if (labels.subtitle) {
    out.push(
      `<text x="${left}" y="46" font-size="12" fill="#666">${
        escapeXml(clip(labels.subtitle, plotW - warningWidth))
      }</text>`,
    );
  }

  // Panels, grid, ticks.
  const xt = niceTicks(xLo, xHi, 8);
  const yt = niceTicks(yLo, yHi, 6);
  const rt = niceTicks(-rAbs, rAbs, 4);
  const panel = (
    y0: number,
    h: number,
    ticks: typeof yt,
    s: (v: number) => number,
  ) => {
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${h}" fill="#fbfbfd" stroke="none"/>`,
    );
    const grid: string[] = [];
    for (const v of xt.values) grid.push(`M${r2(sx(v))} ${y0}V${y0 + h}`);
    for (const v of ticks.values) {
      grid.push(`M${left} ${r2(s(v))}H${left + plotW}`);
    }
    out.push(`<path d="${grid.join("")}" stroke="#e4e4ea" stroke-width="1"/>`);
    const marks: string[] = [];
    for (const v of xt.values) marks.push(`M${r2(sx(v))} ${y0 + h}v5`);
    for (const v of ticks.values) marks.push(`M${left} ${r2(s(v))}h-5`);
    out.push(`<path d="${marks.join("")}" stroke="#444" stroke-width="1"/>`);
    for (const v of ticks.values) {
      out.push(
        `<text x="${left - 8}" y="${
          r2(s(v) + 4)
        }" font-size="11" text-anchor="end" fill="#333">${
          formatTick(v, ticks.step)
        }</text>`,
      );
    }
  };
  panel(mainTop, mainH, yt, sy);
  panel(resTop, resH, rt, sr);
  for (const v of xt.values) {
    out.push(
      `<text x="${r2(sx(v))}" y="${
        resTop + resH + 19
      }" font-size="11" text-anchor="middle" fill="#333">${
        formatTick(v, xt.step)
      }</text>`,
    );
  }

  const dataColor = "#1f77b4", fitColor = "#d62728";
  // Data and fit.
  out.push(`<g clip-path="url(#clip-main)">`);
  if (points) {
    const dots: string[] = [];
    for (let i = 0; i < points.x.length; i++) {
      const px = sx(points.x[i]), py = sy(points.y[i]);
      if (Number.isFinite(px) && Number.isFinite(py)) {
        dots.push(`<circle cx="${r2(px)}" cy="${r2(py)}" r="2.6"/>`);
      }
    }
    out.push(
      `<g fill="${dataColor}" fill-opacity="0.75" stroke="none">${
        dots.join("")
      }</g>`,
    );
    if (!curve) {
      const fit: string[] = [];
      for (let i = 0; i < points.x.length; i++) {
        const px = sx(points.x[i]), py = sy(points.fitted[i]);
        if (Number.isFinite(px) && Number.isFinite(py)) {
          fit.push(`M${r2(px - 2.5)} ${r2(py - 2.5)}l5 5m0 -5l-5 5`);
        }
      }
      out.push(
        `<path d="${
          fit.join("")
        }" stroke="${fitColor}" stroke-width="1.2" fill="none"/>`,
      );
    }
  } else if (bins) {
    out.push(envelope(bins.x, bins.yMin, bins.yMax, sx, sy, dataColor, 0.8));
    if (!curve) {
      out.push(envelope(bins.x, bins.fMin, bins.fMax, sx, sy, fitColor, 0.6));
    }
  }
  if (curve) {
    out.push(polylines(curve.x, curve.y, sx, sy, fitColor));
  }
  out.push(`</g>`);

  // Residuals.
  out.push(`<g clip-path="url(#clip-res)">`);
  if (points) {
    const dots: string[] = [];
    for (let i = 0; i < points.x.length; i++) {
      const px = sx(points.x[i]), py = sr(points.residual[i]);
      if (Number.isFinite(px) && Number.isFinite(py)) {
        dots.push(`<circle cx="${r2(px)}" cy="${r2(py)}" r="2.2"/>`);
      }
    }
    out.push(
      `<g fill="${dataColor}" fill-opacity="0.75" stroke="none">${
        dots.join("")
      }</g>`,
    );
  } else if (bins) {
    out.push(envelope(bins.x, bins.rMin, bins.rMax, sx, sr, dataColor, 0.8));
  }
  // The zero line goes on top, so dense residuals do not hide it.
  out.push(
    `<path d="M${left} ${r2(sr(0))}H${
      left + plotW
    }" stroke="#333" stroke-width="1" stroke-dasharray="6 4"/>`,
    `</g>`,
  );

  // Frames and axis labels.
  out.push(
    `<rect x="${left}" y="${mainTop}" width="${plotW}" height="${mainH}" fill="none" stroke="#444"/>`,
    `<rect x="${left}" y="${resTop}" width="${plotW}" height="${resH}" fill="none" stroke="#444"/>`,
  );
  const xLabel = labels.xLabel ?? "x";
  out.push(
    `<text x="${left + plotW / 2}" y="${
      H - 12
    }" font-size="13" text-anchor="middle" fill="#222">${
      escapeXml(xLabel)
    }</text>`,
    `<text transform="translate(20 ${
      mainTop + mainH / 2
    }) rotate(-90)" font-size="13" text-anchor="middle" fill="#222">${
      escapeXml(labels.yLabel ?? "y")
    }</text>`,
    `<text transform="translate(20 ${
      resTop + resH / 2
    }) rotate(-90)" font-size="13" text-anchor="middle" fill="#222">residual</text>`,
  );

  // Legend, in a corner of the main panel.
  const nText = bins
    ? `data (n = ${data.nPoints}, min/max per pixel)`
    : `data (n = ${data.nPoints})`;
  const fitText = curve ? "fit" : "fit at the data points";
  const lw = Math.max(nText.length, fitText.length) * 6.4 + 44;
  const lh = 46;
  // The corner that hides the fewest data points and curve samples.
  const corners: [number, number][] = [
    [left + plotW - lw - 10, mainTop + 10],
    [left + 10, mainTop + 10],
    [left + plotW - lw - 10, mainTop + mainH - lh - 10],
    [left + 10, mainTop + mainH - lh - 10],
  ];
  const hidden = ([cx, cy]: [number, number]) => {
    let count = 0;
    const inside = (px: number, py: number) =>
      px >= cx - 3 && px <= cx + lw + 3 && py >= cy - 3 && py <= cy + lh + 3;
    if (points) {
      for (let i = 0; i < points.x.length; i++) {
        if (inside(sx(points.x[i]), sy(points.y[i]))) count += 4;
      }
    } else if (bins) {
      for (let j = 0; j < bins.x.length; j++) {
        const px = sx(bins.x[j]);
        if (px < cx || px > cx + lw) continue;
        const top = sy(bins.yMax[j]), bottom = sy(bins.yMin[j]);
        if (bottom >= cy && top <= cy + lh) count += 4;
      }
    }
    if (curve) {
      for (let i = 0; i < curve.x.length; i++) {
        if (inside(sx(curve.x[i]), sy(curve.y[i]))) count++;
      }
    }
    return count;
  };
  let [lx, ly] = corners[0];
  let least = Infinity;
  for (const c of corners) {
    const h = hidden(c);
    if (h < least) [least, lx, ly] = [h, c[0], c[1]];
  }
  out.push(
    `<g font-size="12" fill="#222">`,
    `<rect x="${r2(lx)}" y="${ly}" width="${
      r2(lw)
    }" height="${lh}" fill="#ffffff" fill-opacity="0.9" stroke="#bbb"/>`,
    bins
      ? `<path d="M${r2(lx + 16)} ${
        ly + 10
      }v10" stroke="${dataColor}" stroke-width="3"/>`
      : `<circle cx="${r2(lx + 16)}" cy="${
        ly + 15
      }" r="3" fill="${dataColor}"/>`,
    `<text x="${r2(lx + 32)}" y="${ly + 19}">${escapeXml(nText)}</text>`,
    curve
      ? `<path d="M${r2(lx + 6)} ${
        ly + 33
      }h20" stroke="${fitColor}" stroke-width="2"/>`
      : `<path d="M${r2(lx + 13.5)} ${
        ly + 30.5
      }l5 5m0 -5l-5 5" stroke="${fitColor}" stroke-width="1.2"/>`,
    `<text x="${r2(lx + 32)}" y="${ly + 37}">${fitText}</text>`,
    `</g>`,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}

/** One vertical segment per non-empty column, as a single path. */
function envelope(
  x: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  sx: (v: number) => number,
  sy: (v: number) => number,
  color: string,
  opacity: number,
): string {
  const d: string[] = [];
  for (let j = 0; j < x.length; j++) {
    if (!Number.isFinite(lo[j]) || !Number.isFinite(hi[j])) continue;
    const a = sy(hi[j]), b = sy(lo[j]);
    // At least 1.5 px tall, so flat columns stay visible.
    const mid = (a + b) / 2, half = Math.max((b - a) / 2, 0.75);
    d.push(`M${r2(sx(x[j]))} ${r2(mid - half)}V${r2(mid + half)}`);
  }
  return `<path d="${
    d.join("")
  }" stroke="${color}" stroke-opacity="${opacity}" stroke-width="1.3" fill="none"/>`;
}

/** The curve as polylines, broken where the model is not finite. */
function polylines(
  x: Float64Array,
  y: Float64Array,
  sx: (v: number) => number,
  sy: (v: number) => number,
  color: string,
): string {
  const parts: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 1) {
      parts.push(
        `<polyline points="${
          run.join(" ")
        }" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`,
      );
    }
    run = [];
  };
  for (let i = 0; i < x.length; i++) {
    const py = sy(y[i]);
    if (!Number.isFinite(py)) {
      flush();
      continue;
    }
    // Clamp far-off values so the clip path, not the renderer, cuts them.
    run.push(`${r2(sx(x[i]))},${r2(Math.max(-1e5, Math.min(1e5, py)))}`);
  }
  flush();
  return parts.join("\n");
}
