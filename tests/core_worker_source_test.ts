/**
 * The functions worker threads run are copied in as source text from the
 * modules' own lists (core/_worker_source.ts). Each list must hold every
 * name its functions read: here each one runs alone in an empty scope, for
 * every loss and both accumulations, and real workers (the path of fits from
 * 50,000 points) give the one-thread linearization for every loss.
 */

import assert from "node:assert";
import { model } from "../mod.ts";
import {
  applyLossToBlock,
  LOSS_NAMES,
  LOSS_WORKER_PART,
  lossRho,
} from "../core/loss.ts";
import {
  accumulateGram,
  householderMergeRows,
  LINALG_WORKER_PART,
} from "../core/linalg.ts";
import {
  CPU_EVALUATOR_WORKER_PART,
  linearizeRange,
} from "../core/cpu_evaluator.ts";
import { type WorkerPart, workerSource } from "../core/_worker_source.ts";
import {
  linearizeTable,
  splitTableRows,
  TABLE_ROWS_WORKER_PART,
} from "../core/_table_rows.ts";
import {
  createBatchRunner,
  createParallelEvaluator,
} from "../core/parallel_evaluator.ts";
import { THREADS_MIN_POINTS } from "../strategies/_backend.ts";
import type { Evaluation } from "../core/linearization.ts";

/** The functions of `part` (and of the parts it needs), built from source in an empty scope. */
// deno-lint-ignore no-explicit-any
function isolated(part: WorkerPart, names: readonly string[]): any {
  return new Function(
    `${workerSource([part])}\nreturn { ${names.join(", ")} };`,
  )();
}

// Both sides of every branch: huber switches at z = 1, soft_l1/cauchy/arctan
// are smooth; 1e300 overflows z^2 in arctan.
const Z = [0, 1e-20, 0.25, 1, 1.0000000000000002, 1.5, 3, 1e10, 1e300];

function data(n: number) {
  const x = new Float64Array(n), y = new Float64Array(n);
  let s = 11;
  for (let i = 0; i < n; i++) {
    x[i] = 5 * i / (n - 1);
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // outliers every 97th point, so robust losses see both regimes
    y[i] = 2.5 * Math.exp(-1.3 * x[i]) + 0.5 + 0.01 * (s / 2 ** 32 - 0.5) +
      (i % 97 === 0 ? 0.3 : 0);
  }
  const w = x.map((t) => 1 / (0.01 + 0.001 * t));
  return { x: [x], y, w };
}

Deno.test("workerSource: the loss part alone computes every loss bit for bit", () => {
  const iso = isolated(LOSS_WORKER_PART, ["lossRho", "applyLossToBlock"]);
  for (const name of LOSS_NAMES) {
    for (const z of Z) {
      const a = new Float64Array(3), b = new Float64Array(3);
      lossRho(name, z, a);
      iso.lossRho(name, z, b);
      assert.deepStrictEqual(b, a, `${name} at z = ${z}`);
    }
    for (const withJac of [false, true]) {
      const B = Float64Array.from({ length: 3 * 8 }, (_, i) => (i - 9) / 3);
      const B2 = Float64Array.from(B);
      const c = applyLossToBlock(name, 0.5, B, 8, 8, 2, withJac);
      const c2 = iso.applyLossToBlock(name, 0.5, B2, 8, 8, 2, withJac);
      assert.strictEqual(c2, c, name);
      assert.deepStrictEqual(B2, B, name);
    }
  }
  assert.throws(
    () => iso.lossRho("l2", 1, new Float64Array(3)),
    /unknown loss/,
  );
});

Deno.test("workerSource: the linear-algebra part alone merges blocks bit for bit", () => {
  const iso = isolated(LINALG_WORKER_PART, [
    "householderMergeRows",
    "accumulateGram",
  ]);
  // Ordinary columns, then columns whose squares overflow (hypotColumn).
  for (const scale of [1, 1e160]) {
    const B = Float64Array.from(
      { length: 3 * 5 },
      (_, i) => scale * Math.sin(i + 1),
    );
    const R = new Float64Array(9), R2 = new Float64Array(9);
    householderMergeRows(R, Float64Array.from(B), 5, 5, 3);
    iso.householderMergeRows(R2, Float64Array.from(B), 5, 5, 3);
    assert.deepStrictEqual(R2, R, `scale ${scale}`);
    const G = new Float64Array(9), G2 = new Float64Array(9);
    accumulateGram(G, B, 5, 5, 3);
    iso.accumulateGram(G2, B, 5, 5, 3);
    assert.deepStrictEqual(G2, G, `scale ${scale}`);
  }
});

Deno.test("workerSource: linearizeRange alone gives the module's result for every loss", () => {
  const iso = isolated(CPU_EVALUATOR_WORKER_PART, ["linearizeRange"]);
  const m = model("a * exp(-b * x) + c");
  const d = data(3001);
  const theta = new Float64Array([2, 1, 0.4]);
  for (const name of LOSS_NAMES) {
    for (const gram of [false, true]) {
      for (const withJac of [false, true]) {
        const o = { loss: name, fScale: 0.05, blockRows: 256, gram };
        const a = linearizeRange(m.kernel, 3, d, theta, 7, 3001, withJac, o);
        const b = iso.linearizeRange(m.kernel, 3, d, theta, 7, 3001, withJac, {
          ...o,
        });
        assert.deepStrictEqual(b, a, `${name} gram=${gram} jac=${withJac}`);
      }
    }
  }
});

