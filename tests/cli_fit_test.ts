// `nlsq fit` run as a subprocess on the shipped example data: every format,
// JSON against the library run in-process, the text report, exit codes.

import assert from "node:assert";
import { join } from "node:path";
import { fit } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import { openSource } from "../data/open_source.ts";
import type { OpenSourceOptions } from "../data/source.ts";
import { DATA, runCli, runCliJson } from "./_cli.ts";

const DECAY = "a*exp(-b*t)+c";

/** The same fit in-process: the reference for the CLI's JSON. */
async function libraryFit(
  expr: string,
  variables: string[],
  path: string,
  source: OpenSourceOptions,
  options: Parameters<typeof fit>[2] = {},
) {
  const src = await openSource(path, source);
  try {
    return await fit(model(expr, { variables }), src, options as never);
  } finally {
    await src.close();
  }
}

function assertClose(
  actual: readonly number[],
  expected: ArrayLike<number>,
  rel: number,
  what: string,
) {
  assert.strictEqual(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const tol = rel * Math.max(1, Math.abs(expected[i]));
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

Deno.test("fit --json equals the library result for csv, tsv, npy and h5", async () => {
  const cases: {
    file: string;
    args: string[];
    variables: string[];
    expr: string;
    source: OpenSourceOptions;
  }[] = [
    {
      file: "decay.csv",
      args: ["--x", "t", "--y", "signal", "--sigma", "sigma"],
      variables: ["t"],
      expr: DECAY,
      source: { x: "t", y: "signal", sigma: "sigma" },
    },
    {
      file: "decay.tsv",
      args: ["--x", "t", "--y", "signal", "--sigma", "sigma"],
      variables: ["t"],
      expr: DECAY,
      source: { x: "t", y: "signal", sigma: "sigma" },
    },
    {
      file: "decay.npy",
      args: ["--x", "0", "--y", "1", "--sigma", "2", "--vars", "t"],
      variables: ["t"],
      expr: DECAY,
      source: { x: 0, y: 1, sigma: 2 },
    },
    {
      file: "decay.h5",
      args: ["--x", "t", "--y", "signal", "--sigma", "sigma"],
      variables: ["t"],
      expr: DECAY,
      source: { x: "t", y: "signal", sigma: "sigma" },
    },
    {
      file: "decay.h5",
      args: ["--dataset", "table", "--x", "0", "--y", "1", "--sigma", "2"],
      variables: ["x"],
      expr: "a*exp(-b*x)+c",
      source: { dataset: "table", x: 0, y: 1, sigma: 2 },
    },
  ];
  const popts: number[][] = [];
  for (const c of cases) {
    const path = join(DATA, c.file);
    const { run, json } = await runCliJson([
      "fit",
      "--model",
      c.expr,
      "--data",
      path,
      ...c.args,
      "--p0",
      "a=1,b=1,c=0",
    ]);
    assert.strictEqual(run.code, 0, `${c.file}: ${run.stderr}`);
    assert.strictEqual(run.stderr, "", `${c.file}: quiet on success`);
    const ref = await libraryFit(c.expr, c.variables, path, c.source, {
      p0: [1, 1, 0],
    });
    assertClose(json.popt as number[], ref.popt, 1e-12, `${c.file} popt`);
    assertClose(json.perr as number[], ref.perr, 1e-10, `${c.file} perr`);
    assert.strictEqual(json.nfev, ref.nfev);
    assert.strictEqual(json.status, ref.status);
    assert.strictEqual(json.success, true);
    assert.deepStrictEqual(json.variables, c.variables);
    assert.deepStrictEqual(json.paramNames, ["a", "b", "c"]);
    assert.strictEqual((json.data as { nPoints: number }).nPoints, 200);
    assert.strictEqual(json.exitCode, 0);
    const cis = json.confidenceIntervals as {
      name: string;
      lower: number;
      upper: number;
    }[];
    ref.confidenceIntervals(0.05).forEach((ci, i) => {
      assert.strictEqual(cis[i].name, ci.name);
      assertClose(
        [cis[i].lower, cis[i].upper],
        [ci.lower, ci.upper],
        1e-10,
        "ci",
      );
    });
    popts.push(json.popt as number[]);
  }
  // The files hold the same doubles, so every format gives the same fit.
  for (const p of popts) assertClose(p, popts[0], 1e-12, "same popt");
  // And it recovers the generating parameters 5, 0.8, 1.
  assertClose(popts[0], [5, 0.8, 1], 0.05, "truth");
});

Deno.test("fit on NIST Misra1a matches the certified values", async () => {
  const { run, json } = await runCliJson([
    "fit",
    "-m",
    "b1*(1-exp(-b2*x))",
    "-d",
    join(DATA, "misra1a.csv"),
    "--p0",
    "b1=500,b2=1e-4",
  ]);
  assert.strictEqual(run.code, 0, run.stderr);
  const [b1, b2] = json.popt as number[];
  const [e1, e2] = json.perr as number[];
  assert.ok(Math.abs(b1 / 2.3894212918e2 - 1) < 1e-8, `b1 ${b1}`);
  assert.ok(Math.abs(b2 / 5.5015643181e-4 - 1) < 1e-8, `b2 ${b2}`);
  assert.ok(Math.abs(e1 / 2.7070075241 - 1) < 1e-6, `se b1 ${e1}`);
  assert.ok(Math.abs(e2 / 7.2668688436e-6 - 1) < 1e-6, `se b2 ${e2}`);
  assert.ok(
    Math.abs((json.chiSquare as number) / 1.2455138894e-1 - 1) < 1e-8,
  );
});

Deno.test("fit prints an lmfit-style report", async () => {
  const run = await runCli([
    "fit",
    "--model",
    DECAY,
    "--data",
    join(DATA, "decay.csv"),
    "--x",
    "t",
    "--y",
    "signal",
    "--sigma",
    "sigma",
    "--p0",
    "a=1,b=1,c=0",
  ]);
  assert.strictEqual(run.code, 0, run.stderr);
  const ref = await libraryFit(DECAY, ["t"], join(DATA, "decay.csv"), {
    x: "t",
    y: "signal",
    sigma: "sigma",
  }, { p0: [1, 1, 0] });
  const text = run.stdout;
  for (
    const section of [
      "[[Model]]",
      "[[Data]]",
      "[[Fit Statistics]]",
      "[[Variables]]",
      "[[Confidence Intervals]]",
      "[[Correlations]]",
    ]
  ) {
    assert.ok(text.includes(section), `missing ${section}:\n${text}`);
  }
  const stat = (key: string) => {
    const m = new RegExp(`^ {4}${key} *= (.*)$`, "m").exec(text);
    assert.ok(m, `no ${key}`);
    return m[1];
  };
  assert.strictEqual(Number(stat("# data points")), 200);
  assert.strictEqual(Number(stat("# variables")), 3);
  assert.strictEqual(Number(stat("# function evals")), ref.nfev);
  assert.ok(Math.abs(Number(stat("R-squared")) - ref.rSquared) < 1e-6);
  assert.ok(Math.abs(Number(stat("RMSE")) / ref.rmse - 1) < 1e-6);
  assert.ok(Math.abs(Number(stat("Akaike info crit")) / ref.aic - 1) < 1e-6);
  assert.ok(Math.abs(Number(stat("Bayesian info crit")) / ref.bic - 1) < 1e-6);
  assert.match(stat("status"), /^[1-4] \(/);
  assert.match(stat("strategy"), /^standard/);
  assert.match(stat("backend"), /cpu/);
  assert.match(stat("fit time"), /\d+(\.\d+)? (ms|s)$/);
  // Variables: value +/- error (percent) (init = ...).
  const b = /^ {4}b: +(\S+) \+\/- (\S+) \((\d+\.\d\d)%\) \(init = 1\)$/m
    .exec(text);
  assert.ok(b, text);
  assert.ok(Math.abs(Number(b[1]) / ref.params.b - 1) < 1e-7);
  assert.ok(Math.abs(Number(b[2]) / ref.perr[1] - 1) < 1e-7);
  assert.ok(
    Math.abs(Number(b[3]) - 100 * ref.perr[1] / ref.params.b) < 0.006,
  );
  // 95% intervals.
  const ci = /^ {4}b: +\[(\S+), (\S+)\]$/m.exec(text);
  assert.ok(ci);
  const [ref95] = ref.confidenceIntervals(0.05).filter((c) => c.name === "b");
  assert.ok(Math.abs(Number(ci[1]) / ref95.lower - 1) < 1e-7);
  assert.ok(Math.abs(Number(ci[2]) / ref95.upper - 1) < 1e-7);
  // Correlations above 0.1 only, with a sign.
  const corr = [
    ...text.matchAll(/^ {4}C\((\w+), (\w+)\) += ([+-]\d\.\d{4})$/gm),
  ];
  assert.ok(corr.length >= 1);
  for (const c of corr) assert.ok(Math.abs(Number(c[3])) > 0.1);
});

Deno.test("fit handles several x columns, bounds and options", async () => {
  const expr = "A*exp(-((u-u0)^2+(v-v0)^2)/(2*s^2))+c";
  const { run, json } = await runCliJson([
    "fit",
    "--model",
    expr,
    "--data",
    join(DATA, "gauss2d.csv"),
    "--x",
    "u,v",
    "--y",
    "z",
    "--p0",
    "A=3,u0=0,v0=0,s=1",
    "--bounds",
    "s=0.1:10,A=0:",
    "--method",
    "trf",
    "--ftol",
    "1e-12",
  ]);
  assert.strictEqual(run.code, 0, run.stderr);
  assert.deepStrictEqual(json.variables, ["u", "v"]);
  assert.deepStrictEqual(json.bounds, [
    [0, null, null, 0.1, null],
    [null, null, null, 10, null],
  ]);
  // c was not given: it starts at the library's default, 1.
  assert.deepStrictEqual(json.p0, [3, 0, 0, 1, 1]);
  const p = json.params as Record<string, number>;
  assert.ok(Math.abs(p.A - 4) < 0.02 && Math.abs(p.u0 - 0.5) < 0.01);
  assert.ok(Math.abs(p.v0 + 0.3) < 0.01 && Math.abs(p.s - 1.1) < 0.01);
  assert.strictEqual((json.tolerances as { ftol: number }).ftol, 1e-12);
  const ref = await libraryFit(expr, ["u", "v"], join(DATA, "gauss2d.csv"), {
    x: ["u", "v"],
    y: "z",
  }, {
    p0: [3, 0, 0, 1, 1],
    bounds: [[0, -Infinity, -Infinity, 0.1, -Infinity], [
      Infinity,
      Infinity,
      Infinity,
      10,
      Infinity,
    ]],
    ftol: 1e-12,
  });
  assertClose(json.popt as number[], ref.popt, 1e-12, "popt");
});

Deno.test("fit exits 1 when the fit does not converge", async () => {
  const args = [
    "fit",
    "-m",
    "b1*(1-exp(-b2*x))",
    "-d",
    join(DATA, "misra1a.csv"),
    "--p0",
    "b1=500,b2=1e-4",
    "--max-nfev",
    "2",
  ];
  const text = await runCli(args);
  assert.strictEqual(text.code, 1);
  assert.match(text.stdout, /^!! The fit did not converge/);
  assert.match(text.stdout, /status += 0 \(/);
  assert.match(text.stderr, /did not converge \(status 0/);
  const { run, json } = await runCliJson(args);
  assert.strictEqual(run.code, 1);
  assert.strictEqual(json.status, 0);
  assert.strictEqual(json.success, false);
  assert.strictEqual(json.exitCode, 1);
  assert.ok((json.nfev as number) <= 3);
});

Deno.test("fit exits 2 with a message (no stack trace) on bad input", async () => {
  const csv = join(DATA, "decay.csv");
  const cases: [string[], RegExp][] = [
    [["fit", "--bogus"], /Unknown option '--bogus'/],
    [["fit", "--data", csv], /missing --model/],
    [["fit", "--model", "a*x"], /missing --data/],
    [
      ["fit", "-m", "a*exp(-b*t", "-d", csv, "--x", "t"],
      /model syntax error: Unbalanced '\(' *.*position 5\n {2}a\*exp\(-b\*t\n {7}\^/,
    ],
    [
      ["fit", "-m", "a*x", "-d", "no/such/file.csv"],
      /no such file: no\/such\/file\.csv/,
    ],
    [["fit", "-m", "a*x", "-d", DATA], /--data: .* is a directory/],
    [["fit", "-m", "a*t", "-d", csv, "--x", "time"], /unknown column "time"/],
    [
      ["fit", "-m", "a*t", "-d", csv, "--x", "t", "--y", "nope"],
      /unknown column "nope"/,
    ],
    [
      ["fit", "-m", "a*x+b", "-d", csv, "--p0", "a:1"],
      /--p0: expected name=value, got "a:1"/,
    ],
    [
      ["fit", "-m", "a*x+b", "-d", csv, "--p0", "a=one"],
      /--p0 a: expected a number, got "one"/,
    ],
    [
      ["fit", "-m", "a*x+b", "-d", csv, "--p0", "1,2,3"],
      /got 3 value\(s\) for 2 parameter/,
    ],
    [["fit", "-m", "a*x+b", "-d", csv, "--p0", "z=1"], /unknown parameter "z"/],
    [
      ["fit", "-m", "a*x+b", "-d", csv, "--bounds", "a=3:1"],
      /lower bound 3 is not below/,
    ],
    [
      ["fit", "-m", "a*x+b", "-d", csv, "--method", "dogbox"],
      /--method: expected one of trf, lm, auto/,
    ],
    [
      ["fit", "-m", "a*x+b", "-d", csv, "--max-nfev", "-1"],
      /--max-nfev: must be >= 1/,
    ],
    [
      ["fit", "-m", "a*x+b", "-d", join(DATA, "decay.npy"), "--y", "9"],
      /y selects column 9, but the table has 3 columns/,
    ],
    [
      ["fit", "-m", "a*x+b", "-d", join(DATA, "decay.h5"), "--x", "nope"],
      /no dataset "nope"/,
    ],
    [["frobnicate"], /unknown command "frobnicate"/],
    [[], /Usage: nlsq <command>/],
  ];
  for (const [args, pattern] of cases) {
    const run = await runCli(args);
    const what = `nlsq ${args.join(" ")}`;
    assert.strictEqual(run.code, 2, `${what}: exit ${run.code}\n${run.stderr}`);
    assert.match(run.stderr, pattern, what);
    assert.doesNotMatch(run.stderr, /^\s+at /m, `${what}: stack trace`);
    assert.strictEqual(run.stdout, "", `${what}: stdout`);
  }
});

Deno.test("fit warns when the model does not use its variable", async () => {
  const run = await runCli([
    "fit",
    "-m",
    "a*exp(-b*t)+c",
    "-d",
    join(DATA, "decay.npy"),
    "--p0",
    "a=5,b=1,t=1,c=1",
  ]);
  assert.match(run.stderr, /does not use its variable x.*--vars NAME/s);
});

Deno.test("fit --help, and the top-level help and version", async () => {
  const run = await runCli(["fit", "--help"]);
  assert.strictEqual(run.code, 0);
  assert.match(run.stdout, /^Usage: nlsq fit --model/);
  for (
    const option of [
      "--model",
      "--data",
      "--x",
      "--y",
      "--sigma",
      "--p0",
      "--bounds",
      "--workflow",
      "--goal",
      "--backend",
      "--memory-limit-gb",
      "--checkpoint-dir",
      "--resume",
      "--json",
      "--plot",
      "--method",
      "--loss",
      "--f-scale",
      "--max-nfev",
      "--ftol",
    ]
  ) {
    assert.match(run.stdout, new RegExp(`${option}\\b`), option);
  }
  const top = await runCli(["--help"]);
  assert.strictEqual(top.code, 0);
  assert.match(top.stdout, /Commands:\n {2}fit .*\n {2}info .*\n {2}select /);
  const version = await runCli(["--version"]);
  const { default: cfg } = await import("../deno.json", {
    with: { type: "json" },
  });
  assert.strictEqual(version.stdout.trim(), `nlsq ${cfg.version}`);
});

Deno.test("fit -v counts: -v start and end lines, -vv or -v -v every iteration", async () => {
  const base = [
    "fit",
    "-m",
    DECAY,
    "-d",
    join(DATA, "decay.csv"),
    "--y",
    "signal",
  ];
  const iterLines = (s: string) =>
    s.match(/^nlsq: start 0 iter \d+ /gm)?.length ?? 0;
  const quiet = await runCli(base);
  assert.strictEqual(quiet.code, 0, quiet.stderr);
  assert.strictEqual(quiet.stderr, "");
  for (
    const v of [["-v"], ["--verbose"], ["--verbose", "1"], ["--verbose=1"]]
  ) {
    const run = await runCli([...base, ...v]);
    assert.strictEqual(run.code, 0, `${v}: ${run.stderr}`);
    assert.match(
      run.stderr,
      /^nlsq: fitting 3 parameters to 200 points/m,
      `${v}`,
    );
    assert.match(run.stderr, /^nlsq: converged /m, `${v}`);
    assert.strictEqual(iterLines(run.stderr), 0, `${v}`);
  }
  const nit = (await runCliJson(base)).json.nit as number;
  assert.ok(nit > 1);
  for (
    const v of [
      ["-vv"],
      ["-v", "-v"],
      ["-v", "--verbose"],
      ["--verbose", "2"],
      ["-vvv"],
    ]
  ) {
    const run = await runCli([...base, ...v]);
    assert.strictEqual(run.code, 0, `${v}: ${run.stderr}`);
    assert.strictEqual(
      iterLines(run.stderr),
      nit,
      `${v}: one line per iteration`,
    );
  }
  const bad = await runCli([...base, "--verbose=loud"]);
  assert.strictEqual(bad.code, 2);
  assert.match(bad.stderr, /--verbose' does not take an argument/);
});

Deno.test("fit --fix and --tie hold and tie parameters like the library's params", async () => {
  const args = [
    "fit",
    "-m",
    "a*exp(-b*t)+c*exp(-d*t)",
    "-d",
    join(DATA, "decay.csv"),
    "--x",
    "t",
    "--y",
    "signal",
    "--p0",
    "a=4,b=1,c=1",
    "--fix",
    "c=1",
    "--tie",
    "d=2*b",
  ];
  const { run, json } = await runCliJson(args);
  assert.strictEqual(run.code, 0, run.stderr);
  const ref = await libraryFit(
    "a*exp(-b*t)+c*exp(-d*t)",
    ["t"],
    join(DATA, "decay.csv"),
    { x: "t", y: "signal" },
    {
      p0: { a: 4, b: 1, c: 1, d: 1 },
      params: { c: { value: 1, vary: false }, d: { expr: "2*b" } },
    },
  );
  assertClose(json.popt as number[], ref.popt, 1e-10, "popt");
  const popt = json.popt as number[];
  assert.strictEqual(popt[2], 1);
  assert.ok(Math.abs(popt[3] - 2 * popt[1]) < 1e-14);
  assert.strictEqual((json.perr as number[])[2], 0);
  const bad = await runCli([...args.slice(0, -4), "--fix", "z=1"]);
  assert.strictEqual(bad.code, 2);
  assert.match(bad.stderr, /--fix: unknown parameter "z"/);
});
