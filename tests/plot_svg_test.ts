// plotSvg: what the figure shows, read back from the SVG in data units
// through its own tick labels (each carries its value): the band against
// its closed form and lmfit's eval_uncertainty, log axes with decade ticks
// and straight power laws, error bars, components, and bad options.

import assert from "node:assert";
import { fit, model, models, plotSvg } from "../mod.ts";
import { collectPlotData } from "../plot/collect_plot_data.ts";
import { bandAt } from "../plot/_band.ts";
import { arraySource } from "../data/array_source.ts";
import { studentTQuantile } from "../core/_stats.ts";
import { wellFormedXml } from "./_cli.ts";

/** Tick labels of an axis: value and pixel. */
function ticks(svg: string, cls: "x" | "y main"): { v: number; px: number }[] {
  const re = new RegExp(
    `<text class="tick ${cls}" x="([^"]+)" y="([^"]+)"[^>]*data-value="([^"]+)"`,
    "g",
  );
  return [...svg.matchAll(re)].map((m) => ({
    v: Number(m[3]),
    // x labels are centred on the tick; y labels sit 4 px below it.
    px: cls === "x" ? Number(m[1]) : Number(m[2]) - 4,
  }));
}

/** Pixel -> data units, from the first and last labelled ticks. */
function inverse(svg: string, cls: "x" | "y main", log: boolean) {
  const t = ticks(svg, cls);
  const f = (v: number) => (log ? Math.log10(v) : v);
  const a = t[0], b = t[t.length - 1];
  const slope = (f(b.v) - f(a.v)) / (b.px - a.px);
  const toData = (px: number) => {
    const u = f(a.v) + (px - a.px) * slope;
    return log ? 10 ** u : u;
  };
  return { toData, unitsPerPx: Math.abs(slope) };
}

/** The points of `<tag class="cls" ...>`'s path or polylines. */
function polylinePoints(group: string): [number, number][] {
  const m = /points="([^"]+)"/.exec(group);
  return m![1].split(" ").map((p) =>
    p.split(",").map(Number) as [number, number]
  );
}

function groupOf(svg: string, open: string): string {
  const i = svg.indexOf(open);
  assert.ok(i >= 0, `no ${open}`);
  return svg.slice(i, svg.indexOf("</g>", i));
}

/** The band polygon: its upper edge, then its lower edge left to right. */
function bandEdges(svg: string) {
  const d = /<path class="band" d="M([^"]+)Z"/.exec(svg)![1];
  assert.ok(!d.includes("M"), "one run");
  const pts = d.split("L").map((p) => p.split(" ").map(Number));
  const half = pts.length / 2;
  return { upper: pts.slice(0, half), lower: pts.slice(half).reverse() };
}

const line = Array.from({ length: 20 }, (_, i) => i);
const lineY = line.map((t) => 1 + 2 * t + 0.8 * Math.sin(3 * t));
/** sqrt(sum of squared residuals / (n - 2)) of a straight line a + b x. */
const residualSd = ([a, b]: Float64Array) =>
  Math.sqrt(
    line.reduce((s, t, i) => s + (lineY[i] - a - b * t) ** 2, 0) /
      (line.length - 2),
  );

