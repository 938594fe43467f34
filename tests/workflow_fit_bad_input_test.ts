/** Every bad input gets a typed error that names the argument and the problem. */

import assert from "node:assert";
import {
  curveFit,
  fit,
  type FitOptions,
  leastSquares,
  model,
  ModelSyntaxError,
} from "../mod.ts";
import { SOLVER_OPTION_KEYS } from "../core/solver_options.ts";
import { iterableSource } from "../data/mod.ts";

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

Deno.test("leastSquares rejects unknown option names like fit", async () => {
  const fun = (p: Float64Array) => [p[0] - 1];
  await rejects(
    leastSquares(fun, [0], { tol: 1 } as never),
    TypeError,
    /leastSquares: unknown option "tol" \(known: jac, onIteration, bounds, method, loss, fScale, xScale, ftol, xtol, gtol, maxNfev, signal\)/,
  );
  // fit's own options are not leastSquares' options
  await rejects(
    leastSquares(fun, [0], { p0: [1] } as never),
    TypeError,
    /leastSquares: unknown option "p0"/,
  );
  await rejects(
    leastSquares(fun, [0], 5 as never),
    TypeError,
    /leastSquares: options must be an object/,
  );
  // and accepts every option it declares
  let iterations = 0;
  const r = await leastSquares(fun, [0], {
    jac: "3-point",
    onIteration: () => {
      iterations++;
    },
    bounds: [-10, 10],
    method: "trf",
    loss: "linear",
    fScale: 1,
    xScale: 1,
    ftol: 1e-10,
    xtol: 1e-10,
    gtol: 1e-10,
    maxNfev: 50,
    signal: new AbortController().signal,
  });
  assert.ok(r.success && Math.abs(r.x[0] - 1) < 1e-8 && iterations > 0);
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

type ErrorClass = new (...a: never[]) => Error;

// Each bad value of each option: the error class, and the option's name in
// the message (with what it must be, where that is short to say).
const BAD_OPTIONS: [string, unknown, ErrorClass, RegExp][] = [
  [
    "nanPolicy",
    "rasie",
    TypeError,
    /nanPolicy must be "raise" or "omit", got "rasie"/,
  ],
  ["nanPolicy", true, TypeError, /nanPolicy/],
  [
    "absoluteSigma",
    "no",
    TypeError,
    /absoluteSigma must be a boolean, got "no"/,
  ],
  ["absoluteSigma", 1, TypeError, /absoluteSigma must be a boolean/],
  [
    "threads",
    0,
    RangeError,
    /threads must be an integer in \[1, 256\] or "auto", got 0/,
  ],
  ["threads", -1, RangeError, /threads .* got -1/],
  ["threads", 1.5, RangeError, /threads .* got 1\.5/],
  ["threads", 1000, RangeError, /threads .* got 1000/],
  ["threads", NaN, RangeError, /threads/],
  ["threads", "4", TypeError, /threads must be "auto" or a number, got "4"/],
  ["checkpointDir", "", TypeError, /checkpointDir must be a non-empty string/],
  ["checkpointDir", 5, TypeError, /checkpointDir/],
  ["checkpointEvery", 0, RangeError, /checkpointEvery/],
  ["checkpointKeep", 2.5, RangeError, /checkpointKeep/],
  ["checkpointKeep", "3", TypeError, /checkpointKeep/],
  [
    "resume",
    "",
    TypeError,
    /resume must be true, false or a checkpoint path, got ""/,
  ],
  ["resume", 1, TypeError, /resume must be/],
  ["method", "LM", TypeError, /method: unknown method "LM"/],
  ["method", 3, TypeError, /method/],
  ["loss", "l2", TypeError, /loss: unknown loss "l2"/],
  ["loss", null, TypeError, /loss/],
  ["fScale", 0, RangeError, /fScale must be a finite number > 0, got 0/],
  ["fScale", Infinity, RangeError, /fScale/],
  ["fScale", "1", TypeError, /fScale must be a number, got "1"/],
  ["xScale", "abc", TypeError, /xScale must be "jac", a number or an array/],
  ["xScale", -1, RangeError, /xScale must be a finite number > 0, got -1/],
  ["xScale", [1, 1], RangeError, /xScale has length 2, expected 3/],
  ["xScale", [1, 0, 1], RangeError, /xScale entries must be > 0/],
  ["xScale", [1, "2", 1], TypeError, /xScale\[1\] is "2"; expected a number/],
  ["ftol", "1e-8", TypeError, /ftol must be a number, got "1e-8"/],
  ["ftol", NaN, RangeError, /ftol must be a finite number >= 0, got NaN/],
  ["xtol", Infinity, RangeError, /xtol/],
  ["gtol", -1, RangeError, /gtol must be a finite number >= 0, got -1/],
  ["maxNfev", 0, RangeError, /maxNfev must be an integer >= 1, got 0/],
  ["maxNfev", 1.5, RangeError, /maxNfev/],
  ["maxNfev", 1e300, RangeError, /maxNfev/],
  ["maxNfev", "10", TypeError, /maxNfev must be a number, got "10"/],
  ["seed", 1.5, RangeError, /seed must be a finite integer, got 1\.5/],
  ["seed", NaN, RangeError, /seed/],
  ["seed", 2 ** 60, RangeError, /seed/],
  ["seed", "x", TypeError, /seed must be a number, got "x"/],
  ["goal", "speedy", TypeError, /goal must be one of/],
  ["goal", 3, TypeError, /goal must be a string/],
  ["workflow", "nope", TypeError, /workflow must be one of/],
  ["workflow", 3, TypeError, /workflow must be an object/],
  ["workflow", { strategy: "warp" }, TypeError, /workflow\.strategy/],
  ["verbose", true, TypeError, /verbose must be 0, 1 or 2, got true/],
  ["verbose", "1", TypeError, /verbose must be 0, 1 or 2, got "1"/],
  ["verbose", 3, TypeError, /verbose/],
  ["signal", {}, TypeError, /signal must be an AbortSignal/],
  ["signal", "x", TypeError, /signal must be an AbortSignal, got "x"/],
  ["onProgress", "log", TypeError, /onProgress must be a function, got "log"/],
  ["onProgress", {}, TypeError, /onProgress must be a function/],
  ["memoryLimitGb", "1", TypeError, /memoryLimitGb must be a number, got "1"/],
  ["memoryLimitGb", 0, RangeError, /memoryLimitGb/],
  [
    "backend",
    "cuda",
    TypeError,
    /backend must be "auto", "cpu" or "webgpu", got "cuda"/,
  ],
  ["p0", "abc", TypeError, /p0 must be an array of numbers, got "abc"/],
  ["p0", 5, TypeError, /p0 must be an array of numbers, got 5/],
  ["p0", ["1", "1", "0"], TypeError, /p0\[0\] is "1"; expected a number/],
  ["p0", [1, 1], RangeError, /p0 has length 2, expected 3/],
  ["bounds", 5, TypeError, /bounds must be a pair \[lower, upper\], got 5/],
  [
    "bounds",
    [0],
    TypeError,
    /bounds must be a pair .* got an array of length 1/,
  ],
  [
    "bounds",
    [null, 1],
    TypeError,
    /bounds\[0\] \(lower\) must be an array of numbers, got null/,
  ],
  [
    "bounds",
    ["0", 1],
    TypeError,
    /bounds\[0\] \(lower\) must be an array of numbers, got "0"/,
  ],
  ["bounds", [[0, "0", 0], 1], TypeError, /bounds\[0\] \(lower\)\[1\] is "0"/],
  ["bounds", [0, NaN], RangeError, /bounds\[1\] \(upper\) is NaN/],
  [
    "sigma",
    "abc",
    TypeError,
    /sigma must be a Float64Array or an array of numbers, got "abc"/,
  ],
  [
    "sigma",
    [1, 1, "1", 1, 1, 1],
    TypeError,
    /sigma\[2\] is "1"; expected a number/,
  ],
];

Deno.test("fit: every bad option value is a typed error naming the option", async () => {
  for (const [key, value, type, re] of BAD_OPTIONS) {
    const options = { p0: [1, 1, 0], [key]: value } as FitOptions;
    await rejects(fit(m, x, y, options), type, re).catch((e) => {
      throw new Error(`${key}: ${JSON.stringify(value)}: ${e.message}`);
    });
  }
});

Deno.test("curveFit and leastSquares check the options they share with fit", async () => {
  const shared = new Set<string>(SOLVER_OPTION_KEYS);
  let checked = 0;
  for (const [key, value, type, re] of BAD_OPTIONS) {
    const label = `${key}: ${JSON.stringify(value)}`;
    const again = (e: Error) => {
      throw new Error(`${label}: ${e.message}`);
    };
    await rejects(
      curveFit(m, x, y, { p0: [1, 1, 0], [key]: value } as FitOptions),
      type,
      re,
    ).catch(again);
    if (!shared.has(key)) continue;
    const residuals = (p: Float64Array) =>
      x.map((t, i) => p[0] * Math.exp(-p[1] * t) + p[2] - y[i]);
    await rejects(
      leastSquares(residuals, [1, 1, 0], { [key]: value } as never),
      type,
      re,
    ).catch(again);
    checked++;
  }
  assert.ok(checked >= 25, `${checked} shared cases`);
});

Deno.test("good values at the edges are accepted", async () => {
  const good: FitOptions[] = [
    { threads: 1 },
    { threads: 256 },
    { threads: "auto" },
    { seed: -1, goal: "robust", bounds: [[0, 0, -5], [10, 5, 5]] },
    { absoluteSigma: false, nanPolicy: "omit" },
    { xScale: "jac" },
    { resume: false },
    { verbose: 0 },
  ];
  for (const o of good) {
    const r = await fit(m, x, y, { p0: [2, 0.5, 1], ...o });
    assert.ok(Number.isFinite(r.cost), JSON.stringify(o));
  }
});

Deno.test("options are checked before a source is read", async () => {
  let pulled = 0;
  const src = iterableSource(function* () {
    pulled++;
    yield { x: [new Float64Array(x)], y: new Float64Array(y) };
  }, { nFeatures: 1 });
  for (const o of [{ threads: 0 }, { ftol: -1 }, { nanPolicy: "x" }]) {
    await assert.rejects(fit(m, src, { p0: [1, 1, 0], ...o } as FitOptions));
  }
  assert.strictEqual(pulled, 0);
  await rejects(
    fit(m, src, undefined as never, { p0: [1, 1, 0] }),
    TypeError,
    /with a data source, options are the third argument/,
  );
});

Deno.test("64-bit integer arrays are refused by name, not converted", async () => {
  const big = BigInt64Array.from(x, (v) => BigInt(v));
  const ubig = BigUint64Array.from(x, (v) => BigInt(v));
  const cases: [Promise<unknown>, RegExp][] = [
    [
      fit(m, big as never, y, { p0: [1, 1, 0] }),
      /^x: BigInt64Array is not supported; convert to Float64Array$/,
    ],
    [
      fit(m, x, ubig as never, { p0: [1, 1, 0] }),
      /^y: BigUint64Array is not supported; convert to Float64Array$/,
    ],
    [
      fit(m, x, y, { p0: [1, 1, 0], sigma: big as never }),
      /^sigma: BigInt64Array is not supported/,
    ],
    [
      fit(m, x, y, { p0: BigInt64Array.of(1n, 1n, 0n) as never }),
      /^p0: BigInt64Array is not supported/,
    ],
    [
      fit(model("a * x0 + b * x1"), [x, big] as never, y),
      /^x\[1\]: BigInt64Array is not supported/,
    ],
    [
      fit(m, x, y, { sigma: x.map((_, i) => i === 2 ? big : [...x]) as never }),
      /^sigma\[2\]: BigInt64Array is not supported/,
    ],
    [curveFit(m, x, big as never), /^y: BigInt64Array/],
    [
      leastSquares((p) => p, BigInt64Array.of(1n) as never),
      /^x0: BigInt64Array/,
    ],
  ];
  for (const [run, re] of cases) await rejects(run, TypeError, re);
});
