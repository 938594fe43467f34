/**
 * The SVG of a fit: the data, the fitted curve (with its band and the
 * components of a composite model) and the residuals in a panel below,
 * sharing the x axis; linear or logarithmic axes.
 *
 * @module
 */

import { type Axis, makeAxis } from "./_axis.ts";
import {
  clampPx,
  envelope,
  escapeXml,
  extent,
  finiteRuns,
  polylines,
  r2,
} from "./_svg.ts";
import type { PlotData } from "./plot_data.ts";
import type { Tick } from "./ticks.ts";

/**
 * Text of the plot.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotLabels } from "@nlsq/nlsq/plot";
 * const l: PlotLabels = { title: "a * exp(-b * t)", xLabel: "t (s)" };
 * assert.strictEqual(l.yLabel, undefined);
 * ```
 */
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

/**
 * Size of the SVG.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PlotSize } from "@nlsq/nlsq/plot";
 * const s: PlotSize = { width: 640 };
 * assert.strictEqual(s.height, undefined);
 * ```
 */
export interface PlotSize {
  /** Width in px (default 900). */
  width?: number;
  /** Height in px (default 640). */
  height?: number;
}

/** Okabe-Ito colours (told apart with every colour-vision deficiency). */
const DATA_COLOR = "#1f77b4", FIT_COLOR = "#d55e00";
// Components: none orange like the fit, nor blue like the data.
const COMPONENT_STYLES = [
  { color: "#009e73", dash: "8 4" },
  { color: "#cc79a7", dash: "2 3" },
  { color: "#444444", dash: "10 3 2 3" },
  { color: "#56b4e9", dash: "4 3" },
  { color: "#e69f00", dash: "1 3" },
  { color: "#7f7f7f", dash: "12 4" },
];

/** Where things go, in px. */
interface Layout {
  W: number;
  H: number;
  left: number;
  plotW: number;
  mainTop: number;
  mainH: number;
  resTop: number;
  resH: number;
}

function layoutOf(size: PlotSize, nNotes: number, labels: PlotLabels): Layout {
  const W = size.width ?? 900, H = size.height ?? 640;
  const left = 84, right = 24, gap = 26;
  const lines = subtitleLines(labels, W - left - right).length;
  const top = 64 + 16 * Math.max(0, lines - 1);
  const bottom = 58 + 17 * nNotes;
  const plotW = W - left - right;
  const avail = H - top - bottom - gap;
  const mainH = Math.round(avail * 0.72);
  return {
    W,
    H,
    left,
    plotW,
    mainTop: top,
    mainH,
    resTop: top + mainH + gap,
    resH: avail - mainH,
  };
}

/** The values of `a` on the axis' scale (log10, NaN for v <= 0, on a log axis). */
function onScale(log: boolean, a: ArrayLike<number> | undefined) {
  if (!a) return undefined;
  return Float64Array.from(a, (v) => (log ? (v > 0 ? Math.log10(v) : NaN) : v));
}

/**
 * [lo, hi] widened to take in `extra`, by at most `limit` times its span
 * (a fit that diverges between points, or a band that explodes, would
 * flatten the data otherwise).
 */
function widenLimited(
  [lo, hi]: [number, number],
  extra: [number, number],
  limit: number,
): [number, number] {
  const span = hi - lo || Math.abs(hi) || 1;
  return [
    Math.min(lo, Math.max(extra[0], lo - limit * span)),
    Math.max(hi, Math.min(extra[1], hi + limit * span)),
  ];
}

/** The y range of the data panel, on the axis' scale. */
function yRangeOnScale(data: PlotData): [number, number] {
  const log = data.logY ?? false;
  const s = (a?: ArrayLike<number>) => onScale(log, a);
  const { points, bins, curve, band } = data;
  let range = points
    ? extent(s(points.y), s(points.fitted))
    : extent(s(bins?.yMin), s(bins?.yMax), s(bins?.fMin), s(bins?.fMax));
  if (curve) range = widenLimited(range, extent(s(curve.y)), 0.5);
  if (band) {
    range = widenLimited(range, extent(s(band.lower), s(band.upper)), 0.5);
  }
  for (const c of data.components ?? []) {
    range = widenLimited(range, extent(s(c.y)), 1);
  }
  return range;
}

