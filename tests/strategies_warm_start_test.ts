// The subsample warm start of the in-memory strategies: same answer as the
// full-data fit from p0, fewer passes, a guard that rejects a worse start,
// and the priming that saves the solver's first pass.
import assert from "node:assert";
import { fit, model } from "../mod.ts";
import {
  GUARD_MARGIN,
  guardWarmStart,
  primedEvaluator,
  sampleRows,
  WARM_START_MIN_POINTS,
  warmStartRowsOf,
} from "../strategies/_warm_start.ts";
import type { StrategyEvaluator } from "../strategies/strategy.ts";

const M = model("a * exp(-b * x) + c");

function data(n: number) {
  const x = new Float64Array(n), y = new Float64Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    x[i] = (5 * i) / (n - 1);
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    y[i] = 2.5 * Math.exp(-1.3 * x[i]) + 0.5 + 0.01 * (s / 2 ** 32 - 0.5);
  }
  return { x, y };
}

const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  }
  return m;
};

for (const strategy of ["standard", "chunked"]) {
  Deno.test(`warm start (${strategy}): same fit as from p0, in fewer passes`, async () => {
    const n = 400_000;
    const { x, y } = data(n);
    const opts = { p0: [1, 1, 0], ftol: 1e-12, xtol: 1e-12, gtol: 1e-12 };
    const warm = await fit(M, x, y, { ...opts, workflow: { strategy } });
    const cold = await fit(M, x, y, {
      ...opts,
      workflow: { strategy, config: { warmStart: false } },
    });
    assert.ok(warm.success && cold.success);
    assert.ok(
      warm.notes.some((l) => /warm start: .* sample of 20000 rows/.test(l)),
      warm.notes.join("\n"),
    );
    assert.ok(!cold.notes.some((l) => l.startsWith("warm start")));
    assert.ok(warm.nfev < cold.nfev, `${warm.nfev} vs ${cold.nfev}`);
    assert.ok(rel(warm.popt, cold.popt) < 1e-9, `${rel(warm.popt, cold.popt)}`);
    assert.ok(Math.abs(warm.cost - cold.cost) <= 1e-12 * cold.cost);
    // Standard errors come from the full data at the solution either way.
    assert.ok(rel(warm.perr, cold.perr) < 1e-6);
  });
}

Deno.test("warm start: the guard keeps p0 when the sample fit is worse on all rows", async () => {
  const { x, y } = data(300_000);
  const best = await fit(M, x, y, {
    p0: [1, 1, 0],
    ftol: 1e-14,
    xtol: 1e-14,
    gtol: 1e-14,
    workflow: { strategy: "standard", config: { warmStart: false } },
  });
  // From the full-data optimum, a fit on 50 rows can only be worse on all
  // rows: the guard must reject it.
  const r = await fit(M, x, y, {
    p0: best.popt,
    workflow: { strategy: "standard", config: { warmStartRows: 50 } },
  });
  assert.ok(
    r.notes.some((l) => /warm start on 50 rows rejected/.test(l)),
    r.notes.join("\n"),
  );
  assert.ok(rel(r.popt, best.popt) < 1e-9);
});

Deno.test("warm start: small fits skip it; settings are checked", async () => {
  const { x, y } = data(WARM_START_MIN_POINTS - 1);
  const r = await fit(M, x, y, { p0: [1, 1, 0], workflow: "standard" });
  assert.ok(!r.notes.some((l) => l.startsWith("warm start")));
  assert.strictEqual(warmStartRowsOf(null, WARM_START_MIN_POINTS - 1), null);
  assert.strictEqual(warmStartRowsOf(null, WARM_START_MIN_POINTS), 20_000);
  assert.strictEqual(warmStartRowsOf(null, 2e6), 40_000);
  assert.strictEqual(warmStartRowsOf(null, 1e8), 50_000);
  assert.strictEqual(warmStartRowsOf({ warmStart: false }, 1e8), null);
  assert.strictEqual(warmStartRowsOf({ warmStartRows: 1234 }, 10), 1234);
  assert.throws(
    () => warmStartRowsOf({ warmStart: "yes" }, 1e6),
    /warmStart must be true or false/,
  );
  assert.throws(
    () => warmStartRowsOf({ warmStartRows: 0 }, 1e6),
    /warmStartRows must be an integer >= 1/,
  );
  await assert.rejects(
    fit(M, x, y, {
      p0: [1, 1, 0],
      workflow: { strategy: "standard", config: { warmStartRows: 2.5 } },
    }),
    /warmStartRows/,
  );
});

Deno.test("sampleRows: runs of rows spread evenly, first row included", () => {
  const x = Float64Array.from({ length: 10_000 }, (_, i) => i);
  const s = sampleRows({ kind: "memory", x: [x], y: x, w: x }, 601);
  // Three runs (at most 256 rows each) of 201, 200 and 200 rows.
  const want = [
    ...Array.from({ length: 201 }, (_, i) => i),
    ...Array.from({ length: 200 }, (_, i) => 3333 + i),
    ...Array.from({ length: 200 }, (_, i) => 6666 + i),
  ];
  assert.deepStrictEqual([...s.x[0]], want);
  assert.deepStrictEqual([...s.y], want);
  assert.deepStrictEqual([...s.w!], want);
  // Asked for more rows than there are: all of them, once.
  assert.deepStrictEqual(
    [
      ...sampleRows({
        kind: "memory",
        x: [x.subarray(0, 5)],
        y: x.subarray(0, 5),
        w: null,
      }, 9).y,
    ],
    [0, 1, 2, 3, 4],
  );
});

