// Streamed batches on WebGPU (gpu/_batch_stream.ts, the streaming strategy's
// GPU arithmetic): interleaved rows uploaded as read give the same sums as
// columns and as the in-memory evaluator, sums accumulate on the device
// over batches and passes restart from zero, non-finite inputs are counted
// exactly, and the streaming runner falls back to checked columns on them.
import assert from "node:assert";
import { model } from "../model/model.ts";
import type { Model } from "../model/types.ts";
import type { NormalLinearization } from "../core/linearization.ts";
import { Moments } from "../core/_moments.ts";
import {
  acquireDevice,
  createGpuEvaluator,
  generateKernel,
  generateReduceKernel,
  GpuDeviceLostError,
  isWebGpuAvailable,
} from "../gpu/mod.ts";
import {
  type BatchLayout,
  type BatchSums,
  GpuBatchStream,
} from "../gpu/_batch_stream.ts";
import { openGpuBatchRunner } from "../strategies/_streaming_gpu.ts";
import { rows as interleave } from "./streaming/data_files.ts";

const HAS_GPU = await isWebGpuAvailable();
const HAS_F64 = HAS_GPU && (await acquireDevice()).info.f64;
if (!HAS_F64) {
  console.warn(
    "gpu_batch_stream_test: no WebGPU adapter with shader-f64, GPU tests are IGNORED",
  );
}

const DECAY = model("a * exp(-b * x) + c");
const THETAS = [
  new Float64Array([2, 0.5, 0.4]),
  new Float64Array([3, 0.7, 0.5]),
  new Float64Array([1, 1, 0]),
];
const WITH_JAC = [true, false, true];

function decay(n: number, seed = 7) {
  let s = seed;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
  const x = Float64Array.from({ length: n }, (_, i) => (10 * i) / n);
  const y = Float64Array.from(x, (t) => 3 * Math.exp(-0.7 * t) + 0.5 + rnd());
  return { x, y };
}

function assertRel(a: number, b: number, tol: number, what: string) {
  const d = Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
  assert.ok(d <= tol, `${what}: ${a} vs ${b} (rel ${d})`);
}

/** The in-memory evaluator's answer as a stream's sums. */
async function reference(
  m: Model,
  x: Float64Array[],
  y: Float64Array,
  loss: "linear" | "soft_l1" = "linear",
): Promise<BatchSums[]> {
  const ev = await createGpuEvaluator(m, { x, y, w: null }, {
    precision: "f64",
    loss,
  });
  const out = await ev.evaluate(THETAS, WITH_JAC);
  ev.close();
  const p = m.params.length;
  return out.map((e) => {
    const lin = e.lin as NormalLinearization | undefined;
    if (!lin) return { cost: e.cost, sums: null };
    // J^T f, then the upper triangle of J^T J, as the kernels sum them.
    const sums = [...lin.jtf];
    for (let i = 0; i < p; i++) {
      for (let j = i; j < p; j++) sums.push(lin.jtj[i * p + j]);
    }
    return { cost: e.cost, sums: Float64Array.from(sums) };
  });
}

function assertSums(got: BatchSums[], ref: BatchSums[], tol: number) {
  assert.strictEqual(got.length, ref.length);
  got.forEach((g, i) => {
    assertRel(g.cost, ref[i].cost, tol, `cost ${i}`);
    assert.strictEqual(g.sums === null, ref[i].sums === null);
    g.sums?.forEach((v, k) => assertRel(v, ref[i].sums![k], tol, `sum ${k}`));
  });
}

/** One pass of `data` in pushes of `piece` rows. */
async function pass(
  st: GpuBatchStream,
  push: (s: number, k: number) => Promise<void>,
  n: number,
  piece: number,
) {
  st.begin(THETAS, WITH_JAC);
  for (let s = 0; s < n; s += piece) await push(s, Math.min(piece, n - s));
  return await st.finish();
}