/** The x, y and residual axes. */
function axesOf(data: PlotData, L: Layout): { x: Axis; y: Axis; r: Axis } {
  const logX = data.logX ?? false, logY = data.logY ?? false;
  const x = makeAxis(data.xMin, data.xMax, L.left, L.left + L.plotW, {
    log: logX,
    pad: 0.02,
    tickCount: 8,
  });
  const [a, b] = yRangeOnScale(data);
  const y = makeAxis(
    logY ? 10 ** a : a,
    logY ? 10 ** b : b,
    L.mainTop + L.mainH,
    L.mainTop,
    { log: logY, pad: 0.06, tickCount: 6 },
  );
  const p = data.points;
  let [rLo, rHi] = p
    ? extent(p.residual)
    : extent(data.bins?.rMin, data.bins?.rMax);
  if (p?.residualSigma) {
    const ends = (sign: number) =>
      p.residual.map((v, i) => v + sign * p.residualSigma![i]);
    [rLo, rHi] = widenLimited(
      [rLo, rHi],
      extent(ends(-1), ends(1)),
      0.5,
    );
  }
  const rAbs = Math.max(Math.abs(rLo), Math.abs(rHi)) * 1.15 || 1;
  const r = makeAxis(-rAbs, rAbs, L.resTop + L.resH, L.resTop, {
    log: false,
    pad: 0,
    tickCount: 4,
  });
  return { x, y, r };
}

/** A tick label: text with an optional superscript exponent. */
function tickText(t: Tick, attrs: string): string {
  const sup = t.exponent === undefined
    ? ""
    : `<tspan dy="-6" font-size="10">${escapeXml(t.exponent)}</tspan>`;
  return `<text ${attrs} data-value="${t.value}">${
    escapeXml(t.text!)
  }${sup}</text>`;
}

/** Background, grid, tick marks and y tick labels of one panel. */
function panel(
  out: string[],
  L: Layout,
  y0: number,
  h: number,
  x: Axis,
  y: Axis,
  cls: string,
): void {
  const inX = (t: Tick) => t.value >= x.lo && t.value <= x.hi;
  const inY = (t: Tick) => t.value >= y.lo && t.value <= y.hi;
  out.push(
    `<rect class="${cls}" x="${L.left}" y="${y0}" width="${L.plotW}" height="${h}" fill="#fbfbfd" stroke="none"/>`,
  );
  const grid: string[] = [];
  for (const t of x.ticks.filter((t) => t.major && inX(t))) {
    grid.push(`M${r2(x.toPx(t.value))} ${y0}V${y0 + h}`);
  }
  for (const t of y.ticks.filter((t) => t.major && inY(t))) {
    grid.push(`M${L.left} ${r2(y.toPx(t.value))}H${L.left + L.plotW}`);
  }
  out.push(`<path d="${grid.join("")}" stroke="#e4e4ea" stroke-width="1"/>`);
  const marks: string[] = [];
  for (const t of x.ticks.filter(inX)) {
    marks.push(`M${r2(x.toPx(t.value))} ${y0 + h}v${t.major ? 6 : 3.5}`);
  }
  for (const t of y.ticks.filter(inY)) {
    marks.push(`M${L.left} ${r2(y.toPx(t.value))}h${t.major ? -6 : -3.5}`);
  }
  out.push(`<path d="${marks.join("")}" stroke="#444" stroke-width="1"/>`);
  for (const t of y.ticks.filter((t) => t.text !== undefined && inY(t))) {
    out.push(tickText(
      t,
      `class="tick y ${cls}" x="${L.left - 9}" y="${
        r2(y.toPx(t.value) + 4)
      }" font-size="12" text-anchor="end" fill="#333"`,
    ));
  }
}

