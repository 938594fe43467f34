// The result's own outputs: r.report() is the text `nlsq fit` prints,
// r.toCSV() one row per parameter that reads back to the same numbers, and
// the notebook display (Symbol.for("Jupyter.display")) an HTML table of
// the parameters with their errors, plus a plot when one is registered.
import assert from "node:assert";
import { join } from "node:path";
import { fit, FitResult, model, models, plotSvg } from "../mod.ts";
import { registerResultPlot } from "../workflow/mod.ts";
import { openSource } from "../data/open_source.ts";
import { DATA, runCli } from "./_cli.ts";

const linspace = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const wiggle = (i: number) =>
  0.01 * Math.sin(7.3 * i) + 0.004 * Math.cos(19 * i);

/** The report without its wall-clock lines and the free memory it saw. */
const timeless = (text: string) =>
  text.replace(/^ {4}(fit|total) time .*\n/gm, "")
    .replace(/threshold \([\d.]+ GB\)/, "threshold");

Deno.test("report: nlsq fit prints r.report() (all but the timings)", async () => {
  const path = join(DATA, "decay.csv");
  const run = await runCli([
    "fit",
    "--model",
    "a*exp(-b*t)+c",
    "--data",
    path,
    "--x",
    "t",
    "--y",
    "signal",
    "--sigma",
    "sigma",
    "--p0",
    "a=1,b=1,c=0",
    "--alpha",
    "0.1",
  ]);
  assert.strictEqual(run.code, 0, run.stderr);
  const src = await openSource(path, { x: "t", y: "signal", sigma: "sigma" });
  try {
    const r = await fit(model("a*exp(-b*t)+c", { variables: ["t"] }), src, {
      p0: [1, 1, 0],
    });
    const text = r.report({
      model: "a*exp(-b*t)+c",
      data: src.description,
      p0: [1, 1, 0],
      alpha: 0.1,
    });
    assert.strictEqual(timeless(run.stdout), timeless(text));
    assert.match(text, /\(90%, Student's t with 197 degrees of freedom\)/);
    // Without a context the result names its own model and data.
    assert.match(
      r.report(),
      /^\[\[Model\]\]\n {4}a\*exp\(-b\*t\)\+c\n\[\[Data\]\]\n {4}.*decay\.csv/,
    );
  } finally {
    await src.close();
  }
});

Deno.test("toCSV: one row per parameter that reads back to the result's numbers; ties quoted when they hold a comma", async () => {
  const x = linspace(0, 10, 201);
  const g = (t: number, a: number, c: number, s: number) =>
    a * Math.exp(-((t - c) ** 2) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI));
  const y = x.map((t, i) =>
    g(t, 4, 3.5, 0.6) + g(t, 2, 6.2, 0.7) + 0.3 + wiggle(i)
  );
  const m = models.gaussian({ prefix: "g1_" }).add(
    models.gaussian({ prefix: "g2_" }),
  ).add(models.constant());
  const r = await fit(m, x, y, {
    params: {
      g1_amplitude: 3,
      g1_center: 3.4,
      g1_sigma: { value: 0.5, min: 0 },
      g2_amplitude: 1.5,
      g2_center: 6.3,
      g2_sigma: { expr: "max(g1_sigma, 0.1) * 7 / 6" },
      c: { value: 0.3, vary: false },
    },
  });
  assert.ok(r.success, r.message);
  const lines = r.toCSV({ level: 0.9 }).split("\n");
  assert.strictEqual(lines.at(-1), "");
  assert.strictEqual(
    lines[0],
    "name,value,stderr,relative_error,ci_lower_90%,ci_upper_90%,kind,expr",
  );
  const cis = r.confidenceIntervals(0.1);
  r.paramNames.forEach((name, i) => {
    const line = lines[i + 1];
    const cells = line.replace(/,"[^"]*"$/, ",EXPR").split(",");
    assert.strictEqual(cells[0], name);
    assert.strictEqual(Number(cells[1]), r.popt[i]);
    assert.strictEqual(Number(cells[2]), r.perr[i]);
    assert.strictEqual(Number(cells[4]), cis[i].lower);
    assert.strictEqual(Number(cells[5]), cis[i].upper);
    const kind = name === "g2_sigma" ? "tied" : name === "c" ? "fixed" : "free";
    assert.strictEqual(cells[6], kind, line);
    if (kind === "free") {
      assert.strictEqual(Number(cells[3]), Math.abs(r.perr[i] / r.popt[i]));
    }
  });
  assert.strictEqual(
    lines[6].endsWith(',tied,"max(g1_sigma, 0.1) * 7 / 6"'),
    true,
    lines[6],
  );
  assert.strictEqual(lines[7], "c,0.3,0,,0.3,0.3,fixed,");
  assert.throws(() => r.toCSV({ level: 95 }), /level must be in \(0, 1\)/);
});

function displayOf(r: FitResult): Record<string, string> {
  const show = (r as unknown as Record<symbol, () => Record<string, string>>)[
    Symbol.for("Jupyter.display")
  ];
  assert.strictEqual(typeof show, "function");
  return show.call(r);
}

/** Open and close tags balance (a cheap well-formedness check). */
function assertBalanced(html: string) {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-z0-9]+)[^>]*?(\/?)>/g)) {
    if (m[3] === "/") continue;
    if (m[1] === "") stack.push(m[2]);
    else assert.strictEqual(stack.pop(), m[2], `unbalanced </${m[2]}>`);
  }
  assert.deepStrictEqual(stack, []);
}

