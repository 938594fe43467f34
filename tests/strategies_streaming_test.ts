// A streaming fit of every kind of source equals the in-memory fit of the
// same data (1e-8 relative in the parameters): batch sizes are small and not
// multiples of the kernel block, so every fit runs many batches per pass.

import assert from "node:assert";
import { getGpuInfo } from "../gpu/device.ts";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import { fit, type FitOptions, type FitProgress } from "../workflow/fit.ts";
import { model } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import {
  arraySource,
  type ColumnBuffers,
  type DataSource,
  DataSourceError,
  iterableSource,
  npySource,
  openSource,
  type RowReader,
} from "../data/mod.ts";
import { streamingBatchRows } from "../memory/selector.ts";
import { createStreamingEvaluator } from "../strategies/streaming.ts";
import type { BatchSourceLike } from "../strategies/strategy.ts";
import {
  decayData,
  writeCsv,
  writeNpyTable,
  writeRawF64,
} from "./streaming/data_files.ts";

await h5wasm.ready;

const N = 12_000;
const BATCH = 700;
const TOL = { ftol: 1e-14, xtol: 1e-14, gtol: 1e-14 };
const DECAY = model("a * exp(-b * x) + c");
const P0 = [1, 1, 0];
const STREAM = { strategy: "streaming", config: { batchSize: BATCH } };

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-8) {
  assert.strictEqual(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-300);
    assert.ok(d <= rel, `parameter ${i}: ${a[i]} vs ${b[i]} (rel ${d})`);
  }
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nlsq_stream_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Fits `src` by streaming and the arrays in memory; both must agree. */
async function assertStreamingMatches(
  m: Model,
  src: BatchSourceLike,
  x: Float64Array | Float64Array[],
  y: Float64Array,
  extra: FitOptions = {},
  sigma?: Float64Array,
) {
  const ref = await fit(m, x, y, {
    p0: P0,
    ...TOL,
    ...extra,
    sigma,
    workflow: "standard",
  });
  const r = await fit(m, src, {
    p0: P0,
    ...TOL,
    ...extra,
    workflow: STREAM,
  });
  await src.close();
  assert.strictEqual(r.strategy, "streaming");
  assert.ok(ref.success && r.success, `${ref.message} / ${r.message}`);
  assertClose(r.popt, ref.popt);
  assert.ok(Math.abs(r.cost - ref.cost) <= 1e-10 * ref.cost);
  return r;
}

Deno.test("streaming: arraySource and in-memory arrays equal the standard fit", async () => {
  const d = decayData(N);
  await assertStreamingMatches(DECAY, arraySource(d.x, d.y), d.x, d.y);
  // In-memory arrays given to the streaming strategy are streamed as views.
  const ref = await fit(DECAY, d.x, d.y, { p0: P0, ...TOL });
  const r = await fit(DECAY, d.x, d.y, { p0: P0, ...TOL, workflow: STREAM });
  assert.strictEqual(r.strategy, "streaming");
  assertClose(r.popt, ref.popt);
});

Deno.test("streaming: NPY table and NPY column files", async () => {
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 7 });
    const table = join(dir, "data.npy");
    await writeNpyTable(table, [d.x, d.y]);
    await assertStreamingMatches(DECAY, await openSource(table), d.x, d.y);
    await writeNpyTable(join(dir, "x.npy"), [d.x]);
    await writeNpyTable(join(dir, "y.npy"), [d.y]);
    const cols = await npySource({
      x: join(dir, "x.npy"),
      y: join(dir, "y.npy"),
    });
    await assertStreamingMatches(DECAY, cols, d.x, d.y);
  });
});

Deno.test("streaming: raw f64 file with a robust loss and outliers", async () => {
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 9, outliers: true });
    const path = join(dir, "data.f64");
    await writeRawF64(path, [d.x, d.y]);
    const src = await openSource(path, { columns: 2 });
    await assertStreamingMatches(DECAY, src, d.x, d.y, {
      loss: "soft_l1",
      fScale: 0.05,
    });
  });
});

Deno.test("streaming: CSV with a sigma column (weights are not ignored)", async () => {
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 11, sigma: true });
    const path = join(dir, "data.csv");
    await writeCsv(path, ["t", "obs", "err"], [d.x, d.y, d.sigma!]);
    const src = await openSource(path, { x: "t", y: "obs", sigma: "err" });
    const r = await assertStreamingMatches(DECAY, src, d.x, d.y, {}, d.sigma!);
    // Without the weights the answer differs: sigma was really used.
    const unweighted = await fit(DECAY, d.x, d.y, { p0: P0, ...TOL });
    assert.ok(Math.abs(unweighted.popt[1] - r.popt[1]) > 1e-7);
  });
});

