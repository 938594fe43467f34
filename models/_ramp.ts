/**
 * The least-squares ramp step (private helper of `step({ form: "linear" })`).
 *
 * A ramp A clip((x - b0) / (b1 - b0), 0, 1) is 0 left of b0, A right of b1
 * and a straight line between. Its cost is smooth while no point crosses
 * b0 or b1, with kinks where one does, and noise makes many of those kinks
 * local minima: a local solver stops in the one nearest its start. So the
 * guess solves the problem exactly: for every split of the sorted points
 * into left, ramp and right (near the first estimate), the best ramp with
 * b0 and b1 free, with one of them on a neighbouring point, or with both,
 * in closed form from prefix sums; the best consistent one wins.
 *
 * @module
 */

/** Sums over points i .. j-1 from prefix sums. */
interface Sums {
  n: number;
  x: number;
  y: number;
  xx: number;
  xy: number;
  yy: number;
}

/** A ramp and its cost. */
interface Candidate {
  cost: number;
  A: number;
  b0: number;
  b1: number;
}

/** Prefix sums of 1, x, y, x^2, x y, y^2 over sorted points. */
function prefixSums(xs: ArrayLike<number>, ys: ArrayLike<number>) {
  const n = xs.length;
  const P = Array.from({ length: 6 }, () => new Float64Array(n + 1));
  for (let i = 0; i < n; i++) {
    const x = xs[i], y = ys[i];
    const v = [1, x, y, x * x, x * y, y * y];
    for (let k = 0; k < 6; k++) P[k][i + 1] = P[k][i] + v[k];
  }
  return (i: number, j: number): Sums => ({
    n: P[0][j] - P[0][i],
    x: P[1][j] - P[1][i],
    y: P[2][j] - P[2][i],
    xx: P[3][j] - P[3][i],
    xy: P[4][j] - P[4][i],
    yy: P[5][j] - P[5][i],
  });
}

/**
 * The best ramp with the split (left, ramp, right) = points (< i0,
 * i0 .. i1-1, >= i1): b0 and b1 free, or pinned to a neighbouring point.
 * Only ramps consistent with the split count.
 */
