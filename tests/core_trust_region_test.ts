/**
 * Unit tests of core/_trust_region.ts against scipy's
 * `scipy.optimize._lsq.common` (skipped visibly without python3 + numpy +
 * scipy): the trust-region subproblem on random full-rank problems (same
 * step and Levenberg-Marquardt parameter), the radius update, the
 * termination test, the Coleman-Li scaling, the bound and trust-region
 * intersections, the 1-D quadratic, feasibility and active constraints; and,
 * in closed form, the rank-revealing behaviour scipy does not have (an
 * unused column gets no step, the minimum-norm Gauss-Newton step is taken
 * inside the region, a tiny but independent column is kept).
 */

import assert from "node:assert";
import { svd } from "../core/linalg.ts";
import {
  checkTermination,
  clScalingVector,
  findActiveConstraints,
  inBounds,
  informativeDirections,
  intersectTrustRegion,
  makeStrictlyFeasible,
  minimizeQuadratic1d,
  nextAfter,
  numericalRank,
  solveLsqTrustRegion,
  stepSizeToBound,
  updateTrRadius,
} from "../core/_trust_region.ts";
import { pythonJson, rng, scipyAvailable } from "./_python_json.ts";

const PY = scipyAvailable("core_trust_region_test");
const F = (a: ArrayLike<number>) => Float64Array.from(a);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

// ---------------------------------------------------------------------------
// solveLsqTrustRegion against scipy's solve_lsq_trust_region.

interface TrCase {
  n: number;
  m: number;
  /** m x n, row-major. */
  J: number[];
  f: number[];
  /** Delta as a multiple of the Gauss-Newton step's norm. */
  deltaFactor: number;
  initialAlpha: number | null;
  rtol: number;
}

interface TrOut {
  s: number[];
  /** n x n row-major, column k the k-th right singular vector. */
  V: number[];
  uf: number[];
  Delta: number;
  p: number[];
  alpha: number;
  nIter: number;
}

function trCases(): TrCase[] {
  const r = rng(2024);
  const cases: TrCase[] = [];
  const shapes = [[3, 8], [4, 12], [5, 20], [2, 2], [6, 9]];
  shapes.forEach(([n, m], k) => {
    const J = Array.from(
      { length: m * n },
      (_, t) => r() + (t % (n + 1) === 0 ? 0.8 : 0),
    );
    const f = Array.from({ length: m }, () => 3 * r());
    for (const deltaFactor of [1e3, 1.01, 0.5, 0.1, 1e-3]) {
      for (const initialAlpha of [null, 0.37 * (k + 1)]) {
        cases.push({ n, m, J, f, deltaFactor, initialAlpha, rtol: 0.01 });
      }
    }
    cases.push({ n, m, J, f, deltaFactor: 0.3, initialAlpha: null, rtol: 0.1 });
  });
  return cases;
}

const TR_SCRIPT = `
from scipy.optimize._lsq.common import solve_lsq_trust_region
out = []
for c in data:
    n, m = c["n"], c["m"]
    J = np.array(c["J"]).reshape(m, n)
    f = np.array(c["f"])
    U, s, VT = np.linalg.svd(J, full_matrices=False)
    V = VT.T
    uf = U.T @ f
    gn = np.linalg.norm(V @ (uf / s))
    Delta = c["deltaFactor"] * gn
    p, alpha, it = solve_lsq_trust_region(n, m, uf, s, V, Delta,
        initial_alpha=c["initialAlpha"], rtol=c["rtol"])
    out.append({"s": s, "V": V.ravel(), "uf": uf, "Delta": Delta, "p": p,
                "alpha": alpha, "nIter": it})
emit(out)
`;

