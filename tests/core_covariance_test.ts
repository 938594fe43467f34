/**
 * Unit tests of core/covariance.ts: `covarianceFromFactor` on factors built
 * by the dense evaluator (the QR form) and by `toFactor` from a normal-form
 * linearization, against numpy's pseudo-inverse of J^T J (skipped visibly
 * without python3 + numpy + scipy) and closed forms: full rank, rank
 * deficient (TRF's pseudo-inverse, LM's Infinity), absoluteSigma, m <= p.
 */

import assert from "node:assert";
import { covarianceFromFactor } from "../core/covariance.ts";
import { createDenseEvaluator } from "../core/dense_evaluator.ts";
import { type Factor, toFactor } from "../core/_factor.ts";
import { pythonJson, rng, scipyAvailable } from "./_python_json.ts";

const PY = scipyAvailable("core_covariance_test");

interface Problem {
  name: string;
  m: number;
  p: number;
  /** m x p, row-major. */
  J: number[];
  y: number[];
  x: number[];
}

/** The factor of f(x) = J x - y at `x`, through the dense evaluator. */
async function factorOf(pr: Problem): Promise<Factor> {
  const { m, p, J, y } = pr;
  const ev = createDenseEvaluator(
    (x) =>
      y.map((yi, i) => {
        let s = -yi;
        for (let j = 0; j < p; j++) s += J[i * p + j] * x[j];
        return s;
      }),
    m,
    p,
    { jac: () => J },
  );
  const [e] = await ev.evaluate([Float64Array.from(pr.x)], [true]);
  return toFactor(e.lin!, p);
}

function problem(
  name: string,
  m: number,
  p: number,
  seed: number,
  edit?: (J: number[]) => void,
): Problem {
  const r = rng(seed);
  const J = Array.from(
    { length: m * p },
    (_, k) => r() + (k % p === 0 ? 1 : 0),
  );
  edit?.(J);
  const y = Array.from({ length: m }, r);
  const x = Array.from({ length: p }, (_, j) => 0.1 * (j + 1));
  return { name, m, p, J, y, x };
}

const FULL = problem("full rank 20x3", 20, 3, 1);
const COLLINEAR = problem("collinear 15x3", 15, 3, 2, (J) => {
  for (let i = 0; i < 15; i++) J[i * 3 + 2] = J[i * 3] + J[i * 3 + 1];
});
const SQUARE = problem("square 3x3", 3, 3, 3);
const WIDE = problem("wide 2x3", 2, 3, 4);
const PROBLEMS = [FULL, COLLINEAR, SQUARE, WIDE];

interface Want {
  /** pinv(J^T J), p x p. */
  pinv: number[][];
  rank: number;
}

let wanted: Promise<Want[]> | null = null;
/** numpy's pinv(J^T J) for every problem (computed once). */
function numpyWant(): Promise<Want[]> {
  wanted ??= pythonJson<Want[]>(
    `
out = []
for c in data:
    J = np.array(c["J"]).reshape(c["m"], c["p"])
    out.append({"pinv": np.linalg.pinv(J.T @ J, rcond=1e-10),
                "rank": int(np.linalg.matrix_rank(J))})
emit(out)
`,
    PROBLEMS,
  );
  return wanted;
}

function costOf(pr: Problem): number {
  let s = 0;
  for (let i = 0; i < pr.m; i++) {
    let f = -pr.y[i];
    for (let j = 0; j < pr.p; j++) f += pr.J[i * pr.p + j] * pr.x[j];
    s += f * f;
  }
  return 0.5 * s;
}

function assertClose(
  got: number[][],
  want: number[][],
  scale: number,
  rel: number,
  label: string,
): void {
  let big = 0;
  for (const row of want) for (const v of row) big = Math.max(big, Math.abs(v));
  got.forEach((row, i) =>
    row.forEach((v, j) => {
      const w = want[i][j] * scale;
      assert.ok(
        Math.abs(v - w) <= rel * big * scale,
        `${label}: pcov[${i}][${j}] = ${v}, numpy ${w}`,
      );
    })
  );
}

const allInfinite = (pcov: number[][]) =>
  pcov.every((row) => row.every((v) => v === Infinity));

Deno.test(
  "covarianceFromFactor: full rank equals inv(J^T J) * 2 cost / (m - p)",
  {
    ignore: !PY,
  },
  async () => {
    const [want] = await numpyWant();
    const fac = await factorOf(FULL);
    const cost = costOf(FULL);
    assert.ok(Math.abs(fac.cost - cost) <= 1e-14 * cost);
    const s2 = 2 * cost / (FULL.m - FULL.p);
    for (const method of ["trf", "lm"] as const) {
      const { pcov, rank } = covarianceFromFactor(fac, {
        nResiduals: FULL.m,
        cost,
        absoluteSigma: false,
        method,
      });
      assert.strictEqual(rank, 3);
      assertClose(pcov, want.pinv, s2, 1e-13, method);
      // Symmetric to the last bit.
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < i; j++) assert.strictEqual(pcov[i][j], pcov[j][i]);
      }
    }
  },
);

Deno.test("covarianceFromFactor: absoluteSigma is inv(J^T J), unscaled", {
  ignore: !PY,
}, async () => {
  const [want] = await numpyWant();
  const fac = await factorOf(FULL);
  const { pcov } = covarianceFromFactor(fac, {
    nResiduals: FULL.m,
    cost: 123, // must not matter
    absoluteSigma: true,
    method: "trf",
  });
  assertClose(pcov, want.pinv, 1, 1e-13, "absoluteSigma");
});