function bestForSplit(
  xs: ArrayLike<number>,
  sum: (i: number, j: number) => Sums,
  i0: number,
  i1: number,
): Candidate | null {
  const n = xs.length;
  const left = sum(0, i0).yy, ramp = sum(i0, i1), right = sum(i1, n);
  if (right.n === 0) return null;
  const lo0 = i0 > 0 ? xs[i0 - 1] : -Infinity, hi0 = i0 < n ? xs[i0] : Infinity;
  const lo1 = xs[i1 - 1] ?? -Infinity, hi1 = xs[i1];
  let best: Candidate | null = null;
  const offer = (cost: number, A: number, b0: number, b1: number) => {
    const ok = b1 > b0 && b0 >= lo0 && b0 <= hi0 && b1 >= lo1 && b1 <= hi1 &&
      Number.isFinite(cost);
    if (ok && (best === null || cost < best.cost)) best = { cost, A, b0, b1 };
  };
  const A = right.y / right.n;
  const rightCost = right.yy - A * right.y;
  if (ramp.n >= 2) {
    // Both free: a line through the ramp, the mean on the right.
    const cxx = ramp.xx - ramp.x * ramp.x / ramp.n;
    const cxy = ramp.xy - ramp.x * ramp.y / ramp.n;
    if (cxx > 0 && cxy !== 0) {
      const s = cxy / cxx, t = (ramp.y - s * ramp.x) / ramp.n;
      const cost = left + (ramp.yy - ramp.y * ramp.y / ramp.n - s * cxy) +
        rightCost;
      offer(cost, A, -t / s, (A - t) / s);
    }
  }
  for (const b0 of [lo0, hi0]) {
    if (!Number.isFinite(b0) || ramp.n < 1) continue;
    // b0 pinned: a line through (b0, 0) on the ramp, the mean on the right.
    const sxx = ramp.xx - 2 * b0 * ramp.x + b0 * b0 * ramp.n;
    const sxy = ramp.xy - b0 * ramp.y;
    if (!(sxx > 0) || sxy === 0) continue;
    const s = sxy / sxx;
    offer(left + (ramp.yy - s * sxy) + rightCost, A, b0, b0 + A / s);
  }
  for (const b1 of [lo1, hi1]) {
    if (!Number.isFinite(b1) || ramp.n < 1) continue;
    // b1 pinned: f = A + s (x - b1) on the ramp, A on the right.
    const N = ramp.n + right.n, Y = ramp.y + right.y;
    const u = ramp.x - b1 * ramp.n;
    const uu = ramp.xx - 2 * b1 * ramp.x + b1 * b1 * ramp.n;
    const uy = ramp.xy - b1 * ramp.y;
    const det = N * uu - u * u;
    if (!(det > 0)) continue;
    const a = (uu * Y - u * uy) / det, s = (N * uy - u * Y) / det;
    if (s === 0) continue;
    offer(left + (ramp.yy + right.yy - a * Y - s * uy), a, b1 - a / s, b1);
  }
  for (const b0 of [lo0, hi0]) {
    for (const b1 of [lo1, hi1]) {
      if (!Number.isFinite(b0) || !Number.isFinite(b1) || !(b1 > b0)) continue;
      // Both pinned: only A, for g = (x - b0)/(b1 - b0) on the ramp, 1 right.
      const w = b1 - b0;
      const gy = (ramp.xy - b0 * ramp.y) / w + right.y;
      const gg = (ramp.xx - 2 * b0 * ramp.x + b0 * b0 * ramp.n) / (w * w) +
        right.n;
      const a = gy / gg;
      offer(left + ramp.yy + right.yy - a * gy, a, b0, b1);
    }
  }
  return best;
}

/**
 * amplitude, center and sigma of the least-squares ramp, over splits whose
 * ends lie within `window` points of those of `start` (every split for up
 * to 400 points); null when none gives a ramp.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { bestRamp } from "./_ramp.ts";
 * const xs = Array.from({ length: 101 }, (_, i) => i / 10);
 * const ys = xs.map((x) => 2 * Math.min(1, Math.max(0, (x - 4) / 3 + 0.5)));
 * const r = bestRamp(xs, ys, { amplitude: 1.5, center: 5, sigma: 1 })!;
 * assert.ok(Math.abs(r.center - 4) < 1e-9 && Math.abs(r.sigma - 3) < 1e-9);
 * ```
 */
export function bestRamp(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  start: { amplitude: number; center: number; sigma: number },
  window = 100,
): { amplitude: number; center: number; sigma: number } | null {
  const n = xs.length;
  const sum = prefixSums(xs, ys);
  const index = (x: number) => {
    let k = 0;
    while (k < n && xs[k] < x) k++;
    return k;
  };
  const all = n <= 400;
  const j0 = index(start.center - start.sigma / 2);
  const j1 = index(start.center + start.sigma / 2);
  let best: Candidate | null = null;
  for (
    let i0 = all ? 0 : Math.max(0, j0 - window);
    i0 <= (all ? n - 1 : Math.min(n - 1, j0 + window));
    i0++
  ) {
    for (
      let i1 = all ? i0 + 1 : Math.max(i0 + 1, j1 - window);
      i1 <= (all ? n - 1 : Math.min(n - 1, j1 + window));
      i1++
    ) {
      const c = bestForSplit(xs, sum, i0, i1);
      if (c !== null && (best === null || c.cost < best.cost)) best = c;
    }
  }
  if (best === null) return null;
  const { A, b0, b1 } = best as Candidate;
  return { amplitude: A, center: (b0 + b1) / 2, sigma: b1 - b0 };
}