/** The x tick labels below the residual panel. */
function xTickLabels(out: string[], L: Layout, x: Axis): void {
  for (const t of x.ticks) {
    if (t.text === undefined || t.value < x.lo || t.value > x.hi) continue;
    out.push(tickText(
      t,
      `class="tick x" x="${r2(x.toPx(t.value))}" y="${
        L.resTop + L.resH + 20
      }" font-size="12" text-anchor="middle" fill="#333"`,
    ));
  }
}

/** The band as a filled area, broken where it is not finite. */
function bandPath(data: PlotData, x: Axis, y: Axis, L: Layout): string {
  const { curve, band } = data;
  if (!curve || !band) return "";
  const bottom = L.mainTop + L.mainH + 2;
  // On a log axis a lower end <= 0 is below every visible value.
  const lowPx = (v: number) => (y.log && !(v > 0) ? bottom : y.toPx(v));
  const ok = (i: number) =>
    Number.isFinite(band.upper[i]) && Number.isFinite(band.lower[i]) &&
    Number.isFinite(y.toPx(band.upper[i]));
  const d = finiteRuns(curve.x.length, ok).map((run) => {
    const top = run.map((i) =>
      `${r2(x.toPx(curve.x[i]))} ${r2(clampPx(y.toPx(band.upper[i])))}`
    );
    const low = run.slice().reverse().map((i) =>
      `${r2(x.toPx(curve.x[i]))} ${r2(clampPx(lowPx(band.lower[i])))}`
    );
    return `M${top.join("L")}L${low.join("L")}Z`;
  }).join("");
  return d === ""
    ? ""
    : `<path class="band" d="${d}" fill="${FIT_COLOR}" fill-opacity="0.2" stroke="none"/>`;
}

/**
 * Error bars v ± e, one vertical segment per point (with short caps while
 * the points are few enough to tell apart), as one path. On a log axis an
 * end <= 0 is drawn at the panel's edge `floor` (below every value shown).
 */
function errorBars(
  xs: Float64Array,
  vs: Float64Array,
  es: Float64Array,
  x: Axis,
  y: Axis,
  floor: number,
): string {
  const caps = xs.length <= 80;
  const d: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const px = x.toPx(xs[i]), e = es[i];
    if (!Number.isFinite(px) || !(e > 0) || !Number.isFinite(y.toPx(vs[i]))) {
      continue;
    }
    const lo = vs[i] - e;
    const a = r2(clampPx(y.toPx(vs[i] + e)));
    const b = r2(clampPx(y.log && !(lo > 0) ? floor : y.toPx(lo)));
    d.push(`M${r2(px)} ${a}V${b}`);
    // A cap only at an end that is the bar's end, not the panel's edge.
    if (caps) {
      d.push(`M${r2(px - 2.5)} ${a}h5`);
      if (!y.log || lo > 0) d.push(`M${r2(px - 2.5)} ${b}h5`);
    }
  }
  return `<path class="error-bars" d="${
    d.join("")
  }" stroke="${DATA_COLOR}" stroke-opacity="0.55" stroke-width="1.1" fill="none"/>`;
}

/** Dots at (x, v) where both map to finite pixels. */
function dots(
  xs: Float64Array,
  vs: Float64Array,
  sx: (v: number) => number,
  sy: (v: number) => number,
  radius: number,
  cls: string,
): string {
  const c: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const px = sx(xs[i]), py = sy(vs[i]);
    if (Number.isFinite(px) && Number.isFinite(py)) {
      c.push(`<circle cx="${r2(px)}" cy="${r2(clampPx(py))}" r="${radius}"/>`);
    }
  }
  return `<g class="${cls}" fill="${DATA_COLOR}" fill-opacity="0.75" stroke="none">${
    c.join("")
  }</g>`;
}

