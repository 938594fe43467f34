/** The workflow system through fit(): presets, selector, strategies, multi-start. */

import assert from "node:assert";
import { fit, model, registerStrategy, WORKFLOW_PRESETS } from "../mod.ts";
import { getStrategy } from "../strategies/mod.ts";
import { loadNist, lre, NIST_NAMES } from "./_nist.ts";

function synthetic(n: number) {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    x[i] = 5 * i / n;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    y[i] = 2.5 * Math.exp(-1.3 * x[i]) + 0.5 + 0.01 * (s / 2 ** 32 - 0.5);
  }
  return { x, y };
}

const expModel = model("a * exp(-b * x) + c");

Deno.test("standard and chunked give the same answer on 2M points (chunked forced by memoryLimitGb)", async () => {
  const { x, y } = synthetic(2_000_000);
  const std = await fit(expModel, x, y, {
    p0: [1, 1, 0],
    workflow: "standard",
  });
  // peak 0.188 GB > 0.75 * 0.1 GB threshold > data 0.030 GB -> chunked.
  const chk = await fit(expModel, x, y, { p0: [1, 1, 0], memoryLimitGb: 0.1 });
  assert.strictEqual(std.strategy, "standard");
  assert.strictEqual(chk.strategy, "chunked");
  assert.ok(chk.notes.some((n) => /^selector: /.test(n)));
  for (let i = 0; i < 3; i++) {
    const rel = Math.abs(std.popt[i] - chk.popt[i]) / Math.abs(std.popt[i]);
    assert.ok(rel < 1e-10, `param ${i}: ${std.popt[i]} vs ${chk.popt[i]}`);
  }
  // Chunk sizes smaller than a pass: many merges, same minimum.
  const small = await fit(
    expModel,
    x.subarray(0, 200_000),
    y.subarray(0, 200_000),
    {
      p0: [1, 1, 0],
      workflow: {
        strategy: "chunked",
        config: { chunkSize: 4096 },
        tolerance: 1e-10,
      },
    },
  );
  const ref = await fit(
    expModel,
    x.subarray(0, 200_000),
    y.subarray(0, 200_000),
    {
      p0: [1, 1, 0],
      workflow: { strategy: "standard", tolerance: 1e-10 },
    },
  );
  for (let i = 0; i < 3; i++) {
    assert.ok(
      Math.abs(small.popt[i] - ref.popt[i]) / Math.abs(ref.popt[i]) < 1e-10,
    );
  }
});

Deno.test("auto: the selector's decision and adaptive tolerances are reported", async () => {
  const { x, y } = synthetic(20_000);
  const r = await fit(expModel, x, y, { p0: [1, 1, 0] });
  assert.strictEqual(r.preset, "auto");
  assert.strictEqual(r.strategy, "standard");
  // 20k points: SMALL < 1e4 < MEDIUM < 1e5 -> 1e-9.
  assert.deepStrictEqual(r.tolerances, { ftol: 1e-9, xtol: 1e-9, gtol: 1e-9 });
  const q = await fit(expModel, x, y, { p0: [1, 1, 0], goal: "quality" });
  assert.strictEqual(q.tolerances.ftol, 1e-10);
  assert.strictEqual(q.nStarts, 20);
  const f = await fit(expModel, x, y, { p0: [1, 1, 0], goal: "fast" });
  assert.strictEqual(f.tolerances.ftol, 1e-8);
  assert.strictEqual(f.nStarts, 1);
});

Deno.test("presets set tolerance and multi-start", async () => {
  const { x, y } = synthetic(5_000);
  for (
    const [name, tol, starts] of [["standard", 1e-8, 1], ["fast", 1e-6, 1], [
      "quality",
      1e-10,
      20,
    ], ["large_robust", 1e-8, 10]] as const
  ) {
    const r = await fit(expModel, x, y, { p0: [1, 1, 0], workflow: name });
    assert.strictEqual(r.preset, name);
    assert.strictEqual(r.tolerances.ftol, tol, name);
    assert.strictEqual(r.nStarts, starts, name);
    assert.ok(Math.abs(r.params.b - 1.3) < 1e-2, name);
  }
  assert.strictEqual(WORKFLOW_PRESETS.large_robust.strategy, "chunked");
});

Deno.test("multi-start: p0 is among the starts, the lowest cost wins, every start reported", async () => {
  // Two-frequency problem with local minima in the frequency.
  const xs = Array.from({ length: 200 }, (_, i) => i / 20);
  const ys = xs.map((t) => Math.sin(2.7 * t));
  const m = model("sin(w * x)");
  const single = await fit(m, xs, ys, { p0: [1], bounds: [[0.1], [5]] });
  const multi = await fit(m, xs, ys, {
    p0: [1],
    bounds: [[0.1], [5]],
    workflow: {
      extends: "quality",
      multiStart: { nStarts: 12, sampler: "sobol" },
    },
  });
  assert.strictEqual(multi.starts.length, 12);
  assert.deepStrictEqual(multi.starts[0].p0, [1]);
  const minCost = Math.min(...multi.starts.map((s) => s.cost));
  assert.ok(Math.abs(multi.cost - minCost) <= 1e-12 * Math.max(1, minCost));
  assert.ok(Math.abs(multi.params.w - 2.7) < 1e-8, `w = ${multi.params.w}`);
  assert.ok(
    single.cost > multi.cost,
    "the single start is stuck in a local minimum",
  );
  assert.ok(multi.notes.some((n) => /validation pass/.test(n)));
});

Deno.test("a user-defined strategy registered from outside is selectable by name", async () => {
  let calls = 0;
  registerStrategy({
    name: "test_counting",
    description: "delegates to standard, counts evaluations",
    accepts: ["memory"],
    async createEvaluator(ctx) {
      const inner = await getStrategy("standard")!.createEvaluator(ctx);
      return {
        ...inner,
        nParams: inner.nParams,
        nResiduals: inner.nResiduals,
        evaluate(t, w) {
          calls += t.length;
          return inner.evaluate(t, w);
        },
        backend: "counting " + inner.backend,
        close: () => inner.close(),
      };
    },
  });
  const { x, y } = synthetic(1000);
  const r = await fit(expModel, x, y, {
    p0: [1, 1, 0],
    workflow: "test_counting",
  });
  assert.strictEqual(r.strategy, "test_counting");
  assert.match(r.backend, /^counting cpu/);
  assert.strictEqual(calls, r.nfev);
  await assert.rejects(
    fit(expModel, x, y, { workflow: { strategy: "not_registered" } }),
    TypeError,
  );
  assert.throws(
    () => registerStrategy({ name: "bad name!" } as never),
    TypeError,
  );
});

Deno.test("workflow quality: all 54 NIST runs reach LRE >= 6", async () => {
  const fails: string[] = [];
  for (const name of NIST_NAMES) {
    const pr = loadNist(name);
    const m = model(pr.expression, {
      variables: pr.variables,
      params: pr.params,
    });
    for (const [k, p0] of [pr.start1, pr.start2].entries()) {
      const r = await fit(m, pr.x.length === 1 ? pr.x[0] : pr.x, pr.y, {
        p0,
        workflow: { extends: "quality", tolerance: 1e-15 },
        maxNfev: 5000,
      });
      const l = Math.min(
        ...pr.certified.map((c, i) => lre(r.popt[i], c)),
        name === "Lanczos1" ? 15 : lre(2 * r.cost, pr.rss),
      );
      if (l < 6) fails.push(`${name}/${k + 1}: ${l.toFixed(2)}`);
    }
  }
  assert.deepStrictEqual(fails, []);
});