Deno.test("streaming: CSV with two features", async () => {
  const m = model("a * x0 + b * exp(-c * x1)");
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 13 });
    const x0 = d.x.map((v) => Math.sin(v));
    const y = d.y.map((v, i) => v + 0.3 * x0[i]);
    const path = join(dir, "two.csv");
    await writeCsv(path, ["x0", "x1", "y"], [x0, d.x, y]);
    const src = await openSource(path, { x: ["x0", "x1"], y: "y" });
    await assertStreamingMatches(m, src, [x0, d.x], y);
  });
});

Deno.test("streaming: HDF5 datasets", async () => {
  await withDir(async (dir) => {
    const d = decayData(N, { seed: 17 });
    const path = join(dir, "data.h5");
    const f = new h5wasm.File(path, "w");
    f.create_dataset({ name: "x", data: d.x });
    f.create_dataset({ name: "y", data: d.y, chunks: [1000] });
    f.close();
    await assertStreamingMatches(DECAY, await openSource(path), d.x, d.y);
  });
});

Deno.test("streaming: async iterable of uneven pieces; auto picks streaming for unknown length", async () => {
  const d = decayData(N, { seed: 19 });
  async function* pieces() {
    for (let s = 0; s < N; s += 333) {
      const e = Math.min(N, s + 333);
      yield { x: d.x.subarray(s, e), y: d.y.subarray(s, e) };
    }
  }
  await assertStreamingMatches(
    DECAY,
    iterableSource(pieces, { nFeatures: 1, length: N }),
    d.x,
    d.y,
  );
  const ref = await fit(DECAY, d.x, d.y, { p0: P0, ...TOL });
  const unknown = iterableSource(pieces, { nFeatures: 1 });
  const r = await fit(DECAY, unknown, { p0: P0, ...TOL, workflow: "auto" });
  assert.strictEqual(r.strategy, "streaming");
  assertClose(r.popt, ref.popt);
});

Deno.test("streaming: the selector picks streaming when the data exceeds the memory limit", async () => {
  const d = decayData(N, { seed: 23 });
  const ref = await fit(DECAY, d.x, d.y, { p0: P0, ...TOL });
  const r = await fit(DECAY, arraySource(d.x, d.y), {
    p0: P0,
    ...TOL,
    workflow: "auto",
    memoryLimitGb: 2e-4,
  });
  assert.strictEqual(r.strategy, "streaming");
  assertClose(r.popt, ref.popt);
});

Deno.test("streaming: backend webgpu gives the same answer (GPU per batch where f64 exists)", async () => {
  const d = decayData(4000, { seed: 29 });
  let f64 = false;
  try {
    f64 = (await getGpuInfo()).f64;
  } catch {
    console.warn(
      "streaming webgpu: no WebGPU adapter here, checking the CPU fallback",
    );
  }
  const ref = await fit(DECAY, d.x, d.y, { p0: P0, ...TOL });
  const r = await fit(DECAY, arraySource(d.x, d.y), {
    p0: P0,
    ...TOL,
    workflow: { strategy: "streaming", config: { batchSize: 1500 } },
    backend: "webgpu",
  });
  // With an f64 device the batches must really run on it.
  assert.match(r.backend, f64 ? /^webgpu f64/ : /no f64 WebGPU device/);
  // f64 on the GPU sums in another order: agreement to 1e-8 still holds.
  assertClose(r.popt, ref.popt);
});

Deno.test("streaming: on WebGPU, batch evaluators reused with weights from a CSV sigma column", async () => {
  let f64 = false;
  try {
    f64 = (await getGpuInfo()).f64;
  } catch {
    console.warn("streaming webgpu csv: no WebGPU adapter, checking the CPU");
  }
  await withDir(async (dir) => {
    // 12000 rows in batches of 700: 17 full batches on two reused
    // evaluators, then one of 100 rows on its own.
    const d = decayData(N, { seed: 41, sigma: true });
    const path = join(dir, "data.csv");
    await writeCsv(path, ["t", "obs", "err"], [d.x, d.y, d.sigma!]);
    const src = await openSource(path, { x: "t", y: "obs", sigma: "err" });
    const r = await assertStreamingMatches(DECAY, src, d.x, d.y, {
      backend: "webgpu",
    }, d.sigma!);
    assert.match(r.backend, f64 ? /^webgpu f64/ : /no f64 WebGPU device/);
    const unweighted = await fit(DECAY, d.x, d.y, { p0: P0, ...TOL });
    assert.ok(Math.abs(unweighted.popt[1] - r.popt[1]) > 1e-7);
  });
});

