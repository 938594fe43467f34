/**
 * Unit tests of the two solvers, core/trf.ts and core/lm.ts, run directly on
 * small dense evaluators (no fit workflow around them): Rosenbrock, a linear
 * least-squares problem solved in one step, bounds with an active
 * constraint, resuming from a SolverState, an AbortSignal, onIteration,
 * maxNfev, and Powell's singular function (rank deficient at the solution).
 * TRF is checked against scipy's `least_squares(method="trf")` step for step
 * (same x, nfev and njev) and LM against its solution (skipped visibly
 * without python3 + numpy + scipy).
 */

import assert from "node:assert";
import { trf } from "../core/trf.ts";
import { lm } from "../core/lm.ts";
import {
  createDenseEvaluator,
  type JacobianFunction,
  type ResidualFunction,
} from "../core/dense_evaluator.ts";
import { cholesky, solveLowerInPlace } from "../core/linalg.ts";
import type {
  IterationInfo,
  SolverOptions,
  SolverResult,
  SolverState,
} from "../core/solver_types.ts";
import { pythonJson, scipyAvailable } from "./_python_json.ts";

const PY = scipyAvailable("core_solvers_test");
const SOLVERS = { trf, lm } as const;
type Method = keyof typeof SOLVERS;

/** scipy's defaults: no bounds, tolerances 1e-8, 100 n evaluations. */
function options(n: number, o: Partial<SolverOptions> = {}): SolverOptions {
  return {
    lower: new Float64Array(n).fill(-Infinity),
    upper: new Float64Array(n).fill(Infinity),
    ftol: 1e-8,
    xtol: 1e-8,
    gtol: 1e-8,
    maxNfev: 100 * n,
    xScale: "jac",
    ...o,
  };
}

interface Problem {
  fun: ResidualFunction;
  jac: JacobianFunction;
  m: number;
  n: number;
  x0: number[];
}

function run(
  method: Method,
  pr: Problem,
  o: Partial<SolverOptions> = {},
): Promise<SolverResult> {
  const ev = createDenseEvaluator(pr.fun, pr.m, pr.n, { jac: pr.jac });
  return SOLVERS[method](ev, Float64Array.from(pr.x0), options(pr.n, o));
}

const ROSENBROCK: Problem = {
  fun: (p) => [10 * (p[1] - p[0] ** 2), 1 - p[0]],
  jac: (p) => [[-20 * p[0], 10], [-1, 0]],
  m: 2,
  n: 2,
  x0: [-1.2, 1],
};

const S5 = Math.sqrt(5), S10 = Math.sqrt(10);
/** Powell's singular function: minimum 0 at 0, where J has rank 2. */
const POWELL: Problem = {
  fun: (x) => [
    x[0] + 10 * x[1],
    S5 * (x[2] - x[3]),
    (x[1] - 2 * x[2]) ** 2,
    S10 * (x[0] - x[3]) ** 2,
  ],
  jac: (x) => {
    const a = 2 * (x[1] - 2 * x[2]), b = 2 * S10 * (x[0] - x[3]);
    return [[1, 10, 0, 0], [0, 0, S5, -S5], [0, a, -2 * a, 0], [b, 0, 0, -b]];
  },
  m: 4,
  n: 4,
  x0: [3, -1, 0, 1],
};

const A = [
  [1, 2, 0.5],
  [0.3, -1, 2],
  [2, 0.1, -0.4],
  [1, 1, 1],
  [-0.5, 0.7, 0.2],
  [0.9, -0.3, 1.1],
];
const B = [1, 2, -1, 0.5, 0.3, -0.8];
/** min ||A x - b||: one Gauss-Newton step from x0 (about 2 x*) solves it. */
const LINEAR: Problem = {
  fun: (x) => A.map((r, i) => r[0] * x[0] + r[1] * x[1] + r[2] * x[2] - B[i]),
  jac: () => A,
  m: 6,
  n: 3,
  x0: [-1, 0.6, 1.7],
};