Deno.test({
  name:
    "gpu batch stream: interleaved rows equal columns and the in-memory evaluator to 1e-12",
  ignore: !HAS_F64,
  async fn() {
    const ctx = await acquireDevice();
    const n = 50_003; // not a multiple of 4, of the pieces or of the slots
    const { x, y } = decay(n);
    const ref = await reference(DECAY, [x], y);
    const table = interleave([x, y]);
    const rowsLayout: BatchLayout = {
      kind: "rows",
      rows: { stride: 2, columns: [0, 1] },
    };
    const cols: BatchLayout = { kind: "columns", weighted: false };
    const opts = { loss: "linear" as const, fScale: 1, maxRows: 6_001 };
    const sr = await GpuBatchStream.open(ctx, DECAY, rowsLayout, opts);
    const sc = await GpuBatchStream.open(ctx, DECAY, cols, opts);
    try {
      assert.strictEqual(sr.kernel.stride, 2);
      // Pushes of 10,000 rows are split into uploads of at most 6,001.
      const byRows = await pass(
        sr,
        (s, k) => sr.push(table.subarray(2 * s), k),
        n,
        10_000,
      );
      const byCols = await pass(
        sc,
        (s, k) => sc.push({ x: [x], y, w: null }, k, s),
        n,
        10_000,
      );
      assert.strictEqual(byRows.invalid, 0);
      assert.strictEqual(byCols.invalid, 0);
      assertSums(byRows.results, byCols.results, 1e-12);
      assertSums(byRows.results, ref, 1e-12);
      // A second pass starts from zero: the same sums again.
      const again = await pass(
        sr,
        (s, k) => sr.push(table.subarray(2 * s), k),
        n,
        7_777,
      );
      assertSums(again.results, byRows.results, 1e-13);
    } finally {
      sr.close();
      sc.close();
    }
  },
});

Deno.test({
  name:
    "gpu batch stream: rows of a wider table, columns in any order, robust loss",
  ignore: !HAS_F64,
  async fn() {
    const ctx = await acquireDevice();
    const m = model("a * exp(-b * x0) + c * x1", { variables: ["x0", "x1"] });
    const n = 20_001;
    const { x, y } = decay(n, 11);
    const x1 = Float64Array.from(x, (t) => Math.cos(t));
    const junk = Float64Array.from(x, () => NaN); // an unused column
    // Stride 5: y, x1, junk, x0, junk (a vec4 boundary inside rows).
    const table = interleave([y, x1, junk, x, junk]);
    const ref = await reference(m, [x, x1], y, "soft_l1");
    const st = await GpuBatchStream.open(
      ctx,
      m,
      { kind: "rows", rows: { stride: 5, columns: [3, 1, 0] } },
      { loss: "soft_l1", fScale: 1, maxRows: 4096 },
    );
    try {
      const r = await pass(
        st,
        (s, k) => st.push(table.subarray(5 * s), k),
        n,
        5000,
      );
      // NaN in columns the model does not read counts for nothing.
      assert.strictEqual(r.invalid, 0);
      assertSums(r.results, ref, 1e-12);
    } finally {
      st.close();
    }
  },
});

Deno.test({
  name: "gpu batch stream: NaN and infinities in x or y are counted exactly",
  ignore: !HAS_F64,
  async fn() {
    const ctx = await acquireDevice();
    const n = 9_000;
    const { x, y } = decay(n, 5);
    const st = await GpuBatchStream.open(
      ctx,
      DECAY,
      { kind: "rows", rows: { stride: 2, columns: [0, 1] } },
      { loss: "linear", fScale: 1, maxRows: 4000 },
    );
    try {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const col of [0, 1]) {
          const table = interleave([x, y]);
          // Three bad rows in two uploads; Infinity in x gives a finite
          // residual here (exp(-b * inf) = 0), so only the count tells.
          for (const row of [3, 3999, 8998]) table[2 * row + col] = bad;
          const r = await pass(st, (_, k) => st.push(table, k), n, n);
          assert.strictEqual(r.invalid, 3, `${bad} in column ${col}`);
        }
      }
    } finally {
      st.close();
    }
  },
});