Deno.test("plotSvg: the confidence band is the closed form of a straight line, inside the data's x range", async () => {
  const r = await fit("a + b * x", line, lineY, { p0: [0, 1] });
  const svg = plotSvg(r, { band: "confidence", level: 0.9 });
  wellFormedXml(svg);
  const n = line.length, xbar = (n - 1) / 2;
  const sxx = line.reduce((s, t) => s + (t - xbar) ** 2, 0);
  const s = residualSd(r.popt);
  const t = studentTQuantile(0.95, n - 2);
  const X = inverse(svg, "x", false), Y = inverse(svg, "y main", false);
  const { upper, lower } = bandEdges(svg);
  assert.strictEqual(upper.length, 600);
  const tol = 0.03 * Y.unitsPerPx;
  for (const [i, [px, py]] of upper.entries()) {
    const x = X.toData(px);
    assert.ok(x >= -0.01 && x <= 19.01, `band at x = ${x}, data 0..19`);
    const fx = r.popt[0] + r.popt[1] * x;
    const h = t * s * Math.sqrt(1 / n + (x - xbar) ** 2 / sxx);
    assert.ok(Math.abs(Y.toData(py) - (fx + h)) < tol, `upper at ${x}`);
    assert.ok(
      Math.abs(Y.toData(lower[i][1]) - (fx - h)) < tol,
      `lower at ${x}`,
    );
  }
  // Narrowest at the mean of x, as the formula says.
  const widths = upper.map((u, i) => lower[i][1] - u[1]);
  const narrowest = X.toData(upper[widths.indexOf(Math.min(...widths))][0]);
  // (Within a unit: near its minimum the width changes by less than the
  // 0.01 px the SVG rounds to.)
  assert.ok(Math.abs(narrowest - xbar) < 1, `narrowest at ${narrowest}`);
  assert.match(svg, /90% confidence band/);
});

Deno.test("plotSvg: the prediction band adds the residual variance (unweighted), and sigma² times the reduced chi-square (weighted)", async () => {
  const r = await fit("a + b * x", line, lineY, { p0: [0, 1] });
  const x = new Float64Array([-3, 4.5, 30]);
  const n = line.length, xbar = (n - 1) / 2;
  const sxx = line.reduce((s, t) => s + (t - xbar) ** 2, 0);
  const s = residualSd(r.popt);
  const t = studentTQuantile(0.975, n - 2);
  const b = bandAt(r, x, "prediction", 0.95);
  x.forEach((xi, i) => {
    const h = t * s * Math.sqrt(1 + 1 / n + (xi - xbar) ** 2 / sxx);
    assert.ok(Math.abs(b.upper[i] - b.y[i] - h) < 1e-10 * h);
    assert.ok(Math.abs(b.y[i] - b.lower[i] - h) < 1e-10 * h);
  });
  // Weighted by a constant sigma of 0.5: the same band (pcov and the
  // observation variance both scale with the reduced chi-square).
  const sigma = line.map(() => 0.5);
  const w = await fit("a + b * x", line, lineY, { p0: [0, 1], sigma });
  const bw = bandAt(w, x, "prediction", 0.95, 0.5);
  x.forEach((_, i) => {
    const rel = (bw.upper[i] - bw.y[i]) / (b.upper[i] - b.y[i]) - 1;
    assert.ok(Math.abs(rel) < 1e-8, `${rel}`);
  });
  // With absoluteSigma the observation variance is sigma² itself.
  const a = await fit("a + b * x", line, lineY, {
    p0: [0, 1],
    sigma,
    absoluteSigma: true,
  });
  const ba = bandAt(a, x, "prediction", 0.95, 0.5);
  const conf = bandAt(a, x, "confidence", 0.95);
  x.forEach((_, i) => {
    const hc = (conf.upper[i] - conf.y[i]) / t;
    const hp = (ba.upper[i] - ba.y[i]) / t;
    assert.ok(Math.abs(hp * hp - hc * hc - 0.25) < 1e-10);
  });
  // In the figure, from the data's (constant) sigma.
  const svg = plotSvg(w, { band: "prediction" });
  assert.match(svg, /95% prediction band/);
  assert.doesNotMatch(svg, /interpolated/);
});