Deno.test(
  "solveLsqTrustRegion: same step and alpha as scipy on full-rank problems",
  {
    ignore: !PY,
  },
  async () => {
    const cases = trCases();
    const want = await pythonJson<TrOut[]>(TR_SCRIPT, cases);
    cases.forEach((c, i) => {
      const w = want[i];
      const label = `n=${c.n} m=${c.m} Delta=${c.deltaFactor} x |p_gn|, ` +
        `alpha0=${c.initialAlpha}`;
      const suf = F(w.s.map((s, k) => s * w.uf[k]));
      // With and without the column norms (all directions informative here).
      const colNorms = new Float64Array(c.n);
      for (let j = 0; j < c.n; j++) {
        let t = 0;
        for (let q = 0; q < c.m; q++) t += c.J[q * c.n + j] ** 2;
        colNorms[j] = Math.sqrt(t);
      }
      for (const cn of [undefined, colNorms]) {
        const got = solveLsqTrustRegion(
          c.n,
          c.m,
          suf,
          F(w.s),
          F(w.V),
          w.Delta,
          c.initialAlpha,
          c.rtol,
          10,
          cn,
        );
        assert.ok(
          maxAbsDiff(got.p, w.p) <= 1e-10 * norm(w.p),
          `${label}: p ${got.p} vs scipy ${w.p}`,
        );
        assert.ok(
          Math.abs(got.alpha - w.alpha) <= 1e-10 * Math.abs(w.alpha),
          `${label}: alpha ${got.alpha} vs scipy ${w.alpha}`,
        );
        assert.strictEqual(got.nIter, w.nIter, label);
        if (c.deltaFactor > 1) {
          assert.strictEqual(got.alpha, 0, label);
          assert.strictEqual(got.nIter, 0, label);
        } else {
          // On the boundary, and a solution of (J^T J + alpha I) p = -J^T f.
          assert.ok(Math.abs(norm(got.p) - w.Delta) <= 1e-14 * w.Delta, label);
          assert.ok(got.alpha > 0, label);
        }
      }
    });
  },
);

Deno.test("solveLsqTrustRegion: (J^T J + alpha I) p = -J^T f on the boundary", () => {
  const r = rng(5);
  const m = 10, n = 4;
  const J = F(Array.from({ length: m * n }, r));
  const f = F(Array.from({ length: m }, r));
  const { u, s, v } = svd(J, m, n);
  const suf = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let t = 0;
    for (let i = 0; i < m; i++) t += u[i * n + k] * f[i];
    suf[k] = s[k] * t;
  }
  const gn = solveLsqTrustRegion(n, m, suf, s, v, Infinity, null);
  const Delta = 0.2 * norm(gn.p);
  const { p, alpha } = solveLsqTrustRegion(n, m, suf, s, v, Delta, null);
  assert.ok(Math.abs(norm(p) - Delta) <= 1e-14 * Delta);
  // Residual of the damped normal equations, relative to J^T f. The final
  // rescaling onto the boundary moves p by at most rtol = 1%.
  const jp = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) jp[i] += J[i * n + j] * p[j];
  }
  const res = new Float64Array(n), jtf = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      res[j] += J[i * n + j] * (jp[i] + f[i]);
      jtf[j] += J[i * n + j] * f[i];
    }
    res[j] += alpha * p[j];
  }
  assert.ok(norm(res) <= 0.02 * norm(jtf), `residual ${norm(res)}`);
});

/** SVD inputs for J and f: s, v, suf and the column norms. */
function subproblem(J: number[], f: number[], m: number, n: number) {
  const A = F(J);
  const { u, s, v } = svd(A, m, n);
  const suf = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let t = 0;
    for (let i = 0; i < m; i++) t += u[i * n + k] * f[i];
    suf[k] = s[k] * t;
  }
  const colNorms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let t = 0;
    for (let i = 0; i < m; i++) t += A[i * n + j] ** 2;
    colNorms[j] = Math.sqrt(t);
  }
  return { s, v, suf, colNorms };
}