Deno.test("Jupyter display: an HTML table of parameters with errors, intervals and notes, the plot with its band, the report as text", async () => {
  const x = linspace(0, 5, 40);
  const r = await fit(
    "a * exp(-b * x) + c",
    x,
    x.map((t, i) => 2 * Math.exp(-1.3 * t) + 0.5 + wiggle(i)),
    {
      params: { a: 1, b: { value: 1, min: 0 }, c: { value: 0.5, vary: false } },
    },
  );
  const out = displayOf(r);
  assert.deepStrictEqual(Object.keys(out).sort(), ["text/html", "text/plain"]);
  assert.strictEqual(out["text/plain"], r.report());
  const html = out["text/html"];
  assertBalanced(html);
  const row = (name: string) => {
    const m = new RegExp(`<tr data-param="${name}">(.*?)</tr>`).exec(html);
    assert.ok(m, `no row for ${name}`);
    return [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1]);
  };
  const [, value, stderr, rel, ci] = row("b");
  assert.ok(Math.abs(Number(value) / r.params.b - 1) < 1e-7);
  assert.ok(Math.abs(Number(stderr) / r.stderr.b - 1) < 1e-7);
  assert.match(rel, /^\d+\.\d\d%$/);
  const [lo, hi] = ci.slice(1, -1).split(", ").map(Number);
  const [, bci] = r.confidenceIntervals(0.05);
  assert.ok(
    Math.abs(lo / bci.lower - 1) < 1e-7 && Math.abs(hi / bci.upper - 1) < 1e-7,
  );
  assert.deepStrictEqual(row("c").slice(2), ["", "", "", "fixed"]);
  assert.match(html, /<td>variables<\/td><td>2<\/td>/);
  // Far from the object dump of the result's 40-odd fields.
  assert.ok(!html.includes("Float64Array"));
  // The plot: plotSvg's, with the confidence band.
  const svg = /<svg [\s\S]*<\/svg>/.exec(html)?.[0] ?? "";
  assert.strictEqual(
    svg,
    plotSvg(r, {
      band: "confidence",
      components: false,
      width: 720,
      height: 480,
    }).trimEnd(),
  );
  // No plot without the data in memory (a restored result).
  const back = FitResult.fromJSON(JSON.parse(JSON.stringify(r)));
  assert.match(
    displayOf(back)["text/html"],
    /<!-- plot: none \(the data are not in memory/,
  );
});

Deno.test("Jupyter display: a registered plot renderer draws into it; a failing one leaves the table", async () => {
  const r = await fit("a * x", [1, 2, 3], [2, 4.1, 5.9], { p0: [1] });
  const before = registerResultPlot((res) =>
    `<svg data-n="${res.nPoints}"></svg>`
  );
  try {
    assert.match(displayOf(r)["text/html"], /<svg data-n="3"><\/svg><\/div>$/);
    registerResultPlot(() => {
      throw new Error("no <axes>");
    });
    const html = displayOf(r)["text/html"];
    assert.match(
      html,
      /<p class="nlsq-plot-error">plot failed: no &lt;axes&gt;<\/p>/,
    );
    assert.match(html, /<tr data-param="a">/);
  } finally {
    registerResultPlot(before);
  }
  assert.throws(
    () => registerResultPlot("svg" as never),
    /renderer must be a function or null/,
  );
});
