// The page's plot as an SVG string: data, fit, 95% confidence band and the
// residuals under it, for one x range (a view the worker computed, decimated
// for large data), redrawn on every zoom. The SVG export is the library's
// plotSvg, drawn in the worker from the fit itself.

import type { View } from "./_view.ts";

/** Plot geometry (the page maps mouse positions to x with it). */
export const LAYOUT = {
  width: 760,
  height: 500,
  left: 70,
  right: 16,
  top: 14,
  mainHeight: 300,
  gap: 36,
  residualHeight: 110,
} as const;

/** The drawn x range: the view's, widened by 2% each side (points at its ends show whole). */
export function drawnRange(range: readonly [number, number]): [number, number] {
  const pad = (range[1] - range[0]) * 0.02 || 0.5;
  return [range[0] - pad, range[1] + pad];
}

/** The x value under the plot's horizontal pixel `px` for a view's range. */
export function xAt(px: number, range: readonly [number, number]): number {
  const [lo, hi] = drawnRange(range);
  const w = LAYOUT.width - LAYOUT.left - LAYOUT.right;
  const f = Math.min(1, Math.max(0, (px - LAYOUT.left) / w));
  return lo + f * (hi - lo);
}

/** Round tick values covering `[lo, hi]`. */
export function ticks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= step0)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

function extent(...arrays: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      if (Number.isFinite(a[i])) {
        lo = Math.min(lo, a[i]), hi = Math.max(hi, a[i]);
      }
    }
  }
  if (!(hi > lo)) return lo === Infinity ? [0, 1] : [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

interface Frame {
  top: number;
  height: number;
  y: [number, number];
}

function axes(view: View, f: Frame, sx: (v: number) => number, label: string) {
  const sy = (v: number) =>
    f.top + f.height * (1 - (v - f.y[0]) / (f.y[1] - f.y[0]));
  const right = LAYOUT.width - LAYOUT.right;
  const parts = [
    `<rect x="${LAYOUT.left}" y="${f.top}" width="${
      right - LAYOUT.left
    }" height="${f.height}" fill="#fff" stroke="#999"/>`,
  ];
  for (const t of ticks(f.y[0], f.y[1], 4)) {
    parts.push(
      `<line x1="${LAYOUT.left - 4}" x2="${right}" y1="${sy(t)}" y2="${
        sy(t)
      }" stroke="#eee"/>`,
      `<text x="${LAYOUT.left - 6}" y="${sy(t) + 4}" text-anchor="end">${
        fmt(t)
      }</text>`,
    );
  }
  const [lo, hi] = drawnRange(view.range);
  for (const t of ticks(lo, hi)) {
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${f.top}" y2="${
        f.top + f.height + 4
      }" stroke="#eee"/>`,
      `<text x="${sx(t)}" y="${f.top + f.height + 16}" text-anchor="middle">${
        fmt(t)
      }</text>`,
    );
  }
  parts.push(
    `<text x="14" y="${f.top + f.height / 2}" transform="rotate(-90 14 ${
      f.top + f.height / 2
    })" text-anchor="middle">${label}</text>`,
  );
  return { parts, sy };
}

function line(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  sx: (v: number) => number,
  sy: (v: number) => number,
): string {
  let d = "";
  let pen = false;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(y[i])) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${sx(x[i]).toFixed(1)} ${sy(y[i]).toFixed(1)}`;
    pen = true;
  }
  return d;
}

function dots(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  sx: (v: number) => number,
  sy: (v: number) => number,
): string {
  // One path of short strokes draws thousands of points cheaply.
  let d = "";
  for (let i = 0; i < x.length; i++) {
    d += `M${sx(x[i]).toFixed(1)} ${sy(y[i]).toFixed(1)}h0`;
  }
  return d;
}

function bars(
  e: { x: ArrayLike<number>; lo: ArrayLike<number>; hi: ArrayLike<number> },
  sx: (v: number) => number,
  sy: (v: number) => number,
): string {
  let d = "";
  for (let i = 0; i < e.x.length; i++) {
    const x = sx(e.x[i]).toFixed(1);
    d += `M${x} ${sy(e.lo[i]).toFixed(1)}V${sy(e.hi[i]).toFixed(1)}`;
  }
  return d;
}

/**
 * The SVG of a view: `g.data` carries `data-n` (points in the range) and
 * `data-drawn` (points drawn: fewer when decimated).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { plotView } from "./_plot.ts";
 * const svg = plotView({
 *   range: [0, 1], nInRange: 2, decimated: false,
 *   data: { x: new Float64Array([0, 1]), y: new Float64Array([0, 1]) },
 * });
 * assert.match(svg, /data-n="2" data-drawn="2"/);
 * ```
 */
