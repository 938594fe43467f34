/**
 * How a fit result shows itself in a notebook (Deno's Jupyter kernel calls
 * `[Symbol.for("Jupyter.display")]()`): an HTML table of the fit
 * statistics and parameters with their errors and intervals, derived
 * quantities, warnings, and the plot (`plotSvg` with the confidence band
 * and a composite's components, for data in memory); the text report for
 * plain-text front ends.
 *
 * @module
 */

import type { FitResult } from "./fit_result.ts";
import { formatNumber } from "./report.ts";
import { identifiabilityWarnings } from "./diagnostics.ts";
import { plotSvg } from "../plot/plot_svg.ts";

/**
 * Draws a result as SVG markup for its notebook display (null: no plot).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ResultPlotRenderer } from "@nlsq/nlsq/workflow";
 * const none: ResultPlotRenderer = () => null;
 * assert.strictEqual(none({} as never), null);
 * ```
 */
export type ResultPlotRenderer = (result: FitResult) => string | null;

let plotRenderer: ResultPlotRenderer | null = null;

/**
 * Registers the renderer a result's notebook display draws its plot with,
 * in place of the default (`plotSvg` with the confidence band, and the
 * components of a composite); null restores the default. Returns the one
 * it replaces (null: the default).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "@nlsq/nlsq";
 * import { registerResultPlot, resultDisplay } from "@nlsq/nlsq/workflow";
 * const r = await fit("a * x", [1, 2, 3], [2, 4, 6], { p0: [1] });
 * const before = registerResultPlot(() => '<svg id="fit-plot"></svg>');
 * assert.ok(resultDisplay(r)["text/html"].includes('<svg id="fit-plot">'));
 * registerResultPlot(before);
 * ```
 */
export function registerResultPlot(
  renderer: ResultPlotRenderer | null,
): ResultPlotRenderer | null {
  if (renderer !== null && typeof renderer !== "function") {
    throw new TypeError(
      "registerResultPlot: renderer must be a function or null",
    );
  }
  const old = plotRenderer;
  plotRenderer = renderer;
  return old;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text as HTML. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const row = (cells: string[], tag = "td") =>
  `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join("")}</tr>`;

function statsTable(r: FitResult): string {
  const dof = r.nPoints - r.nFree;
  const stats: [string, string][] = [
    ["success", `${r.success} (${esc(r.message)})`],
    ["method", `${r.method}, ${esc(r.strategy)}, ${esc(r.backend)}`],
    ["data points", `${r.nPoints}`],
    ["variables", `${r.nFree}`],
    ["chi-square", formatNumber(r.chiSquare, 7)],
    [
      "reduced chi-square",
      dof > 0 ? formatNumber(r.chiSquare / dof, 7) : "nan",
    ],
    ["R-squared", formatNumber(r.rSquared, 7)],
    ["AIC / BIC", `${formatNumber(r.aic, 7)} / ${formatNumber(r.bic, 7)}`],
    ["function evals", `${r.nfev}`],
  ];
  return `<table class="nlsq-stats">${
    stats.map(([k, v]) => row([esc(k), v])).join("")
  }</table>`;
}

function paramTable(r: FitResult): string {
  const cis = r.confidenceIntervals(0.05);
  const head = row(
    ["name", "value", "standard error", "relative", "95% interval", ""],
    "th",
  );
  const body = r.paramNames.map((name, i) => {
    const v = r.popt[i], e = r.perr[i];
    const s = r.paramSettings[i];
    const fixed = !s.vary && s.expr === undefined;
    const rel = v !== 0 && e !== 0 && Number.isFinite(e)
      ? `${(Math.abs(e / v) * 100).toFixed(2)}%`
      : "";
    const note = fixed
      ? "fixed"
      : s.expr !== undefined
      ? `== ${esc(s.expr)}`
      : r.activeMask[i]
      ? `at ${r.activeMask[i] < 0 ? "lower" : "upper"} bound`
      : "";
    const ci = fixed
      ? ""
      : `[${formatNumber(cis[i].lower)}, ${formatNumber(cis[i].upper)}]`;
    return `<tr data-param="${esc(name)}"><td>${
      esc(name)
    }</td><td class="value">${formatNumber(v)}</td><td class="stderr">${
      fixed ? "" : formatNumber(e)
    }</td><td>${rel}</td><td>${ci}</td><td>${note}</td></tr>`;
  }).join("");
  return `<table class="nlsq-params"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function derivedTable(r: FitResult): string {
  const entries = Object.entries(r.derived);
  if (entries.length === 0) return "";
  return `<table class="nlsq-derived">${
    row(["derived", "value", "standard error"], "th")
  }${
    entries.map(([k, q]) =>
      row([esc(k), formatNumber(q.value), formatNumber(q.stderr)])
    ).join("")
  }</table>`;
}

function warningList(r: FitResult): string {
  const all = [
    ...r.notes,
    ...identifiabilityWarnings(r.diagnostics).map((w) => `warning: ${w}`),
  ];
  return all.length === 0
    ? ""
    : `<ul class="nlsq-notes">${
      all.map((w) => `<li>${esc(w)}</li>`).join("")
    }</ul>`;
}

/**
 * `plotSvg` of a fit of one variable whose data are in memory (null for
 * the others: a source, a restored result, a surface).
 */
function defaultPlot(r: FitResult): string | null {
  const o = r.origin;
  if (!o?.data || o.model.variables.length !== 1) return null;
  const parts = (o.model as { components?: readonly unknown[] }).components;
  return plotSvg(r, {
    band: "confidence",
    components: (parts?.length ?? 0) > 1,
    width: 720,
    height: 480,
  });
}

function plot(r: FitResult): string {
  try {
    return (plotRenderer ?? defaultPlot)(r) ??
      "<!-- plot: none (the data are not in memory, or the model has several variables); registerResultPlot sets a renderer -->";
  } catch (e) {
    // The table must still show when a plot fails.
    return `<p class="nlsq-plot-error">plot failed: ${
      esc(e instanceof Error ? e.message : String(e))
    }</p>`;
  }
}

/**
 * A result's notebook display: `text/html` (tables, warnings, plot) and
 * `text/plain` (the report).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fit } from "./fit.ts";
 * import { resultDisplay } from "./result_display.ts";
 * const r = await fit("a * x + b", [0, 1, 2, 3], [1, 3.1, 4.9, 7], { p0: [1, 0] });
 * const out = resultDisplay(r);
 * assert.match(out["text/html"], /<tr data-param="a"><td>a<\/td><td class="value">1\.9/);
 * assert.match(out["text/plain"], /\[\[Variables\]\]/);
 * ```
 */
export function resultDisplay(
  r: FitResult,
): { "text/html": string; "text/plain": string } {
  const title = r.modelLabel ?? "model";
  const html = `<div class="nlsq-fit-result"><p><b>${
    r.success ? "Fit" : "Fit did NOT converge"
  }</b>: ${esc(title)}</p>${statsTable(r)}${paramTable(r)}${derivedTable(r)}${
    warningList(r)
  }${plot(r)}</div>`;
  return { "text/html": html, "text/plain": r.report() };
}