/** The data: points with their error bars, or the min/max envelope. */
function dataSeries(data: PlotData, x: Axis, y: Axis, L: Layout): string[] {
  const { points, bins } = data;
  if (points) {
    const bars = points.sigma
      ? errorBars(
        points.x,
        points.y,
        points.sigma,
        x,
        y,
        L.mainTop + L.mainH + 2,
      )
      : "";
    return [bars, dots(points.x, points.y, x.toPx, y.toPx, 2.6, "data")];
  }
  if (!bins) return [];
  return [envelope(
    bins.x,
    bins.yMin,
    bins.yMax,
    x.toPx,
    y.toPx,
    `class="data" stroke="${DATA_COLOR}" stroke-opacity="0.8" stroke-width="1.3"`,
  )];
}

/**
 * The fit without a curve (a model of several variables): a cross at each
 * point's fitted value, or the fitted values' envelope.
 */
function fittedMarks(data: PlotData, x: Axis, y: Axis): string {
  const { points, bins } = data;
  if (bins) {
    return envelope(
      bins.x,
      bins.fMin,
      bins.fMax,
      x.toPx,
      y.toPx,
      `class="fit" stroke="${FIT_COLOR}" stroke-opacity="0.6" stroke-width="1.3"`,
    );
  }
  const marks: string[] = [];
  for (let i = 0; i < (points?.x.length ?? 0); i++) {
    const px = x.toPx(points!.x[i]), py = y.toPx(points!.fitted[i]);
    if (Number.isFinite(px) && Number.isFinite(py)) {
      marks.push(`M${r2(px - 2.5)} ${r2(clampPx(py) - 2.5)}l5 5m0 -5l-5 5`);
    }
  }
  return `<path class="fit" d="${
    marks.join("")
  }" stroke="${FIT_COLOR}" stroke-width="1.2" fill="none"/>`;
}

/** The components (dashed) and the fitted curve over them. */
function curves(data: PlotData, x: Axis, y: Axis): string[] {
  const curve = data.curve!;
  const out = (data.components ?? []).map((c, k) => {
    const st = COMPONENT_STYLES[k % COMPONENT_STYLES.length];
    return `<g class="component" data-key="${escapeXml(c.key)}">\n${
      polylines(
        curve.x,
        c.y,
        x.toPx,
        y.toPx,
        `stroke="${st.color}" stroke-width="1.8" stroke-dasharray="${st.dash}"`,
      )
    }\n</g>`;
  });
  out.push(
    `<g class="fit">\n${
      polylines(
        curve.x,
        curve.y,
        x.toPx,
        y.toPx,
        `stroke="${FIT_COLOR}" stroke-width="2.2"`,
      )
    }\n</g>`,
  );
  return out;
}

/** Band, data, components and fit in the upper panel, in that order. */
function mainLayer(out: string[], data: PlotData, x: Axis, y: Axis, L: Layout) {
  out.push(
    `<g clip-path="url(#clip-main)">`,
    bandPath(data, x, y, L),
    ...dataSeries(data, x, y, L),
    ...(data.curve ? curves(data, x, y) : [fittedMarks(data, x, y)]),
    `</g>`,
  );
}

/** Residuals in the lower panel, with the zero line on top. */
function residualLayer(
  out: string[],
  data: PlotData,
  x: Axis,
  r: Axis,
  L: Layout,
) {
  out.push(`<g clip-path="url(#clip-res)">`);
  if (data.points) {
    const p = data.points;
    if (p.residualSigma) {
      out.push(errorBars(p.x, p.residual, p.residualSigma, x, r, 0));
    }
    out.push(
      dots(
        data.points.x,
        data.points.residual,
        x.toPx,
        r.toPx,
        2.2,
        "residuals",
      ),
    );
  } else if (data.bins) {
    const b = data.bins;
    out.push(
      envelope(
        b.x,
        b.rMin,
        b.rMax,
        x.toPx,
        r.toPx,
        `class="residuals" stroke="${DATA_COLOR}" stroke-opacity="0.8" stroke-width="1.3"`,
      ),
    );
  }
  // On top, so dense residuals do not hide it.
  out.push(
    `<path d="M${L.left} ${r2(r.toPx(0))}H${
      L.left + L.plotW
    }" stroke="#333" stroke-width="1" stroke-dasharray="6 4"/>`,
    `</g>`,
  );
}