Deno.test("primedEvaluator: the primed point is served once, without a pass", async () => {
  let passes = 0;
  const inner: StrategyEvaluator = {
    nParams: 1,
    nResiduals: 3,
    backend: "test",
    notes: ["inner note"],
    evaluate(thetas) {
      passes++;
      return Promise.resolve(thetas.map((t) => ({ cost: t[0] })));
    },
    close() {},
  };
  const ev = primedEvaluator(inner);
  const theta = new Float64Array([2]);
  const e = { cost: 7, lin: undefined };
  ev.prime(theta, e);
  // A request that needs a Jacobian the primed evaluation lacks: a pass.
  assert.deepStrictEqual(await ev.evaluate([theta], [true]), [{ cost: 2 }]);
  assert.strictEqual(passes, 1);
  ev.prime(theta, e);
  assert.deepStrictEqual(await ev.evaluate([theta], [false]), [e]);
  assert.strictEqual(passes, 1);
  // Served once only.
  assert.deepStrictEqual(await ev.evaluate([theta], [false]), [{ cost: 2 }]);
  assert.strictEqual(passes, 2);
  ev.addNote("mine");
  assert.deepStrictEqual(ev.notes, ["inner note", "mine"]);
  assert.strictEqual(ev.backend, "test");
});

Deno.test("warm start: the caller's config reaches a strategy the selector picked", async () => {
  const { x, y } = data(300_000);
  const auto = await fit(M, x, y, { p0: [1, 1, 0], workflow: "auto" });
  assert.strictEqual(auto.strategy, "standard");
  assert.ok(auto.notes.some((l) => l.startsWith("warm start")));
  const off = await fit(M, x, y, {
    p0: [1, 1, 0],
    workflow: { strategy: "auto", config: { warmStart: false } },
  });
  assert.strictEqual(off.strategy, "standard");
  assert.ok(!off.notes.some((l) => l.startsWith("warm start")));
  assert.ok(rel(auto.popt, off.popt) < 1e-8);
});

Deno.test("warm start: sigma, a robust loss and an active bound give the same fit", async () => {
  const n = 300_000;
  const x = new Float64Array(n), y = new Float64Array(n);
  const sigma = new Float64Array(n);
  let s = 11;
  for (let i = 0; i < n; i++) {
    x[i] = (5 * i) / (n - 1);
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    sigma[i] = 0.01 * (1 + x[i] / 5);
    // noise, and one gross outlier per 1000 points
    y[i] = 2.5 * Math.exp(-1.3 * x[i]) + 0.5 +
      3 * sigma[i] * (s / 2 ** 32 - 0.5) + (i % 1000 === 0 ? 1 : 0);
  }
  const opts = {
    p0: [1, 1, 0],
    sigma,
    loss: "soft_l1" as const,
    fScale: 0.02,
    bounds: [[0, 0, -1], [10, 1.25, 1]] as [number[], number[]],
  };
  const warm = await fit(M, x, y, { ...opts, workflow: "standard" });
  const cold = await fit(M, x, y, {
    ...opts,
    workflow: { strategy: "standard", config: { warmStart: false } },
  });
  assert.ok(warm.notes.some((l) => l.startsWith("warm start: fit")));
  assert.deepStrictEqual([...warm.activeMask], [0, 1, 0]); // b at its bound
  assert.deepStrictEqual([...warm.activeMask], [...cold.activeMask]);
  assert.ok(rel(warm.popt, cold.popt) < 1e-8, `${rel(warm.popt, cold.popt)}`);
  assert.ok(Math.abs(warm.cost - cold.cost) <= 1e-12 * cold.cost);
  assert.ok(warm.nfev < cold.nfev);
});

Deno.test("warm start guard: p0's cost on all rows is evaluated only when the sample does not settle it", async () => {
  let costOnly = 0, full = 0;
  const ev = {
    nParams: 1,
    nResiduals: 1000,
    evaluate: (t: readonly Float64Array[], j: readonly boolean[]) => {
      j.forEach((w) => w ? full++ : costOnly++);
      return Promise.resolve(t.map((x) => ({ cost: 1000 * (x[0] - 3) ** 2 })));
    },
  };
  const p0 = new Float64Array([0]), xw = new Float64Array([2.5]);
  // Sample of 100 rows with cost 200 at p0: about 2000 on all rows, and the
  // warm start's 250 is below a quarter of it: p0 is not evaluated.
  let g = await guardWarmStart(ev, p0, xw, 200, 100, 1000);
  assert.deepStrictEqual([g.start, full, costOnly], [xw, 1, 0]);
  assert.match(g.note, /estimated from the sample/);
  // A sample that makes p0 look good: the exact comparison on all rows
  // (9000 at p0) still keeps the warm start.
  g = await guardWarmStart(ev, p0, xw, 2, 100, 1000);
  assert.deepStrictEqual([g.start, full, costOnly], [xw, 2, 1]);
  // A warm start worse than p0 on all rows is rejected.
  g = await guardWarmStart(ev, new Float64Array([2.9]), xw, 2, 100, 1000);
  assert.strictEqual(g.start[0], 2.9);
  assert.match(g.note, /is not below/);
  assert.strictEqual(GUARD_MARGIN, 0.25);
});
