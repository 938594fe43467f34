/**
 * Parameters by name: starts, bounds, fixed and tied parameters on fit and
 * curveFit, side by side with lmfit (Debian's python3-lmfit under
 * /usr/bin/python3; skipped visibly without it), and every bad input named.
 */

import assert from "node:assert";
import { curveFit, fit, model } from "../mod.ts";

const LMFIT_PY = "/usr/bin/python3";
const HAVE_LMFIT = (() => {
  try {
    return new Deno.Command(LMFIT_PY, {
      args: ["-c", "import lmfit"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
})();
if (!HAVE_LMFIT) {
  console.warn(
    "workflow_fit_params_test: lmfit comparison SKIPPED (no lmfit under /usr/bin/python3)",
  );
}

const x = Array.from({ length: 200 }, (_, i) => -5 + 10 * i / 199);
let seed = 7;
const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
const g = (t: number, a: number, c: number, s: number) =>
  a * Math.exp(-((t - c) ** 2) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI));
const y = x.map((t) =>
  g(t, 5, -1.5, 0.7) + g(t, 3, 2, 0.7) + 0.1 * t + 0.5 + 0.01 * rnd()
);
const TWO = "a1*exp(-(x-c1)^2/(2*s1^2))/(s1*sqrt(2*pi)) + " +
  "a2*exp(-(x-c2)^2/(2*s2^2))/(s2*sqrt(2*pi)) + k*x + b";
const PARAMS = {
  a1: 4,
  c1: -1,
  s1: { value: 1, min: 0 },
  a2: 2,
  c2: 1.5,
  s2: { expr: "s1" },
  k: { value: 0.1, vary: false },
  b: 0,
};

async function lmfitTwoPeaks(): Promise<Record<string, [number, number]>> {
  const script = `
import json, sys, numpy as np
from lmfit import Model
d = json.load(sys.stdin); x = np.array(d["x"]); y = np.array(d["y"])
def f(x, a1, c1, s1, a2, c2, s2, k, b):
    return (a1*np.exp(-(x-c1)**2/(2*s1**2))/(s1*np.sqrt(2*np.pi))
            + a2*np.exp(-(x-c2)**2/(2*s2**2))/(s2*np.sqrt(2*np.pi)) + k*x + b)
m = Model(f)
p = m.make_params(a1=4, c1=-1, s1=1, a2=2, c2=1.5, s2=1, k=0.1, b=0)
p["s1"].set(min=0); p["s2"].set(expr="s1"); p["k"].set(vary=False)
r = m.fit(y, p, x=x)
print(json.dumps({n: [v.value, v.stderr or 0.0] for n, v in r.params.items()}))
`;
  const proc = new Deno.Command(LMFIT_PY, {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = proc.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({ x, y })));
  await w.close();
  const o = await proc.output();
  if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
  return JSON.parse(new TextDecoder().decode(o.stdout));
}

Deno.test({
  name:
    "params: two Gaussians on a line, one width tied, the slope fixed, equal lmfit's values (1e-6) and errors (1e-3)",
  ignore: !HAVE_LMFIT,
  async fn() {
    const ref = await lmfitTwoPeaks();
    const r = await fit(model(TWO), x, y, { params: PARAMS });
    assert.ok(r.success, r.message);
    for (const [name, [value, stderr]] of Object.entries(ref)) {
      const rel = Math.abs(r.params[name] - value) / Math.abs(value);
      assert.ok(rel < 1e-6, `${name}: ${r.params[name]} vs lmfit ${value}`);
      if (stderr === 0) assert.strictEqual(r.stderr[name], 0);
      else {
        const e = Math.abs(r.stderr[name] - stderr) / stderr;
        assert.ok(e < 1e-3, `${name}: stderr ${r.stderr[name]} vs ${stderr}`);
      }
    }
  },
});

Deno.test("params: every parameter reported in model order; fixed rows are zero, tied ones follow their source", async () => {
  const r = await fit(model(TWO), x, y, { params: PARAMS });
  assert.deepStrictEqual(r.paramNames, [
    "a1",
    "c1",
    "s1",
    "a2",
    "c2",
    "s2",
    "k",
    "b",
  ]);
  assert.strictEqual(r.popt.length, 8);
  assert.strictEqual(r.nFree, 6);
  assert.strictEqual(r.params.k, 0.1);
  assert.strictEqual(r.params.s2, r.params.s1);
  const k = 6, s1 = 2, s2 = 5;
  assert.ok(
    r.pcov[k].every((v) => v === 0) && r.pcov.every((row) => row[k] === 0),
  );
  // A tie s2 = s1 has s1's variance and covariances.
  assert.strictEqual(r.pcov[s2][s2], r.pcov[s1][s1]);
  assert.strictEqual(r.pcov[s2][s1], r.pcov[s1][s1]);
  assert.strictEqual(r.perr[s2], r.perr[s1]);
});

Deno.test("params: a tie by expression carries the delta-method error", async () => {
  // y = a * x + b with b tied to 2a: one free parameter.
  const xs = [0, 1, 2, 3, 4, 5];
  const ys = xs.map((t) => 1.5 * t + 3 + (t % 2 ? 0.05 : -0.05));
  const r = await fit("a*x+b", xs, ys, {
    params: { a: 1, b: { expr: "2*a" } },
  });
  assert.ok(Math.abs(r.params.b - 2 * r.params.a) < 1e-14);
  assert.ok(Math.abs(r.stderr.b - 2 * r.stderr.a) < 1e-14 * r.stderr.b);
  assert.ok(Math.abs(r.pcov[0][1] - 2 * r.pcov[0][0]) < 1e-14 * r.pcov[0][1]);
  // The same as fitting a*(x+2) directly.
  const d = await fit("a*(x+2)", xs, ys, { p0: [1] });
  assert.ok(Math.abs(d.params.a - r.params.a) < 1e-12);
  assert.ok(Math.abs(d.perr[0] - r.stderr.a) < 1e-10 * d.perr[0]);
});

Deno.test("params: p0 by name, bounds by name, and curveFit takes params", async () => {
  const xs = Array.from({ length: 30 }, (_, i) => i / 10);
  const ys = xs.map((t) => 2 * Math.exp(-1.3 * t) + 0.5);
  const r = await fit("a*exp(-b*x)+c", xs, ys, { p0: { a: 1, b: 1, c: 0 } });
  assert.ok(Math.abs(r.params.b - 1.3) < 1e-9);
  const [popt, pcov] = await curveFit("a*exp(-b*x)+c", xs, ys, {
    params: {
      a: 1,
      b: { value: 1, min: 0, max: 5 },
      c: { value: 0.5, vary: false },
    },
  });
  assert.strictEqual(popt.length, 3);
  assert.strictEqual(popt[2], 0.5);
  assert.ok(Math.abs(popt[1] - 1.3) < 1e-6);
  assert.strictEqual(pcov[2][2], 0);
});

Deno.test("params: bad input is a typed error naming the problem", async () => {
  const xs = [0, 1, 2, 3], ys = [1, 3, 5, 7];
  const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ params: { a: 1, z: 2 } }, TypeError, /unknown parameter 'z'/],
    [
      { params: { a: { expr: "b" }, b: { expr: "a" } } },
      RangeError,
      /cycle: a -> b -> a/,
    ],
    [
      { params: { a: { value: 1, min: 2, max: 1 } } },
      RangeError,
      /params\.a: min \(2\) must be below max \(1\)/,
    ],
    [
      { params: { a: { value: 5, min: 0, max: 1 } } },
      RangeError,
      /params\.a: value 5 is outside \[0, 1\]/,
    ],
    [
      { params: { b: { expr: "2*x" } } },
      TypeError,
      /params\.b\.expr names the variable 'x'/,
    ],
    [
      { params: { b: { vary: false } } },
      TypeError,
      /fixed parameter \(vary: false\) needs a value/,
    ],
    [
      {
        params: { a: { vary: false, value: 1 }, b: { vary: false, value: 1 } },
      },
      RangeError,
      /nothing to fit/,
    ],
    [
      { params: { a: { value: 1, sharp: true } } },
      TypeError,
      /params\.a: unknown setting 'sharp'/,
    ],
    [{ p0: { a: 1, q: 2 } }, TypeError, /p0: unknown parameter 'q'/],
    [{ params: { b: { expr: "2*+" } } }, TypeError, /params\.b\.expr/],
  ];
  for (const [o, type, re] of cases) {
    await assert.rejects(fit("a*x+b", xs, ys, o), (e: unknown) => {
      assert.ok(e instanceof type, `${JSON.stringify(o)}: ${e}`);
      assert.match((e as Error).message, re);
      return true;
    });
  }
});

