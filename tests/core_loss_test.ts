/**
 * Unit tests of core/loss.ts: rho, rho' and rho'' of every loss and the
 * block rescaling against scipy's own loss functions
 * (`scipy.optimize._lsq.least_squares.IMPLEMENTED_LOSSES`,
 * `construct_loss_function` and `common.scale_for_robust_loss_function`),
 * skipped visibly without python3 + numpy + scipy, and against closed forms.
 */

import assert from "node:assert";
import {
  applyLossToBlock,
  LOSS_NAMES,
  type LossName,
  lossRho,
  validateLoss,
} from "../core/loss.ts";
import { pythonJson, rng, scipyAvailable } from "./_python_json.ts";

const PY = scipyAvailable("core_loss_test");

const Z = [
  0,
  1e-300,
  1e-20,
  1e-8,
  0.25,
  0.999999,
  1,
  1.0000000000000002,
  1.5,
  3,
  10,
  12345.678,
  1e10,
  1e100,
  1e200,
  1e300,
];

function rhoOf(loss: LossName, z: number): number[] {
  const out = new Float64Array(3);
  lossRho(loss, z, out);
  return Array.from(out);
}

/** |a - b| within `rel` of the larger magnitude (or both zero). */
function close(a: number, b: number, rel: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

Deno.test("lossRho: rho, rho', rho'' equal scipy's IMPLEMENTED_LOSSES", {
  ignore: !PY,
}, async () => {
  const want = await pythonJson<Record<string, number[][]>>(
    `
from scipy.optimize._lsq.least_squares import IMPLEMENTED_LOSSES
z = np.array(data["z"], dtype=float)
out = {}
with np.errstate(all="ignore"):
    for name in data["losses"]:
        fn = IMPLEMENTED_LOSSES[name]
        if fn is None:  # linear
            rho = np.vstack([z, np.ones_like(z), np.zeros_like(z)])
        else:
            rho = np.empty((3, z.size))
            fn(z, rho, cost_only=False)
        out[name] = rho.T
emit(out)
`,
    { z: Z, losses: LOSS_NAMES },
  );
  for (const loss of LOSS_NAMES) {
    Z.forEach((z, i) => {
      const got = rhoOf(loss, z);
      for (let k = 0; k < 3; k++) {
        assert.ok(
          close(got[k], want[loss][i][k], 4e-16),
          `${loss} rho${"'".repeat(k)}(${z}) = ${got[k]}, scipy ${
            want[loss][i][k]
          }`,
        );
      }
    });
  }
});

Deno.test("lossRho: closed forms, continuity and derivatives by differences", () => {
  assert.deepStrictEqual(rhoOf("linear", 7), [7, 1, 0]);
  assert.deepStrictEqual(rhoOf("soft_l1", 3), [2, 0.5, -0.0625]);
  assert.deepStrictEqual(rhoOf("huber", 4), [3, 0.5, -0.0625]);
  assert.deepStrictEqual(rhoOf("huber", 0.5), [0.5, 1, 0]);
  assert.deepStrictEqual(rhoOf("cauchy", 1), [Math.LN2, 0.5, -0.25]);
  assert.deepStrictEqual(rhoOf("arctan", 1), [Math.PI / 4, 0.5, -0.5]);
  // Every loss is z near 0 (rho(0) = 0, rho'(0) = 1).
  for (const loss of LOSS_NAMES) {
    const [r0, r1] = rhoOf(loss, 0);
    assert.strictEqual(r0, 0, loss);
    assert.strictEqual(r1, 1, loss);
  }
  // Huber is continuous with a continuous first derivative at z = 1.
  const below = rhoOf("huber", 1), above = rhoOf("huber", 1 + 1e-12);
  assert.ok(Math.abs(below[0] - above[0]) < 1e-11);
  assert.ok(Math.abs(below[1] - above[1]) < 1e-11);
  // rho' and rho'' agree with central differences of rho and rho'.
  for (const loss of LOSS_NAMES) {
    for (const z of [0.3, 2, 17]) {
      const h = 1e-5 * z;
      const [, r1, r2] = rhoOf(loss, z);
      const dp = rhoOf(loss, z + h), dm = rhoOf(loss, z - h);
      const d1 = (dp[0] - dm[0]) / (2 * h), d2 = (dp[1] - dm[1]) / (2 * h);
      assert.ok(Math.abs(d1 - r1) <= 1e-8 * Math.max(1, Math.abs(r1)), loss);
      assert.ok(Math.abs(d2 - r2) <= 1e-7 * Math.max(1, Math.abs(r2)), loss);
    }
  }
});

interface Block {
  loss: LossName;
  fScale: number;
  f: number[];
  /** m x p, row-major. */
  J: number[];
}

const M = 12, P = 3, LD = M + 3;
const EPS = 2.220446049250313e-16;

function makeBlocks(): Block[] {
  const r = rng(7);
  const blocks: Block[] = [];
  for (const loss of LOSS_NAMES) {
    for (const fScale of [0.1, 1, 3.7]) {
      // Residuals from well inside to far outside fScale, with outliers.
      const f = Array.from(
        { length: M },
        (_, i) => r() * 10 ** ((i % 6) - 2) * (i === 5 ? 1e6 : 1),
      );
      f[0] = 0;
      const J = Array.from({ length: M * P }, r);
      blocks.push({ loss, fScale, f, J });
    }
  }
  return blocks;
}

/** The BlockKernel layout: column-major, columns 0..p-1 = J, column p = f. */
function toBlock(b: Block): Float64Array {
  const B = new Float64Array(LD * (P + 1)).fill(NaN); // padding must stay unread
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < P; k++) B[k * LD + i] = b.J[i * P + k];
    B[P * LD + i] = b.f[i];
  }
  return B;
}

