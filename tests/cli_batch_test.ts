// `nlsq batch` as a subprocess on real files: 2-D NPY rows (numpy's own
// files where numpy runs, else written here), a CSV/TSV plate with a group
// column (ragged groups), every output format read back and compared with
// fitBatch on the same arrays, the Poisson estimator, fixed parameters,
// errors with exit code 2 that name the problem, exit code 1 when fits do
// not converge, and the progress bar on a terminal.

import assert from "node:assert";
import { join } from "node:path";
import { fitBatch, model, models } from "../mod.ts";
import { readNpyRows } from "../batch/_npy_rows.ts";
import { Xoshiro128 } from "../sampling/prng.ts";
import { normal, poisson } from "./_batch_data.ts";
import { hasScript, ROOT, runCli } from "./_cli.ts";

/** An NPY file (v1.0, '<f8', C order). */
async function writeNpy(path: string, values: Float64Array, shape: number[]) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const padded = header.padEnd(total - 11) + "\n";
  const bytes = new Uint8Array(total + 8 * values.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), 10);
  new Float64Array(bytes.buffer, total).set(values);
  await Deno.writeFile(path, bytes);
}

/** Parses CSV text of plain fields (and one quoted last field). */
function parseCsv(text: string, sep = ","): string[][] {
  return text.trim().split("\n").map((line) => {
    const q = line.indexOf('"');
    const head = q < 0 ? line : line.slice(0, q);
    const cells = head.split(sep);
    if (q >= 0) cells[cells.length - 1] = line.slice(q + 1, -1);
    return cells;
  });
}

const N = 40, FITS = 60;
const X = Float64Array.from({ length: N }, (_, k) => -5 + 10 * k / (N - 1));

function spectra(seed: number): Float64Array {
  const rng = new Xoshiro128(seed);
  const Y = new Float64Array(FITS * N);
  for (let i = 0; i < FITS; i++) {
    const a = 3 + rng.nextFloat(), c = -1 + 2 * rng.nextFloat();
    const s = 0.6 + 0.4 * rng.nextFloat();
    for (let k = 0; k < N; k++) {
      Y[i * N + k] = a / (s * Math.sqrt(2 * Math.PI)) *
          Math.exp(-((X[k] - c) ** 2) / (2 * s * s)) +
        0.3 +
        0.01 * normal(rng);
    }
  }
  return Y;
}