/** The least-squares solution of A x = b by the normal equations. */
function linearSolution(): Float64Array {
  const n = 3;
  const G = new Float64Array(n * n), g = new Float64Array(n);
  for (let i = 0; i < A.length; i++) {
    for (let j = 0; j < n; j++) {
      g[j] += A[i][j] * B[i];
      for (let k = 0; k < n; k++) G[j * n + k] += A[i][j] * A[i][k];
    }
  }
  const L = cholesky(G, n)!;
  solveLowerInPlace(L, n, g);
  // Back substitution with L^T.
  for (let i = n - 1; i >= 0; i--) {
    let s = g[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * g[k];
    g[i] = s / L[i * n + i];
  }
  return g;
}

interface ScipyRun {
  x: number[];
  cost: number;
  nfev: number;
  njev: number;
  status: number;
  active_mask: number[];
}

const SCIPY_SCRIPT = `
from scipy.optimize import least_squares
S5, S10 = np.sqrt(5), np.sqrt(10)
def rosen(p): return np.array([10 * (p[1] - p[0]**2), 1 - p[0]])
def rosen_j(p): return np.array([[-20 * p[0], 10], [-1, 0]])
def powell(x): return np.array([x[0] + 10*x[1], S5*(x[2] - x[3]),
                                (x[1] - 2*x[2])**2, S10*(x[0] - x[3])**2])
def powell_j(x):
    a, b = 2*(x[1] - 2*x[2]), 2*S10*(x[0] - x[3])
    return np.array([[1, 10, 0, 0], [0, 0, S5, -S5], [0, a, -2*a, 0], [b, 0, 0, -b]])
problems = {"rosenbrock": (rosen, rosen_j, [-1.2, 1]),
            "powell": (powell, powell_j, [3, -1, 0, 1])}
out = []
for c in data:
    f, j, x0 = problems[c["problem"]]
    lb = [-np.inf if v is None else v for v in c["lb"]]
    ub = [np.inf if v is None else v for v in c["ub"]]
    r = least_squares(f, c.get("x0", x0), jac=j, method=c["method"],
                      x_scale=c["xScale"], bounds=(lb, ub))
    out.append({"x": r.x, "cost": r.cost, "nfev": r.nfev,
                "njev": -1 if r.njev is None else r.njev,
                "status": r.status, "active_mask": r.active_mask})
emit(out)
`;

interface ScipyCase {
  problem: "rosenbrock" | "powell";
  method: Method;
  xScale: "jac" | number;
  lb: (number | null)[];
  ub: (number | null)[];
  x0?: number[];
}

const FREE2 = [null, null], FREE4 = [null, null, null, null];
const SCIPY_CASES: ScipyCase[] = [
  { problem: "rosenbrock", method: "trf", xScale: "jac", lb: FREE2, ub: FREE2 },
  { problem: "rosenbrock", method: "trf", xScale: 1, lb: FREE2, ub: FREE2 },
  { problem: "rosenbrock", method: "lm", xScale: "jac", lb: FREE2, ub: FREE2 },
  { problem: "powell", method: "trf", xScale: 1, lb: FREE4, ub: FREE4 },
  { problem: "powell", method: "trf", xScale: "jac", lb: FREE4, ub: FREE4 },
  { problem: "powell", method: "lm", xScale: "jac", lb: FREE4, ub: FREE4 },
  // Upper bound active: the solution is (0.5, 0.25) in closed form.
  {
    problem: "rosenbrock",
    method: "trf",
    xScale: 1,
    lb: FREE2,
    ub: [0.5, null],
  },
  {
    problem: "rosenbrock",
    method: "trf",
    xScale: "jac",
    lb: FREE2,
    ub: [0.5, null],
  },
  // Lower bound active on the second parameter, from a start on that bound.
  {
    problem: "rosenbrock",
    method: "trf",
    xScale: "jac",
    lb: [null, 1.5],
    ub: [3, null],
    x0: [2, 1.5],
  },
];

let scipyRuns: Promise<ScipyRun[]> | null = null;
function scipy(): Promise<ScipyRun[]> {
  scipyRuns ??= pythonJson<ScipyRun[]>(SCIPY_SCRIPT, SCIPY_CASES);
  return scipyRuns;
}

function runCase(c: ScipyCase): Promise<SolverResult> {
  const pr = c.problem === "rosenbrock" ? ROSENBROCK : POWELL;
  const vec = (v: (number | null)[], d: number) =>
    Float64Array.from(v, (t) => t ?? d);
  return run(c.method, { ...pr, x0: c.x0 ?? pr.x0 }, {
    lower: vec(c.lb, -Infinity),
    upper: vec(c.ub, Infinity),
    xScale: c.xScale === "jac" ? "jac" : new Float64Array(pr.n).fill(c.xScale),
  });
}

const caseName = (c: ScipyCase) =>
  `${c.problem} ${c.method} xScale=${c.xScale} lb=${c.lb} ub=${c.ub}`;

Deno.test(
  "trf: same x, cost, nfev, njev, status and active mask as scipy's least_squares",
  {
    ignore: !PY,
  },
  async () => {
    const want = await scipy();
    for (const [i, c] of SCIPY_CASES.entries()) {
      if (c.method !== "trf") continue;
      const r = await runCase(c);
      const w = want[i];
      const label = caseName(c);
      r.x.forEach((v, k) => {
        assert.ok(
          Math.abs(v - w.x[k]) <= 1e-10 * Math.max(1e-3, Math.abs(w.x[k])),
          `${label}: x ${r.x} vs scipy ${w.x}`,
        );
      });
      assert.ok(
        Math.abs(r.cost - w.cost) <= 1e-8 * w.cost + 1e-30,
        `${label}: cost ${r.cost} vs ${w.cost}`,
      );
      assert.strictEqual(r.nfev, w.nfev, `${label}: nfev`);
      assert.strictEqual(r.njev, w.njev, `${label}: njev`);
      assert.strictEqual(r.status, w.status, `${label}: status`);
      assert.deepStrictEqual(Array.from(r.activeMask), w.active_mask, label);
    }
  },
);

Deno.test("lm: the solutions of scipy's least_squares(method='lm')", {
  ignore: !PY,
}, async () => {
  const want = await scipy();
  for (const [i, c] of SCIPY_CASES.entries()) {
    if (c.method !== "lm") continue;
    const r = await runCase(c);
    const w = want[i];
    assert.ok(r.status > 0, `${caseName(c)}: status ${r.status}`);
    // Both converge to the minimum; the last digits depend on the path.
    assert.ok(r.cost <= Math.max(10 * w.cost, 1e-30), `${r.cost} vs ${w.cost}`);
    r.x.forEach((v, k) => {
      assert.ok(Math.abs(v - w.x[k]) <= 1e-8, `${caseName(c)}: x ${r.x}`);
    });
  }
});

for (const method of ["trf", "lm"] as const) {
  Deno.test(`${method}: Rosenbrock converges to (1, 1) with status > 0`, async () => {
    for (const xScale of ["jac", new Float64Array([1, 1])] as const) {
      const r = await run(method, ROSENBROCK, { xScale });
      assert.ok(r.status >= 1 && r.status <= 4, r.message);
      assert.ok(Math.abs(r.x[0] - 1) < 1e-12 && Math.abs(r.x[1] - 1) < 1e-12);
      assert.ok(r.cost < 1e-25);
      assert.ok(r.nfev <= 30, `nfev ${r.nfev}`);
      assert.deepStrictEqual(Array.from(r.activeMask), [0, 0]);
      assert.strictEqual(r.state.method, method);
      assert.deepStrictEqual(r.state.x, Array.from(r.x));
    }
  });

  Deno.test(`${method}: a linear problem is solved exactly by one step`, async () => {
    const want = linearSolution();
    for (const xScale of ["jac", new Float64Array(3).fill(1)] as const) {
      const r = await run(method, LINEAR, { xScale });
      r.x.forEach((v, k) => {
        assert.ok(Math.abs(v - want[k]) <= 1e-14, `x ${r.x} vs ${want}`);
      });
      // One step, then the gradient test: two evaluations in all.
      assert.strictEqual(r.nit, 1);
      assert.strictEqual(r.nfev, 2);
      assert.strictEqual(r.njev, 2);
      assert.strictEqual(r.status, 1, r.message);
      let rss = 0;
      for (const f of Array.from(LINEAR.fun(want))) rss += f * f;
      assert.ok(Math.abs(r.cost - 0.5 * rss) <= 1e-14 * rss);
    }
  });

  Deno.test(`${method}: Powell's singular function (rank deficient at the solution) converges`, async () => {
    const r = await run(method, POWELL);
    assert.ok(r.status >= 1 && r.status <= 4, r.message);
    // The cost falls from 107.5 to the gtol level (TRF stops where scipy
    // does, near 3e-13) or below.
    assert.ok(r.cost < 1e-12, `cost ${r.cost}`);
    for (const v of r.x) assert.ok(Math.abs(v) < 1e-3, `x ${r.x}`);
    // The iterates approach 0 along the singular direction (x3 = x4).
    assert.ok(Math.abs(r.x[2] - r.x[3]) <= 1e-6 * Math.abs(r.x[2]));
  });

  Deno.test(`${method}: maxNfev is respected and reported as status 0`, async () => {
    for (const maxNfev of [1, 2, 5]) {
      const r = await run(method, ROSENBROCK, { maxNfev });
      assert.strictEqual(r.status, 0, `maxNfev ${maxNfev}: ${r.message}`);
      assert.ok(r.nfev <= maxNfev, `nfev ${r.nfev} > ${maxNfev}`);
      assert.match(r.message, /maximum number of function evaluations/);
      assert.ok(r.cost <= 12.1); // never worse than the start (cost 12.1)
    }
  });

  Deno.test(`${method}: onIteration once per iteration, with consistent counters and state`, async () => {
    const seen: IterationInfo[] = [];
    const r = await run(method, ROSENBROCK, {
      onIteration: (i) => {
        seen.push(i);
      },
    });
    assert.strictEqual(seen.length, r.nit);
    assert.ok(seen.length >= 5);
    seen.forEach((info, k) => {
      assert.strictEqual(info.nit, k + 1);
      assert.strictEqual(info.state.nit, info.nit);
      assert.strictEqual(info.state.nfev, info.nfev);
      if (k > 0) {
        assert.ok(info.cost <= seen[k - 1].cost, "cost went up");
        assert.ok(info.nfev > seen[k - 1].nfev);
      }
    });
    const last = seen.at(-1)!;
    assert.strictEqual(last.nfev, r.nfev);
    assert.strictEqual(last.cost, r.cost);
    assert.deepStrictEqual(last.state.x, Array.from(r.x));
  });

  Deno.test(`${method}: resuming from a saved SolverState gives the same answer`, async () => {
    const states: SolverState[] = [];
    const full = await run(method, ROSENBROCK, {
      onIteration: (i) => {
        // Through JSON, as a checkpoint stores it.
        states.push(JSON.parse(JSON.stringify(i.state)));
      },
    });
    assert.ok(states.length >= 6);
    for (const k of [0, 2, states.length - 3]) {
      const resumed = await run(method, { ...ROSENBROCK, x0: [50, 50] }, {
        resume: states[k],
      });
      const label = `resumed after iteration ${k + 1}`;
      assert.deepStrictEqual(resumed.x, full.x, label);
      assert.strictEqual(resumed.cost, full.cost, label);
      assert.strictEqual(resumed.nfev, full.nfev, label);
      assert.strictEqual(resumed.njev, full.njev, label);
      assert.strictEqual(resumed.nit, full.nit, label);
      assert.strictEqual(resumed.status, full.status, label);
    }
  });

  Deno.test(`${method}: an aborted signal throws, before or between iterations`, async () => {
    const before = new AbortController();
    before.abort();
    await assert.rejects(
      run(method, ROSENBROCK, { signal: before.signal }),
      (e: unknown) => e instanceof DOMException && e.name === "AbortError",
    );
    const during = new AbortController();
    let calls = 0;
    await assert.rejects(
      run(method, ROSENBROCK, {
        signal: during.signal,
        onIteration: (i) => {
          calls++;
          if (i.nit === 3) during.abort(new Error("stop at 3"));
        },
      }),
      /stop at 3/,
    );
    assert.strictEqual(calls, 3);
  });
}

Deno.test("trf: bounds keep every iterate strictly feasible and mark the active bound", async () => {
  const lower = Float64Array.from([-Infinity, -Infinity]);
  const upper = Float64Array.from([0.5, Infinity]);
  const xs: number[][] = [];
  const r = await run("trf", ROSENBROCK, {
    lower,
    upper,
    onIteration: (i) => {
      xs.push(i.state.x);
    },
  });
  assert.ok(r.status >= 1, r.message);
  // Closed form: on x0 = 0.5 the minimum is x1 = x0^2 = 0.25.
  assert.ok(Math.abs(r.x[0] - 0.5) <= 1e-8, `x ${r.x}`);
  assert.ok(Math.abs(r.x[1] - 0.25) <= 1e-8, `x ${r.x}`);
  assert.deepStrictEqual(Array.from(r.activeMask), [1, 0]);
  for (const x of xs) assert.ok(x[0] < 0.5, `iterate ${x} not strictly inside`);
  // A start on the bound is moved inside (scipy's make_strictly_feasible).
  const onBound = await run("trf", { ...ROSENBROCK, x0: [0.5, 0] }, {
    lower,
    upper,
  });
  assert.deepStrictEqual(Array.from(onBound.activeMask), [1, 0]);
  assert.ok(Math.abs(onBound.x[1] - 0.25) <= 1e-8);
});

Deno.test("trf: a resumed bounded run equals the uninterrupted one", async () => {
  const o = {
    lower: Float64Array.from([-Infinity, 1.5]),
    upper: Float64Array.from([3, Infinity]),
  };
  const states: SolverState[] = [];
  const pr = { ...ROSENBROCK, x0: [2, 1.5] };
  const full = await run("trf", pr, {
    ...o,
    onIteration: (i) => {
      states.push(i.state);
    },
  });
  assert.deepStrictEqual(Array.from(full.activeMask), [0, -1]);
  const resumed = await run("trf", pr, { ...o, resume: states[1] });
  assert.deepStrictEqual(resumed.x, full.x);
  assert.strictEqual(resumed.nfev, full.nfev);
});

Deno.test("trf and lm: non-finite residuals at the start are a RangeError", async () => {
  const bad: Problem = {
    fun: (p) => [Math.log(p[0]), 1],
    jac: (p) => [[1 / p[0]], [0]],
    m: 2,
    n: 1,
    x0: [-1],
  };
  for (const method of ["trf", "lm"] as const) {
    await assert.rejects(run(method, bad), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /not finite at the initial point/);
      return true;
    });
  }
});