Deno.test("solveLsqTrustRegion: an unused parameter gets a zero step", () => {
  // Column 2 is zero: the minimum-norm step leaves parameter 2 alone.
  const J = [1, 2, 0, 0, 1, 0, 1, 0, 0, 2, -1, 0];
  const f = [1, -2, 0.5, 3];
  const { s, v, suf, colNorms } = subproblem(J, f, 4, 3);
  assert.deepStrictEqual(
    Array.from(informativeDirections(s, v, 4, 3, colNorms)),
    [1, 1, 0],
  );
  // Closed form of the 4 x 2 least-squares problem on columns 0 and 1:
  // J2^T J2 = [[6, 0], [0, 6]], J2^T f = [7.5, -3] -> p = [-1.25, 0.5].
  const big = solveLsqTrustRegion(
    3,
    4,
    suf,
    s,
    v,
    100,
    null,
    0.01,
    10,
    colNorms,
  );
  assert.strictEqual(big.alpha, 0);
  assert.ok(maxAbsDiff(big.p, [-1.25, 0.5, 0]) <= 1e-15, `${big.p}`);
  assert.strictEqual(big.p[2], 0);
  const small = solveLsqTrustRegion(
    3,
    4,
    suf,
    s,
    v,
    0.5,
    null,
    0.01,
    10,
    colNorms,
  );
  assert.strictEqual(small.p[2], 0);
  assert.ok(Math.abs(norm(small.p) - 0.5) <= 1e-15);
  assert.ok(small.alpha > 0);
  // The boundary step points along the Gauss-Newton step (J2^T J2 = 6 I).
  const dir = [-1.25, 0.5].map((t) => t * 0.5 / norm([-1.25, 0.5]));
  assert.ok(maxAbsDiff([small.p[0], small.p[1]], dir) <= 1e-15);
});

Deno.test(
  "solveLsqTrustRegion: the minimum-norm Gauss-Newton step when it fits (collinear columns)",
  {
    ignore: !PY,
  },
  async () => {
    const m = 6, n = 3;
    const r = rng(77);
    const J: number[] = [];
    for (let i = 0; i < m; i++) {
      const a = r() + 1, b = r();
      J.push(a, b, a + b);
    }
    const f = Array.from({ length: m }, r);
    const { s, v, suf, colNorms } = subproblem(J, f, m, n);
    assert.strictEqual(informativeDirections(s, v, m, n, colNorms)[2], 0);
    const want = await pythonJson<
      { pinv: number[]; scipyNorm: number; delta: number }
    >(
      `
from scipy.optimize._lsq.common import solve_lsq_trust_region
J = np.array(data["J"]).reshape(${m}, ${n}); f = np.array(data["f"])
pinv = -np.linalg.pinv(J) @ f
U, s, VT = np.linalg.svd(J, full_matrices=False)
Delta = 10 * np.linalg.norm(pinv)
p, alpha, it = solve_lsq_trust_region(${n}, ${m}, U.T @ f, s, VT.T, Delta)
emit({"pinv": pinv, "scipyNorm": np.linalg.norm(p), "delta": Delta})
`,
      { J, f },
    );
    const got = solveLsqTrustRegion(
      n,
      m,
      suf,
      s,
      v,
      want.delta,
      null,
      0.01,
      10,
      colNorms,
    );
    assert.strictEqual(got.alpha, 0);
    assert.strictEqual(got.nIter, 0);
    assert.ok(
      maxAbsDiff(got.p, want.pinv) <= 1e-13 * norm(want.pinv),
      `${got.p} vs pinv ${want.pinv}`,
    );
    // scipy, seeing a rank-deficient J, steps to the boundary instead: ten
    // times further than the minimum along the directions it can see.
    assert.ok(Math.abs(want.scipyNorm - want.delta) <= 0.01 * want.delta);
  },
);

Deno.test("solveLsqTrustRegion: a tiny but independent column keeps its direction", () => {
  // J = [[1, 0], [0, 1e-20], [0, 0]], f = [1, 2e-20, 5]: the Gauss-Newton
  // step is exactly (-1, -2).
  const { s, v, suf, colNorms } = subproblem(
    [1, 0, 0, 1e-20, 0, 0],
    [1, 2e-20, 5],
    3,
    2,
  );
  const kept = solveLsqTrustRegion(
    2,
    3,
    suf,
    s,
    v,
    10,
    null,
    0.01,
    10,
    colNorms,
  );
  assert.deepStrictEqual(Array.from(kept.p), [-1, -2]);
  assert.strictEqual(kept.alpha, 0);
  // Without the column norms the 1e-20 direction looks like rounding.
  const dropped = solveLsqTrustRegion(2, 3, suf, s, v, 10, null);
  assert.deepStrictEqual(Array.from(dropped.p), [-1, 0]);
});

