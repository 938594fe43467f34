/**
 * `fitGlobal`: the stacked problem against scipy's `least_squares` on the
 * stacked residuals, per-dataset results, ties and fixed values across
 * datasets, profiles through the stacked problem, a global fit streamed
 * from NPY files against the same data in memory, and the errors.
 */

import assert from "node:assert";
import { fit, fitGlobal, GlobalFitResult, models, openSource } from "../mod.ts";
import { npyTable } from "./_npy_table.ts";
import { pythonJson, scipyAvailable } from "./_python_json.ts";
import { Xoshiro128 } from "../sampling/prng.ts";
import { hasMpiexec, runJob } from "./_tools.ts";
import { lmfitPython } from "./_lmfit.ts";
import { fileURLToPath } from "node:url";

const SCIPY = scipyAvailable("workflow_fit_global_test");

function gaussians(seed: number): () => number {
  const rng = new Xoshiro128(seed);
  return () => {
    const u = rng.nextFloat() || Number.MIN_VALUE, v = rng.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

const gauss = gaussians(11);
const x0 = Array.from({ length: 40 }, (_, i) => i / 8);
const x1 = Array.from({ length: 30 }, (_, i) => 0.1 + i / 5);
const y0 = x0.map((t) => 3 * Math.exp(-0.6 * t) + 0.4 + 0.03 * gauss());
const y1 = x1.map((t) => 1.5 * Math.exp(-0.6 * t) + 0.05 * gauss());
const s1 = x1.map((_, i) => 0.04 + 0.01 * (i % 4));
const DATASETS = [
  { model: "a * exp(-k * x) + c", x: x0, y: y0 },
  { model: "a * exp(-k * x)", x: x1, y: y1, sigma: s1 },
];
const PARAMS = { a_0: 1, k: 1, c_0: 0, a_1: 1 };

/** scipy on the stacked residuals (weighted by 1/sigma), curve_fit's pcov. */
const SCIPY_STACKED = `
from scipy.optimize import least_squares
x0, y0, x1, y1, s1 = (np.array(data[k]) for k in ("x0", "y0", "x1", "y1", "s1"))
def res(p):
    a0, k, c0, a1 = p
    return np.concatenate([a0 * np.exp(-k * x0) + c0 - y0,
                           (a1 * np.exp(-k * x1) - y1) / s1])
r = least_squares(res, [1, 1, 0, 1], method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15)
J = r.jac
s2 = 2 * r.cost / (len(r.fun) - 4)
emit({"popt": r.x, "pcov": np.linalg.inv(J.T @ J) * s2, "cost": r.cost})
`;

Deno.test("fitGlobal: two decays sharing a rate equal scipy least_squares on the stacked residuals", async () => {
  const r = await fitGlobal(DATASETS, {
    shared: ["k"],
    params: PARAMS,
    ftol: 1e-14,
    xtol: 1e-14,
    gtol: 1e-14,
  });
  assert.ok(r instanceof GlobalFitResult);
  assert.ok(r.success, r.message);
  assert.deepStrictEqual(r.paramNames, ["a_0", "k", "c_0", "a_1"]);
  assert.deepStrictEqual(r.globalNames, [["a_0", "k", "c_0"], ["a_1", "k"]]);
  assert.strictEqual(r.nPoints, 70);
  // Per dataset: its own names, the block of the covariance, its points.
  const [d0, d1] = r.datasets;
  assert.deepStrictEqual(d0.paramNames, ["a", "k", "c"]);
  assert.strictEqual(d1.params.k, r.params.k);
  assert.strictEqual(d1.params.a, r.params.a_1);
  assert.strictEqual(d1.pcov[0][1], r.pcov[3][1]);
  assert.strictEqual(d1.nPoints, 30);
  assert.ok(Math.abs(d0.cost + d1.cost - r.cost) <= 1e-12 * r.cost);
  assert.strictEqual(r.residuals!.length, 70);
  assert.strictEqual(r.residuals![40], d1.residuals![0]);
  if (!SCIPY) return;
  const ref = await pythonJson<
    { popt: number[]; pcov: number[][]; cost: number }
  >(
    SCIPY_STACKED,
    { x0, y0, x1, y1, s1 },
  );
  ref.popt.forEach((v, i) =>
    assert.ok(
      Math.abs(r.popt[i] - v) <= 1e-8 * Math.abs(v),
      `${r.paramNames[i]}: ${r.popt[i]} vs scipy ${v}`,
    )
  );
  assert.ok(Math.abs(r.cost - ref.cost) <= 1e-10 * ref.cost);
  ref.pcov.forEach((row, i) =>
    row.forEach((v, j) =>
      assert.ok(
        Math.abs(r.pcov[i][j] - v) <=
          1e-6 * Math.sqrt(ref.pcov[i][i] * ref.pcov[j][j]),
        `pcov[${i}][${j}]: ${r.pcov[i][j]} vs ${v}`,
      )
    )
  );
});

/** lmfit's conf_interval on the stacked residuals of the same problem. */
const LMFIT_STACKED_CI = `
import lmfit
x0, y0, x1, y1, s1 = (np.array(data[k]) for k in ("x0", "y0", "x1", "y1", "s1"))
p = lmfit.Parameters()
for name in ("a_0", "k", "c_0", "a_1"):
    p.add(name, value=data["popt"][name])
def res(p):
    return np.concatenate([p["a_0"] * np.exp(-p["k"] * x0) + p["c_0"] - y0,
                           (p["a_1"] * np.exp(-p["k"] * x1) - y1) / s1])
mini = lmfit.Minimizer(res, p)
out = mini.minimize(method="leastsq", xtol=1e-12, ftol=1e-12)
import lmfit.confidence as lc
root = lc.root_scalar
lc.root_scalar = lambda *a, **k: root(*a, **{**k, "rtol": 1e-13})
ci = lmfit.conf_interval(mini, out, sigmas=[0.95])
emit({k: [v[0][1], v[-1][1]] for k, v in ci.items()})
`;

Deno.test("fitGlobal: profile intervals of the stacked problem equal lmfit conf_interval on the stacked residuals", async () => {
  const lmfit = lmfitPython("workflow_fit_global_test");
  const r = await fitGlobal(DATASETS, { shared: ["k"], params: PARAMS });
  const ours = await r.profileIntervals();
  if (!lmfit) return;
  const theirs = await pythonJson<Record<string, [number, number]>>(
    LMFIT_STACKED_CI,
    { x0, y0, x1, y1, s1, popt: r.params },
    lmfit,
  );
  for (const name of r.paramNames) {
    const v = r.params[name];
    ours[name].forEach((end, i) => {
      const ref = theirs[name][i];
      assert.ok(
        Math.abs(end - ref) <= 1e-3 * Math.abs(ref - v),
        `${name}[${i}]: ${end} vs lmfit ${ref}`,
      );
    });
  }
});

Deno.test("fitGlobal: ties and fixed values across datasets; one dataset is a plain fit", async () => {
  // a_1 tied to a_0 and c_0 fixed: one amplitude, one rate over both.
  const x = Array.from({ length: 25 }, (_, i) => i / 5);
  const ya = x.map((t) => 2 * Math.exp(-0.9 * t) + 0.01 * Math.sin(5 * t));
  const yb = x.map((t) => 2 * Math.exp(-0.9 * t) - 0.01 * Math.cos(3 * t));
  const r = await fitGlobal([
    { model: "a * exp(-k * x) + c", x, y: ya },
    { model: "a * exp(-k * x)", x, y: yb },
  ], {
    shared: ["k"],
    params: {
      a_0: 1,
      k: 1,
      c_0: { value: 0, vary: false },
      a_1: { expr: "a_0" },
    },
    ftol: 1e-14,
    xtol: 1e-14,
  });
  assert.strictEqual(r.nFree, 2);
  assert.strictEqual(r.params.a_1, r.params.a_0);
  assert.strictEqual(r.params.c_0, 0);
  assert.strictEqual(r.stderr.c_0, 0);
  // The same problem as one fit of the concatenated data.
  const one = await fit("a * exp(-k * x)", [...x, ...x], [...ya, ...yb], {
    p0: [1, 1],
    ftol: 1e-14,
    xtol: 1e-14,
  });
  assert.ok(Math.abs(r.params.a_0 - one.params.a) <= 1e-10);
  assert.ok(Math.abs(r.params.k - one.params.k) <= 1e-10);
  assert.ok(Math.abs(r.stderr.k / one.stderr.k - 1) <= 1e-8);
  // One dataset alone is fit().
  const solo = await fitGlobal([{ model: "a * exp(-k * x)", x, y: ya }], {
    params: { a_0: 1, k_0: 1 },
  });
  const plain = await fit("a * exp(-k * x)", x, ya, { p0: [1, 1] });
  assert.ok(Math.abs(solo.params.k_0 - plain.params.k) <= 1e-9);
  assert.ok(Math.abs(solo.perr[1] / plain.perr[1] - 1) <= 1e-6);
});

Deno.test("fitGlobal: built-in peaks sharing a width; chunked equals standard; derived quantities per dataset", async () => {
  const x = Array.from({ length: 200 }, (_, i) => -5 + i / 20);
  const peak = (A: number, c: number, s: number) =>
    x.map((t, i) =>
      A * Math.exp(-((t - c) ** 2) / (2 * s * s)) /
        (s * Math.sqrt(2 * Math.PI)) +
      0.01 * Math.sin(7 * i)
    );
  const ds = [
    { model: models.gaussian(), x, y: peak(3, 0.5, 1.2) },
    { model: models.gaussian(), x, y: peak(5, -0.5, 1.2) },
  ];
  const params = {
    amplitude_0: 1,
    center_0: 0,
    sigma: { value: 1, min: 0.1 },
    amplitude_1: 1,
    center_1: 0,
  };
  const std = await fitGlobal(ds, { shared: ["sigma"], params });
  const chunked = await fitGlobal(ds, {
    shared: ["sigma"],
    params,
    workflow: "chunked",
  });
  assert.strictEqual(std.strategy, "standard");
  assert.strictEqual(chunked.strategy, "chunked");
  std.popt.forEach((v, i) =>
    assert.ok(Math.abs(chunked.popt[i] - v) <= 1e-9 * Math.abs(v))
  );
  assert.ok(Math.abs(std.params.sigma - 1.2) < 1e-4);
  const fwhm = std.datasets[1].derived.fwhm;
  assert.ok(
    Math.abs(fwhm.value - 2.3548200450309493 * std.params.sigma) < 1e-12,
  );
  assert.ok(
    Math.abs(fwhm.stderr - 2.3548200450309493 * std.stderr.sigma) < 1e-12,
  );
});

Deno.test("fitGlobal: datasets of extreme magnitude (residuals and amplitudes near 1e-200) give the scaled answer", async () => {
  const tiny = (v: number) => v * 1e-200;
  const options = { shared: ["k"], ftol: 1e-14, xtol: 1e-14, gtol: 1e-14 };
  const r = await fitGlobal(DATASETS, { ...options, params: PARAMS });
  const t = await fitGlobal([
    { ...DATASETS[0], y: y0.map(tiny) },
    { ...DATASETS[1], y: y1.map(tiny) },
  ], {
    ...options,
    params: { a_0: 1e-200, k: 1, c_0: 0, a_1: 1e-200 },
  });
  assert.ok(t.success, t.message);
  // Every dataset's residuals scaled (the stacked problem on their common
  // scale), and the amplitudes solved for scaled.
  for (const d of t.datasets) {
    assert.ok(d.notes.some((n) => /residuals scaled/.test(n)), d.notes.join());
  }
  for (const name of ["a_0", "c_0"]) {
    assert.ok(Math.abs(t.params[name] / 1e-200 / r.params[name] - 1) < 1e-9);
  }
  assert.ok(Math.abs(t.params.a_1 / 1e-200 / r.params.a_1 - 1) < 1e-9);
  assert.ok(Math.abs(t.params.k / r.params.k - 1) < 1e-9);
  assert.ok(Math.abs(t.stderr.k / r.stderr.k - 1) < 1e-7);
  const [lo, hi] = (await t.profileIntervals({ params: ["k"] })).k;
  const ref = (await r.profileIntervals({ params: ["k"] })).k;
  assert.ok(
    Math.abs(lo / ref[0] - 1) < 1e-7 && Math.abs(hi / ref[1] - 1) < 1e-7,
  );
});

Deno.test("fitGlobal: profiles of the shared rate through the stacked problem, by either name", async () => {
  const r = await fitGlobal(DATASETS, { shared: ["k"], params: PARAMS });
  const all = await r.profileIntervals({ params: ["k", "a_1"] });
  const [lo, hi] = all.k;
  assert.ok(lo < r.params.k && r.params.k < hi);
  // Near the Wald interval for this nearly linear problem.
  const t = 2.0;
  assert.ok(Math.abs((hi - lo) / (2 * t * r.stderr.k) - 1) < 0.1);
  const mine = await r.datasets[1].profileIntervals({ params: ["a", "k"] });
  assert.deepStrictEqual(mine.k, all.k);
  assert.deepStrictEqual(mine.a, all.a_1);
  // The bootstrap refits one model per dataset: not the stacked problem.
  await assert.rejects(
    () => r.datasets[0].bootstrap({ n: 10 }),
    (e: Error) => e instanceof TypeError && /global fit/.test(e.message),
  );
});

Deno.test("fitGlobal: 1e6 points per dataset streamed from NPY files equal the in-memory answer", async () => {
  const n = 1_000_000;
  const g = gaussians(5);
  const x = Float64Array.from({ length: n }, (_, i) => (i / n) * 5);
  const ya = x.map((t) => 3 * Math.exp(-0.6 * t) + 0.4 + 0.05 * g());
  const yb = x.map((t) => 1.5 * Math.exp(-0.6 * t) + 0.05 * g());
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.npy`, npyTable(x, ya));
    await Deno.writeFile(`${dir}/b.npy`, npyTable(x, yb));
    const options = {
      shared: ["k"],
      params: { a_0: 1, k: 1, c_0: 0, a_1: 1 },
      ftol: 1e-12,
      xtol: 1e-12,
      gtol: 1e-12,
    };
    const t0 = performance.now();
    const mem = await fitGlobal([
      { model: "a * exp(-k * x) + c", x, y: ya },
      { model: "a * exp(-k * x)", x, y: yb },
    ], options);
    const t1 = performance.now();
    const src = await fitGlobal([
      {
        model: "a * exp(-k * x) + c",
        source: await openSource(`${dir}/a.npy`, { x: 0, y: 1 }),
      },
      {
        model: "a * exp(-k * x)",
        source: await openSource(`${dir}/b.npy`, { x: 0, y: 1 }),
      },
    ], { ...options, workflow: "streaming" });
    const t2 = performance.now();
    console.log(
      `global fit, 2 x 1e6 points: in memory ${
        (t1 - t0).toFixed(0)
      } ms (${mem.strategy}), streamed ${
        (t2 - t1).toFixed(0)
      } ms (${src.strategy}), nfev ${mem.nfev} / ${src.nfev}`,
    );
    assert.strictEqual(src.strategy, "streaming");
    assert.ok(mem.success && src.success, `${mem.message} / ${src.message}`);
    mem.popt.forEach((v, i) =>
      assert.ok(
        Math.abs(src.popt[i] - v) <= 1e-9 * Math.abs(v),
        `${mem.paramNames[i]}: ${src.popt[i]} vs ${v}`,
      )
    );
    mem.perr.forEach((v, i) =>
      assert.ok(Math.abs(src.perr[i] / v - 1) <= 1e-6, `perr ${i}`)
    );
    assert.strictEqual(src.datasets[0].nPoints, n);
    assert.ok(Math.abs(src.chiSquare / mem.chiSquare - 1) <= 1e-10);
    assert.ok(Math.abs(mem.params.k - 0.6) < 1e-3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fitGlobal: distributed over 2 MPI ranks equals one process; ranks agree bit for bit", async () => {
  if (!(await hasMpiexec())) {
    console.log("workflow_fit_global_test: mpiexec not found, MPI run SKIPPED");
    return;
  }
  const script = fileURLToPath(
    new URL("./distributed/global_script.ts", import.meta.url),
  );
  const run = async (launcher: string[], workflow: string) => {
    const j = await runJob(
      launcher[0],
      [...launcher.slice(1), Deno.execPath(), "run", "-A", script, workflow],
      120_000,
    );
    assert.strictEqual(j.code, 0, j.stderr);
    return j.stdout.split("\n").filter((l) => l.startsWith("{"))
      .map((l) =>
        JSON.parse(l) as { rank: number; popt: number[]; strategy: string }
      );
  };
  const ranks = await run(["mpiexec", "-n", "2"], "distributed");
  const [one] = await run(["env"], "standard");
  assert.strictEqual(ranks.length, 2);
  assert.deepStrictEqual(ranks[0].popt, ranks[1].popt);
  assert.strictEqual(ranks[0].strategy, "distributed");
  ranks[0].popt.forEach((v, i) =>
    assert.ok(Math.abs(v - one.popt[i]) <= 1e-10 * Math.abs(one.popt[i]))
  );
});

Deno.test("fitGlobal: bad calls are named", async () => {
  const x = [0, 1, 2, 3];
  const y = [1, 2, 3, 4];
  await assert.rejects(() => fitGlobal([], {}), TypeError);
  await assert.rejects(
    () => fitGlobal([{ model: "a * x" }], { params: { a_0: 1 } }),
    /datasets\[0\] needs either x and y/,
  );
  await assert.rejects(
    () =>
      fitGlobal([{ model: "a * x", x, y }], {
        shared: ["b"],
        params: { a_0: 1 },
      }),
    (e: Error) => e instanceof RangeError && /"b"/.test(e.message),
  );
  await assert.rejects(
    () =>
      fitGlobal(
        [{ model: "a * x", x, y }],
        { params: { a_0: 1 }, p00: 1 } as never,
      ),
    (e: Error) =>
      e instanceof TypeError && /unknown option "p00"/.test(e.message),
  );
  await assert.rejects(
    () => fitGlobal([{ model: "a * x", x, y }], {}),
    (e: Error) => e instanceof TypeError && /no start/.test(e.message),
  );
  await assert.rejects(
    () =>
      fitGlobal([{ model: "a * x", x, y }, { model: "a * x", x, y: [1, 2] }], {
        params: { a_0: 1, a_1: 1 },
      }),
    (e: Error) => e instanceof RangeError && /datasets\[1\]/.test(e.message),
  );
});