Deno.test({
  name:
    "gpu batch stream: the streaming runner takes tables as rows, and gives them up after a bad value",
  ignore: !HAS_F64,
  async fn() {
    const n = 12_345;
    const { x, y } = decay(n, 3);
    const ref = await reference(DECAY, [x], y);
    const runner = await openGpuBatchRunner(DECAY, "linear", 1, 5000);
    assert.ok(runner, "an f64 device gives a runner");
    try {
      const table = interleave([x, y]);
      const block = (t: Float64Array) => ({
        table: {
          table: t,
          stride: 2,
          columns: [0, 1],
          sigmaColumn: -1,
          rows: n,
        },
        first: 0,
      });
      let run = runner.begin(THETAS, WITH_JAC);
      assert.strictEqual(await run.add(block(table)), true);
      const acc = await run.finish(n);
      assert.ok(acc);
      assert.strictEqual(acc.y, null); // no shift, no moments
      acc.parts.forEach((a, i) => {
        assertRel(a.cost, ref[i].cost, 1e-12, `cost ${i}`);
        assert.strictEqual(a.aug !== null, WITH_JAC[i]);
      });
      // A table with sigma is not taken as rows.
      run = runner.begin(THETAS, WITH_JAC);
      const sig = block(table);
      assert.strictEqual(
        await run.add({ ...sig, table: { ...sig.table, sigmaColumn: 1 } }),
        false,
      );
      run.abort();
      assert.strictEqual(runner.tables, false);
    } finally {
      runner.close();
    }
    // A bad value: the pass returns null and later passes read columns.
    const again = await openGpuBatchRunner(DECAY, "linear", 1, 5000);
    try {
      const table = interleave([x, y]);
      table[2 * 100] = Infinity;
      const run = again!.begin(THETAS, WITH_JAC);
      await run.add({
        table: { table, stride: 2, columns: [0, 1], sigmaColumn: -1, rows: n },
        first: 0,
      });
      assert.strictEqual(await run.finish(n), null);
      assert.strictEqual(again!.tables, false);
    } finally {
      again?.close();
    }
  },
});

Deno.test({
  name:
    "gpu batch stream: y's shifted sums give its moments as the CPU's, also far from zero",
  ignore: !HAS_F64,
  async fn() {
    const ctx = await acquireDevice();
    const n = 30_001;
    const { x, y: y0 } = decay(n, 17);
    // A mean 1e6 times the spread: unshifted sums would lose 12 digits.
    const y = y0.map((v) => 1e6 + v);
    const st = await GpuBatchStream.open(
      ctx,
      DECAY,
      { kind: "rows", rows: { stride: 2, columns: [0, 1] } },
      { loss: "linear", fScale: 1, maxRows: 7000 },
    );
    try {
      const table = interleave([x, y]);
      const shift = 1e6 + 1.7; // near the mean, as the median of a sample is
      st.begin(THETAS, WITH_JAC, shift);
      await st.push(table, n);
      const r = await st.finish();
      const s1 = r.y![0], s2 = r.y![1];
      // The two-pass sums, the mean refined once (its plain sum loses ten
      // digits here); the mean's rounding then adds n * delta^2, nothing.
      const rough = y.reduce((a, v) => a + v, 0) / n;
      const mean = rough + y.reduce((a, v) => a + (v - rough), 0) / n;
      const m2 = y.reduce((a, v) => a + (v - mean) ** 2, 0);
      assertRel(shift + s1 / n, mean, 1e-15, "mean");
      assertRel(s2 - (s1 * s1) / n, m2, 1e-13, "m2");
      // Other vectors' sums are as without the shift.
      st.begin(THETAS, WITH_JAC);
      await st.push(table, n);
      const plain = await st.finish();
      assertSums(plain.results, r.results, 0);
      // Without a shift, or without a linearization, no y sums are made.
      assert.strictEqual(plain.y, null);
      st.begin([THETAS[1]], [false], shift);
      await st.push(table, n);
      assert.strictEqual((await st.finish()).y, null);
    } finally {
      st.close();
    }
  },
});

