// fitBatch on bad input: errors that name the argument for a malformed
// call, and a status and message of its own for a bad dataset while the
// other fits are fitted; abort; progress.

import assert from "node:assert";
import { fit, fitBatch, model } from "../mod.ts";
import { makeBatch } from "./_batch_data.ts";

const LINE = "a * x + b";
const x = [0, 1, 2, 3];

Deno.test("fitBatch: malformed calls throw typed errors that name the argument", async () => {
  const cases: [() => Promise<unknown>, ErrorConstructor, RegExp][] = [
    [
      () => fitBatch(LINE, x, [[1, 2, 3, 4], [1, 2, 3]], { p0: [1, 0] }),
      RangeError,
      /Y is ragged: Y\[1\] has length 3, Y\[0\] has 4/,
    ],
    [
      () => fitBatch(LINE, x, new Float64Array(10), { p0: [1, 0] }),
      RangeError,
      /Y has 10 values, not a multiple of nPoints = 4/,
    ],
    [
      () => fitBatch(LINE, x, new Float64Array(8), { p0: [1, 0, 0] }),
      RangeError,
      /p0 has length 3; expected 2 .* or nFits \* 2 = 4/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [[1, 0], [1, 0], [1, 0]],
        }),
      RangeError,
      /p0 has 3 rows; expected one per fit \(2\)/,
    ],
    [
      () => fitBatch(LINE, x, new Float64Array(8), {}),
      TypeError,
      /p0 is required/,
    ],
    [
      () => fitBatch(LINE, x, new Float64Array(8), { p0: [1, NaN] }),
      RangeError,
      /p0\[1\] is NaN/,
    ],
    [
      () =>
        fitBatch(LINE, [0, 1, 2], new Float64Array(8), {
          p0: [1, 0],
          nPoints: 4,
        }),
      RangeError,
      /x has length 3; expected 4/,
    ],
    [
      () => fitBatch(LINE, [0, 1, 2, NaN], new Float64Array(8), { p0: [1, 0] }),
      RangeError,
      /x\[0\]\[3\] is NaN/,
    ],
    [
      () =>
        fitBatch(LINE, x, [[1, 2, "3", 4]] as unknown as number[][], {
          p0: [1, 0],
        }),
      TypeError,
      /Y\[0\]\[2\] is "3"; expected a number/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          sigma: [1, 1, 0, 1],
        }),
      RangeError,
      /sigma\[2\] is 0; expected a finite number > 0/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), { p0: [1, 0], sigma: [1, 1] }),
      RangeError,
      /sigma has length 2/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          fixed: [true, true],
        }),
      RangeError,
      /every parameter is fixed/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          fixed: [1, 0] as unknown as boolean[],
        }),
      TypeError,
      /fixed\[0\] is 1; expected a boolean/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          bounds: [[0, 0], [1]],
        }),
      RangeError,
      /bounds\[1\] \(upper\) has length 1/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          bounds: [[0, 0, 0, 5], [1, 1, 1, 1]],
        }),
      RangeError,
      /lower bound 5 must be strictly less than upper bound 1 for parameter 1 \(b\) of fit 1/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), { p0: [5, 0], bounds: [0, 1] }),
      RangeError,
      /p0\[0\] \(a\) = 5 is outside the bounds/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          bounds: [0, 1],
          method: "lm",
        }),
      TypeError,
      /"lm" does not support bounds/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          estimator: "poisson",
          sigma: [1, 1, 1, 1],
        }),
      TypeError,
      /poisson" takes no sigma/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          estimator: "gauss" as "lse",
        }),
      TypeError,
      /estimator must be "lse" or "poisson"/,
    ],
    [
      () => fitBatch(LINE, x, new Float64Array(8), { p0: [1, 0], threads: 0 }),
      RangeError,
      /threads must be an integer in \[1, 256\]/,
    ],
    [
      () => fitBatch(LINE, x, new Float64Array(8), { p0: [1, 0], ftol: -1 }),
      RangeError,
      /ftol must be a finite number >= 0/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), { p0: [1, 0], tol: 1 } as never),
      TypeError,
      /unknown option "tol"/,
    ],
    [
      () =>
        fitBatch(LINE, x, new Float64Array(8), {
          p0: [1, 0],
          backend: "webgpu",
          loss: "cauchy",
        }),
      TypeError,
      /WebGPU batch engine does not take loss "cauchy"/,
    ],
    [
      () =>
        fitBatch((t: number, a: number) => a * t, x, new Float64Array(8), {
          p0: [1],
        }),
      TypeError,
      /must be an expression/,
    ],
    [
      () =>
        fitBatch(
          model("a * x + b * y", { variables: ["x", "y"] }),
          [x],
          new Float64Array(8),
          { p0: [1, 0] },
        ),
      TypeError,
      /x must be an array of 2 entries/,
    ],
    [
      () => fitBatch(LINE, x, new Float64Array(2), { p0: [1, 0], nPoints: 1 }),
      RangeError,
      /nPoints \(1\) is less than the number of free parameters \(2\)/,
    ],
  ];
  for (const [call, type, message] of cases) {
    await assert.rejects(call, (e: Error) => {
      assert.ok(
        e instanceof type,
        `${message}: got ${e.constructor.name}: ${e.message}`,
      );
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("fitBatch: bad datasets are flagged with their own status; the others are fitted", async () => {
  const d = makeBatch("gaussian", 40, 32, { seed: 51, noise: 0.01 });
  const m = model(d.expr);
  const y = Float64Array.from(d.y), p0 = Float64Array.from(d.p0);
  const n = d.nPoints, p = 4;
  y[3 * n + 5] = NaN; // fit 3: one NaN
  y[7 * n + 31] = Infinity; // fit 7: one Infinity
  for (let k = 0; k < n - 3; k++) y[11 * n + k] = NaN; // fit 11: 3 points left
  p0[15 * p + 2] = NaN; // fit 15: a NaN start
  p0[19 * p + 2] = 0; // fit 19: s = 0, the model is NaN at p0
  const flagged = await fitBatch(m, d.x[0], y, { p0 });
  const expected = new Map([[3, -5], [7, -5], [11, -5], [15, -4], [19, -4]]);
  for (let i = 0; i < d.nFits; i++) {
    const s = expected.get(i);
    if (s === undefined) {
      assert.strictEqual(flagged.success[i], 1, flagged.message(i));
      // The others are fitted exactly as alone.
      const alone = await fitBatch(m, d.x[0], y.subarray(i * n, (i + 1) * n), {
        p0: p0.subarray(i * p, (i + 1) * p),
      });
      assert.deepStrictEqual(
        flagged.popt.subarray(i * p, (i + 1) * p),
        alone.popt,
      );
      continue;
    }
    assert.strictEqual(flagged.status[i], s);
    assert.strictEqual(flagged.success[i], 0);
    assert.ok(
      Number.isNaN(flagged.popt[i * p]) && Number.isNaN(flagged.cost[i]),
    );
  }
  assert.match(flagged.message(3), /NaN or Infinity .*y\[5\] = NaN/);
  assert.match(flagged.message(7), /y\[31\] = Infinity/);
  assert.match(flagged.message(15), /start is not usable: p0\[2\] \(s\) = NaN/);
  assert.match(
    flagged.message(19),
    /model or its derivatives are not finite at every point at p0/,
  );
  assert.strictEqual(flagged.result(3).success, false);
  assert.strictEqual(flagged.result(3).status, -5);

  // nanPolicy "omit": the bad points are dropped and the fit made on the
  // rest, as fit() with nanPolicy "omit" does; too few left is -3.
  const omitted = await fitBatch(m, d.x[0], y, {
    p0,
    nanPolicy: "omit",
    threads: 2,
  });
  assert.strictEqual(omitted.status[11], -3);
  assert.match(
    omitted.message(11),
    /3 of 32 points usable \(y\[0\] = NaN\), 4 free parameters/,
  );
  assert.strictEqual(omitted.status[15], -4);
  for (const i of [3, 7]) {
    const r = await fit(m, d.x[0], y.subarray(i * n, (i + 1) * n), {
      p0: p0.subarray(i * p, (i + 1) * p),
      nanPolicy: "omit",
    });
    assert.strictEqual(omitted.success[i], 1);
    assert.strictEqual(omitted.result(i).nPoints, 31);
    for (let j = 0; j < p; j++) {
      const diff = Math.abs(omitted.popt[i * p + j] - r.popt[j]) /
        Math.abs(r.popt[j]);
      assert.ok(
        diff < 1e-8,
        `fit ${i}: ${omitted.popt[i * p + j]} vs ${r.popt[j]}`,
      );
    }
  }
  // Per-fit sigma with a bad value flags that fit only.
  const sigma = new Float64Array(d.nFits * n).fill(0.01);
  sigma[2 * n + 4] = -1;
  const s = await fitBatch(m, d.x[0], d.y, { p0: d.p0, sigma });
  assert.strictEqual(s.status[2], -5);
  assert.match(s.message(2), /sigma\[4\] = -1/);
  assert.strictEqual(s.nSuccess, d.nFits - 1);
});

Deno.test("fitBatch: a fit that runs out of evaluations says so; an empty batch is empty", async () => {
  const d = makeBatch("gaussian", 5, 32, { seed: 52, noise: 0.01 });
  const b = await fitBatch(model(d.expr), d.x[0], d.y, {
    p0: d.p0,
    maxNfev: 3,
  });
  for (let i = 0; i < 5; i++) {
    assert.strictEqual(b.status[i], 0);
    assert.strictEqual(b.nfev[i], 3);
    assert.match(b.message(i), /maximum number of function evaluations/);
    assert.ok(Number.isFinite(b.popt[i * 4]));
  }
  assert.strictEqual(b.nSuccess, 0);
  const empty = await fitBatch(LINE, x, new Float64Array(0), { p0: [1, 0] });
  assert.strictEqual(empty.nFits, 0);
  assert.strictEqual(empty.popt.length, 0);
  assert.throws(() => empty.result(0), RangeError);
});

Deno.test("fitBatch: an abort stops the batch; progress counts the fits", async () => {
  const d = makeBatch("gaussian", 40_000, 32, { seed: 53, noise: 0.01 });
  const m = model(d.expr);
  for (const threads of [1, 2]) {
    const ctl = new AbortController();
    const seen: number[] = [];
    const t0 = performance.now();
    await assert.rejects(
      fitBatch(m, d.x[0], d.y, {
        p0: d.p0,
        threads,
        signal: ctl.signal,
        onProgress: ({ done, total }) => {
          assert.strictEqual(total, 40_000);
          seen.push(done);
          if (done >= 4096) ctl.abort(new Error("stop here"));
        },
      }),
      /stop here/,
    );
    assert.ok(seen.length >= 1 && seen.at(-1)! < 40_000);
    assert.ok(performance.now() - t0 < 20_000);
  }
  // Already aborted: nothing runs.
  await assert.rejects(
    fitBatch(m, d.x[0], d.y, {
      p0: d.p0,
      signal: AbortSignal.abort(new Error("early")),
    }),
    /early/,
  );
  // A throwing onProgress ends the batch with its error.
  await assert.rejects(
    fitBatch(m, d.x[0], d.y, {
      p0: d.p0,
      onProgress: () => {
        throw new Error("progress failed");
      },
    }),
    /progress failed/,
  );
  // Progress reaches the total.
  const counts: number[] = [];
  const small = await fitBatch(m, d.x[0], d.y.subarray(0, 3000 * 32), {
    p0: d.p0.subarray(0, 3000 * 4),
    onProgress: ({ done }) => {
      counts.push(done);
    },
  });
  assert.strictEqual(counts.at(-1), small.nFits);
  assert.deepStrictEqual(counts, [...counts].sort((a, b) => a - b));
});