Deno.test("plotSvg: the confidence band equals lmfit's eval_uncertainty", async () => {
  const x = Array.from({ length: 25 }, (_, i) => i * 0.4);
  const y = x.map((t, i) =>
    4 * Math.exp(-0.7 * t) + 0.5 + 0.05 * Math.cos(5 * i)
  );
  const r = await fit("a * exp(-b * x) + c", x, y, { p0: [1, 1, 0] });
  const at = new Float64Array([0, 1.3, 2.9, 7.7, 12]);
  const script = `
import json, sys, numpy as np, lmfit, scipy.stats, scipy.special
d = json.load(sys.stdin)
m = lmfit.models.ExpressionModel("a * exp(-b * x) + c")
p = m.make_params(a=1, b=1, c=0)
res = m.fit(np.array(d["y"]), p, x=np.array(d["x"]))
at = np.array(d["at"])
dely = res.eval_uncertainty(x=at, sigma=2)
# lmfit's own steps with the exact gradient in place of its central
# differences (step stderr / 3), which are good to about 1e-5.
a, b, c = (res.params[k].value for k in "abc")
def grad(x):
    return np.array([np.exp(-b * x), -a * x * np.exp(-b * x), np.ones_like(x)])
# The covariance from the exact Jacobian (lmfit's comes from MINPACK's
# finite differences), and lmfit's band with the exact gradient in place of
# its central differences (step stderr / 3, good to about 1e-5).
J = grad(np.array(d["x"])).T
covar = np.linalg.inv(J.T @ J) * res.chisqr / (res.ndata - res.nvarys)
scale = scipy.stats.t.ppf((scipy.special.erf(2 / np.sqrt(2)) + 1) / 2, res.ndata - res.nvarys)
g = grad(at)
exact = scale * np.sqrt(np.einsum("in,ij,jn->n", g, covar, g))
print(json.dumps({"dely": list(dely), "exact": list(exact), "popt": [a, b, c]}))
`;
  let out;
  try {
    const p = new Deno.Command("/usr/bin/python3", {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(
      new TextEncoder().encode(JSON.stringify({ x, y, at: [...at] })),
    );
    await w.close();
    out = await p.output();
  } catch (e) {
    console.log(
      `lmfit side by side skipped: /usr/bin/python3 not runnable (${e})`,
    );
    return;
  }
  const err = new TextDecoder().decode(out.stderr);
  if (!out.success && /No module named .lmfit/.test(err)) {
    console.log("lmfit side by side skipped: python3-lmfit is not installed");
    return;
  }
  assert.ok(out.success, err);
  const ref = JSON.parse(new TextDecoder().decode(out.stdout));
  ref.popt.forEach((v: number, i: number) =>
    assert.ok(Math.abs(v - r.popt[i]) < 1e-6 * Math.abs(v), "same fit")
  );
  // eval_uncertainty(sigma=2) is the 2-sigma band of the normal
  // distribution: lmfit turns sigma into a probability and takes
  // Student's t quantile with n - p degrees of freedom.
  const level = 0.9544997361036416;
  const ours = bandAt(r, at, "confidence", level);
  ref.dely.forEach((d: number, i: number) => {
    const h = ours.upper[i] - ours.y[i], e = ref.exact[i];
    assert.ok(Math.abs(h - e) < 1e-8 * e, `x = ${at[i]}: ${h} vs ${e}`);
    assert.ok(Math.abs(h - d) < 1e-4 * d, `x = ${at[i]}: ${h} vs lmfit ${d}`);
  });
});

Deno.test("plotSvg: log axes have decade ticks, straight power laws, and drop non-positive values with a note", async () => {
  const xs = Array.from({ length: 41 }, (_, i) => 10 ** (-1 + i / 10));
  const ys = xs.map((t, i) => 3 * t ** -1.5 * (1 + 0.02 * Math.sin(7 * i)));
  const r = await fit("a * x^b", xs, ys, { p0: [1, -1] });
  // Two points at x <= 0 and one at y <= 0 that a log axis cannot show.
  const data = {
    x: [-1, 0, ...xs],
    y: [5, 5, ...ys.map((v, i) => i === 30 ? -0.01 : v)],
  };
  const svg = plotSvg(r, { data, logX: true, logY: true, band: "confidence" });
  wellFormedXml(svg);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  for (const cls of ["x", "y main"] as const) {
    const t = ticks(svg, cls);
    assert.ok(t.length >= 3, `${cls}: ${t.length} labels`);
    for (const { v } of t) {
      assert.ok(
        Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-12,
        `${cls} label ${v}`,
      );
    }
    // Equal steps per decade: a logarithmic axis, not a relabelled linear one.
    const steps = t.slice(1).map((k, i) =>
      (k.px - t[i].px) / Math.log10(k.v / t[i].v)
    );
    assert.ok(steps.every((s) => Math.abs(s - steps[0]) < 0.02), `${steps}`);
  }
  assert.deepStrictEqual(ticks(svg, "x").map((k) => k.v), [
    0.1,
    1,
    10,
    100,
    1000,
  ]);
  // The notes, and the points drawn: 41 + 2 read, 40 shown.
  assert.match(
    svg,
    /class="note"[^>]*>2 points with x ≤ 0 not shown \(log x axis\)/,
  );
  assert.match(
    svg,
    /1 point with y ≤ 0 not shown in the upper panel \(log y axis\)/,
  );
  assert.strictEqual(
    groupOf(svg, '<g class="data"').split("<circle").length - 1,
    40,
  );
  assert.strictEqual(
    groupOf(svg, '<g class="residuals"').split("<circle").length - 1,
    41,
  );
  assert.match(svg, /data \(40 of 43 shown\)/);
  // A power law is a straight line on log-log axes.
  const pts = polylinePoints(groupOf(svg, '<g class="fit">'));
  const [x0, y0] = pts[0], [x1, y1] = pts[pts.length - 1];
  const off = pts.map(([x, y]) =>
    Math.abs(y - (y0 + (y1 - y0) * (x - x0) / (x1 - x0)))
  );
  assert.ok(Math.max(...off) < 0.05, `off the line by ${Math.max(...off)} px`);
  // ... and its slope is b in decades per decade.
  const X = inverse(svg, "x", true), Y = inverse(svg, "y main", true);
  const slope = Math.log10(Y.toData(y1) / Y.toData(y0)) /
    Math.log10(X.toData(x1) / X.toData(x0));
  assert.ok(Math.abs(slope - r.popt[1]) < 1e-3, `${slope} vs ${r.popt[1]}`);
});

Deno.test("plotSvg: a log axis over less than a decade labels the multiples 2 and 5", async () => {
  const x = [2, 3, 4, 5, 6, 7, 8];
  const r = await fit("a * x", x, x.map((t) => 2 * t + 0.01 * t * t), {
    p0: [1],
  });
  const svg = plotSvg(r, { logX: true });
  const labelled = ticks(svg, "x").map((k) => k.v);
  assert.ok(labelled.includes(2) && labelled.includes(5), `${labelled}`);
});

Deno.test("plotSvg: one error bar per point with sigma, in both panels", async () => {
  const x = Array.from({ length: 30 }, (_, i) => 0.2 + i * 0.3);
  const sigma = x.map((t) => 0.05 + 0.02 * t);
  const y = x.map((t, i) =>
    5 * Math.exp(-0.6 * t) + 0.3 + sigma[i] * Math.sin(11 * i)
  );
  const r = await fit("a * exp(-b * x) + c", x, y, { p0: [1, 1, 0], sigma });
  const bars = (svg: string) =>
    [...svg.matchAll(/<path class="error-bars" d="([^"]*)"/g)].map((m) =>
      m[1].split("V").length - 1
    );
  const svg = plotSvg(r, { band: "confidence" });
  assert.deepStrictEqual(bars(svg), [30, 30]);
  assert.match(svg, /data ± σ \(n = 30\)/);
  // The bars are y ± sigma: read back the first one.
  const Y = inverse(svg, "y main", false);
  const first = /<path class="error-bars" d="M[\d.]+ ([\d.]+)V([\d.]+)/.exec(
    svg,
  )!;
  assert.ok(
    Math.abs(Y.toData(Number(first[1])) - (y[0] + sigma[0])) <
      0.03 * Y.unitsPerPx,
  );
  assert.ok(
    Math.abs(Y.toData(Number(first[2])) - (y[0] - sigma[0])) <
      0.03 * Y.unitsPerPx,
  );
  // Residuals divided by sigma: bars of 1 everywhere say nothing, so none.
  assert.deepStrictEqual(bars(plotSvg(r, { residuals: "normalized" })), [30]);
  assert.match(plotSvg(r, { residuals: "normalized" }), />residual \/ σ</);
  assert.deepStrictEqual(bars(plotSvg(r, { errorBars: false })), []);
  // A weighted fit whose sigma varies: the prediction band interpolates it, and says so.
  const p = plotSvg(r, { band: "prediction" });
  assert.match(p, /σ of a new observation interpolated between the points/);
  // Here sigma is linear in x, so the interpolation is exact everywhere.
  const X = inverse(p, "x", false), YP = inverse(p, "y main", false);
  const { upper } = bandEdges(p);
  const xs = Float64Array.from(upper, ([px]) => X.toData(px));
  for (const k of [0, 150, 299, 450, 599]) {
    const want = bandAt(
      r,
      xs.subarray(k, k + 1),
      "prediction",
      0.95,
      0.05 + 0.02 * xs[k],
    );
    const got = YP.toData(upper[k][1]);
    assert.ok(
      Math.abs(got - want.upper[0]) < 0.03 * YP.unitsPerPx,
      `x = ${xs[k]}: ${got} vs ${want.upper[0]}`,
    );
  }
  // The subtitle: the reduced chi-square of a weighted fit, errors on parameters.
  const dof = 27;
  assert.match(
    svg,
    new RegExp(`χ²/ν = ${Number((r.chiSquare / dof).toPrecision(5))}`),
  );
  assert.match(svg, /a = \d\.\d+ ± 0\.\d+/);
});

