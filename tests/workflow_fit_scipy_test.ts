/**
 * Side-by-side comparison with scipy's curve_fit (skipped, visibly, when
 * python3 with numpy and scipy is absent): same cost to 1e-10 relative and
 * parameters to 1e-7 on problems with bounds, robust losses and sigma.
 */

import assert from "node:assert";
import { havePython, pythonCommand } from "./_tools.ts";
import { fit, model } from "../mod.ts";
import type { LossName } from "../mod.ts";

const PY = havePython("numpy, scipy");
if (!PY) {
  console.warn("scipy comparison SKIPPED: python3 with numpy/scipy not found");
}

/** Deterministic noise. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

interface Problem {
  name: string;
  expr: string;
  numpy: string;
  x: number[] | number[][];
  y: number[];
  p0: number[];
  variables?: string[];
  method?: "trf" | "lm";
  bounds?: [(number | null)[], (number | null)[]];
  loss?: LossName;
  fScale?: number;
  sigma?: number[] | number[][];
  absoluteSigma?: boolean;
  xScale?: number[];
}

function make(): Problem[] {
  const r = rng(42);
  const lin = (n: number, a: number, b: number) =>
    Array.from({ length: n }, (_, i) => a + (b - a) * i / (n - 1));
  const x1 = lin(80, 0, 5);
  const decay = x1.map((t) => 2.5 * Math.exp(-1.3 * t) + 0.5 + 0.02 * r());
  const outl = decay.map((v, i) => (i % 13 === 0 ? v + 0.8 : v));
  const xg = lin(120, -3, 3);
  const gauss = xg.map((t) =>
    1.7 * Math.exp(-0.5 * ((t - 0.3) / 0.6) ** 2) + 0.1 + 0.03 * r()
  )
    .map((v, i) => (i % 17 === 0 ? v - 0.9 : v));
  const xs = lin(60, 0, 10);
  const sine = xs.map((t) => 1.2 * Math.sin(1.7 * t + 0.4) + 0.05 * r());
  const xm = lin(40, 0.1, 8);
  const sigmaM = xm.map((_, i) => 0.02 + 0.01 * (i % 3));
  const mm = xm.map((t, i) => 3 * t / (1.5 + t) + sigmaM[i] * 2 * r());
  const xl = lin(70, -5, 5);
  const logi = xl.map((t) => 4 / (1 + Math.exp(-1.1 * (t - 0.7))) + 0.05 * r());
  const xa = lin(50, 0, 2), xb = lin(50, 1, 3).reverse();
  const two = xa.map((t, i) =>
    1.5 * t + 0.8 * Math.exp(0.6 * xb[i]) + 0.02 * r()
  );
  const xp = lin(50, 1, 20);
  const pw = xp.map((t, i) =>
    2 * t ** 0.75 * (1 + 0.02 * r()) + (i === 7 ? 5 : 0)
  );
  const xc = lin(12, 0, 3);
  const cov = xc.map((a) =>
    xc.map((b) => 0.01 * Math.exp(-Math.abs(a - b)) + (a === b ? 0.002 : 0))
  );
  const yc = xc.map((t) => 1.4 * Math.exp(-0.8 * t) + 0.1 * r());
  const ex = "lambda x, a, b, c: a*np.exp(-b*x)+c";
  return [
    {
      name: "decay lm",
      expr: "a*exp(-b*x)+c",
      numpy: ex,
      x: x1,
      y: decay,
      p0: [1, 1, 0],
      method: "lm",
    },
    {
      name: "decay trf bounds",
      expr: "a*exp(-b*x)+c",
      numpy: ex,
      x: x1,
      y: decay,
      p0: [1, 1, 0],
      bounds: [[0, 0, -1], [2.4, 5, 1]],
    },
    {
      name: "decay sigma",
      expr: "a*exp(-b*x)+c",
      numpy: ex,
      x: x1,
      y: decay,
      p0: [1, 1, 0],
      sigma: x1.map((t) => 0.01 + 0.01 * t),
    },
    {
      name: "decay sigma absolute",
      expr: "a*exp(-b*x)+c",
      numpy: ex,
      x: x1,
      y: decay,
      p0: [1, 1, 0],
      sigma: x1.map((t) => 0.01 + 0.01 * t),
      absoluteSigma: true,
    },
    {
      name: "decay soft_l1",
      expr: "a*exp(-b*x)+c",
      numpy: ex,
      x: x1,
      y: outl,
      p0: [1, 1, 0],
      loss: "soft_l1",
      fScale: 0.05,
    },
    {
      name: "gauss huber",
      expr: "a*exp(-0.5*((x-m)/s)^2)+d",
      numpy: "lambda x, a, m, s, d: a*np.exp(-0.5*((x-m)/s)**2)+d",
      x: xg,
      y: gauss,
      p0: [1, 0, 1, 0],
      loss: "huber",
      fScale: 0.1,
    },
    {
      name: "gauss cauchy bounds",
      expr: "a*exp(-0.5*((x-m)/s)^2)+d",
      numpy: "lambda x, a, m, s, d: a*np.exp(-0.5*((x-m)/s)**2)+d",
      x: xg,
      y: gauss,
      p0: [1, 0, 1, 0],
      loss: "cauchy",
      fScale: 0.1,
      bounds: [[0, -1, 0.1, -1], [5, 1, 3, 1]],
    },
    {
      name: "gauss arctan",
      expr: "a*exp(-0.5*((x-m)/s)^2)+d",
      numpy: "lambda x, a, m, s, d: a*np.exp(-0.5*((x-m)/s)**2)+d",
      x: xg,
      y: gauss,
      p0: [1, 0, 1, 0],
      loss: "arctan",
      fScale: 0.2,
    },
    {
      name: "sine bounds",
      expr: "A*sin(w*x+ph)",
      numpy: "lambda x, A, w, ph: A*np.sin(w*x+ph)",
      x: xs,
      y: sine,
      p0: [1, 1.6, 0],
      bounds: [[0, 1, -3], [3, 2.5, 3]],
    },
    {
      name: "michaelis-menten sigma",
      expr: "v*x/(k+x)",
      numpy: "lambda x, v, k: v*x/(k+x)",
      x: xm,
      y: mm,
      p0: [1, 1],
      sigma: sigmaM,
    },
    {
      name: "logistic xScale",
      expr: "L/(1+exp(-k*(x-x0)))",
      numpy: "lambda x, L, k, x0: L/(1+np.exp(-k*(x-x0)))",
      x: xl,
      y: logi,
      p0: [3, 1, 0],
      variables: ["x"],
      xScale: [1, 0.5, 2],
      bounds: [[0, 0, -5], [10, 5, 5]],
    },
    {
      name: "two variables",
      expr: "a*x0 + b*exp(c*x1)",
      numpy: "lambda x, a, b, c: a*x[0] + b*np.exp(c*x[1])",
      x: [xa, xb],
      y: two,
      p0: [1, 1, 0.5],
    },
    {
      name: "power law cauchy bounds",
      expr: "a*x^b",
      numpy: "lambda x, a, b: a*x**b",
      x: xp,
      y: pw,
      p0: [1, 1],
      loss: "cauchy",
      bounds: [[0, 0], [10, 2]],
    },
    {
      name: "2-D sigma",
      expr: "a*exp(-b*x)",
      numpy: "lambda x, a, b: a*np.exp(-b*x)",
      x: xc,
      y: yc,
      p0: [1, 1],
      sigma: cov,
    },
  ];
}

Deno.test({
  name:
    "scipy curve_fit side by side: cost 1e-10, parameters 1e-7 on 14 problems",
  ignore: !PY,
  async fn() {
    const tol = 1e-14;
    const probs = make();
    const proc = new Deno.Command(pythonCommand(), {
      args: [new URL("./scipy/curve_fit_runner.py", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = proc.stdin.getWriter();
    await w.write(
      new TextEncoder().encode(
        JSON.stringify(probs.map((p) => ({ ...p, tol }))),
      ),
    );
    await w.close();
    const out = await proc.output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const sp = JSON.parse(new TextDecoder().decode(out.stdout));
    for (const [k, pr] of probs.entries()) {
      const m = model(pr.expr, pr.variables ? { variables: pr.variables } : {});
      const r = await fit(m, pr.x, pr.y, {
        p0: pr.p0,
        method: pr.method ?? "trf",
        bounds: pr.bounds
          ? [
            pr.bounds[0].map((v) => v ?? -Infinity),
            pr.bounds[1].map((v) => v ?? Infinity),
          ]
          : undefined,
        loss: pr.loss,
        fScale: pr.fScale,
        sigma: pr.sigma,
        absoluteSigma: pr.absoluteSigma,
        xScale: pr.xScale,
        ftol: tol,
        xtol: tol,
        gtol: tol,
        maxNfev: 10000,
      });
      const s = sp[k];
      // scipy's cost under our loss: recompute from its residuals.
      const fs = pr.fScale ?? 1;
      const rho = (z: number) => {
        switch (pr.loss ?? "linear") {
          case "linear":
            return z;
          case "soft_l1":
            return 2 * (Math.sqrt(1 + z) - 1);
          case "huber":
            return z <= 1 ? z : 2 * Math.sqrt(z) - 1;
          case "cauchy":
            return Math.log1p(z);
          case "arctan":
            return Math.atan(z);
        }
      };
      const sCost = 0.5 * fs * fs *
        s.fun.reduce((a: number, f: number) => a + rho((f / fs) ** 2)!, 0);
      const relCost = Math.abs(r.cost - sCost) / sCost;
      assert.ok(
        relCost < 1e-10,
        `${pr.name}: cost ${r.cost} vs scipy ${sCost} (rel ${relCost})`,
      );
      for (let i = 0; i < pr.p0.length; i++) {
        const rel = Math.abs(r.popt[i] - s.popt[i]) /
          Math.max(Math.abs(s.popt[i]), 1e-8);
        assert.ok(
          rel < 1e-7,
          `${pr.name}: p${i} ${r.popt[i]} vs scipy ${s.popt[i]} (rel ${rel})`,
        );
        const relC = Math.abs(r.pcov[i][i] - s.pcov[i][i]) / s.pcov[i][i];
        assert.ok(
          relC < 1e-5,
          `${pr.name}: pcov[${i}][${i}] ${r.pcov[i][i]} vs ${s.pcov[i][i]}`,
        );
      }
    }
  },
});