Deno.test("notes: a parameter at a bound, a fit worse than the mean, a start that is the answer", async () => {
  const xs = Array.from({ length: 20 }, (_, i) => i / 4);
  const ys = xs.map((t) => 2 * Math.exp(-1.3 * t) + 0.5);
  const atBound = await fit("a*exp(-b*x)+c", xs, ys, {
    p0: [1, 1, 0.8],
    bounds: [[0, 0, 0.6], [10, 10, 1]],
  });
  assert.ok(
    atBound.notes.some((n) => /warning: c is at its lower bound 0\.6/.test(n)),
    atBound.notes.join("\n"),
  );
  // A model that cannot follow the data: a constant offset on a line, with
  // the offset held far from the data.
  const worse = await fit("a + 0*x", xs, xs, {
    p0: [100],
    bounds: [[50], [200]],
  });
  assert.ok(worse.rSquared < 0);
  assert.ok(
    worse.notes.some((n) => /R\^2 = .* is below the mean model's/.test(n)),
  );
  const exact = await fit("a*x", [1, 2, 3], [2, 4, 6], { p0: [2] });
  assert.ok(exact.notes.some((n) => /ended where it started/.test(n)));
  const normal = await fit("a*exp(-b*x)+c", xs, ys, { p0: [1, 1, 0] });
  assert.ok(
    !normal.notes.some((n) => n.startsWith("warning:")),
    normal.notes.join("\n"),
  );
});
