// A model that names a column of the data file uses that column as its
// variable; it is never fitted as a constant parameter. Real CSV files,
// the CLI as a subprocess, values against scipy's curve_fit.

import assert from "node:assert";
import { join } from "node:path";
import { runCli, runCliJson } from "./_cli.ts";
import { havePython, pythonCommand } from "./_tools.ts";

const MODEL = "a*exp(-b*t)+c";

// y = 5 exp(-0.7 t) + 1 with a deterministic wiggle, 40 points.
function decayCsv(header: string, order: (t: number, y: number) => number[]) {
  const lines = [header];
  for (let i = 0; i < 40; i++) {
    const t = i * 0.25;
    const y = 5 * Math.exp(-0.7 * t) + 1 + 0.02 * Math.sin(7.3 * i);
    lines.push(order(t, y).map((v) => v.toFixed(6)).join(","));
  }
  return lines.join("\n") + "\n";
}

/** scipy's curve_fit of MODEL on columns t and y of a CSV, from p0 = ones. */
function scipyFit(path: string): number[] {
  const script = `
import sys, json, numpy as np
from scipy.optimize import curve_fit
d = np.genfromtxt(sys.argv[1], delimiter=",", names=True)
p, _ = curve_fit(lambda t, a, b, c: a*np.exp(-b*t)+c, d["t"], d["y"], p0=[1, 1, 1])
print(json.dumps(list(p)))
`;
  const out = new Deno.Command(pythonCommand(), {
    args: ["-c", script, path],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function assertParams(json: Record<string, unknown>, expected: number[]) {
  assert.deepStrictEqual(json.paramNames, ["a", "b", "c"]);
  assert.deepStrictEqual(json.variables, ["t"]);
  const got = json.popt as number[];
  for (let i = 0; i < 3; i++) {
    assert.ok(
      Math.abs(got[i] - expected[i]) <= 1e-6 * Math.max(1, Math.abs(got[i])),
      `popt[${i}]: ${got[i]} vs scipy ${expected[i]}`,
    );
  }
}

Deno.test({
  name: "fit: a model in t over a CSV with a column t uses the column",
  ignore: !havePython("numpy, scipy"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const ty = join(dir, "ty.csv");
      await Deno.writeTextFile(ty, decayCsv("t,y", (t, y) => [t, y]));
      const expected = scipyFit(ty);
      assert.ok(Math.abs(expected[1] - 0.7) < 0.01, "the reference fits");
      // Without --x, by name (--x t) and by index (--x 0): the same fit.
      for (const extra of [[], ["--x", "t"], ["--x", "0"], ["--y", "y"]]) {
        const { run, json } = await runCliJson([
          "fit",
          "-m",
          MODEL,
          "-d",
          ty,
          ...extra,
        ]);
        assert.strictEqual(run.code, 0, `${extra}: ${run.stderr}`);
        assert.strictEqual(run.stderr, "", `${extra}: no warning`);
        assertParams(json, expected);
      }
      // The column t is not the first one: without --x it is found by name.
      const yt = join(dir, "yt.csv");
      await Deno.writeTextFile(yt, decayCsv("y,t", (t, y) => [y, t]));
      const { run, json } = await runCliJson([
        "fit",
        "-m",
        MODEL,
        "-d",
        yt,
        "--y",
        "y",
      ]);
      assert.strictEqual(run.code, 0, run.stderr);
      assertParams(json, expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("fit: a column the model names but cannot use exits 2, never a parameter", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ty = join(dir, "ty.csv");
    await Deno.writeTextFile(ty, decayCsv("t,y", (t, y) => [t, y]));
    const tuy = join(dir, "tuy.csv");
    await Deno.writeTextFile(tuy, decayCsv("t,u,y", (t, y) => [t, 2 * t, y]));
    const yt = join(dir, "yt.csv");
    await Deno.writeTextFile(yt, decayCsv("y,t", (t, y) => [y, t]));
    const cases: [string, string, string[], RegExp][] = [
      [
        MODEL,
        ty,
        ["--x", "y", "--y", "t"],
        /parameter "t" is also the name of a column .*not an x column \(x: "y"\).*add it to --x/,
      ],
      [
        MODEL,
        ty,
        ["--vars", "s"],
        /the model uses "t", the name of the x column, but --vars names it "s"/,
      ],
      [MODEL, tuy, ["--x", "u"], /parameter "t" is also the name of a column/],
      // Without --y, y is column 1: here that is t itself.
      [
        MODEL,
        yt,
        [],
        /the model uses "t", which is the y column of .*--x and --y/,
      ],
      // The model uses x too, which is no column: ambiguous.
      ["a*exp(-b*t)+c*x", ty, [], /uses x and the column\(s\) "t".*--x/],
    ];
    for (const [expr, file, extra, pattern] of cases) {
      const args = ["fit", "-m", expr, "-d", file, ...extra];
      const run = await runCli(args);
      const what = args.join(" ");
      assert.strictEqual(
        run.code,
        2,
        `${what}: exit ${run.code}\n${run.stderr}`,
      );
      assert.match(run.stderr, pattern, what);
      assert.strictEqual(run.stdout, "", what);
      assert.strictEqual(run.stderr.split("\n").length, 2, `${what}: one line`);
    }
    // With a parameter renamed away from the column, the fit runs.
    const { run, json } = await runCliJson([
      "fit",
      "-m",
      "a*exp(-b*u)+k",
      "-d",
      tuy,
      "--x",
      "u",
      "--y",
      "y",
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.deepStrictEqual(json.paramNames, ["a", "b", "k"]);
    assert.deepStrictEqual(json.variables, ["u"]);
    // u = 2 t: the rate halves.
    assert.ok(Math.abs((json.popt as number[])[1] - 0.35) < 0.01);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
