/**
 * Small pieces of SVG text shared by the plot renderer.
 *
 * @module
 */

/** Text escaped for XML content and attribute values. */
export const escapeXml = (s: string): string =>
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

/** A coordinate rounded to 0.01 px (keeps the file small). */
export const r2 = (v: number): number => Math.round(v * 100) / 100;

/** Far-off pixels clamped, so the clip path, not the renderer, cuts them. */
export const clampPx = (v: number): number => Math.max(-1e5, Math.min(1e5, v));

/** Range of finite values of several arrays; [0, 1] when there are none. */
export function extent(
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

/** One vertical segment per non-empty column, as a single path. */
export function envelope(
  x: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  sx: (v: number) => number,
  sy: (v: number) => number,
  attrs: string,
): string {
  const d: string[] = [];
  for (let j = 0; j < x.length; j++) {
    const a = sy(hi[j]), b = sy(lo[j]), px = sx(x[j]);
    if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(px)) {
      continue;
    }
    // At least 1.5 px tall, so flat columns stay visible.
    const mid = (a + b) / 2, half = Math.max((b - a) / 2, 0.75);
    d.push(`M${r2(px)} ${r2(clampPx(mid - half))}V${r2(clampPx(mid + half))}`);
  }
  return `<path d="${d.join("")}" ${attrs} fill="none"/>`;
}

/** Runs of consecutive indices where `ok(i)` holds. */
export function finiteRuns(n: number, ok: (i: number) => boolean): number[][] {
  const runs: number[][] = [];
  let run: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ok(i)) {
      run.push(i);
    } else if (run.length > 0) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** A curve as polylines, broken where it is not finite (or not drawable). */
export function polylines(
  x: Float64Array,
  y: Float64Array,
  sx: (v: number) => number,
  sy: (v: number) => number,
  attrs: string,
): string {
  const ok = (i: number) =>
    Number.isFinite(sx(x[i])) && Number.isFinite(sy(y[i]));
  return finiteRuns(x.length, ok).filter((run) => run.length > 1).map((run) =>
    `<polyline points="${
      run.map((i) => `${r2(sx(x[i]))},${r2(clampPx(sy(y[i])))}`).join(" ")
    }" fill="none" ${attrs} stroke-linejoin="round"/>`
  ).join("\n");
}