Deno.test(
  "covarianceFromFactor: rank deficient, TRF's pseudo-inverse and LM's Infinity",
  {
    ignore: !PY,
  },
  async () => {
    const want = (await numpyWant())[1];
    assert.strictEqual(want.rank, 2);
    const fac = await factorOf(COLLINEAR);
    const cost = costOf(COLLINEAR);
    const s2 = 2 * cost / (COLLINEAR.m - COLLINEAR.p);
    const trf = covarianceFromFactor(fac, {
      nResiduals: COLLINEAR.m,
      cost,
      absoluteSigma: false,
      method: "trf",
    });
    assert.strictEqual(trf.rank, 2);
    assertClose(trf.pcov, want.pinv, s2, 1e-12, "trf pinv");
    // The null vector (1, 1, -1) of J is in the null space of pcov too.
    for (const row of trf.pcov) {
      assert.ok(Math.abs(row[0] + row[1] - row[2]) <= 1e-12 * s2);
    }
    const lm = covarianceFromFactor(fac, {
      nResiduals: COLLINEAR.m,
      cost,
      absoluteSigma: false,
      method: "lm",
    });
    assert.strictEqual(lm.rank, 2);
    assert.ok(allInfinite(lm.pcov));
  },
);

Deno.test(
  "covarianceFromFactor: m = p and m < p",
  { ignore: !PY },
  async () => {
    const want = await numpyWant();
    // m = p: no degrees of freedom, so only absoluteSigma gives a number.
    const sq = await factorOf(SQUARE);
    const o = { nResiduals: 3, cost: costOf(SQUARE), method: "trf" } as const;
    assert.ok(
      allInfinite(
        covarianceFromFactor(sq, { ...o, absoluteSigma: false }).pcov,
      ),
    );
    const abs = covarianceFromFactor(sq, { ...o, absoluteSigma: true });
    assert.strictEqual(abs.rank, 3);
    assertClose(abs.pcov, want[2].pinv, 1, 1e-12, "square absoluteSigma");
    // m < p: rank m; TRF with absoluteSigma gives the pseudo-inverse.
    const wide = await factorOf(WIDE);
    const ow = { nResiduals: 2, cost: costOf(WIDE) } as const;
    const w = covarianceFromFactor(wide, {
      ...ow,
      absoluteSigma: true,
      method: "trf",
    });
    assert.strictEqual(w.rank, 2);
    assertClose(w.pcov, want[3].pinv, 1, 1e-12, "wide trf");
    for (const method of ["trf", "lm"] as const) {
      assert.ok(allInfinite(
        covarianceFromFactor(wide, { ...ow, absoluteSigma: false, method })
          .pcov,
      ));
    }
    assert.ok(allInfinite(
      covarianceFromFactor(wide, { ...ow, absoluteSigma: true, method: "lm" })
        .pcov,
    ));
  },
);

Deno.test("covarianceFromFactor: closed forms (diagonal J, zero J, zero cost)", () => {
  // J = diag(2, 0.5) on 4 residuals: J^T J = diag(4, 0.25).
  const fac: Factor = {
    f: new Float64Array([2, 0, 0, 0.5]),
    qtf: new Float64Array(2),
    g: new Float64Array(2),
    colNorms: new Float64Array([2, 0.5]),
    cost: 3,
  };
  const o = { nResiduals: 4, cost: 3, method: "trf" } as const;
  // s^2 = 2 * 3 / (4 - 2) = 3.
  assert.deepStrictEqual(
    covarianceFromFactor(fac, { ...o, absoluteSigma: false }).pcov,
    [[0.75, 0], [0, 12]],
  );
  assert.deepStrictEqual(
    covarianceFromFactor(fac, { ...o, absoluteSigma: true }).pcov,
    [[0.25, 0], [0, 4]],
  );
  // A zero cost gives a zero covariance (scipy's curve_fit does the same).
  assert.deepStrictEqual(
    covarianceFromFactor(fac, { ...o, cost: 0, absoluteSigma: false }).pcov,
    [[0, 0], [0, 0]],
  );
  // A zero Jacobian: nothing can be estimated.
  const zero = {
    ...fac,
    f: new Float64Array(4),
    colNorms: new Float64Array(2),
  };
  for (const method of ["trf", "lm"] as const) {
    const r = covarianceFromFactor(zero, { ...o, method, absoluteSigma: true });
    assert.strictEqual(r.rank, 0);
    assert.ok(allInfinite(r.pcov));
  }
});

Deno.test(
  "covarianceFromFactor: the normal form through toFactor gives the same pcov",
  {
    ignore: !PY,
  },
  async () => {
    const [want] = await numpyWant();
    const { m, p, J } = FULL;
    const jtj = new Float64Array(p * p);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += J[i * p + a] * J[i * p + b];
        jtj[a * p + b] = s;
      }
    }
    const fac = toFactor(
      { form: "normal", cost: 1, jtj, jtf: new Float64Array(p), nResiduals: m },
      p,
    );
    const { pcov, rank } = covarianceFromFactor(fac, {
      nResiduals: m,
      cost: 1,
      absoluteSigma: true,
      method: "trf",
    });
    assert.strictEqual(rank, 3);
    assertClose(pcov, want.pinv, 1, 1e-12, "normal form");
  },
);
