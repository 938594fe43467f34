// `nlsq fit --plot`: the SVG is well-formed, shows data, curve and residuals,
// and stays small for large data (min/max per pixel column).

import assert from "node:assert";
import { join } from "node:path";
import { DATA, runCli, wellFormedXml } from "./_cli.ts";
import { npyBytes } from "../examples/make_data.ts";
import { collectPlotData } from "../plot/collect_plot_data.ts";
import { renderFitSvg } from "../plot/render_fit_svg.ts";
import { niceTicks } from "../plot/ticks.ts";
import { arraySource } from "../data/array_source.ts";
import { model } from "../model/model.ts";

function count(svg: string, re: RegExp): number {
  return [...svg.matchAll(re)].length;
}

Deno.test("fit --plot writes a well-formed SVG with data, fit and residuals", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "decay.svg");
    const run = await runCli([
      "fit",
      "-m",
      "a*exp(-b*t)+c",
      "-d",
      join(DATA, "decay.csv"),
      "--x",
      "t",
      "--y",
      "signal",
      "--sigma",
      "sigma",
      "--plot",
      out,
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.match(run.stderr, /plot written to .*decay\.svg/);
    const svg = await Deno.readTextFile(out);
    const names = wellFormedXml(svg);
    assert.strictEqual(names[0], "svg");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(names.includes("polyline"), "fitted curve");
    assert.ok(names.includes("path"), "axes and ticks");
    // 200 points in the data panel and 200 in the residual panel.
    assert.strictEqual(count(svg, /<circle /g), 400 + 1); // + legend marker
    // Title with the model, axis labels from the columns.
    assert.match(svg, /<title>a\*exp\(-b\*t\)\+c/);
    assert.match(svg, />t<\/text>/);
    assert.match(svg, />signal<\/text>/);
    assert.match(svg, />residual<\/text>/);
    // Tick labels on x cover 0..10.
    assert.match(svg, />0<\/text>/);
    assert.match(svg, />10<\/text>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fit --plot --band --log-y: the band, decade ticks; the options need --plot", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "decay.svg");
    const args = [
      "fit",
      "-m",
      "a*exp(-b*t)+c",
      "-d",
      join(DATA, "decay.csv"),
      "--y",
      "signal",
      "--sigma",
      "sigma",
    ];
    const run = await runCli([
      ...args,
      "--plot",
      out,
      "--band",
      "confidence",
      "--alpha",
      "0.1",
      "--log-y",
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    const svg = await Deno.readTextFile(out);
    wellFormedXml(svg);
    assert.match(svg, /<path class="band" d="M/);
    assert.match(svg, /90% confidence band/);
    // Signal from 0.6 to 6: one decade, labelled at 1, 2 and 5.
    const yTicks = [
      ...svg.matchAll(/class="tick y main"[^>]*data-value="([^"]+)"/g),
    ].map((m) => Number(m[1]));
    assert.deepStrictEqual(yTicks, [1, 2, 5]);
    // A weighted fit whose sigma varies: a prediction band interpolates it.
    const pred = await runCli([...args, "--plot", out, "--band", "prediction"]);
    assert.strictEqual(pred.code, 0, pred.stderr);
    assert.match(
      await Deno.readTextFile(out),
      /interpolated between the points/,
    );

    const bad = await runCli([...args, "--plot", out, "--band", "wide"]);
    assert.strictEqual(bad.code, 2);
    assert.strictEqual(
      bad.stderr,
      'nlsq: error: --band: must be confidence or prediction, got "wide"\n',
    );
    const alone = await runCli([...args, "--band", "confidence", "--log-x"]);
    assert.strictEqual(alone.code, 2);
    assert.strictEqual(
      alone.stderr,
      "nlsq: error: --band, --log-x: only with --plot FILE.svg\n",
    );
    assert.strictEqual(alone.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fit --plot to a place it cannot write: the report first, then exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fitArgs = [
      "fit",
      "-m",
      "a*exp(-b*t)+c",
      "-d",
      join(DATA, "decay.csv"),
      "--y",
      "signal",
    ];
    const missing = join(dir, "no", "such", "dir", "decay.svg");
    const run = await runCli([...fitArgs, "--plot", missing]);
    assert.strictEqual(run.code, 2, run.stderr);
    // The finished fit is printed in full.
    assert.match(run.stdout, /\[\[Variables\]\]\n {4}a: +5\.\d+ \+\/- /);
    assert.match(run.stdout, /success += true/);
    assert.strictEqual(
      run.stderr,
      `nlsq: error: --plot: cannot write ${missing}: No such file or directory (os error 2): writefile '${missing}'\n`,
    );
    // JSON says so too, with the same exit code.
    const json = await runCli([...fitArgs, "--plot", missing, "--json"]);
    assert.strictEqual(json.code, 2);
    const r = JSON.parse(json.stdout);
    assert.strictEqual(r.success, true);
    const plain = JSON.parse((await runCli([...fitArgs, "--json"])).stdout);
    assert.deepStrictEqual(r.popt, plain.popt);
    assert.strictEqual(r.plot, null);
    assert.match(r.plotError, /^--plot: cannot write .*decay\.svg/);
    assert.strictEqual(r.exitCode, 2);

    // A place Deno may not write to: the data readable, the plot refused.
    const denied = join(dir, "denied.svg");
    const ro = await runCli([...fitArgs, "--plot", denied], [
      "--allow-read",
      "--allow-env",
      "--allow-sys",
    ]);
    assert.strictEqual(ro.code, 2, ro.stderr);
    assert.match(ro.stdout, /\[\[Variables\]\]/);
    assert.match(
      ro.stderr,
      /^nlsq: error: --plot: cannot write .*denied\.svg: .*--allow-write/,
    );
    await assert.rejects(Deno.stat(denied), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fit --plot decimates large data and marks non-convergence", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => (10 * i) / (n - 1));
    const y = x.map((t, i) => 2 * Math.exp(-0.5 * t) + 0.1 * Math.sin(i));
    const data = join(dir, "big.npy");
    await Deno.writeFile(data, npyBytes([x, y]));
    const out = join(dir, "big.svg");
    const run = await runCli([
      "fit",
      "-m",
      "a*exp(-b*x)",
      "-d",
      data,
      "--plot",
      out,
      "--max-nfev",
      "1",
      "--json",
    ]);
    assert.strictEqual(run.code, 1, run.stderr);
    assert.strictEqual(JSON.parse(run.stdout).plot, out);
    const svg = await Deno.readTextFile(out);
    wellFormedXml(svg);
    assert.ok(svg.length < 150_000, `SVG is ${svg.length} bytes`);
    assert.strictEqual(count(svg, /<circle /g), 0); // no single points
    assert.match(svg, /min\/max per pixel/);
    assert.match(svg, /n = 100000/);
    assert.match(svg, /NOT CONVERGED/);
    // The envelope: one vertical segment per pixel column.
    const envelope = svg.split("\n").find((l) =>
      l.startsWith('<path d="M') && l.includes('stroke="#1f77b4"')
    );
    assert.ok(envelope);
    assert.ok(count(envelope, /V/g) > 500);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collectPlotData: points below the limit, min/max bins above", async () => {
  const m = model("a * x + b");
  const x = Float64Array.from({ length: 3000 }, (_, i) => i);
  const y = x.map((t) => 2 * t + 1 + (t % 2 === 0 ? 0.5 : -0.5));
  const small = await collectPlotData(
    arraySource(x.slice(0, 100), y.slice(0, 100)),
    m,
    [2, 1],
  );
  assert.strictEqual(small.points?.x.length, 100);
  assert.deepStrictEqual(
    Array.from(small.points!.residual.slice(0, 4)),
    [0.5, -0.5, 0.5, -0.5],
  );
  const big = await collectPlotData(arraySource(x, y), m, [2, 1], {
    columns: 30,
    batchSize: 700,
  });
  assert.strictEqual(big.points, undefined);
  assert.strictEqual(big.nPoints, 3000);
  assert.strictEqual(big.bins!.x.length, 30);
  // Every column holds 100 points, alternating residuals +-0.5.
  assert.ok(big.bins!.rMin.every((v) => v === -0.5));
  assert.ok(big.bins!.rMax.every((v) => v === 0.5));
  assert.strictEqual(big.bins!.yMin[0], 1.5);
  assert.strictEqual(big.bins!.yMax[29], 2 * 2999 + 0.5);
  const svg = renderFitSvg(big, { title: "a * x + b <&>" });
  wellFormedXml(svg);
  assert.match(svg, /a \* x \+ b &lt;&amp;&gt;/);
});

Deno.test("plot: a model that is not finite everywhere breaks the curve", () => {
  const x = Float64Array.from({ length: 11 }, (_, i) => i - 5);
  const y = x.map((t) => 1 / t);
  const svg = renderFitSvg({
    nPoints: 11,
    xMin: -5,
    xMax: 5,
    points: { x, y, fitted: y, residual: new Float64Array(11) },
    curve: { x, y },
  }, { title: "1/x" });
  wellFormedXml(svg);
  assert.strictEqual(count(svg, /<polyline /g), 2);
  assert.doesNotMatch(svg, /NaN|Infinity/);
});

Deno.test("niceTicks covers the range with round steps", () => {
  for (const [lo, hi] of [[0, 1], [-3.7, 12.2], [1e-6, 3e-6], [100, 100]]) {
    const { values, step } = niceTicks(lo, hi, 6);
    assert.ok(values.length >= 2 && values.length <= 12, `${lo}..${hi}`);
    const mant = step / 10 ** Math.floor(Math.log10(step));
    assert.ok([1, 2, 2.5, 5].some((f) => Math.abs(mant - f) < 1e-9), `${step}`);
  }
});