Deno.test("workerSource: the table part alone splits and linearizes rows as the module does", () => {
  const iso = isolated(TABLE_ROWS_WORKER_PART, [
    "linearizeTable",
    "splitTableRows",
    "TABLE_SPLIT_ROWS",
  ]);
  assert.ok(iso.TABLE_SPLIT_ROWS > 0);
  const lin = isolated(CPU_EVALUATOR_WORKER_PART, ["linearizeRange"]);
  const m = model("a * exp(-b * x) + c");
  const d = data(20_001);
  // An interleaved (n, 3) table: x, y, sigma.
  const n = d.y.length, table = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    table.set([d.x[0][i], d.y[i], 1 / d.w[i]], 3 * i);
  }
  const theta = new Float64Array([2, 1, 0.4]);
  const run = (f: typeof linearizeTable, split: typeof splitTableRows) => {
    const scratch = {
      X: [new Float64Array(8192)],
      Y: new Float64Array(8192),
      W: new Float64Array(8192),
    };
    const aug = new Float64Array(16);
    const o = { loss: "huber", fScale: 0.05, blockRows: 256, gram: true };
    const costs = f(
      lin.linearizeRange,
      split,
      m.kernel,
      3,
      table,
      3,
      [0, 1],
      2,
      5,
      n,
      [theta],
      [aug],
      { ...o, block: new Float64Array(256 * 4) },
      scratch,
    );
    return { costs, aug };
  };
  const a = run(linearizeTable, splitTableRows);
  const b = run(iso.linearizeTable, iso.splitTableRows);
  assert.ok(a.costs !== null && a.costs[0] > 0);
  assert.deepStrictEqual(b, a);
});

Deno.test("workerSource: names come once, from named function declarations", () => {
  const f = (x: number) => x;
  assert.throws(
    () => workerSource([{ functions: [f] }]),
    /f is not a function declaration/,
  );
  function g() {}
  assert.throws(
    () => workerSource([{ functions: [g] }, { functions: [g] }]),
    /g is declared twice/,
  );
  assert.throws(
    () => workerSource([{ constants: { K: NaN }, functions: [] }]),
    /constant K is NaN/,
  );
  // A part needed twice is copied once.
  const part: WorkerPart = { functions: [g] };
  const src = workerSource([{ needs: [part], functions: [] }, part]);
  assert.strictEqual(src.split("function g(").length, 2);
});

/** R^T R of a c x c factor (independent of the signs of R's rows). */
function gram(r: Float64Array, c: number): Float64Array {
  const g = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      for (let k = 0; k < c; k++) g[i * c + j] += r[k * c + i] * r[k * c + j];
    }
  }
  return g;
}

/** |G2 - G1| within `rel` of sqrt(G1_ii G1_jj), entry by entry. */
function assertGramClose(
  g2: Float64Array,
  g1: Float64Array,
  c: number,
  rel: number,
  what: string,
) {
  for (let i = 0; i < c * c; i++) {
    const scale = Math.sqrt(
      g1[Math.floor(i / c) * (c + 1)] * g1[(i % c) * (c + 1)],
    );
    assert.ok(Math.abs(g2[i] - g1[i]) <= rel * scale, `${what} G[${i}]`);
  }
}

/** J^T J of an evaluation, whichever form it came in. */
function jtjOf(e: Evaluation, p: number): Float64Array {
  const lin = e.lin!;
  return lin.form === "normal" ? lin.jtj : gram(lin.r, p);
}

Deno.test("workers: every loss gives the one-thread linearization at 60,000 points", async () => {
  const n = 60_000;
  assert.ok(n >= THREADS_MIN_POINTS, "the size at which fits start threads");
  const m = model("a * exp(-b * x) + c");
  const d = data(n);
  const theta = new Float64Array([2, 1, 0.4]);
  for (const name of LOSS_NAMES) {
    for (const accumulation of ["qr", "auto"] as const) {
      const results: Evaluation[] = [];
      for (const threads of [1, 2]) {
        const ev = createParallelEvaluator(m, d, {
          loss: name,
          fScale: 0.05,
          threads,
          accumulation,
        });
        try {
          assert.strictEqual(ev.threads, threads);
          results.push((await ev.evaluate([theta], [true]))[0]);
        } finally {
          ev.close();
        }
      }
      const [one, two] = results;
      const what = `${name} (${accumulation})`;
      assert.ok(one.cost > 0 && Number.isFinite(one.cost), what);
      assert.ok(Math.abs(two.cost - one.cost) <= 1e-12 * one.cost, what);
      assert.strictEqual(two.lin!.form, one.lin!.form, what);
      assertGramClose(jtjOf(two, 3), jtjOf(one, 3), 3, 1e-12, what);
    }
  }
});

Deno.test("workers: every loss gives the one-thread result in streaming batches", async () => {
  const n = 60_000;
  const m = model("a * exp(-b * x) + c");
  const d = data(n);
  const theta = new Float64Array([2, 1, 0.4]);
  for (const name of LOSS_NAMES) {
    const runner = createBatchRunner(m, {
      loss: name,
      fScale: 0.05,
      threads: 2,
    });
    assert.strictEqual(runner.threads, 2);
    const aug = new Float64Array(16);
    const [cost] = await runner.run(d, 0, n, [theta], [aug]);
    const ref = linearizeRange(m.kernel, 3, d, theta, 0, n, true, {
      loss: name,
      fScale: 0.05,
    });
    assert.ok(Math.abs(cost - ref.cost) <= 1e-12 * ref.cost, name);
    // [R f]^T [R f] of the merged factor equals the one-thread one.
    assertGramClose(gram(aug, 4), gram(ref.aug!, 4), 4, 1e-12, name);
  }
});
