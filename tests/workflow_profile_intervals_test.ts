/**
 * Profile-likelihood intervals (`r.profileIntervals`) side by side with
 * lmfit's `conf_interval` (F-test; Debian's python3-lmfit), and on a
 * streamed source against the same data in memory.
 */

import assert from "node:assert";
import { fit, model, openSource } from "../mod.ts";
import type { FitOptions } from "../mod.ts";
import { lmfitPython } from "./_lmfit.ts";
import { npyTable } from "./_npy_table.ts";
import { arraySource } from "../data/array_source.ts";
import { pythonJson } from "./_python_json.ts";

const LMFIT = lmfitPython("workflow_profile_intervals_test");

/** lmfit's conf_interval at `level` for `expr` (numpy, parameters by name). */
const LMFIT_CI = `
import lmfit
x = np.array(data["x"]); y = np.array(data["y"])
w = 1 / np.array(data["sigma"]) if data["sigma"] else np.ones_like(x)
p = lmfit.Parameters()
for name, spec in data["params"].items():
    p.add(name, **spec)
def residual(p):
    v = {k: p[k].value for k in p}
    return (eval(data["expr"], {"np": np, "x": x, **v}) - y) * w
mini = lmfit.Minimizer(residual, p)
res = mini.minimize(method="leastsq", xtol=1e-12, ftol=1e-12)
ends = lambda ci: {k: [v[0][1], v[-1][1]] for k, v in ci.items()}
shipped = ends(lmfit.conf_interval(mini, res, sigmas=[data["level"]]))
# lmfit finds each end to rtol 0.5e-4 of the value; the same search with
# the root found to rounding tells its own error from ours.
import lmfit.confidence as lc
root = lc.root_scalar
lc.root_scalar = lambda *a, **k: root(*a, **{**k, "rtol": 1e-13})
tight = ends(lmfit.conf_interval(mini, res, sigmas=[data["level"]]))
emit({"shipped": shipped, "tight": tight})
`;

interface Case {
  expr: string;
  x: number[];
  y: number[];
  sigma: number[] | null;
  params: Record<
    string,
    { value: number; vary?: boolean; min?: number; max?: number }
  >;
  level: number;
}

async function compare(c: Case, pyExpr: string) {
  const options: FitOptions = { params: c.params };
  if (c.sigma) options.sigma = c.sigma;
  const r = await fit(model(c.expr), c.x, c.y, options);
  assert.ok(r.success, r.message);
  const ours = await r.profileIntervals({ level: c.level });
  const free = Object.keys(c.params).filter((k) => c.params[k].vary !== false);
  assert.deepStrictEqual(Object.keys(ours).sort(), free.sort());
  for (const name of free) {
    const [lo, hi] = ours[name];
    const v = r.params[name];
    assert.ok(lo < v && v < hi, `${name}: ${lo} < ${v} < ${hi}`);
  }
  if (!LMFIT) return ours;
  type Ends = Record<string, [number, number]>;
  const theirs = await pythonJson<{ shipped: Ends; tight: Ends }>(
    LMFIT_CI,
    { ...c, expr: pyExpr },
    LMFIT,
  );
  for (const name of free) {
    const v = r.params[name];
    ours[name].forEach((end, i) => {
      const ref = theirs.shipped[name][i], tight = theirs.tight[name][i];
      assert.ok(
        Math.abs(end - ref) <= 1e-3 * Math.abs(ref),
        `${name}[${i}]: ${end} vs lmfit ${ref}`,
      );
      // Against lmfit's search with its root found to rounding: 1e-3 of
      // the end's distance from the value, far tighter than of the value.
      assert.ok(
        Math.abs(end - tight) <= 1e-3 * Math.abs(tight - v),
        `${name}[${i}]: ${end} vs lmfit (tight root) ${tight} (value ${v})`,
      );
    });
  }
  return ours;
}

const xs = (n: number, step: number) =>
  Array.from({ length: n }, (_, i) => i * step);
/** Deterministic noise of amplitude `a`. */
const noise = (n: number, a: number) =>
  Array.from({ length: n }, (_, i) => a * Math.sin(12.9898 * (i + 1)) * 1.3);

Deno.test("profile intervals: exponential decay equals lmfit conf_interval (95%), asymmetric", async () => {
  const x = xs(12, 0.5);
  const e = noise(12, 0.03);
  const y = x.map((t, i) => 2 * Math.exp(-0.7 * t) + e[i]);
  const ours = await compare({
    expr: "a * exp(-b * x)",
    x,
    y,
    sigma: null,
    params: { a: { value: 1 }, b: { value: 1 } },
    level: 0.95,
  }, "a * np.exp(-b * x)");
  // Asymmetric about the value: the two half-widths differ.
  const r = await fit("a * exp(-b * x)", x, y, { p0: [1, 1] });
  const [lo, hi] = ours.b;
  assert.ok(Math.abs((hi - r.params.b) / (r.params.b - lo) - 1) > 1e-3);
});

Deno.test("profile intervals: weighted Gaussian with a fixed offset equals lmfit (68.3%)", async () => {
  const x = xs(25, 0.25);
  const e = noise(25, 0.05);
  const sigma = x.map((_, i) => 0.04 + 0.02 * (i % 3));
  const y = x.map((t, i) =>
    3 * Math.exp(-((t - 3) ** 2) / (2 * 0.8 ** 2)) + 0.2 + e[i]
  );
  await compare({
    expr: "h * exp(-(x - m)^2 / (2 * s^2)) + c",
    x,
    y,
    sigma,
    params: {
      h: { value: 2 },
      m: { value: 2.8 },
      s: { value: 1, min: 0.05 },
      c: { value: 0.2, vary: false },
    },
    level: 0.683,
  }, "h * np.exp(-(x - m)**2 / (2 * s**2)) + c");
});