/** Text that fits in `px` at about 6.6 px per character (12 px font). */
const clip = (text: string, px: number) => {
  const max = Math.floor(px / 6.6);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
};

/** Width of the warning right of the subtitle, in px (0 without one). */
function warningWidth(labels: PlotLabels, plotW: number): number {
  return labels.warning ? clip(labels.warning, plotW / 2).length * 6.6 + 16 : 0;
}

/**
 * The subtitle in lines of at most the panel's width, broken between its
 * items (separated by two spaces after a comma); at most 3 lines, the last
 * one clipped.
 */
function subtitleLines(labels: PlotLabels, plotW: number): string[] {
  if (!labels.subtitle) return [];
  const lines: string[] = [];
  let line = "";
  const width =
    () => (lines.length === 0 ? plotW - warningWidth(labels, plotW) : plotW);
  for (const item of labels.subtitle.split(",  ")) {
    const next = line === "" ? item : `${line},  ${item}`;
    if (line !== "" && next.length * 6.6 > width()) {
      lines.push(line + ",");
      line = item;
    } else {
      line = next;
    }
  }
  lines.push(line);
  if (lines.length > 3) {
    lines.splice(2, lines.length - 2, lines.slice(2).join("  ") + " ");
  }
  return lines.map((l, i) =>
    clip(l, i === 0 ? plotW - warningWidth(labels, plotW) : plotW)
  );
}

/** Title, subtitle and warning above the panels. */
function headings(out: string[], labels: PlotLabels, L: Layout): void {
  const maxTitle = Math.floor(L.plotW / 8.5);
  const title = labels.title.length > maxTitle
    ? labels.title.slice(0, maxTitle - 1) + "…"
    : labels.title;
  out.push(
    `<text x="${L.left}" y="26" font-size="16" font-weight="bold" fill="#222">${
      escapeXml(title)
    }</text>`,
  );
  if (labels.warning) {
    out.push(
      `<text x="${
        L.left + L.plotW
      }" y="46" font-size="12" font-weight="bold" text-anchor="end" fill="#c0392b">${
        escapeXml(clip(labels.warning, L.plotW / 2))
      }</text>`,
    );
  }
  subtitleLines(labels, L.plotW).forEach((line, i) => {
    out.push(
      `<text class="subtitle" x="${L.left}" y="${
        46 + 16 * i
      }" font-size="12" fill="#555">${escapeXml(line)}</text>`,
    );
  });
}

/** Frames, axis titles and the notes under the x axis. */
function frames(out: string[], data: PlotData, labels: PlotLabels, L: Layout) {
  const residualLabel = {
    raw: "residual",
    sigma: "residual / σ",
    rms: "residual / RMS",
  }[data.residualScale ?? "raw"];
  const vertical = (yMid: number, text: string) =>
    `<text transform="translate(22 ${yMid}) rotate(-90)" font-size="14" text-anchor="middle" fill="#222">${
      escapeXml(text)
    }</text>`;
  const resBottom = L.resTop + L.resH;
  out.push(
    `<rect x="${L.left}" y="${L.mainTop}" width="${L.plotW}" height="${L.mainH}" fill="none" stroke="#444"/>`,
    `<rect x="${L.left}" y="${L.resTop}" width="${L.plotW}" height="${L.resH}" fill="none" stroke="#444"/>`,
    `<text x="${L.left + L.plotW / 2}" y="${
      resBottom + 44
    }" font-size="14" text-anchor="middle" fill="#222">${
      escapeXml(labels.xLabel ?? "x")
    }</text>`,
    vertical(L.mainTop + L.mainH / 2, labels.yLabel ?? "y"),
    vertical(L.resTop + L.resH / 2, residualLabel),
  );
  (data.notes ?? []).forEach((note, i) => {
    out.push(
      `<text class="note" x="${L.left}" y="${
        resBottom + 64 + 17 * i
      }" font-size="12" fill="#555">${escapeXml(clip(note, L.plotW))}</text>`,
    );
  });
}