Deno.test("streaming: backend auto streams on WebGPU where the in-memory fit would", async () => {
  let info: { f64: boolean; software: boolean } | null = null;
  try {
    info = await getGpuInfo();
  } catch {
    console.warn("streaming auto: no WebGPU adapter here, checking the CPU");
  }
  const m = model("a * exp(-b * x) + c");
  const data = (n: number) => ({
    kind: "memory" as const,
    x: [new Float64Array(n)],
    y: new Float64Array(n),
    w: null,
  });
  // 7e6 points x 3 params is above both crossovers (2e7 on a software
  // adapter); the evaluator is only built here, no pass is made.
  const big = await createStreamingEvaluator(m, data(7_000_000), {
    backend: "auto",
  });
  await big.close();
  assert.match(
    big.backend,
    info?.f64
      ? /^webgpu f64 .*streaming, batches of 100000$/
      : /^cpu \(streaming/,
  );
  assert.ok(
    big.notes?.some((l) => /^backend auto: /.test(l)),
    "a note says why",
  );
  const small = await createStreamingEvaluator(m, data(1000), {
    backend: "auto",
  });
  await small.close();
  assert.match(small.backend, /^cpu \(streaming/);
  assert.ok(small.notes?.some((l) => /below the WebGPU crossover/.test(l)));
  // Without a backend (or "cpu") the CPU, and no decision to note.
  const plain = await createStreamingEvaluator(m, data(7_000_000));
  await plain.close();
  assert.match(plain.backend, /^cpu \(streaming/);
  assert.deepStrictEqual(plain.notes, []);
});

Deno.test("streaming: one pass per evaluate, all parameter vectors in it", async () => {
  const d = decayData(5000);
  let batches = 0;
  const ev = await createStreamingEvaluator(DECAY, arraySource(d.x, d.y), {
    batchSize: 1000,
    onPass: () => batches++,
  });
  const thetas = [[3, 0.7, 0.5], [1, 1, 0], [2, 0.5, 0.1]].map((t) =>
    Float64Array.from(t)
  );
  const out = await ev.evaluate(thetas, [true, false, true]);
  assert.strictEqual(ev.passes, 1);
  assert.strictEqual(batches, 5);
  assert.ok(out[0].lin && !out[1].lin && out[2].lin);
  // Each equals a separate evaluation over the whole data.
  const single = await createStreamingEvaluator(DECAY, arraySource(d.x, d.y), {
    batchSize: 5000,
  });
  for (let i = 0; i < 3; i++) {
    const [e] = await single.evaluate([thetas[i]], [false]);
    assert.ok(Math.abs(e.cost - out[i].cost) <= 1e-12 * e.cost);
  }
  // A point already evaluated with its linearization is not read again.
  await ev.evaluate([thetas[0]], [true]);
  assert.strictEqual(ev.passes, 1);
  // NaN in one vector rejects that vector only.
  const [bad, good] = await ev.evaluate(
    [Float64Array.from([1, NaN, 0]), thetas[0]],
    [true, true],
  );
  assert.ok(Number.isNaN(bad.cost) && !bad.lin);
  assert.strictEqual(good.cost, out[0].cost);
  await ev.close();
  await single.close();
});

Deno.test("streaming: progress reports passes and batches with an ETA", async () => {
  const d = decayData(N, { seed: 31 });
  const events: FitProgress[] = [];
  const r = await fit(DECAY, arraySource(d.x, d.y), {
    p0: P0,
    ...TOL,
    workflow: STREAM,
    onProgress: (p) => events.push(p),
  });
  const passes = events.filter((e) => e.phase === "pass");
  const iterations = events.filter((e) => e.phase === "iteration");
  assert.ok(iterations.length >= 1 && iterations.length === r.nit);
  const perPass = Math.ceil(N / BATCH);
  assert.strictEqual(passes.length % perPass, 0);
  for (const e of passes) {
    assert.strictEqual(e.totalPoints, N);
    assert.strictEqual(
      e.pointsProcessed,
      Math.min(N, e.batch! * BATCH),
    );
    assert.ok(typeof e.etaSeconds === "number" && e.etaSeconds >= 0);
  }
  const last = passes[passes.length - 1];
  assert.strictEqual(last.batch, perPass);
  assert.strictEqual(last.etaSeconds, 0);
  // Passes are numbered in order.
  const numbers = [...new Set(passes.map((e) => e.pass))];
  assert.deepStrictEqual(numbers, numbers.toSorted((a, b) => a! - b!));
});

/** A source that logs its reader's reads and counts its other passes. */
function logged(src: DataSource) {
  const log: string[] = [];
  let batchesCalls = 0;
  const wrapped: DataSource = {
    get length() {
      return src.length;
    },
    nFeatures: src.nFeatures,
    hasSigma: src.hasSigma,
    description: src.description,
    fingerprint: src.fingerprint,
    batches(size, options) {
      batchesCalls++;
      return src.batches(size, options);
    },
    async openReader() {
      log.push("open");
      const r = await src.openReader!();
      const wrap: Record<string, unknown> = {
        read: (s: number, e: number, into: ColumnBuffers) => {
          log.push(`read ${s}`);
          return r.read(s, e, into);
        },
        close: () => r.close(),
      };
      const t = r as unknown as {
        stride?: number;
        readTable?(s: number, e: number, into: Float64Array): unknown;
      };
      if (t.readTable) {
        wrap.stride = t.stride;
        wrap.readTable = (s: number, e: number, into: Float64Array) => {
          log.push(`table ${s}`);
          return t.readTable!(s, e, into);
        };
      }
      return wrap as unknown as RowReader;
    },
    close: () => src.close(),
  };
  return { wrapped, log, batchesCalls: () => batchesCalls };
}

Deno.test("streaming: batches from the memory budget, passes as in memory, the next batch read ahead", async () => {
  await withDir(async (dir) => {
    const n = 400_000;
    const d = decayData(n, { seed: 37 });
    const path = join(dir, "big.npy");
    await writeNpyTable(path, [d.x, d.y]);
    const ref = await fit(DECAY, d.x, d.y, {
      p0: P0,
      ...TOL,
      workflow: "standard",
    });
    const src = logged(await openSource(path));
    const events: FitProgress[] = [];
    // 0.01 GB: a quarter of the 0.0075 GB threshold holds fewer rows than
    // the floor, half of it 55924 rows of 72 bytes.
    const r = await fit(DECAY, src.wrapped, {
      p0: P0,
      ...TOL,
      workflow: "streaming",
      memoryLimitGb: 0.01,
      onProgress: (p) => events.push(p),
    });
    await src.wrapped.close();
    assert.strictEqual(r.strategy, "streaming");
    const batch = streamingBatchRows(0.0075, n, 1);
    assert.strictEqual(batch, 55_924);
    assert.match(r.backend, new RegExp(`batches of ${batch},`));
    assertClose(r.popt, ref.popt, 1e-10);
    assert.ok(Math.abs(r.rSquared - ref.rSquared) <= 1e-12);
    // The warm start on a spread sample: as many full passes as in memory.
    const passes = new Set(
      events.filter((e) => e.phase === "pass").map((e) => e.pass),
    );
    assert.ok(passes.size <= Math.max(4, ref.nfev), `${passes.size} passes`);
    assert.ok(r.notes.some((l) => l.includes("evenly spread sample")));
    // One reader for the fit; every pass reads its rows as table rows, in
    // order, the next batch asked for before the current one is computed.
    assert.strictEqual(src.log.filter((l) => l === "open").length, 1);
    const tables = src.log.filter((l) => l.startsWith("table"));
    const perPass = Math.ceil(n / batch);
    assert.strictEqual(tables.length, passes.size * perPass);
    assert.deepStrictEqual(
      tables.slice(0, perPass),
      Array.from({ length: perPass }, (_, k) => `table ${k * batch}`),
    );
    // No statistics pass: y's moments came from the first pass.
    assert.strictEqual(src.batchesCalls(), 0);
  });
});

Deno.test("streaming: read-ahead holds the next batch before this one is reported", async () => {
  await withDir(async (dir) => {
    const d = decayData(20_000, { seed: 41 });
    const path = join(dir, "d.f64");
    await writeRawF64(path, [d.x, d.y]);
    const src = logged(await openSource(path, { columns: 2 }));
    const ev = await createStreamingEvaluator(DECAY, src.wrapped, {
      batchSize: 6000,
      onPass: (p) => src.log.push(`done ${p.batch}`),
    });
    await ev.evaluate([Float64Array.from([3, 0.7, 0.5])], [true]);
    await ev.close();
    assert.deepStrictEqual(src.log, [
      "open",
      "table 0",
      "table 6000",
      "done 1",
      "table 12000",
      "done 2",
      "table 18000",
      "done 3",
      "done 4",
    ]);
  });
});

Deno.test("streaming: a bad value in a table batch is named by row and column, or its row dropped", async () => {
  await withDir(async (dir) => {
    const n = 30_000;
    const d = decayData(n, { seed: 43 });
    const y = d.y.slice();
    y[12_345] = NaN;
    const path = join(dir, "bad.npy");
    await writeNpyTable(path, [d.x, y]);
    const stream = { p0: P0, ...TOL, workflow: STREAM };
    const strict = await openSource(path);
    await assert.rejects(
      fit(DECAY, strict, stream),
      (e) =>
        e instanceof DataSourceError && e.code === "not-finite" &&
        e.row === 12_345 && e.column === 1,
    );
    await strict.close();
    const keep = (a: Float64Array) => a.filter((_, i) => i !== 12_345);
    const ref = await fit(DECAY, keep(d.x), keep(d.y), {
      p0: P0,
      ...TOL,
      workflow: "standard",
    });
    const dropped = await openSource(path, { dropInvalid: true });
    const r = await fit(DECAY, dropped, stream);
    await dropped.close();
    assertClose(r.popt, ref.popt, 1e-10);
    assert.strictEqual(r.nPoints, n - 1);
  });
});

Deno.test("streaming: a weighted fit makes its statistics pass; R² as in memory", async () => {
  await withDir(async (dir) => {
    const d = decayData(20_000, { seed: 47, sigma: true });
    const path = join(dir, "w.npy");
    await writeNpyTable(path, [d.x, d.y, d.sigma!]);
    const ref = await fit(DECAY, d.x, d.y, {
      p0: P0,
      ...TOL,
      sigma: d.sigma!,
      workflow: "standard",
    });
    const src = logged(await openSource(path, { sigma: 2 }));
    const r = await fit(DECAY, src.wrapped, {
      p0: P0,
      ...TOL,
      workflow: STREAM,
    });
    await src.wrapped.close();
    assertClose(r.popt, ref.popt, 1e-10);
    assert.ok(Math.abs(r.rSquared - ref.rSquared) <= 1e-12);
    assert.ok(Math.abs(r.chiSquare - ref.chiSquare) <= 1e-9 * ref.chiSquare);
    assert.strictEqual(src.batchesCalls(), 1);
  });
});

Deno.test("streaming: the warm start samples the rows a held fit samples, so the answers agree at equal tolerances", async () => {
  await withDir(async (dir) => {
    const n = 400_000;
    const d = decayData(n, { seed: 43 });
    const path = join(dir, "same.npy");
    await writeNpyTable(path, [d.x, d.y]);
    // The streaming preset's tolerance is 1e-7 and the standard one's 1e-8:
    // the same tolerances on both sides make it the same fit.
    const tol = { ftol: 1e-8, xtol: 1e-8, gtol: 1e-8 };
    const opts = { p0: P0, ...tol, backend: "cpu" as const, threads: 1 };
    const held = await fit(DECAY, d.x, d.y, { ...opts, workflow: "standard" });
    const src = await openSource(path);
    const streamed = await fit(DECAY, src, { ...opts, workflow: "streaming" });
    await src.close();
    assert.strictEqual(streamed.strategy, "streaming");
    const warm = (r: typeof held) =>
      r.notes.find((l) => l.startsWith("warm start"))!.replace(
        / \([\d.]+ ms;/,
        "",
      );
    // The same 20000 rows (79 runs of 253-254), hence the same start.
    assert.match(warm(held), /sample of 20000 rows/);
    assert.strictEqual(warm(streamed), warm(held));
    assertClose(streamed.popt, held.popt, 1e-13);
    assert.strictEqual(streamed.nfev, held.nfev);
  });
});