Deno.test("gpu batch stream: row layouts are checked, accumulation is f64 only", () => {
  const ok = generateKernel(DECAY, {
    precision: "f64",
    rows: { stride: 3, columns: [2, 0] },
    countInvalid: true,
  });
  assert.strictEqual(ok.stride, 3);
  assert.strictEqual(ok.countInvalid, true);
  // Points 0..3 of stride 3 span three vec4s; y of point 3 is value 9.
  assert.match(ok.code, /let r2 = data\[q \* 3u \+ 2u\];/);
  assert.match(ok.code, /let yv = r2\.y;/);
  for (
    const rows of [
      { stride: 0, columns: [0, 1] },
      { stride: 17, columns: [0, 1] },
      { stride: 2, columns: [0] },
      { stride: 2, columns: [0, 2] },
    ]
  ) {
    assert.throws(
      () => generateKernel(DECAY, { precision: "f64", rows }),
      RangeError,
    );
  }
  assert.throws(
    () =>
      generateKernel(DECAY, {
        precision: "f64",
        weighted: true,
        rows: { stride: 3, columns: [0, 1] },
      }),
    /weights/,
  );
  assert.throws(() => generateReduceKernel("f32", 64, true), TypeError);
  assert.throws(
    () => generateKernel(DECAY, { precision: "f32", yMoments: true }),
    /f64/,
  );
  const ym = generateKernel(DECAY, { precision: "f64", yMoments: true });
  assert.match(ym.code, /let cY = theta\[arrayLength\(&theta\) - 1u\];/);
});

Deno.test("moments: a strided column equals the copied one, bit for bit", () => {
  const n = 10_007;
  const table = Float64Array.from({ length: 3 * n }, (_, i) => Math.sin(i) + 5);
  const col = Float64Array.from({ length: n }, (_, i) => table[3 * i + 2]);
  const a = new Moments();
  a.addStrided(table, 2, 3, n);
  const b = new Moments();
  b.add(col);
  assert.deepStrictEqual([a.n, a.mean, a.m2], [b.n, b.mean, b.m2]);
  // Against the textbook two-pass sums.
  const mean = col.reduce((s, v) => s + v, 0) / n;
  const m2 = col.reduce((s, v) => s + (v - mean) ** 2, 0);
  assertRel(a.mean, mean, 1e-14, "mean");
  assertRel(a.m2, m2, 1e-12, "m2");
});

// Last in the file: it destroys the shared device.
Deno.test({
  name:
    "gpu batch stream: a device lost in a pass rejects it with GpuDeviceLostError, no hang",
  ignore: !HAS_F64,
  async fn() {
    const ctx = await acquireDevice();
    const n = 4096;
    const { x, y } = decay(n, 23);
    const table = interleave([x, y]);
    const rows: BatchLayout = {
      kind: "rows",
      rows: { stride: 2, columns: [0, 1] },
    };
    const opts = { loss: "linear" as const, fScale: 1, maxRows: 512 };
    const st = await GpuBatchStream.open(ctx, DECAY, rows, opts);
    st.begin(THETAS, WITH_JAC);
    await st.push(table, 1024);
    ctx.device.destroy();
    // The pushes wait on uploads in flight: the loss must end the wait.
    const done = (async () => {
      await st.push(table, n);
      await st.finish();
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the pass hung")), 10_000);
    });
    try {
      await assert.rejects(Promise.race([done, timeout]), GpuDeviceLostError);
    } finally {
      clearTimeout(timer);
      st.close();
    }
    // A new device streams again.
    const again = await acquireDevice();
    assert.notStrictEqual(again.device, ctx.device);
    const st2 = await GpuBatchStream.open(again, DECAY, rows, opts);
    try {
      const r = await pass(
        st2,
        (s, k) => st2.push(table.subarray(2 * s), k),
        n,
        n,
      );
      assertSums(r.results, await reference(DECAY, [x], y), 1e-12);
    } finally {
      st2.close();
    }
  },
});