export function plotView(view: View, xLabel = "x", yLabel = "y"): string {
  const L = LAYOUT;
  const w = L.width - L.left - L.right;
  const [x0, x1] = drawnRange(view.range);
  const sx = (v: number) => L.left + w * (v - x0) / (x1 - x0);
  const c = view.curve;
  // Without a fit there are no residuals: the x label sits under the data.
  const H = view.residuals ? L.height : L.top + L.mainHeight + 40;
  const main: Frame = {
    top: L.top,
    height: L.mainHeight,
    y: extent(view.data.y, ...(c ? [c.y, c.lower, c.upper] : [])),
  };
  const a = axes(view, main, sx, yLabel);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${L.width} ${H}" width="${L.width}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<defs><clipPath id="clip-main"><rect x="${L.left}" y="${main.top}" width="${w}" height="${main.height}"/></clipPath></defs>`,
    ...a.parts,
    `<g clip-path="url(#clip-main)">`,
  ];
  if (c) {
    const upper = line(c.x, c.upper, sx, a.sy);
    const lowerBack = line(
      Array.from(c.x).reverse(),
      Array.from(c.lower).reverse(),
      sx,
      a.sy,
    ).replace(/^M/, "L");
    if (upper !== "") {
      out.push(
        `<path class="band" d="${upper}${lowerBack}Z" fill="#f4a26155" stroke="none"/>`,
      );
    }
  }
  if (view.envelope) {
    out.push(
      `<path class="envelope" d="${
        bars(view.envelope, sx, a.sy)
      }" stroke="#9dbbe0" stroke-width="1.2"/>`,
    );
  }
  out.push(
    `<g class="data" data-n="${view.nInRange}" data-drawn="${view.data.x.length}" data-decimated="${view.decimated}"><path d="${
      dots(view.data.x, view.data.y, sx, a.sy)
    }" stroke="#1f5fa8" stroke-width="${
      view.data.x.length > 1000 ? 2 : 4
    }" stroke-linecap="round"/></g>`,
  );
  if (c) {
    out.push(
      `<path class="fit" d="${
        line(c.x, c.y, sx, a.sy)
      }" fill="none" stroke="#d1495b" stroke-width="2"/>`,
    );
  }
  out.push(`</g>`);
  if (view.residuals) {
    const r = view.residuals;
    const res: Frame = {
      top: L.top + L.mainHeight + L.gap,
      height: L.residualHeight,
      y: extent(r.y, [0]),
    };
    const b = axes(view, res, sx, "residual");
    out.push(
      ...b.parts,
      view.residualEnvelope
        ? `<path class="envelope" d="${
          bars(view.residualEnvelope, sx, b.sy)
        }" stroke="#c8c8c8" stroke-width="1.2"/>`
        : "",
      `<line x1="${L.left}" x2="${L.width - L.right}" y1="${b.sy(0)}" y2="${
        b.sy(0)
      }" stroke="#d1495b"/>`,
      `<g class="residuals"><path d="${
        dots(r.x, r.y, sx, b.sy)
      }" stroke="#555" stroke-width="${
        r.x.length > 1000 ? 2 : 3
      }" stroke-linecap="round"/></g>`,
    );
  }
  out.push(
    `<text x="${L.left + w / 2}" y="${H - 4}" text-anchor="middle">${xLabel}${
      view.decimated
        ? ` (${
          view.nInRange.toLocaleString("en")
        } points, ${view.data.x.length} drawn)`
        : ""
    }</text>`,
    `</svg>`,
  );
  return out.join("\n");
}
