/** Every bad input gets a typed error that names the argument and the problem. */

import assert from "node:assert";
import {
  curveFit,
  fit,
  leastSquares,
  model,
  ModelSyntaxError,
} from "../mod.ts";

const m = model("a * exp(-b * x) + c");
const x = [0, 1, 2, 3, 4, 5];
const y = [3, 2.1, 1.5, 1.2, 1.05, 1.0];

async function rejects(
  p: Promise<unknown>,
  type: new (...a: never[]) => Error,
  re: RegExp,
) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

Deno.test("x and y of different lengths", async () => {
  await rejects(
    fit(m, [1, 2, 3], [1, 2], { p0: [1, 1, 0] }),
    RangeError,
    /x has length 3 but y has length 2/,
  );
});

Deno.test("empty data", async () => {
  await rejects(fit(m, [], [], { p0: [1, 1, 0] }), RangeError, /y is empty/);
});

Deno.test("NaN or Inf in x, y, sigma: error naming the index, or dropped", async () => {
  await rejects(
    fit(m, [0, NaN, 2, 3], [1, 2, 3, 4], { p0: [1, 1, 0] }),
    RangeError,
    /x\[1\] is NaN/,
  );
  await rejects(
    fit(m, x, [3, 2, Infinity, 1, 1, 1], { p0: [1, 1, 0] }),
    RangeError,
    /y\[2\] is Infinity/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], sigma: [1, 1, 1, NaN, 1, 1] }),
    RangeError,
    /sigma\[3\] is NaN/,
  );
  const yy = [...y, NaN];
  const r = await fit(m, [...x, 6], yy, { p0: [2, 1, 1], nanPolicy: "omit" });
  assert.strictEqual(r.nPoints, 6);
  assert.ok(r.notes.some((n) => /dropped 1 points/.test(n)));
});

Deno.test("p0 of the wrong length or non-finite", async () => {
  await rejects(
    fit(m, x, y, { p0: [1, 1] }),
    RangeError,
    /p0 has length 2, expected 3/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, NaN, 0] }),
    RangeError,
    /p0\[1\] is NaN/,
  );
});

Deno.test("lower >= upper", async () => {
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], bounds: [[0, 2, -1], [5, 2, 1]] }),
    RangeError,
    /lower bound 2 must be strictly less than upper bound 2 for parameter 1 \(b\)/,
  );
});

Deno.test("p0 outside the bounds is an error naming the parameter", async () => {
  await rejects(
    fit(m, x, y, { p0: [1, 5, 0], bounds: [[0, 0, -1], [5, 2, 1]] }),
    RangeError,
    /p0\[1\] \(b\) = 5 is outside the bounds \[0, 2\]/,
  );
});

Deno.test("non-positive sigma", async () => {
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], sigma: [1, 1, 0, 1, 1, 1] }),
    RangeError,
    /sigma\[2\] = 0; every sigma must be > 0/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], sigma: [1, 1, -2, 1, 1, 1] }),
    RangeError,
    /sigma\[2\] = -2/,
  );
});

Deno.test("2-D sigma that is not positive definite", async () => {
  const bad: number[][] = x.map((_, i) => x.map((_, j) => (i === j ? 1 : 0.9)));
  bad[0][0] = -1;
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], sigma: bad }),
    RangeError,
    /not positive definite/,
  );
  const asym: number[][] = x.map((_, i) => x.map((_, j) => (i === j ? 1 : 0)));
  asym[0][1] = 0.5;
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], sigma: asym }),
    RangeError,
    /not symmetric/,
  );
});

Deno.test("unknown function or syntax error in a model", () => {
  assert.throws(() => model("a * foo(x)"), (e: unknown) => {
    assert.ok(e instanceof ModelSyntaxError);
    assert.match((e as Error).message, /foo/);
    assert.match((e as Error).message, /\^/);
    return true;
  });
  assert.throws(() => model("a * (x + "), ModelSyntaxError);
});

Deno.test("more parameters than data points", async () => {
  await rejects(
    fit(m, [1, 2], [1, 2], { p0: [1, 1, 0] }),
    RangeError,
    /3 parameters but there are only 2 data points/,
  );
});

Deno.test("maxNfev < 1", async () => {
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], maxNfev: 0 }),
    RangeError,
    /maxNfev must be an integer >= 1/,
  );
});

Deno.test("a loss name that does not exist", async () => {
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], loss: "l1" as never }),
    TypeError,
    /loss: unknown loss "l1"/,
  );
});

Deno.test("conflicting or unknown options", async () => {
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], method: "lm", bounds: [0, 10] }),
    TypeError,
    /"lm" does not support bounds/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], method: "lm", loss: "huber" }),
    TypeError,
    /only the linear loss/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], tol: 1 } as never),
    TypeError,
    /unknown option "tol"/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], workflow: "nope" }),
    TypeError,
    /workflow/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], goal: "speedy" }),
    TypeError,
    /goal/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], memoryLimitGb: -1 }),
    RangeError,
    /memoryLimitGb/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], backend: "cuda" as never }),
    TypeError,
    /backend/,
  );
  await rejects(
    fit(m, x, y, { p0: [1, 1, 0], resume: true }),
    TypeError,
    /checkpointDir/,
  );
});

Deno.test("NaN/Inf in a trial step is rejected, not fatal", async () => {
  // From b = 5 the Gauss-Newton step for log(b) overshoots below zero; the
  // NaN trial must shrink the trust region and the fit still converge.
  const mm = model("a * x + log(b)");
  const xs = [1, 2, 3, 4, 5];
  let nanTrials = 0;
  const r = await fit(mm, xs, xs.map((t) => 0.3 * t + Math.log(0.5)), {
    p0: [0.3, 5],
    method: "lm",
    onProgress: (p) => {
      if (p.nfev > p.nit + 1) nanTrials++;
    },
  });
  assert.ok(r.success, r.message);
  assert.ok(Math.abs(r.params.b - 0.5) < 1e-8);
  assert.ok(r.nfev > r.njev, "some trial steps were rejected");
  assert.ok(nanTrials > 0);
});

Deno.test("leastSquares and curveFit validate too", async () => {
  await rejects(
    leastSquares((p) => [p[0]], [NaN]),
    RangeError,
    /x0\[0\] is NaN/,
  );
  await rejects(
    curveFit(m, x, y, { p0: [1, 1, 0], ftol: -1 }),
    RangeError,
    /ftol/,
  );
  await rejects(
    leastSquares((p) => [p[0] - 1], [0], {
      method: "lm",
      jac: "2-point",
      maxNfev: 1.5,
    }),
    RangeError,
    /maxNfev/,
  );
});