Deno.test("profile intervals: an end past a bound is infinite; bad requests are named", async () => {
  const x = xs(12, 0.5);
  const e = noise(12, 0.03);
  const y = x.map((t, i) => 2 * Math.exp(-0.7 * t) + e[i]);
  const r = await fit("a * exp(-b * x)", x, y, {
    params: { a: 1, b: { value: 1, min: 0.69, max: 5 } },
  });
  const { b } = await r.profileIntervals({ params: ["b"] });
  assert.strictEqual(b[0], -Infinity);
  assert.ok(b[1] > r.params.b && Number.isFinite(b[1]));
  await assert.rejects(
    () => r.profileIntervals({ params: ["zz"] }),
    RangeError,
  );
  await assert.rejects(() => r.profileIntervals({ level: 1 }), RangeError);
  await assert.rejects(
    () => r.profileIntervals({ params: "b" as unknown as string[] }),
    (e: Error) =>
      e instanceof TypeError && /array of parameter names/.test(e.message),
  );
  const fixed = await fit("a * exp(-b * x)", x, y, {
    params: { a: { value: 2, vary: false }, b: 1 },
  });
  await assert.rejects(
    () => fixed.profileIntervals({ params: ["a"] }),
    (e: Error) => e instanceof TypeError && /fixed or tied/.test(e.message),
  );
  // One free parameter: its profile is the chi-square itself.
  const [lo, hi] = (await fixed.profileIntervals()).b;
  assert.ok(lo < fixed.params.b && fixed.params.b < hi);
});

Deno.test("profile intervals: data of extreme magnitude (scaled residuals and parameters) give the scaled intervals", async () => {
  const x = xs(12, 0.5);
  const e = noise(12, 0.03);
  const y = x.map((t, i) => 2 * Math.exp(-0.7 * t) + e[i]);
  const r = await fit("a * exp(-b * x)", x, y, { p0: [1, 1] });
  const tiny = await fit("a * exp(-b * x)", x, y.map((v) => v * 1e-200), {
    p0: [1e-200, 1],
  });
  assert.ok(tiny.notes.some((n) => /scaled/.test(n)), tiny.notes.join("; "));
  const a = await r.profileIntervals();
  const b = await tiny.profileIntervals();
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(b.a[i] / 1e-200 / a.a[i] - 1) < 1e-7, `a: ${b.a[i]}`);
    assert.ok(Math.abs(b.b[i] / a.b[i] - 1) < 1e-7, `b: ${b.b[i]}`);
  }
});

Deno.test("profile intervals: every side's refits share passes over a streamed source", async () => {
  const n = 4000;
  const x = Float64Array.from({ length: n }, (_, i) => i / 400);
  const e = noise(n, 0.05);
  const y = x.map((t, i) => 1.5 * Math.exp(-0.4 * t) + 0.3 + e[i]);
  const src = arraySource(x, y);
  // Rows read through the source's reader, in passes over the data.
  let rows = 0;
  const open = src.openReader!.bind(src);
  Object.assign(src, {
    openReader: async () => {
      const reader = await open();
      const read = reader.read.bind(reader);
      return Object.assign(reader, {
        read: (a: number, b: number, into: Parameters<typeof read>[2]) => {
          rows += b - a;
          return read(a, b, into);
        },
      });
    },
  });
  const r = await fit("a * exp(-b * x) + c", src, {
    p0: [1, 1, 0],
    workflow: "streaming",
  });
  rows = 0;
  const all = await r.profileIntervals();
  const together = rows / n;
  let apart = 0;
  for (const name of ["a", "b", "c"]) {
    rows = 0;
    const one = await r.profileIntervals({ params: [name] });
    apart += rows / n;
    assert.deepStrictEqual(one[name], all[name]);
  }
  console.log(
    `profile passes over the data: 3 profiles together ${together}, one at a time ${apart}`,
  );
  assert.ok(together < apart / 2, `${together} vs ${apart}`);
});

Deno.test("profile intervals: a streamed source gives the in-memory answer", async () => {
  const n = 4000;
  const x = Float64Array.from({ length: n }, (_, i) => i / 400);
  const e = noise(n, 0.05);
  const y = x.map((t, i) => 1.5 * Math.exp(-0.4 * t) + 0.3 + e[i]);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/d.npy`;
    await Deno.writeFile(path, npyTable(x, y));
    const p0 = [1, 1, 0];
    const mem = await fit("a * exp(-b * x) + c", x, y, { p0 });
    const src = await fit(
      "a * exp(-b * x) + c",
      await openSource(path, { x: 0, y: 1 }),
      { p0, workflow: "streaming" },
    );
    assert.strictEqual(src.strategy, "streaming");
    const a = await mem.profileIntervals();
    const b = await src.profileIntervals();
    for (const name of ["a", "b", "c"]) {
      for (let i = 0; i < 2; i++) {
        const d = Math.abs(a[name][i] - mem.params[name]);
        assert.ok(
          Math.abs(a[name][i] - b[name][i]) <= 1e-6 * d,
          `${name}[${i}]: ${a[name][i]} vs streamed ${b[name][i]}`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