/** One legend row: its mark at (x, y) (y the row's middle) and its text. */
interface LegendRow {
  mark: (x: number, y: number) => string;
  text: string;
}

/** "data ± σ (n = 40)", or "(37 of 40 shown)" where a log axis drops some. */
function dataLegendText(data: PlotData): string {
  const { bins, points } = data;
  if (!points) return `data (n = ${data.nPoints}, min/max per pixel)`;
  let shown = points.x.length;
  if (data.logY) shown -= points.y.filter((v) => !(v > 0)).length;
  const name = points.sigma ? "data ± σ" : "data";
  return shown === data.nPoints || bins
    ? `${name} (n = ${data.nPoints})`
    : `${name} (${shown} of ${data.nPoints} shown)`;
}

function legendRows(data: PlotData): LegendRow[] {
  const { bins, curve, band, points } = data;
  const rows: LegendRow[] = [{
    text: dataLegendText(data),
    mark: (x, y) =>
      bins
        ? `<path d="M${r2(x + 10)} ${
          y - 5
        }v10" stroke="${DATA_COLOR}" stroke-width="3"/>`
        : (points?.sigma
          ? `<path d="M${r2(x + 10)} ${
            y - 7
          }v14" stroke="${DATA_COLOR}" stroke-opacity="0.55" stroke-width="1.1"/>`
          : "") +
          `<circle cx="${r2(x + 10)}" cy="${y}" r="3" fill="${DATA_COLOR}"/>`,
  }, {
    text: curve ? "fit" : "fit at the data points",
    mark: (x, y) =>
      curve
        ? `<path d="M${
          r2(x)
        } ${y}h20" stroke="${FIT_COLOR}" stroke-width="2.2"/>`
        : `<path d="M${r2(x + 7.5)} ${
          y - 2.5
        }l5 5m0 -5l-5 5" stroke="${FIT_COLOR}" stroke-width="1.2"/>`,
  }];
  if (band) {
    rows.push({
      text: `${Math.round(band.level * 1000) / 10}% ${band.kind} band`,
      mark: (x, y) =>
        `<rect x="${r2(x)}" y="${
          y - 6
        }" width="20" height="12" fill="${FIT_COLOR}" fill-opacity="0.2"/>`,
    });
  }
  (data.components ?? []).forEach((c, k) => {
    const st = COMPONENT_STYLES[k % COMPONENT_STYLES.length];
    rows.push({
      text: c.label,
      mark: (x, y) =>
        `<path d="M${
          r2(x)
        } ${y}h20" stroke="${st.color}" stroke-width="1.8" stroke-dasharray="${st.dash}"/>`,
    });
  });
  return rows;
}

/** How many points and curve samples a box at (cx, cy) would hide. */
function hiddenBy(
  data: PlotData,
  x: Axis,
  y: Axis,
  [cx, cy, w, h]: [number, number, number, number],
): number {
  const inside = (px: number, py: number) =>
    px >= cx - 3 && px <= cx + w + 3 && py >= cy - 3 && py <= cy + h + 3;
  let count = 0;
  const { points, bins, curve } = data;
  if (points) {
    for (let i = 0; i < points.x.length; i++) {
      if (inside(x.toPx(points.x[i]), y.toPx(points.y[i]))) count += 4;
    }
  } else if (bins) {
    for (let j = 0; j < bins.x.length; j++) {
      const px = x.toPx(bins.x[j]);
      if (px < cx || px > cx + w) continue;
      const top = y.toPx(bins.yMax[j]), bottom = y.toPx(bins.yMin[j]);
      if (bottom >= cy && top <= cy + h) count += 4;
    }
  }
  const curves = curve
    ? [curve.y, ...(data.components ?? []).map((c) => c.y)]
    : [];
  for (const cy2 of curves) {
    for (let i = 0; i < curve!.x.length; i++) {
      if (inside(x.toPx(curve!.x[i]), y.toPx(cy2[i]))) count++;
    }
  }
  return count;
}