Deno.test("numericalRank and informativeDirections: scipy's s[0] rule and the column-norm rule", () => {
  assert.strictEqual(numericalRank(F([3, 2, 1]), 5, 3), 3);
  // Cut-off eps * max(m, n) * s[0] = 2.2e-16 * 100 * 1.
  assert.strictEqual(numericalRank(F([1, 2.3e-14, 2.1e-14]), 100, 3), 2);
  const { s, v } = svd(F([1, 0, 0, 1e-20]), 2, 2);
  assert.deepStrictEqual(Array.from(informativeDirections(s, v, 2, 2)), [1, 0]);
  assert.deepStrictEqual(
    Array.from(informativeDirections(s, v, 2, 2, F([1, 1e-20]))),
    [1, 1],
  );
});

// ---------------------------------------------------------------------------
// The scalar helpers against scipy's common.py.

type Vec = number[];
interface HelperInput {
  upd: [number, number, number, number, boolean][];
  term: [number, number, number, number, number, number, number][];
  cl: { x: Vec; g: Vec; lb: Vec; ub: Vec }[];
  ssb: { x: Vec; s: Vec; lb: Vec; ub: Vec }[];
  itr: { x: Vec; s: Vec; Delta: number }[];
  mq: [number, number, number, number, number][];
  feas: { x: Vec; lb: Vec; ub: Vec; rstep: number }[];
  next: [number, number][];
}

interface HelperOutput {
  upd: [number, number][];
  term: (number | null)[];
  cl: { v: Vec; dv: Vec }[];
  ssb: { step: number; hits: Vec }[];
  itr: [number, number][];
  mq: [number, number][];
  active: Vec[];
  feasible: Vec[];
  next: number[];
}

const INF = Infinity;

function helperInput(): HelperInput {
  const r = rng(99);
  const upd: HelperInput["upd"] = [];
  for (
    const [a, p] of [
      [1, 1],
      [0.1, 1],
      [0.5, 1],
      [0.9, 1],
      [-1, 1],
      [0, 0],
      [1, 0],
      [1, -1],
      [0, -1e-20],
      [3, 2],
    ]
  ) {
    for (const hit of [true, false]) upd.push([2.5, a, p, 1.7, hit]);
  }
  const term: HelperInput["term"] = [];
  for (const dF of [0, 1e-10, 1e-3]) {
    for (const dx of [0, 1e-12, 1e-4]) {
      for (const ratio of [0.1, 0.3, 0.9]) {
        term.push([dF, 2, dx, 3, ratio, 1e-8, 1e-8]);
      }
    }
  }
  term.push([1e-9, 0, 0, 0, 1, 1e-8, 1e-8]); // F = 0
  const bounds = (n: number) => {
    const lb = Array.from(
      { length: n },
      (_, i) => (i % 3 === 2 ? -INF : -1 + r()),
    );
    const ub = Array.from(
      { length: n },
      (_, i) => (i % 4 === 3 ? INF : 2 + r()),
    );
    return { lb, ub };
  };
  const cl: HelperInput["cl"] = [];
  const ssb: HelperInput["ssb"] = [];
  const feas: HelperInput["feas"] = [];
  for (let t = 0; t < 6; t++) {
    const n = 8;
    const { lb, ub } = bounds(n);
    const x = lb.map((l, i) => {
      const lo = Number.isFinite(l) ? l : -3,
        hi = Number.isFinite(ub[i]) ? ub[i] : 5;
      return lo + (hi - lo) * (r() + 0.5);
    });
    const g = x.map((_, i) => (i % 5 === 0 ? 0 : r()));
    cl.push({ x, g, lb, ub });
    const s = x.map((_, i) => (i % 6 === 1 ? 0 : 4 * r()));
    ssb.push({ x, s, lb, ub });
    // On, just inside and outside the bounds, and a box too tight for the
    // relative step (lb == ub itself is refused by the bounds validation).
    const xf = x.slice();
    xf[0] = lb[0];
    xf[1] = ub[1];
    xf[3] = lb[3] + 1e-12;
    xf[4] = ub[4] - 1e-3;
    xf[6] = ub[6] + 1;
    const lbf = lb.slice(), ubf = ub.slice();
    lbf[7] = xf[7] = 0.25;
    ubf[7] = 0.25 + 1e-12;
    for (const rstep of [1e-10, 0, 1e-2]) {
      feas.push({ x: xf, lb: lbf, ub: ubf, rstep });
    }
  }
  // Large bounds, where |lb| > 1 sets the threshold.
  feas.push({
    x: [1e6, -1e6 + 1e-5],
    lb: [1e6, -1e6],
    ub: [2e6, 0],
    rstep: 1e-10,
  });
  // All-zero direction: no bound is ever hit.
  ssb.push({ x: [0, 0], s: [0, 0], lb: [-1, -1], ub: [1, 1] });
  const itr: HelperInput["itr"] = [];
  for (let t = 0; t < 6; t++) {
    const x = [r(), r(), r()];
    itr.push({ x, s: [r(), r(), 3 * r()], Delta: 1 + t });
  }
  itr.push({ x: [0, 0], s: [1, 0], Delta: 2 });
  const mq: HelperInput["mq"] = [
    [1, -1, -2, 2, 0],
    [1, -1, 1, 2, 0.5],
    [-1, 0.3, -2, 2, 0],
    [0, 1, -1, 3, 0],
    [0, -1, -1, 3, 7],
    [2, 4, -3, 3, 0],
    [0, 0, -1, 1, 0],
  ];
  const next: [number, number][] = [
    [1, 2],
    [1, 0],
    [-1, -2],
    [-1, 0],
    [0, 1],
    [0, -1],
    [5e-324, 0],
    [1e300, INF],
    [2.2250738585072014e-308, 0],
    [3, 3],
    [0.1, -INF],
  ];
  return { upd, term, cl, ssb, itr, mq, feas, next };
}