Deno.test(
  "applyLossToBlock: cost and rescaled J, f equal scipy's scale_for_robust_loss_function",
  {
    ignore: !PY,
  },
  async () => {
    const blocks = makeBlocks();
    const want = await pythonJson<{ cost: number; f: number[]; J: number[] }[]>(
      `
from scipy.optimize._lsq.least_squares import construct_loss_function
from scipy.optimize._lsq.common import scale_for_robust_loss_function
out = []
for b in data:
    f = np.array(b["f"], dtype=float)
    J = np.array(b["J"], dtype=float).reshape(f.size, -1)
    if b["loss"] == "linear":
        out.append({"cost": 0.5 * float(f @ f), "f": f, "J": J.ravel()})
        continue
    lf = construct_loss_function(f.size, b["loss"], b["fScale"])
    cost = lf(f, cost_only=True)
    rho = lf(f)
    J2, f2 = scale_for_robust_loss_function(J.copy(), f.copy(), rho)
    out.append({"cost": cost, "f": f2, "J": np.asarray(J2).ravel()})
emit(out)
`,
      blocks,
    );
    blocks.forEach((b, t) => {
      const label = `${b.loss} fScale=${b.fScale}`;
      const B = toBlock(b);
      const cost = applyLossToBlock(b.loss, b.fScale, B, LD, M, P, true);
      assert.ok(close(cost, want[t].cost, 1e-14), `${label}: cost ${cost}`);
      for (let i = 0; i < M; i++) {
        // J_scale = rho' + 2 rho'' f^2 / fScale^2 cancels for z >> 1 (for
        // soft_l1 it is (1 + z)^-1.5 from two terms of order z^-0.5): both
        // sides are then accurate only to eps times the condition number.
        const [, r1, r2] = rhoOf(b.loss, (b.f[i] / b.fScale) ** 2);
        const t2 = Math.abs(2 * r2 * (b.f[i] / b.fScale) ** 2);
        const cond = (Math.abs(r1) + t2) / Math.max(Math.abs(r1 - t2), EPS);
        // z itself is formed differently ((f / s)^2 vs f^2 / s^2), and rho'
        // of arctan goes as z^-2: a few ulps apart even without cancellation.
        const tol = 2e-15 * (1 + cond);
        assert.ok(
          close(B[P * LD + i], want[t].f[i], tol),
          `${label}: f[${i}] = ${B[P * LD + i]}, scipy ${want[t].f[i]}`,
        );
        for (let k = 0; k < P; k++) {
          assert.ok(
            close(B[k * LD + i], want[t].J[i * P + k], tol),
            `${label}: J[${i}][${k}] = ${B[k * LD + i]}, scipy ${
              want[t].J[i * P + k]
            }`,
          );
        }
      }
      // The padding rows beyond nRows are not touched.
      for (let k = 0; k <= P; k++) {
        for (let i = M; i < LD; i++) assert.ok(Number.isNaN(B[k * LD + i]));
      }
    });
  },
);

Deno.test("applyLossToBlock: cost only leaves the block alone; linear keeps J and f", () => {
  for (const b of makeBlocks()) {
    const B = toBlock(b);
    const before = Float64Array.from(B);
    const costOnly = applyLossToBlock(b.loss, b.fScale, B, LD, M, P, false);
    assert.deepStrictEqual(B, before);
    const full = applyLossToBlock(b.loss, b.fScale, B, LD, M, P, true);
    assert.strictEqual(costOnly, full);
    // cost = 0.5 fScale^2 sum rho((f / fScale)^2), computed here directly.
    let s = 0;
    for (const f of b.f) s += rhoOf(b.loss, (f / b.fScale) ** 2)[0];
    assert.ok(close(full, 0.5 * b.fScale ** 2 * s, 1e-14), b.loss);
    if (b.loss === "linear") assert.deepStrictEqual(B, before);
  }
  // Linear: cost 0.5 * sum f^2 whatever fScale.
  const B = new Float64Array([1, 1, 3, 4]);
  assert.strictEqual(applyLossToBlock("linear", 0.3, B, 2, 2, 1, true), 12.5);
  assert.deepStrictEqual(Array.from(B), [1, 1, 3, 4]);
});

Deno.test("applyLossToBlock: the curvature clip at EPS keeps far outliers finite", () => {
  // Far outside fScale, rho' + 2 rho'' f^2 is <= 0 for cauchy and arctan;
  // scipy clips it at EPS, so J is scaled by sqrt(EPS) and f stays finite.
  for (const loss of ["cauchy", "arctan"] as const) {
    const B = new Float64Array([2, 1e3]);
    applyLossToBlock(loss, 1, B, 1, 1, 1, true);
    assert.strictEqual(B[0], 2 * Math.sqrt(2.220446049250313e-16), loss);
    assert.ok(Number.isFinite(B[1]) && B[1] > 0, loss);
  }
});

Deno.test("validateLoss: names, default and a typed error naming the argument", () => {
  for (const l of LOSS_NAMES) assert.strictEqual(validateLoss(l), l);
  assert.strictEqual(validateLoss(undefined), "linear");
  assert.throws(() => validateLoss("l2"), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^loss: unknown loss "l2"; expected one of linear/);
    return true;
  });
  assert.throws(() => validateLoss(3), TypeError);
});
