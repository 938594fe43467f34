/**
 * Plots of fits as SVG: {@linkcode plotSvg} (also in the root module), and
 * its parts for data read from a source ({@linkcode collectPlotData}) or
 * drawn by hand ({@linkcode renderFitSvg}, the ticks).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { arraySource, fit, model } from "@nlsq/nlsq";
 * import { collectPlotData, plotSvg } from "@nlsq/nlsq/plot";
 * const x = Array.from({ length: 5000 }, (_, i) => 1 + i / 100);
 * const y = x.map((t, i) => 3 * t ** -1.5 * (1 + 0.01 * Math.sin(i)));
 * const source = arraySource(x, y);
 * const m = model("a * x^b");
 * const r = await fit(m, source, { p0: [1, -1] });
 * const data = await collectPlotData(source, m, r.popt, { logX: true, logY: true });
 * const svg = plotSvg(r, { data, logX: true, logY: true, band: "prediction" });
 * assert.match(svg, /min\/max per pixel/);
 * ```
 *
 * @module
 */

export { plotSvg } from "./plot_svg.ts";
export type { PlotArrays, PlotSvgOptions } from "./plot_svg.ts";
export {
  collectPlotData,
  type CollectPlotOptions,
  plotDataOfArrays,
} from "./collect_plot_data.ts";
export {
  type PlotLabels,
  type PlotSize,
  renderFitSvg,
} from "./render_fit_svg.ts";
export {
  BAND_KINDS,
  type BandKind,
  type PlotBand,
  type PlotBins,
  type PlotComponent,
  type PlotData,
  type PlotPoints,
  type ResidualScale,
} from "./plot_data.ts";
export { formatTick, logTicks, niceTicks, type Tick } from "./ticks.ts";