const HELPER_SCRIPT = `
from scipy.optimize._lsq.common import (update_tr_radius, check_termination,
    CL_scaling_vector, step_size_to_bound, intersect_trust_region,
    minimize_quadratic_1d, make_strictly_feasible, find_active_constraints)
A = lambda v: np.array(v, dtype=float)
out = {}
out["upd"] = [list(update_tr_radius(*c)) for c in data["upd"]]
out["term"] = [check_termination(*c) for c in data["term"]]
out["cl"] = [dict(zip(["v", "dv"], CL_scaling_vector(A(c["x"]), A(c["g"]), A(c["lb"]), A(c["ub"])))) for c in data["cl"]]
out["ssb"] = []
for c in data["ssb"]:
    step, hits = step_size_to_bound(A(c["x"]), A(c["s"]), A(c["lb"]), A(c["ub"]))
    out["ssb"].append({"step": step, "hits": hits})
out["itr"] = [list(intersect_trust_region(A(c["x"]), A(c["s"]), c["Delta"])) for c in data["itr"]]
out["mq"] = [list(minimize_quadratic_1d(*c)) for c in data["mq"]]
out["active"] = [find_active_constraints(A(c["x"]), A(c["lb"]), A(c["ub"]), c["rstep"]) for c in data["feas"]]
out["feasible"] = [make_strictly_feasible(A(c["x"]), A(c["lb"]), A(c["ub"]), c["rstep"]) for c in data["feas"]]
out["next"] = [np.nextafter(a, b) for a, b in data["next"]]
emit(out)
`;

let helpers: Promise<[HelperInput, HelperOutput]> | null = null;
function scipyHelpers(): Promise<[HelperInput, HelperOutput]> {
  helpers ??= (async () => {
    const input = helperInput();
    return [input, await pythonJson<HelperOutput>(HELPER_SCRIPT, input)];
  })();
  return helpers;
}

Deno.test(
  "updateTrRadius equals scipy's update_tr_radius",
  { ignore: !PY },
  async () => {
    const [input, want] = await scipyHelpers();
    input.upd.forEach((c, i) => {
      const got = updateTrRadius(...c);
      assert.deepStrictEqual([got.Delta, got.ratio], want.upd[i], `${c}`);
    });
  },
);