Deno.test("nlsq batch: NPY rows with a built-in model (its guess per fit) to CSV, NPY and JSON, equal to fitBatch", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const Y = spectra(1);
    await writeNpy(join(dir, "spectra.npy"), Y, [FITS, N]);
    await writeNpy(join(dir, "x.npy"), X, [N]);
    const m = models.gaussian({ prefix: "g1_" }).add(
      models.constant({ prefix: "c2_" }),
    );
    const ref = await fitBatch(m, X, Y);
    assert.strictEqual(ref.nSuccess, FITS);
    const base = [
      "batch",
      "-m",
      "gaussian+constant",
      "-d",
      join(dir, "spectra.npy"),
      "--x",
      join(dir, "x.npy"),
    ];
    const csv = await runCli(base);
    assert.strictEqual(csv.code, 0, csv.stderr);
    assert.match(csv.stderr, /nlsq: 60 fits, 60 converged/);
    const rows = parseCsv(csv.stdout);
    assert.deepStrictEqual(rows[0].slice(0, 3), [
      "fit",
      "g1_amplitude",
      "g1_amplitude_stderr",
    ]);
    assert.strictEqual(rows.length, FITS + 1);
    const p = ref.params.length;
    for (let i = 0; i < FITS; i++) {
      assert.strictEqual(rows[i + 1][0], String(i));
      for (let j = 0; j < p; j++) {
        assert.strictEqual(Number(rows[i + 1][1 + 2 * j]), ref.popt[i * p + j]);
        assert.strictEqual(Number(rows[i + 1][2 + 2 * j]), ref.perr[i * p + j]);
      }
      assert.strictEqual(rows[i + 1][1 + 2 * p + 4], "1"); // success
    }
    // NPY: (nFits, 2p + 5) float64, the same numbers.
    const npy = await runCli([...base, "--out", join(dir, "fits.npy"), "-q"]);
    assert.strictEqual(npy.code, 0, npy.stderr);
    assert.strictEqual(npy.stderr, "");
    const back = await readNpyRows(join(dir, "fits.npy"));
    assert.deepStrictEqual([back.rows, back.cols], [FITS, 2 * p + 5]);
    for (let i = 0; i < FITS; i++) {
      const r = back.values.subarray(i * back.cols, (i + 1) * back.cols);
      assert.deepStrictEqual(
        r.subarray(0, p),
        ref.popt.subarray(i * p, (i + 1) * p),
      );
      assert.deepStrictEqual(
        r.subarray(p, 2 * p),
        ref.perr.subarray(i * p, (i + 1) * p),
      );
      assert.strictEqual(r[2 * p], ref.cost[i]);
      assert.deepStrictEqual([r[2 * p + 3], r[2 * p + 4]], [ref.status[i], 1]);
    }
    // JSON.
    const js = await runCli([...base, "--out", join(dir, "fits.json")]);
    assert.strictEqual(js.code, 0, js.stderr);
    assert.match(js.stderr, /60 rows written to .*fits\.json/);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "fits.json")));
    assert.strictEqual(json.nFits, FITS);
    assert.deepStrictEqual(json.params, ref.params);
    assert.strictEqual(json.fits[7].params.g1_center, ref.popt[7 * p + 1]);
    assert.strictEqual(json.fits[7].stderr.c2_c, ref.perr[7 * p + 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nlsq batch: a CSV plate with --group (ragged groups, a bad cell dropped), --fix, TSV out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rng = new Xoshiro128(4);
    const doses = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100];
    const wells = { A1: 1, A2: 3, B1: 0.5, B2: 2 } as Record<string, number>;
    const lines = ["well,dose,response,note"];
    const byWell: Record<string, { x: number[]; y: number[] }> = {};
    // Interleaved rows; B2 has two doses fewer.
    for (const d of doses) {
      for (const [w, ec] of Object.entries(wells)) {
        if (w === "B2" && d > 10) continue;
        const y = 100 / (1 + (ec / d) ** 1.2) + normal(rng);
        lines.push(`${w},${d},${y},"a, b"`);
        (byWell[w] ??= { x: [], y: [] }).x.push(d);
        byWell[w].y.push(y);
      }
    }
    lines.push("A1,0.5,,missing");
    await Deno.writeTextFile(join(dir, "plate.csv"), lines.join("\n") + "\n");
    const args = [
      "batch",
      "-m",
      "bottom + (top - bottom)/(1+(ec50/dose)^n)",
      "-d",
      join(dir, "plate.csv"),
      "--group",
      "well",
      "--x",
      "dose",
      "--y",
      "response",
      "--p0",
      "top=100,ec50=1,n=1,bottom=0",
      "--fix",
      "bottom=0",
    ];
    // The empty cell is an error that names its line, unless dropped.
    const bad = await runCli(args);
    assert.strictEqual(bad.code, 2);
    assert.match(
      bad.stderr,
      /line 36, column "response": "" is not a finite number/,
    );
    const run = await runCli([
      ...args,
      "--drop-invalid",
      "--out",
      join(dir, "fits.tsv"),
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.match(run.stderr, /groups have 7 to 9 rows/);
    assert.match(run.stderr, /1 row\(s\) with invalid values left out/);
    const rows = parseCsv(await Deno.readTextFile(join(dir, "fits.tsv")), "\t");
    assert.deepStrictEqual(rows[0].slice(0, 3), [
      "well",
      "bottom",
      "bottom_stderr",
    ]);
    assert.deepStrictEqual(rows.slice(1).map((r) => r[0]), [
      "A1",
      "A2",
      "B1",
      "B2",
    ]);
    // The same fits from the library, one group at a time.
    const m = model("bottom + (top - bottom)/(1+(ec50/dose)^n)", {
      variables: ["dose"],
    });
    assert.deepStrictEqual(m.params, ["bottom", "top", "ec50", "n"]);
    for (const [i, w] of Object.keys(wells).entries()) {
      const ref = await fitBatch(m, byWell[w].x, [byWell[w].y], {
        p0: [0, 100, 1, 1],
        params: { bottom: { value: 0, vary: false } },
      });
      for (let j = 0; j < 4; j++) {
        const got = Number(rows[i + 1][1 + 2 * j]);
        const want = ref.popt[j];
        assert.ok(
          Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)),
          `${w} ${ref.params[j]}: ${got} vs ${want}`,
        );
      }
      assert.strictEqual(rows[i + 1][2], "0"); // fixed: error 0
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nlsq batch: --estimator poisson on count rows equals fitBatch's Poisson fits", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rng = new Xoshiro128(8);
    const xs = Float64Array.from({ length: 30 }, (_, k) => k / 3);
    const Y = new Float64Array(20 * 30);
    for (let i = 0; i < 20; i++) {
      for (let k = 0; k < 30; k++) {
        Y[i * 30 + k] = poisson(rng, 500 * Math.exp(-xs[k] / 1.5) + 1);
      }
    }
    await writeNpy(join(dir, "counts.npy"), Y, [20, 30]);
    await writeNpy(join(dir, "t.npy"), xs, [30]);
    const run = await runCli([
      "batch",
      "-m",
      "a*exp(-x/t)+b",
      "-d",
      join(dir, "counts.npy"),
      "--x",
      join(dir, "t.npy"),
      "--p0",
      "a=400,t=1,b=2",
      "--estimator",
      "poisson",
      "--out",
      join(dir, "fits.json"),
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "fits.json")));
    assert.strictEqual(json.estimator, "poisson");
    const ref = await fitBatch("a*exp(-x/t)+b", xs, Y, {
      p0: [400, 1, 2],
      estimator: "poisson",
    });
    for (let i = 0; i < 20; i++) {
      assert.strictEqual(json.fits[i].params.t, ref.popt[i * 3 + 1]);
      assert.strictEqual(json.fits[i].stderr.a, ref.perr[i * 3]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nlsq batch: bad input exits 2 naming the problem; fits that do not converge exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeNpy(join(dir, "y.npy"), spectra(2), [FITS, N]);
    await writeNpy(join(dir, "x39.npy"), X.subarray(0, 39), [39]);
    await Deno.writeTextFile(join(dir, "t.csv"), "g,x,y\na,1,2\na,2,4\n");
    const y = join(dir, "y.npy");
    const cases: [string[], RegExp][] = [
      [["batch", "-d", y], /missing --model/],
      [["batch", "-m", "a*x"], /missing --data/],
      [["batch", "-m", "a*x", "-d", join(dir, "nope.npy")], /no such file/],
      [
        ["batch", "-m", "a*x", "-d", y, "--x", join(dir, "x39.npy")],
        /shape \(39,\) does not match the data's \(60, 40\)/,
      ],
      [
        ["batch", "-m", "a*x", "-d", y, "--out", "r.xlsx"],
        /--out: cannot tell the format/,
      ],
      [
        ["batch", "-m", "a*x", "-d", y, "--group", "g"],
        /--group is for CSV\/TSV data/,
      ],
      [
        ["batch", "-m", "a*x", "-d", y, "--p0", "1,2"],
        /--p0: got 2 value\(s\) for 1 parameter/,
      ],
      [
        ["batch", "-m", "a*x", "-d", y, "--p0", "auto"],
        /--p0 auto needs a built-in model/,
      ],
      [["batch", "-m", "a*x", "-d", y, "--estimator", "mle"], /--estimator/],
      [
        ["batch", "-m", "a*x", "-d", join(dir, "t.csv"), "--group", "well"],
        /--group: no column "well" .*columns: g, x, y/,
      ],
      [["batch", "-m", "a*x", "-d", y, "--frobnicate"], /frobnicate/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    // One evaluation per fit is not enough: written anyway, exit 1.
    const r = await runCli([
      "batch",
      "-m",
      "gaussian",
      "-d",
      y,
      "--max-nfev",
      "1",
      "--out",
      join(dir, "o.csv"),
    ]);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.match(r.stderr, /60 fits, 0 converged/);
    assert.match(r.stderr, /fit 0: status 0: /);
    assert.match(r.stderr, /\.\.\. and 55 more/);
    assert.strictEqual(
      (await Deno.readTextFile(join(dir, "o.csv"))).trim().split("\n").length,
      FITS + 1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "nlsq batch: the progress bar is drawn on a terminal (util-linux script as the pty), not elsewhere",
  ignore: Deno.build.os !== "linux" || !(await hasScript()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // Enough fits for several progress reports.
      const big = new Float64Array(40 * FITS * N);
      const one = spectra(3);
      for (let r = 0; r < 40; r++) big.set(one, r * one.length);
      await writeNpy(join(dir, "y.npy"), big, [40 * FITS, N]);
      const cmd = [
        Deno.execPath(),
        "run",
        "-A",
        join(ROOT, "cli.ts"),
        "batch",
        "-m",
        "gaussian",
        "-d",
        join(dir, "y.npy"),
        "--threads",
        "1",
        "--out",
        join(dir, "o.csv"),
      ].join(" ");
      const log = join(dir, "tty.log");
      const r = await new Deno.Command("script", {
        args: ["-qec", cmd, log],
        env: { NLSQ_PROGRESS_DELAY_MS: "0" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(120_000),
      }).output();
      assert.strictEqual(r.code, 0);
      const tty = await Deno.readTextFile(log);
      assert.match(
        tty,
        /batch \[[#-]+\] +\d+% \| \d+\/2400 fits \| \d+ fits\/s/,
      );
      assert.match(tty, /nlsq: 2400 fits, 2400 converged/);
      // Not a terminal: no bar, only the summary.
      const plain = await runCli(cmd.split(" ").slice(4), ["-A"]);
      assert.strictEqual(plain.code, 0, plain.stderr);
      assert.doesNotMatch(plain.stderr, /batch \[/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("nlsq batch: a TSV without a header (columns by index) with a sigma column, and NPY sigma rows", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rng = new Xoshiro128(21);
    const lines: string[] = [];
    const xs = [0, 1, 2, 3, 4, 5];
    const Y: number[][] = [], S: number[][] = [];
    for (const [g, slope] of [["u", 2], ["v", -1], ["w", 0.5]] as const) {
      const y = xs.map((x) => slope * x + 1 + 0.1 * normal(rng));
      const s = xs.map((x) => 0.1 + 0.05 * x);
      Y.push(y);
      S.push(s);
      xs.forEach((x, k) => lines.push(`${g}\t${x}\t${y[k]}\t${s[k]}`));
    }
    await Deno.writeTextFile(join(dir, "d.tsv"), lines.join("\n") + "\n");
    const ref = await fitBatch("a*x+b", xs, Y, { p0: [1, 1], sigma: S });
    const run = await runCli([
      "batch",
      "-m",
      "a*x+b",
      "-d",
      join(dir, "d.tsv"),
      "--no-header",
      "--group",
      "0",
      "--x",
      "1",
      "--y",
      "2",
      "--sigma",
      "3",
      "-q",
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    const rows = parseCsv(run.stdout);
    assert.deepStrictEqual(rows.slice(1).map((r) => r[0]), ["u", "v", "w"]);
    for (let i = 0; i < 3; i++) {
      assert.strictEqual(Number(rows[i + 1][1]), ref.popt[i * 2]);
      assert.strictEqual(Number(rows[i + 1][2]), ref.perr[i * 2]);
    }
    // The same data as NPY rows with an NPY of sigma rows.
    const flat = (a: number[][]) => Float64Array.from(a.flat());
    await writeNpy(join(dir, "y.npy"), flat(Y), [3, 6]);
    await writeNpy(join(dir, "s.npy"), flat(S), [3, 6]);
    const npy = await runCli([
      "batch",
      "-m",
      "a*x+b",
      "-d",
      join(dir, "y.npy"),
      "--sigma",
      join(dir, "s.npy"),
      "--p0",
      "1,1",
      "-q",
    ]);
    assert.strictEqual(npy.code, 0, npy.stderr);
    const r2 = parseCsv(npy.stdout);
    for (let i = 0; i < 3; i++) {
      assert.strictEqual(Number(r2[i + 1][1]), ref.popt[i * 2]);
      assert.strictEqual(Number(r2[i + 1][2]), ref.perr[i * 2]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nlsq fit --estimator poisson equals fit() with the Poisson estimator", async () => {
  const { fit } = await import("../mod.ts");
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    const t = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const y = [98, 61, 37, 21, 14, 9, 4, 2, 0, 1];
    await Deno.writeTextFile(
      path,
      "t,counts\n" + t.map((v, k) => `${v},${y[k]}`).join("\n") + "\n",
    );
    const run = await runCli([
      "fit",
      "-m",
      "a*exp(-t/tau)",
      "-d",
      path,
      "--y",
      "counts",
      "--p0",
      "a=100,tau=2",
      "--estimator",
      "poisson",
      "--json",
    ]);
    assert.strictEqual(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout);
    const ref = await fit(model("a*exp(-t/tau)", { variables: ["t"] }), t, y, {
      p0: [100, 2],
      estimator: "poisson",
    });
    assert.strictEqual(json.params.a, ref.params.a);
    assert.strictEqual(json.params.tau, ref.params.tau);
    assert.strictEqual(json.perr[1], ref.perr[1]);
    const bad = await runCli([
      "fit",
      "-m",
      "a*exp(-t/tau)",
      "-d",
      path,
      "--y",
      "counts",
      "--estimator",
      "poisson",
      "--absolute-sigma",
    ]);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /estimator "poisson" does not take absoluteSigma/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("nlsq batch --help, and batch in the top-level help", async () => {
  const help = await runCli(["batch", "--help"]);
  assert.strictEqual(help.code, 0);
  assert.match(help.stdout, /^Usage: nlsq batch --model/);
  for (const opt of ["--group", "--p0", "--fix", "--estimator", "--out"]) {
    assert.match(help.stdout, new RegExp(`${opt} `));
  }
  const top = await runCli(["--help"]);
  assert.match(top.stdout, /\n {2}batch {4}many fits of one model/);
});