/** The legend, in the corner of the upper panel that hides the least. */
function legend(out: string[], data: PlotData, x: Axis, y: Axis, L: Layout) {
  const rows = legendRows(data);
  const rowH = 19;
  const w = Math.max(...rows.map((r) => r.text.length)) * 6.9 + 46;
  const h = rows.length * rowH + 10;
  const right = L.left + L.plotW - w - 10, left = L.left + 10;
  const top = L.mainTop + 10, bottom = L.mainTop + L.mainH - h - 10;
  const corners: [number, number][] = [[right, top], [left, top], [
    right,
    bottom,
  ], [left, bottom]];
  let best = corners[0], least = Infinity;
  for (const c of corners) {
    const hidden = hiddenBy(data, x, y, [c[0], c[1], w, h]);
    if (hidden < least) [least, best] = [hidden, c];
  }
  const [lx, ly] = best;
  out.push(
    `<g class="legend" font-size="13" fill="#222">`,
    `<rect x="${r2(lx)}" y="${ly}" width="${
      r2(w)
    }" height="${h}" fill="#ffffff" fill-opacity="0.9" stroke="#bbb"/>`,
  );
  rows.forEach((row, i) => {
    const yMid = ly + 5 + rowH * (i + 0.5);
    out.push(
      row.mark(lx + 8, yMid),
      `<text x="${r2(lx + 36)}" y="${r2(yMid + 4.5)}">${
        escapeXml(row.text)
      }</text>`,
    );
  });
  out.push(`</g>`);
}

/**
 * Renders the plot: data and fit above, residuals below, sharing the x axis.
 * Axes are logarithmic where `data` was collected for them (`logX`, `logY`),
 * with a major tick at every decade and minor ticks between; `data.notes`
 * are printed under the x axis and in the SVG's `<desc>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { renderFitSvg } from "@nlsq/nlsq/plot";
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
 *
 * @param data What to draw (see {@linkcode PlotData}).
 * @param labels Title, subtitle, warning and axis labels.
 * @param size Width and height in px.
 */
export function renderFitSvg(
  data: PlotData,
  labels: PlotLabels,
  size: PlotSize = {},
): string {
  const notes = data.notes ?? [];
  const L = layoutOf(size, notes.length, labels);
  const ax = axesOf(data, L);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.W}" height="${L.H}" viewBox="0 0 ${L.W} ${L.H}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(labels.title)}</title>`,
    ...(notes.length > 0
      ? [`<desc>${escapeXml(notes.join("; "))}</desc>`]
      : []),
    `<defs><clipPath id="clip-main"><rect x="${L.left}" y="${L.mainTop}" width="${L.plotW}" height="${L.mainH}"/></clipPath>` +
    `<clipPath id="clip-res"><rect x="${L.left}" y="${L.resTop}" width="${L.plotW}" height="${L.resH}"/></clipPath></defs>`,
    `<rect width="${L.W}" height="${L.H}" fill="#ffffff"/>`,
  ];
  headings(out, labels, L);
  panel(out, L, L.mainTop, L.mainH, ax.x, ax.y, "main");
  panel(out, L, L.resTop, L.resH, ax.x, ax.r, "residual");
  xTickLabels(out, L, ax.x);
  mainLayer(out, data, ax.x, ax.y, L);
  residualLayer(out, data, ax.x, ax.r, L);
  frames(out, data, labels, L);
  legend(out, data, ax.x, ax.y, L);
  out.push(`</svg>`);
  return out.filter((s) => s !== "").join("\n") + "\n";
}