Deno.test("updateTrRadius: closed forms", () => {
  // Poor agreement shrinks to a quarter of the step; good agreement on the
  // boundary doubles; anything between keeps Delta.
  assert.deepStrictEqual(updateTrRadius(4, 0.1, 1, 2, true), {
    Delta: 0.5,
    ratio: 0.1,
  });
  assert.deepStrictEqual(updateTrRadius(4, 0.9, 1, 2, true), {
    Delta: 8,
    ratio: 0.9,
  });
  assert.deepStrictEqual(updateTrRadius(4, 0.9, 1, 2, false), {
    Delta: 4,
    ratio: 0.9,
  });
  assert.deepStrictEqual(updateTrRadius(4, 0.5, 1, 2, true), {
    Delta: 4,
    ratio: 0.5,
  });
  assert.deepStrictEqual(updateTrRadius(4, 0, 0, 2, true), {
    Delta: 8,
    ratio: 1,
  });
  assert.deepStrictEqual(updateTrRadius(4, 0, 0, 2, false), {
    Delta: 4,
    ratio: 1,
  });
  assert.deepStrictEqual(updateTrRadius(4, 1, 0, 2, true), {
    Delta: 0.5,
    ratio: 0,
  });
});

Deno.test(
  "checkTermination equals scipy's check_termination",
  { ignore: !PY },
  async () => {
    const [input, want] = await scipyHelpers();
    input.term.forEach((c, i) => {
      assert.strictEqual(checkTermination(...c), want.term[i], `${c}`);
    });
  },
);

Deno.test("checkTermination: the scaled xtol test must hold too", () => {
  const xtol = 1e-8;
  // A step of 1e-12 on |x| = 1 passes the plain xtol test ...
  assert.strictEqual(checkTermination(1, 1, 1e-12, 1, 0.5, 1e-8, xtol), 3);
  // ... but not when, scaled by the Jacobian's column norms, the step is
  // large against a parameter of order 1e-12 (scaled: 1e-2 on 1).
  assert.strictEqual(
    checkTermination(1, 1, 1e-12, 1, 0.5, 1e-8, xtol, {
      dxNorm: 1e-2,
      xNorm: 1,
    }),
    null,
  );
  assert.strictEqual(
    checkTermination(1, 1, 1e-12, 1, 0.5, 1e-8, xtol, {
      dxNorm: 1e-9,
      xNorm: 1,
    }),
    3,
  );
  // The scaled test never makes xtol hold on its own.
  assert.strictEqual(
    checkTermination(1, 1, 1, 1, 0.5, 1e-8, xtol, { dxNorm: 0, xNorm: 1 }),
    null,
  );
  // ftol alone, and both, with a scaled test that fails and one that holds.
  assert.strictEqual(
    checkTermination(1e-10, 1, 1e-12, 1, 0.5, 1e-8, xtol, {
      dxNorm: 1,
      xNorm: 1,
    }),
    2,
  );
  assert.strictEqual(
    checkTermination(1e-10, 1, 1e-12, 1, 0.5, 1e-8, xtol, {
      dxNorm: 0,
      xNorm: 1,
    }),
    4,
  );
  // ftol needs ratio > 0.25.
  assert.strictEqual(checkTermination(1e-10, 1, 1, 1, 0.2, 1e-8, xtol), null);
});

Deno.test(
  "clScalingVector equals scipy's CL_scaling_vector",
  { ignore: !PY },
  async () => {
    const [input, want] = await scipyHelpers();
    input.cl.forEach((c, i) => {
      const { v, dv } = clScalingVector(F(c.x), F(c.g), F(c.lb), F(c.ub));
      assert.deepStrictEqual(Array.from(v), want.cl[i].v);
      assert.deepStrictEqual(
        Array.from(dv, (t) => t + 0),
        want.cl[i].dv.map((t) => t + 0),
      );
    });
  },
);

Deno.test(
  "stepSizeToBound equals scipy's step_size_to_bound",
  { ignore: !PY },
  async () => {
    const [input, want] = await scipyHelpers();
    input.ssb.forEach((c, i) => {
      const { step, hits } = stepSizeToBound(F(c.x), F(c.s), F(c.lb), F(c.ub));
      assert.strictEqual(step, want.ssb[i].step);
      assert.deepStrictEqual(Array.from(hits), want.ssb[i].hits);
    });
  },
);