Deno.test("plotSvg: the components of a composite, each drawn, summing to the fit", async () => {
  const m = models.gaussian({ prefix: "g1_" })
    .add(models.gaussian({ prefix: "g2_" }))
    .add(models.constant());
  const x = Array.from({ length: 120 }, (_, i) => i / 12);
  const y = x.map((t, i) =>
    4 * Math.exp(-((t - 3.5) ** 2) / 0.32) +
    2.5 * Math.exp(-((t - 6) ** 2) / 0.98) +
    0.5 + 0.05 * Math.sin(13 * i)
  );
  const g = m.guess(x, y);
  const r = await fit(m, x, y, {
    p0: m.params.map((n) => g[n]),
    bounds: m.defaultBounds,
  });
  const svg = plotSvg(r, { components: true, band: "prediction" });
  wellFormedXml(svg);
  assert.strictEqual(svg.split('<g class="component"').length - 1, 3);
  for (const label of ["g1 (gaussian)", "g2 (gaussian)", "constant"]) {
    assert.ok(svg.includes(`>${label}</text>`), label);
  }
  assert.match(
    svg,
    /<title>g1 \(gaussian\) \+ g2 \(gaussian\) \+ constant<\/title>/,
  );
  const Y = inverse(svg, "y main", false);
  const parts = ["g1_", "g2_", "constant"].map((k) =>
    polylinePoints(groupOf(svg, `<g class="component" data-key="${k}">`))
  );
  const total = polylinePoints(groupOf(svg, '<g class="fit">'));
  assert.strictEqual(total.length, 600);
  let worst = 0;
  total.forEach(([, py], i) => {
    const sum = parts.reduce((s, c) => s + Y.toData(c[i][1]), 0);
    worst = Math.max(worst, Math.abs(sum - Y.toData(py)));
  });
  assert.ok(worst < 0.05 * Y.unitsPerPx, `components sum off by ${worst}`);
  // The constant component is flat at c.
  const c = parts[2].map(([, py]) => Y.toData(py));
  assert.ok(c.every((v) => Math.abs(v - r.params.c) < 0.02 * Y.unitsPerPx));
});

