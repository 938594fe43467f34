/**
 * Unit tests of core/_null_space_probe.ts on dense evaluators: no probe at a
 * full-rank minimum or at a zero-cost fit, and a way down from the symmetric
 * saddle of a*exp(-b x) + c*exp(-d x) that a Gauss-Newton solver reaches
 * from a = c, b = d (the saddle's cost is the best single exponential's, in
 * closed form through a two-parameter fit).
 */

import assert from "node:assert";
import { probeNullSpace } from "../core/_null_space_probe.ts";
import { createDenseEvaluator } from "../core/dense_evaluator.ts";
import { toFactor } from "../core/_factor.ts";
import { trf } from "../core/trf.ts";
import type { SolverOptions } from "../core/solver_types.ts";

const X = Array.from({ length: 30 }, (_, i) => 4 * i / 29);
const TRUTH = [2, 0.5, 1, 3];
const Y = X.map((x) => 2 * Math.exp(-0.5 * x) + Math.exp(-3 * x));
const M = X.length;

/** a*exp(-b x) + c*exp(-d x) - y with its exact Jacobian. */
const biexp = () =>
  createDenseEvaluator(
    (p) =>
      X.map((x, i) =>
        p[0] * Math.exp(-p[1] * x) + p[2] * Math.exp(-p[3] * x) - Y[i]
      ),
    M,
    4,
    {
      jac: (p) =>
        X.map((x) => {
          const e1 = Math.exp(-p[1] * x), e2 = Math.exp(-p[3] * x);
          return [e1, -p[0] * x * e1, e2, -p[2] * x * e2];
        }),
    },
  );

/** A*exp(-b x) - y: the symmetric subspace a = c, b = d with A = 2a. */
const single = () =>
  createDenseEvaluator(
    (p) => X.map((x, i) => p[0] * Math.exp(-p[1] * x) - Y[i]),
    M,
    2,
    {
      jac: (p) =>
        X.map((x) => [Math.exp(-p[1] * x), -p[0] * x * Math.exp(-p[1] * x)]),
    },
  );

function options(n: number): SolverOptions {
  return {
    lower: new Float64Array(n).fill(-Infinity),
    upper: new Float64Array(n).fill(Infinity),
    ftol: 1e-12,
    xtol: 1e-12,
    gtol: 1e-12,
    maxNfev: 200,
    xScale: "jac",
  };
}

async function factorAt(ev: ReturnType<typeof biexp>, x: Float64Array) {
  const [e] = await ev.evaluate([x], [true]);
  return toFactor(e.lin!, ev.nParams);
}

const free = (n: number) =>
  [
    new Float64Array(n).fill(-Infinity),
    new Float64Array(n).fill(Infinity),
  ] as const;

Deno.test("probeNullSpace: finds the way down from the symmetric saddle of two exponentials", async () => {
  const ev = biexp();
  // From a = c, b = d the Jacobian's columns come in identical pairs, and
  // TRF stays on the symmetric subspace (up to a few ulps of rounding): it
  // converges to the saddle.
  const saddle = await trf(ev, Float64Array.from([1.5, 1, 1.5, 1]), options(4));
  assert.ok(Math.abs(saddle.x[0] - saddle.x[2]) <= 1e-14 * saddle.x[0]);
  assert.ok(Math.abs(saddle.x[1] - saddle.x[3]) <= 1e-14 * saddle.x[1]);
  // Its cost is the best single exponential's.
  const one = await trf(single(), Float64Array.from([3, 1]), options(2));
  assert.ok(Math.abs(saddle.cost - one.cost) <= 1e-8 * one.cost);
  assert.ok(Math.abs(2 * saddle.x[0] - one.x[0]) <= 1e-6 * one.x[0]);
  assert.ok(saddle.cost > 1e-3, `saddle cost ${saddle.cost}`);

  const fac = await factorAt(ev, saddle.x);
  const found = await probeNullSpace(ev, saddle.x, fac, ...free(4));
  assert.ok(found.point !== null, "no descent found at the saddle");
  assert.ok(found.nfev > 0);
  assert.ok(found.point.cost < saddle.cost * (1 - 1e-8));
  // The reported cost is the cost at the reported point.
  const [check] = await ev.evaluate([found.point.x], [false]);
  assert.strictEqual(check.cost, found.point.cost);
  // The symmetry is broken: from there TRF reaches the exact fit.
  const after = await trf(ev, found.point.x, options(4));
  assert.ok(after.cost < 1e-20, `cost after the probe ${after.cost}`);
  const p = after.x[1] < after.x[3]
    ? Array.from(after.x)
    : [after.x[2], after.x[3], after.x[0], after.x[1]];
  p.forEach((v, k) => assert.ok(Math.abs(v - TRUTH[k]) < 1e-8, `${p}`));
});

Deno.test("probeNullSpace: no probe at a full-rank minimum", async () => {
  const ev = single();
  const r = await trf(ev, Float64Array.from([3, 1]), options(2));
  assert.ok(r.cost > 1e-3); // a real misfit: the probe is not skipped for cost 0
  const found = await probeNullSpace(
    ev,
    r.x,
    await factorAt(ev, r.x),
    ...free(2),
  );
  assert.deepStrictEqual(found, { point: null, nfev: 0 });
});

Deno.test("probeNullSpace: no probe at a zero-cost fit, nor at the cost floor", async () => {
  const ev = biexp();
  const x = Float64Array.from(TRUTH);
  const fac = await factorAt(ev, x);
  assert.strictEqual(fac.cost, 0);
  assert.deepStrictEqual(await probeNullSpace(ev, x, fac, ...free(4)), {
    point: null,
    nfev: 0,
  });
  // At the saddle, a cost floor above the cost means "rounding level".
  const s = Float64Array.from([1.2, 0.9, 1.2, 0.9]);
  const sf = await factorAt(ev, s);
  let asked = 0;
  const found = await probeNullSpace(ev, s, sf, ...free(4), () => {
    asked++;
    return 2 * sf.cost;
  });
  assert.deepStrictEqual(found, { point: null, nfev: 0 });
  assert.strictEqual(asked, 1);
});

Deno.test("probeNullSpace: candidates outside the bounds are not evaluated", async () => {
  const ev = biexp();
  const saddle = await trf(ev, Float64Array.from([1.5, 1, 1.5, 1]), options(4));
  const fac = await factorAt(ev, saddle.x);
  // A box too tight for the smallest probe step (1e-3 of max |D x|).
  const lower = saddle.x.map((v) => v - 1e-12);
  const upper = saddle.x.map((v) => v + 1e-12);
  const found = await probeNullSpace(ev, saddle.x, fac, lower, upper);
  assert.strictEqual(found.point, null);
  // Only the finite-difference Hessian: one evaluation per null direction,
  // (1, 0, -1, 0) and (0, 1, 0, -1) in scaled variables.
  assert.strictEqual(found.nfev, 2);
});