Deno.test("stepSizeToBound: closed form", () => {
  // From 0 along (1, -2) in [-1, 1]^2: the second coordinate hits -1 at 0.5.
  const { step, hits } = stepSizeToBound(
    F([0, 0]),
    F([1, -2]),
    F([-1, -1]),
    F([1, 1]),
  );
  assert.strictEqual(step, 0.5);
  assert.deepStrictEqual(Array.from(hits), [0, -1]);
});

Deno.test("intersectTrustRegion equals scipy's intersect_trust_region", {
  ignore: !PY,
}, async () => {
  const [input, want] = await scipyHelpers();
  input.itr.forEach((c, i) => {
    const [t1, t2] = intersectTrustRegion(F(c.x), F(c.s), c.Delta);
    const [w1, w2] = want.itr[i];
    assert.ok(Math.abs(t1 - w1) <= 1e-14 * Math.abs(w1), `${t1} vs ${w1}`);
    assert.ok(Math.abs(t2 - w2) <= 1e-14 * Math.abs(w2), `${t2} vs ${w2}`);
    // Both roots lie on the sphere.
    for (const t of [t1, t2]) {
      const y = c.x.map((xi, k) => xi + t * c.s[k]);
      assert.ok(Math.abs(norm(y) - c.Delta) <= 1e-14 * c.Delta);
    }
  });
  assert.throws(() => intersectTrustRegion(F([0]), F([0]), 1), RangeError);
});

Deno.test("minimizeQuadratic1d equals scipy's minimize_quadratic_1d", {
  ignore: !PY,
}, async () => {
  const [input, want] = await scipyHelpers();
  input.mq.forEach(([a, b, lb, ub, c], i) => {
    const got = minimizeQuadratic1d(a, b, lb, ub, c);
    assert.deepStrictEqual(
      [got.t, got.value],
      want.mq[i],
      `${[a, b, lb, ub, c]}`,
    );
  });
  // t^2 - t on [-2, 2]: minimum -1/4 at t = 1/2.
  assert.deepStrictEqual(minimizeQuadratic1d(1, -1, -2, 2), {
    t: 0.5,
    value: -0.25,
  });
});

Deno.test("findActiveConstraints and makeStrictlyFeasible equal scipy's", {
  ignore: !PY,
}, async () => {
  const [input, want] = await scipyHelpers();
  input.feas.forEach((c, i) => {
    const x = F(c.x), lb = F(c.lb), ub = F(c.ub);
    assert.deepStrictEqual(
      Array.from(findActiveConstraints(x, lb, ub, c.rstep)),
      want.active[i],
      `active, rstep ${c.rstep}`,
    );
    assert.deepStrictEqual(
      Array.from(makeStrictlyFeasible(x, lb, ub, c.rstep)),
      want.feasible[i],
      `feasible, rstep ${c.rstep}`,
    );
  });
});

Deno.test("makeStrictlyFeasible: strictly inside, by one ulp with rstep 0", () => {
  const lb = F([0, -1, 1]), ub = F([1, 1, 1]);
  const x = makeStrictlyFeasible(F([0, 1, 1]), lb, ub, 0);
  assert.strictEqual(x[0], 5e-324);
  assert.strictEqual(x[1], 1 - 2 ** -53);
  assert.strictEqual(x[2], 1); // lb = ub: the midpoint
  assert.ok(inBounds(x, lb, ub));
  assert.ok(!inBounds(F([2, 0, 1]), lb, ub));
  assert.ok(!inBounds(F([NaN, 0, 1]), lb, ub));
});

Deno.test("nextAfter equals numpy.nextafter", { ignore: !PY }, async () => {
  const [input, want] = await scipyHelpers();
  input.next.forEach(([a, b], i) => {
    assert.strictEqual(nextAfter(a, b), want.next[i], `nextafter(${a}, ${b})`);
  });
  assert.ok(Number.isNaN(nextAfter(NaN, 1)));
});