Deno.test("plotSvg: large data from a source, min/max per pixel, with a band on log x", async () => {
  const x = Float64Array.from({ length: 5000 }, (_, i) => 1 + i / 50);
  const y = x.map((t, i) => 3 * t ** -1.5 * (1 + 0.01 * Math.sin(i)));
  const source = arraySource(x, y);
  const r = await fit("a * x^b", source, { p0: [1, -1] });
  assert.throws(() => plotSvg(r), TypeError, "a source needs data");
  const data = await collectPlotData(source, r.origin!.model, r.popt, {
    logX: true,
  });
  const svg = plotSvg(r, { data, logX: true, band: "confidence" });
  wellFormedXml(svg);
  assert.match(svg, /min\/max per pixel/);
  assert.match(svg, /class="band"/);
  assert.deepStrictEqual(ticks(svg, "x").map((k) => k.v), [1, 10, 100]);
  assert.throws(
    () => plotSvg(r, { data, logX: false }),
    /collected with logX: true/,
  );
});

Deno.test("plotSvg: bad options are typed errors that name the option", async () => {
  const r = await fit("a + b * x", line, lineY, { p0: [0, 1] });
  const bad: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [
      { band: "wide" },
      TypeError,
      /band must be .*"confidence".*"prediction".*got "wide"/,
    ],
    [{ residuals: "scaled" }, TypeError, /residuals must be/],
    [{ level: 1.5 }, RangeError, /level must be in \(0, 1\)/],
    [{ logX: "yes" }, TypeError, /logX must be true or false/],
    [{ width: -3 }, RangeError, /width must be a positive integer/],
    [{ colour: "red" }, TypeError, /colour/],
    [{ errorBars: true }, TypeError, /errorBars: the data has no sigma/],
    [
      { components: true },
      TypeError,
      /components: the model is not a composite/,
    ],
    [{ data: { x: [1, 2], y: [1] } }, RangeError, /data\.y/],
    [
      { data: { x: [1, 2], y: [1, 2], sigma: [1, 0] } },
      RangeError,
      /data\.sigma\[1\] is 0/,
    ],
  ];
  for (const [o, E, re] of bad) {
    assert.throws(() => plotSvg(r, o as never), (e: Error) => {
      assert.ok(
        e instanceof E,
        `${JSON.stringify(o)}: ${e.name}: ${e.message}`,
      );
      assert.match(e.message, /^plotSvg: /);
      assert.match(e.message, re);
      return true;
    });
  }
  // A log axis with nothing to show is an error, not an empty made-up axis.
  const neg = await fit("a * x + b", line, lineY.map((v) => -v), {
    p0: [1, 0],
  });
  assert.throws(
    () => plotSvg(neg, { logY: true }),
    RangeError,
    "logY: no y > 0 to show (20 points",
  );
  assert.throws(
    () => plotSvg(r, { logX: true, data: { x: [-1, 0], y: [1, 2] } }),
    RangeError,
    "logX: no x > 0 to show (2 points)",
  );
  // A prediction band of a weighted fit needs the data's sigma.
  const w = await fit("a + b * x", line, lineY, {
    p0: [0, 1],
    sigma: line.map(() => 0.5),
  });
  assert.throws(
    () => plotSvg(w, { band: "prediction", data: { x: line, y: lineY } }),
    TypeError,
    "the data drawn has none",
  );
  // A model of two variables has no curve to put a band on.
  const two = await fit(
    model("a * x + b * z", { variables: ["x", "z"] }),
    [line, line.map((t) => t * t)],
    lineY,
    { p0: [1, 1] },
  );
  assert.throws(
    () => plotSvg(two, { band: "confidence" }),
    /needs a model of one variable/,
  );
  wellFormedXml(plotSvg(two));
});
